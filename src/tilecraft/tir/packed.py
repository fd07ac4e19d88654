"""`call_packed`: call a global function (registered with tvm.register_func) from compiled code.

    tir.call_packed("tvm.contrib.cblas.matmul", A, B, C, False, False)

is an int32 expression (the Call op "tvm_call_packed"; its value is what the function returns, 0
for None), usually the whole body of a te.extern stage.  As in classic TVM, each Buffer argument becomes
`tvm_stack_make_array(data, tvm_stack_make_shape(shape...), strides, ndim, dtype-typed zero,
elem_offset)`, so every argument is an ordinary expression that passes, substitutions and the
printer handle like any other; the code generator turns it into a DLTensor on the stack and the
runtime (runtime/registry.py) hands the Python function an NDArray viewing the buffer.  Scalars
(int, float, bool, expressions) and strings are passed by value.
"""

from __future__ import annotations

from ..ir.construct import convert
from ..ir.expr import Buffer, Call, PrimExpr, StringImm, const

CALL_PACKED = "tvm_call_packed"
MAKE_ARRAY = "tvm_stack_make_array"
MAKE_SHAPE = "tvm_stack_make_shape"


def _pack_buffer(buf: Buffer) -> Call:
    shape = Call("handle", MAKE_SHAPE, tuple(convert(d) for d in buf.shape))
    strides = Call("handle", MAKE_SHAPE, tuple(convert(d) for d in buf.strides)) if buf.strides else const(0)
    offset = buf.elem_offset if buf.elem_offset is not None else const(0)
    return Call("handle", MAKE_ARRAY, (buf.data, shape, strides, const(len(buf.shape)), const(0, buf.dtype),
                                       offset))


def _arg(x, i: int, name: str) -> PrimExpr:
    if isinstance(x, Buffer):
        return _pack_buffer(x)
    if isinstance(x, str):
        return StringImm(x)
    try:
        return convert(x)
    except TypeError:
        raise TypeError(f"call_packed({name!r}): argument {i} is a {type(x).__name__}; pass buffers "
                        "(the ins/outs of te.extern, or tvm.tir.decl_buffer), numbers, strings or "
                        "expressions") from None


def call_packed(*args, span=None) -> Call:
    """Call the global function named by the first argument with the other arguments."""
    if not args or not isinstance(args[0], (str, StringImm)):
        raise TypeError("call_packed needs the name of a registered function as its first argument, "
                        "e.g. call_packed('tvm.contrib.cblas.matmul', A, B, C, False, False)")
    name = args[0].value if isinstance(args[0], StringImm) else args[0]
    return Call("int32", CALL_PACKED, (StringImm(name),) + tuple(_arg(x, i, name)
                                                               for i, x in enumerate(args[1:], 1)))


call_packed_lowered = call_packed  # classic TVM's name after LowerTVMBuiltin; the same call here


def packed_call_buffers(call: Call) -> list:
    """The data variables of the buffers a call_packed passes (the callee may write any of them)."""
    return [a.args[0] for a in call.args[1:] if isinstance(a, Call) and a.op == MAKE_ARRAY]
