"""`tvm_call_packed` in the LLVM code generator: calls from a kernel to a registered Python function.

The module declares one global function pointer, `@__tilecraft_call_packed`, that the runtime sets
to its callback when it loads the module (runtime/registry.py has the C signature and the type
codes).  A call site fills two arrays on the stack (type codes, 8-byte values), calls through the
pointer and returns -1 from the kernel at once if the callback reports a failure; the runtime then
raises the Python error the callback recorded.  Buffers travel as DLTensors built on the stack by
`tvm_stack_make_array` (data pointer, CPU device, ndim, dtype, shape array, strides or null,
byte offset).  A mixin of FunctionCodegen (llvm_func.py).
"""

from __future__ import annotations

import llvmlite.ir as ir

from ...ir import dtype as dt
from ...ir import expr as E
from ...ir.functor import post_order_visit
from ...runtime import registry as R
from ...tir.packed import CALL_PACKED, MAKE_ARRAY, packed_call_buffers
from .llvm_types import I8, I32, I64, PTR

I16 = ir.IntType(16)
DOUBLE = ir.DoubleType()
# struct DLTensor { void *data; DLDevice device; int32 ndim; DLDataType dtype; int64 *shape;
#                   int64 *strides; uint64 byte_offset; }
DLTENSOR = ir.LiteralStructType([PTR, I32, I32, I32, I8, I8, I16, PTR, PTR, I64])
CALLBACK_TYPE = ir.FunctionType(I32, [PTR, I32, PTR, PTR, PTR, PTR])  # see runtime/registry.py
_DL_CODE = {"int": R.DL_INT, "uint": R.DL_UINT, "float": R.DL_FLOAT, "bool": R.DL_BOOL}


class _CalleeLoad(ir.LoadInstr):
    """The load of the callback pointer, typed as the function it points to (llvmlite needs a
    function type to emit an indirect call through an opaque pointer)."""

    @property
    def function_type(self):
        return CALLBACK_TYPE


class PackedCallMixin:
    """tvm_call_packed, tvm_stack_make_array and tvm_stack_make_shape."""

    def _stack_array(self, ty, n: int):
        slot = self.alloca_b.alloca(ir.ArrayType(ty, max(1, n)))
        slot.align = 8
        slot.type = PTR
        return slot

    def _slot(self, base, ty, i: int):
        return self.b.gep(base, [ir.Constant(I32, i)], inbounds=True, source_etype=ty)

    def _string(self, text: str):
        """A private constant C string in the module (shared by equal strings)."""
        mcg = self.mcg
        g = mcg.strings.get(text)
        if g is None:
            data = bytearray(text.encode()) + b"\0"
            ty = ir.ArrayType(I8, len(data))
            g = ir.GlobalVariable(mcg.module, ty, mcg.unique_name("__tilecraft_str"))
            g.global_constant = True
            g.linkage = "private"
            g.unnamed_addr = True
            g.initializer = ir.Constant(ty, data)
            mcg.strings[text] = g
        return g

    def _callback_slot(self):
        mcg = self.mcg
        g = mcg.module.globals.get(R.CALL_PACKED_SYMBOL)
        if g is None:
            g = ir.GlobalVariable(mcg.module, PTR, R.CALL_PACKED_SYMBOL)
            g.initializer = ir.Constant(PTR, None)
            g.align = 8
        return g

    def call_tvm_stack_make_shape(self, e):
        arr = self._stack_array(I64, len(e.args))
        for i, d in enumerate(e.args):
            self.b.store(self.cast(self.expr(d), d.dtype, "int64"), self._slot(arr, I64, i))
        return arr

    def call_tvm_stack_make_array(self, e):
        if len(e.args) != 6:
            raise ValueError(f"tvm_stack_make_array takes (data, shape, strides, ndim, dtype zero, elem_offset), "
                             f"got {len(e.args)} arguments in `{e}`")
        data, shape, strides, ndim, zero, offset = e.args
        d = dt.parse(zero.dtype)
        if d.code not in _DL_CODE:
            raise ValueError(f"a buffer of dtype {zero.dtype} cannot be passed to a packed function")
        code, bits = _DL_CODE[d.code], (8 if d.code == "bool" else d.bits)
        t = self.alloca_b.alloca(DLTENSOR)
        t.align = 8
        t.type = PTR
        null = ir.Constant(PTR, None)
        byte_offset = self.b.mul(self.cast(self.expr(offset), offset.dtype, "int64"),
                                 ir.Constant(I64, dt.itemsize(zero.dtype) if d.code != "bool" else 1))
        fields = [self.expr(data), ir.Constant(I32, 1), ir.Constant(I32, 0),
                  self.cast(self.expr(ndim), ndim.dtype, "int32"), ir.Constant(I8, code), ir.Constant(I8, bits),
                  ir.Constant(I16, d.lanes), self.expr(shape),
                  null if isinstance(strides, E.IntImm) else self.expr(strides), byte_offset]
        for i, v in enumerate(fields):
            p = self.b.gep(t, [ir.Constant(I32, 0), ir.Constant(I32, i)], inbounds=True, source_etype=DLTENSOR)
            self.b.store(v, p)
        return t

    def _packed_arg(self, a):
        """(type code, value as i64 / double / ptr) of one argument."""
        if isinstance(a, E.StringImm):
            return R.STR, self._string(a.value)
        d = dt.parse(a.dtype)
        if d.lanes != 1:
            raise ValueError(f"call_packed cannot pass the vector `{a}` ({a.dtype}); pass scalars or buffers")
        v = self.expr(a)
        if d.code == "handle":
            return (R.DLTENSOR if isinstance(a, E.Call) and a.op == MAKE_ARRAY else R.HANDLE), v
        if d.code == "bool":
            return R.BOOL, self.b.zext(v, I64)
        if d.code == "float":
            return R.FLOAT, self.cast(v, a.dtype, "float64")
        if d.code in ("int", "uint"):
            return (R.INT if d.code == "int" else R.UINT), self.cast(v, a.dtype, "int64")
        raise ValueError(f"call_packed cannot pass `{a}` of dtype {a.dtype}")

    def call_tvm_call_packed(self, e):
        if not e.args or not isinstance(e.args[0], E.StringImm):
            raise ValueError(f"tvm_call_packed needs the function name (a string) first, in `{e}`")
        name, args = e.args[0].value, e.args[1:]
        n = len(args)
        codes = self._stack_array(I32, n)
        values = self._stack_array(I64, n)
        for i, a in enumerate(args):
            code, v = self._packed_arg(a)
            self.b.store(ir.Constant(I32, code), self._slot(codes, I32, i))
            ty = v.type if v.type in (DOUBLE, PTR) else I64
            self.b.store(v, self._slot(values, ty, i))
        ret = self.alloca_b.alloca(I64)
        ret.align = 8
        ret.type = PTR
        ret_code = self.alloca_b.alloca(I32)
        ret_code.type = PTR
        self.b.store(ir.Constant(I64, 0), ret)
        fn = _CalleeLoad(self.b.block, self._callback_slot(), typ=PTR)
        fn.align = 8
        self.b._insert(fn)
        self.fail_unless(self.b.icmp_unsigned("!=", fn, ir.Constant(PTR, None)), "packed.bound")
        rc = self.b.call(fn, [self._string(name), ir.Constant(I32, n), codes, values, ret, ret_code])
        self.fail_unless(self.b.icmp_signed("==", rc, ir.Constant(I32, 0)), "packed")
        self.mcg.packed_calls.add(name)
        d = dt.parse(e.dtype)
        if d.code == "float":
            return self.cast(self.b.load(ret, typ=DOUBLE), "float64", e.dtype)
        if d.code == "handle":
            return self.b.load(ret, typ=PTR)
        return self.cast(self.b.load(ret, typ=I64), "int64", e.dtype)


def packed_buffer_vars(node) -> set:
    """Data variables of the buffers passed to packed calls in `node` (they escape to the callee)."""
    out: set = set()

    def f(n):
        if isinstance(n, E.Call) and n.op == CALL_PACKED:
            out.update(packed_call_buffers(n))

    post_order_visit(node, f)
    return out
