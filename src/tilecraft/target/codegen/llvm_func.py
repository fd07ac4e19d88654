"""Code generation for one function body: TIR expressions and statements to llvmlite IR.

The input is flattened TIR: every BufferLoad/BufferStore has one index, and the buffer's
`data` variable names the memory.  Values live in SSA registers (loop variables are phis, not
stack slots) so that LLVM's loop passes see canonical loops without running mem2reg first.
Parallel loops are outlined here into OpenMP bodies (see `stmt_For` / `_parallel`).
"""

from __future__ import annotations

import llvmlite.ir as ir

from ...ir import dtype as dt
from ...ir import expr as E
from ...ir.functor import Visitor
from ...tir import stmt as S
from .llvm_calls import CallsMixin
from .llvm_types import I32, I64, PTR, const, element_align, lanes_of, memory_type, value_type
from .nonneg import is_nonneg, positive_const

# Allocations up to this size live on the stack; larger or symbolic ones on the heap.
STACK_LIMIT_BYTES = 1 << 20
ALLOC_ALIGN = 64

_ICMP = {E.EQ: "==", E.NE: "!=", E.LT: "<", E.LE: "<=", E.GT: ">", E.GE: ">="}


class FunctionCodegen(CallsMixin):
    """Emits one LLVM function.  `mcg` is the module-level context (declarations, target)."""

    def __init__(self, mcg, fn: ir.Function, name: str, in_parallel: bool = False,
                 nonneg: set | None = None, noalias: set | None = None):
        self.mcg = mcg
        self.fn = fn
        self.name = name
        self.in_parallel = in_parallel
        self.vars: dict = {}  # tir Var -> llvm value (buffer data vars -> pointers)
        self.nonneg: set = set(nonneg or ())  # vars known to be >= 0 (loop vars from 0, sizes)
        self.noalias: set = set(noalias or ())  # pointer vars that alias no other buffer
        self.flags = mcg.float_flags
        self.call_flags = mcg.call_flags
        entry = fn.append_basic_block("entry")
        self.alloca_b = ir.IRBuilder(entry)  # static allocas gather here, ahead of the body
        self.b = ir.IRBuilder(fn.append_basic_block("body"))

    def finish(self, ret_value=0) -> None:
        """Close the function: return `ret_value` and jump from the alloca block to the body."""
        if ret_value is None:
            self.b.ret_void()
        else:
            self.b.ret(ir.Constant(I32, ret_value))
        self.alloca_b.branch(self.fn.blocks[1])

    # ================================================================== helpers
    def bind(self, var, value, nonneg: bool = False):
        """Bind var for the duration of a scope; returns the previous state to restore."""
        old = (self.vars.get(var, _UNBOUND), var in self.nonneg)
        self.vars[var] = value
        if nonneg:
            self.nonneg.add(var)
        else:
            self.nonneg.discard(var)
        return old

    def unbind(self, var, old) -> None:
        value, was_nonneg = old
        if value is _UNBOUND:
            self.vars.pop(var, None)
        else:
            self.vars[var] = value
        if was_nonneg:
            self.nonneg.add(var)
        else:
            self.nonneg.discard(var)

    def splat(self, v, lanes: int):
        if isinstance(v, ir.Constant) and not isinstance(v.type, ir.VectorType):
            return ir.Constant(ir.VectorType(v.type, lanes), [v] * lanes)
        vt = ir.VectorType(v.type, lanes)
        one = self.b.insert_element(ir.Constant(vt, ir.Undefined), v, ir.Constant(I32, 0))
        return self.b.shuffle_vector(one, ir.Constant(vt, ir.Undefined),
                                     ir.Constant(ir.VectorType(I32, lanes), [0] * lanes))

    def coerce(self, v, src: str, dst: str):
        """Convert a value of dtype src to dst, broadcasting a scalar to a vector's lanes."""
        if src == dst:
            return v
        s, d = dt.parse(src), dt.parse(dst)
        if s.lanes == 1 and d.lanes > 1:
            return self.splat(self.cast(v, src, d.scalar), d.lanes)
        return self.cast(v, src, dst)

    def cast(self, v, src: str, dst: str):
        s, d = dt.parse(src), dt.parse(dst)
        if s.lanes != d.lanes:
            if s.lanes == 1:
                return self.coerce(v, src, dst)
            raise ValueError(f"cannot cast {src} to {dst}: lane counts differ")
        if s.code == d.code and s.bits == d.bits or s.code == "handle" and d.code == "handle":
            return v
        ty = value_type(dst)
        b = self.b
        if d.code == "bool":
            zero = const(src, 0)
            if s.code == "float":
                return b.fcmp_unordered("!=", v, zero)
            return b.icmp_unsigned("!=", v, zero)
        if s.code == "bool":
            return b.uitofp(v, ty) if d.code == "float" else b.zext(v, ty)
        if s.code in ("int", "uint") and d.code in ("int", "uint"):
            if d.bits > s.bits:
                return b.sext(v, ty) if s.code == "int" else b.zext(v, ty)
            return b.trunc(v, ty) if d.bits < s.bits else v
        if s.code in ("int", "uint"):
            return b.sitofp(v, ty) if s.code == "int" else b.uitofp(v, ty)
        if d.code in ("int", "uint"):
            return b.fptosi(v, ty) if d.code == "int" else b.fptoui(v, ty)
        if s.code == "float" and d.code == "float":
            return b.fpext(v, ty) if d.bits > s.bits else b.fptrunc(v, ty)
        raise ValueError(f"cannot cast {src} to {dst}")

    def is_nonneg(self, e) -> bool:
        """A cheap proof that the integer e is >= 0 (see codegen/nonneg.py)."""
        return is_nonneg(e, self.nonneg)

    # ================================================================== expressions
    def expr(self, e):
        f = _EXPR.get(type(e))
        if f is None:
            f = _lookup(_EXPR, type(e))
            if f is None:
                raise ValueError(f"the LLVM code generator cannot compile the expression `{e}` "
                                 f"({type(e).__name__}); lower it to TIR first")
        return f(self, e)

    def expr_IntImm(self, e):
        return const(e.dtype, e.value)

    def expr_FloatImm(self, e):
        return const(e.dtype, e.value)

    def expr_Var(self, e):
        v = self.vars.get(e)
        if v is None:
            raise ValueError(f"variable {e.name!r} ({e.dtype}) is used in function {self.name!r} but "
                             "is not a parameter, a loop variable, a let binding or a buffer's data")
        return v

    def expr_Cast(self, e):
        return self.cast(self.expr(e.value), e.value.dtype, e.dtype)

    def _operands(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        if e.a.dtype != e.b.dtype:  # hand-built nodes may mix a scalar with a vector
            if isinstance(e, (E.CmpOp, E.And, E.Or)):  # the result is bool: meet in the wider type
                ad, bd = dt.parse(e.a.dtype), dt.parse(e.b.dtype)
                target = e.a.dtype if (ad.lanes, ad.bits) >= (bd.lanes, bd.bits) else e.b.dtype
            else:
                target = e.dtype
            a, b = self.coerce(a, e.a.dtype, target), self.coerce(b, e.b.dtype, target)
        return a, b

    def _arith(self, e, fop, iop):
        a, b = self._operands(e)
        d = dt.parse(e.dtype)
        if d.code == "float":
            return getattr(self.b, fop)(a, b, flags=self.flags)
        # Signed index arithmetic cannot overflow (TVM's convention): nsw lets LLVM widen
        # induction variables and fold address computations.
        nsw = ("nsw",) if d.code == "int" and d.bits >= 32 else ()
        return getattr(self.b, iop)(a, b, flags=nsw)

    def expr_Add(self, e):
        return self._arith(e, "fadd", "add")

    def expr_Sub(self, e):
        return self._arith(e, "fsub", "sub")

    def expr_Mul(self, e):
        return self._arith(e, "fmul", "mul")

    def expr_Div(self, e):
        a, b = self._operands(e)
        d = dt.parse(e.dtype)
        if d.code == "float":
            return self.b.fdiv(a, b, flags=self.flags)
        if d.code == "uint" or d.code == "bool" or self.is_nonneg(e.a) and self.is_nonneg(e.b):
            return self.b.udiv(a, b)
        return self.b.sdiv(a, b)

    def expr_Mod(self, e):
        a, b = self._operands(e)
        d = dt.parse(e.dtype)
        if d.code == "float":
            return self.b.frem(a, b, flags=self.flags)
        if d.code == "uint" or d.code == "bool" or self.is_nonneg(e.a) and self.is_nonneg(e.b):
            return self.b.urem(a, b)
        return self.b.srem(a, b)

    def _floor_parts(self, e):
        """(a, b, q, r, adjust) with truncated q, r and adjust = lanes where q must drop by one."""
        a, b = self._operands(e)
        q, r = self.b.sdiv(a, b), self.b.srem(a, b)
        zero = const(e.dtype, 0)
        if positive_const(e.b):
            adjust = self.b.icmp_signed("<", r, zero)
        else:  # remainder nonzero and of the other sign than the divisor
            signs = self.b.icmp_signed("<", self.b.xor(r, b), zero)
            adjust = self.b.and_(self.b.icmp_signed("!=", r, zero), signs)
        return a, b, q, r, adjust

    def _floor_fast(self, e) -> bool:
        d = dt.parse(e.dtype)
        return d.code in ("uint", "bool") or self.is_nonneg(e.a) and self.is_nonneg(e.b)

    def expr_FloorDiv(self, e):
        d = dt.parse(e.dtype)
        if d.code == "float":
            a, b = self._operands(e)
            q = self.b.fdiv(a, b, flags=self.flags)
            return self._intrinsic("floor", q.type, [q])
        if self._floor_fast(e):
            return self.b.udiv(*self._operands(e))
        _, _, q, _, adjust = self._floor_parts(e)
        return self.b.sub(q, self.b.zext(adjust, q.type))

    def expr_FloorMod(self, e):
        d = dt.parse(e.dtype)
        if d.code == "float":
            a, b = self._operands(e)
            q = self._intrinsic("floor", a.type, [self.b.fdiv(a, b, flags=self.flags)])
            return self.b.fsub(a, self.b.fmul(q, b, flags=self.flags), flags=self.flags)
        if self._floor_fast(e):
            return self.b.urem(*self._operands(e))
        _, b, _, r, adjust = self._floor_parts(e)
        return self.b.select(adjust, self.b.add(r, b), r)

    def _minmax(self, e, op):
        a, b = self._operands(e)
        d = dt.parse(e.dtype)
        if d.code == "float":
            c = self.b.fcmp_ordered(op, a, b, flags=self.mcg.cmp_flags)
        elif d.code in ("uint", "bool"):
            c = self.b.icmp_unsigned(op, a, b)
        else:
            c = self.b.icmp_signed(op, a, b)
        return self.b.select(c, a, b)

    def expr_Min(self, e):
        return self._minmax(e, "<")

    def expr_Max(self, e):
        return self._minmax(e, ">")

    def expr_CmpOp(self, e):
        a, b = self._operands(e)
        op = _ICMP[type(e)]
        d = dt.parse(e.a.dtype)
        if d.code == "float":
            if op == "!=":  # true when either side is NaN, as in C and numpy
                return self.b.fcmp_unordered(op, a, b, flags=self.mcg.cmp_flags)
            return self.b.fcmp_ordered(op, a, b, flags=self.mcg.cmp_flags)
        if d.code in ("uint", "bool", "handle"):
            return self.b.icmp_unsigned(op, a, b)
        return self.b.icmp_signed(op, a, b)

    def expr_And(self, e):
        return self.b.and_(*self._operands(e))

    def expr_Or(self, e):
        return self.b.or_(*self._operands(e))

    def expr_Not(self, e):
        v = self.expr(e.a)
        return self.b.xor(v, const(e.a.dtype, 1))

    def expr_Select(self, e):
        c = self.expr(e.condition)
        t = self.coerce(self.expr(e.true_value), e.true_value.dtype, e.dtype)
        f = self.coerce(self.expr(e.false_value), e.false_value.dtype, e.dtype)
        if lanes_of(c) == 1 or lanes_of(c) == lanes_of(t):
            return self.b.select(c, t, f)
        raise ValueError(f"Select condition lanes do not match its values in `{e}`")

    def expr_Let(self, e):
        old = self.bind(e.var, self.expr(e.value), self.is_nonneg(e.value))
        try:
            return self.expr(e.body)
        finally:
            self.unbind(e.var, old)

    def expr_Ramp(self, e):
        sd = dt.element_of(e.dtype)
        base = self.splat(self.coerce(self.expr(e.base), e.base.dtype, sd), e.lanes)
        if isinstance(e.stride, E.IntImm):
            steps = ir.Constant(base.type, [const(sd, e.stride.value * i) for i in range(e.lanes)])
            return self.b.add(base, steps, flags=("nsw",) if dt.parse(sd).code == "int" else ())
        stride = self.splat(self.coerce(self.expr(e.stride), e.stride.dtype, sd), e.lanes)
        idx = ir.Constant(base.type, [const(sd, i) for i in range(e.lanes)])
        return self.b.add(base, self.b.mul(stride, idx))

    def expr_Broadcast(self, e):
        return self.splat(self.expr(e.value), e.lanes)

    def expr_StringImm(self, e):
        raise ValueError(f"string constant {e.value!r} has no value in compiled code")

    # ------------------------------------------------------------------ memory
    def buffer_ptr(self, buf):
        p = self.vars.get(buf.data)
        if p is None:
            raise ValueError(f"buffer {buf.name!r} is accessed in function {self.name!r} but is "
                             "neither a parameter nor allocated (its data pointer "
                             f"{buf.data.name!r} is unbound)")
        return p

    def _index(self, buf, indices, what):
        if len(indices) != 1:
            raise ValueError(f"{what} of buffer {buf.name!r} has {len(indices)} indices; the LLVM "
                             "code generator needs flattened TIR (one index per access)")
        idx = indices[0]
        off = buf.elem_offset
        if off is not None and not _is_const(off, 0):
            idx = E.add(idx, off)
        return idx

    def _addr(self, ptr, elem_ty, index_expr):
        return self.b.gep(ptr, [self.expr(index_expr)], inbounds=True, source_etype=elem_ty)

    def _access(self, buf, idx, value_dtype):
        """Classify an access: ("scalar"|"vector"|"splat", index expr) or ("lanes", lane index exprs)."""
        d = dt.parse(value_dtype)
        elem = dt.parse(buf.dtype)
        il = dt.lanes(idx.dtype)
        if il == 1:
            if d.lanes != elem.lanes and elem.lanes == 1:
                return "splat", idx  # every lane reads the same element
            return "scalar", idx
        if elem.lanes > 1:
            raise ValueError(f"buffer {buf.name!r} holds {buf.dtype} elements; a vector index into it "
                             "is not supported (index it with a scalar)")
        if d.lanes != il:
            raise ValueError(f"access to buffer {buf.name!r} with a {il}-lane index yields "
                             f"{value_dtype}; expected {il} lanes")
        if isinstance(idx, E.Ramp):
            if _is_const(idx.stride, 1):
                return "vector", idx.base
            return "lanes", [E.add(idx.base, E.mul(idx.stride, i)) for i in range(idx.lanes)]
        if isinstance(idx, E.Broadcast):
            return "splat", idx.value
        return "lanes", None

    def expr_BufferLoad(self, e):
        buf = e.buffer
        ptr = self.buffer_ptr(buf)
        idx = self._index(buf, e.indices, "a load")
        mem_t = memory_type(buf.dtype)
        align = element_align(buf.dtype)
        kind, where = self._access(buf, idx, e.dtype)
        if kind == "scalar":
            v = self.b.load(self._addr(ptr, mem_t, where), typ=mem_t, align=align)
            return self._from_memory(v, buf.dtype)
        if kind == "splat":
            v = self.b.load(self._addr(ptr, mem_t, where), typ=mem_t, align=align)
            return self.splat(self._from_memory(v, buf.dtype), dt.lanes(e.dtype))
        if kind == "vector":
            vt = memory_type(e.dtype)
            v = self.b.load(self._addr(ptr, mem_t, where), typ=vt, align=align)
            return self._from_memory(v, e.dtype)
        # gather, one lane at a time (portable across LLVM versions; LLVM may re-form gathers)
        out = ir.Constant(value_type(e.dtype), ir.Undefined)
        for i, p in enumerate(self._lane_addrs(ptr, mem_t, idx, where)):
            v = self._from_memory(self.b.load(p, typ=mem_t, align=align), dt.element_of(buf.dtype))
            out = self.b.insert_element(out, v, ir.Constant(I32, i))
        return out

    def _lane_addrs(self, ptr, mem_t, idx, lane_exprs):
        if lane_exprs is not None:
            return [self._addr(ptr, mem_t, x) for x in lane_exprs]
        iv = self.expr(idx)
        return [self.b.gep(ptr, [self.b.extract_element(iv, ir.Constant(I32, i))], inbounds=True,
                           source_etype=mem_t) for i in range(lanes_of(iv))]

    def _from_memory(self, v, dtype):
        if dt.parse(dtype).code == "bool":
            return self.b.icmp_unsigned("!=", v, ir.Constant(v.type, None))
        return v

    def _to_memory(self, v, dtype):
        if dt.parse(dtype).code == "bool":
            return self.b.zext(v, memory_type(dtype))
        return v

    def stmt_BufferStore(self, s):
        buf = s.buffer
        ptr = self.buffer_ptr(buf)
        idx = self._index(buf, s.indices, "a store")
        mem_t = memory_type(buf.dtype)
        align = element_align(buf.dtype)
        value = self.expr(s.value)
        kind, where = self._access(buf, idx, s.value.dtype)
        if kind == "splat":  # every lane stores to one element: the last lane wins, as in a scatter
            if not isinstance(idx, E.Broadcast):
                raise ValueError(f"store of the vector {s.value.dtype} to buffer {buf.name!r} at the "
                                 f"scalar index `{idx}`; use a Ramp index for a vector store")
            value = self.b.extract_element(value, ir.Constant(I32, lanes_of(value) - 1))
            kind = "scalar"
        if kind == "scalar":
            self.b.store(self._to_memory(value, buf.dtype), self._addr(ptr, mem_t, where), align=align)
            return
        if kind == "vector":
            self.b.store(self._to_memory(value, s.value.dtype), self._addr(ptr, mem_t, where), align=align)
            return
        for i, p in enumerate(self._lane_addrs(ptr, mem_t, idx, where)):
            lane = self.b.extract_element(value, ir.Constant(I32, i))
            self.b.store(self._to_memory(lane, dt.element_of(buf.dtype)), p, align=align)

    # ================================================================== statements
    def stmt(self, s):
        f = _STMT.get(type(s))
        if f is None:
            f = _lookup(_STMT, type(s))
            if f is None:
                raise ValueError(f"the LLVM code generator cannot compile the statement "
                                 f"{type(s).__name__}:\n{s}")
        f(self, s)

    def stmt_SeqStmt(self, s):
        for x in s.seq:
            self.stmt(x)

    def stmt_Evaluate(self, s):
        if not isinstance(s.value, (E.IntImm, E.FloatImm, E.StringImm)):
            self.expr(s.value)

    def stmt_LetStmt(self, s):
        old = self.bind(s.var, self.expr(s.value), self.is_nonneg(s.value))
        self.stmt(s.body)
        self.unbind(s.var, old)

    def stmt_AttrStmt(self, s):
        if s.attr_key == "thread_extent":
            node = s.node
            name = getattr(node, "name", None) or getattr(getattr(node, "var", None), "name", str(node))
            raise ValueError(f"loop variable {name!r} is bound to a GPU thread; build for target "
                             "'cuda' or remove the bind")
        self.stmt(s.body)

    def stmt_AssertStmt(self, s):
        cond = self.expr(s.condition)
        if isinstance(cond, ir.Constant) and cond.constant:
            self.stmt(s.body)
            return
        ok = self.fn.append_basic_block("assert.ok")
        fail = self.fn.append_basic_block("assert.fail")
        self.b.cbranch(cond, ok, fail)
        self.b.position_at_end(fail)
        self.mcg.note_assert(s.message)
        self.b.ret(ir.Constant(I32, -1))
        self.b.position_at_end(ok)
        self.stmt(s.body)

    def stmt_IfThenElse(self, s):
        if isinstance(s.condition, E.IntImm):
            branch = s.then_case if s.condition.value else s.else_case
            if branch is not None:
                self.stmt(branch)
            return
        if dt.lanes(s.condition.dtype) > 1:
            raise ValueError(f"IfThenElse needs a scalar condition, got the vector `{s.condition}`")
        cond = self.expr(s.condition)
        then_bb = self.fn.append_basic_block("if.then")
        end_bb = self.fn.append_basic_block("if.end")
        else_bb = self.fn.append_basic_block("if.else") if s.else_case is not None else end_bb
        self.b.cbranch(cond, then_bb, else_bb)
        self.b.position_at_end(then_bb)
        self.stmt(s.then_case)
        self.b.branch(end_bb)
        if s.else_case is not None:
            self.b.position_at_end(else_bb)
            self.stmt(s.else_case)
            self.b.branch(end_bb)
        self.b.position_at_end(end_bb)

    def stmt_Allocate(self, s):
        buf = s.buffer
        mem_t = memory_type(buf.dtype)
        count = E.const(1, "int64")
        for d in buf.shape:
            count = E.mul(count, E.cast(d, "int64"))
        nbytes = dt.itemsize(buf.dtype) if dt.parse(buf.dtype).code != "bool" else dt.lanes(buf.dtype)
        if isinstance(count, E.IntImm) and count.value * nbytes <= STACK_LIMIT_BYTES:
            # In the entry block, so a loop around this Allocate does not grow the stack.
            slot = self.alloca_b.alloca(ir.ArrayType(mem_t, max(1, count.value)))
            slot.align = ALLOC_ALIGN
            slot.type = PTR
            old = self.bind(buf.data, slot)
            self.noalias.add(buf.data)
            self.stmt(s.body)
            self.unbind(buf.data, old)
            return
        size = self.b.mul(self.expr(count), ir.Constant(I64, nbytes))
        memalign = self.mcg.declare("posix_memalign", I32, [PTR, I64, I64])
        slot = self.alloca_b.alloca(PTR)
        slot.type = PTR
        rc = self.b.call(memalign, [slot, ir.Constant(I64, ALLOC_ALIGN), size])
        ok = self.fn.append_basic_block("alloc.ok")
        fail = self.fn.append_basic_block("alloc.fail")
        self.b.cbranch(self.b.icmp_signed("==", rc, ir.Constant(I32, 0)), ok, fail)
        self.b.position_at_end(fail)
        self.b.ret(ir.Constant(I32, -1))
        self.b.position_at_end(ok)
        ptr = self.b.load(slot, typ=PTR)
        old = self.bind(buf.data, ptr)
        self.noalias.add(buf.data)
        self.stmt(s.body)
        self.unbind(buf.data, old)
        self.b.call(self.mcg.declare("free", ir.VoidType(), [PTR]), [ptr])

    # ------------------------------------------------------------------ loops
    def stmt_For(self, s):
        kind = s.kind
        if kind == S.ForKind.THREAD_BINDING or s.thread_tag:
            tag = f" ({s.thread_tag})" if s.thread_tag and s.thread_tag != s.loop_var.name else ""
            raise ValueError(f"loop variable {s.loop_var.name!r}{tag} is bound to a GPU thread; "
                             "build for target 'cuda' or remove the bind")
        if isinstance(s.extent, E.IntImm) and s.extent.value <= 0:
            return
        if kind == S.ForKind.PARALLEL and not self.in_parallel and not _is_const(s.extent, 1):
            self._parallel(s)
            return
        md = []
        ann = dict(s.annotations)
        if kind == S.ForKind.UNROLLED or ann.get("llvm.loop.unroll.full"):
            md.append(("llvm.loop.unroll.full",))
        elif "llvm.loop.unroll.count" in ann:
            md.append(("llvm.loop.unroll.count", int(ann["llvm.loop.unroll.count"])))
        if kind == S.ForKind.VECTORIZED or ann.get("llvm.loop.vectorize.enable"):
            md.append(("llvm.loop.vectorize.enable", True))
        vt = value_type(s.loop_var.dtype)
        lo = self.coerce(self.expr(s.min), s.min.dtype, s.loop_var.dtype)
        if _is_const(s.extent, 1):
            old = self.bind(s.loop_var, lo, self.is_nonneg(s.min))
            self.stmt(s.body)
            self.unbind(s.loop_var, old)
            return
        ext = self.coerce(self.expr(s.extent), s.extent.dtype, s.loop_var.dtype)
        end = self.b.add(lo, ext, flags=("nsw",))
        nonempty = isinstance(s.extent, E.IntImm) and s.extent.value > 0
        self.loop(s.loop_var, lo, end, lambda: self.stmt(s.body), md, nonempty, vt,
                  nonneg=self.is_nonneg(s.min))

    def loop(self, var, begin, end, body, md=(), nonempty=False, vt=I32, nonneg=False):
        """for (var = begin; var < end; ++var) body(): bottom-tested, guarded unless nonempty."""
        pre = self.b.block
        body_bb = self.fn.append_basic_block("for.body")
        exit_bb = self.fn.append_basic_block("for.end")
        if nonempty:
            self.b.branch(body_bb)
        else:
            self.b.cbranch(self.b.icmp_signed("<", begin, end), body_bb, exit_bb)
        self.b.position_at_end(body_bb)
        phi = self.b.phi(vt)
        phi.add_incoming(begin, pre)
        old = self.bind(var, phi, nonneg)
        body()
        nxt = self.b.add(phi, ir.Constant(vt, 1), flags=("nsw",))
        br = self.b.cbranch(self.b.icmp_signed("<", nxt, end), body_bb, exit_bb)
        phi.add_incoming(nxt, self.b.block)
        if md:
            br.set_metadata("llvm.loop", self.mcg.loop_id(md))
        self.unbind(var, old)
        self.b.position_at_end(exit_bb)

    def _parallel(self, s):
        """Outline the loop into an OpenMP body and run it on a team via GOMP_parallel.

        `kernel(captured..., begin, end)` runs iterations [begin, end) with the buffers as
        noalias parameters (so the loop still vectorizes without runtime alias checks);
        `body(closure)` unpacks the captured values, takes this thread's static chunk and
        calls the kernel; the caller packs the closure on its stack.  A failed assert in any
        thread sets the closure's error flag, and the caller returns -1.
        """
        mcg = self.mcg
        vt = value_type(s.loop_var.dtype)
        lo = self.coerce(self.expr(s.min), s.min.dtype, s.loop_var.dtype)
        ext = self.coerce(self.expr(s.extent), s.extent.dtype, s.loop_var.dtype)
        captured = [v for v in _used_vars(s.body) if v in self.vars and v is not s.loop_var]
        values = [self.vars[v] for v in captured]
        base = mcg.unique_name(f"{self.name}.parallel")

        kfn = ir.Function(mcg.module, ir.FunctionType(I32, [v.type for v in values] + [vt, vt]),
                          base + ".kernel")
        kfn.linkage = "internal"
        kfn.attributes = mcg.function_attributes()
        kfn.attributes.add("alwaysinline")
        kernel = FunctionCodegen(mcg, kfn, self.name, in_parallel=True, nonneg=self.nonneg,
                                 noalias=self.noalias)
        for var, arg in zip(captured, kfn.args):
            kernel.vars[var] = arg
            if isinstance(arg.type, ir.PointerType) and var in self.noalias:
                arg.add_attribute("noalias")
        begin, end = kfn.args[-2], kfn.args[-1]
        kernel.loop(s.loop_var, begin, end, lambda: kernel.stmt(s.body), vt=vt,
                    nonneg=self.is_nonneg(s.min))
        kernel.finish(0)

        fields = [v.type for v in values] + [vt, vt, I32]
        closure_t = ir.LiteralStructType(fields)
        wfn = ir.Function(mcg.module, ir.FunctionType(ir.VoidType(), [PTR]), base)
        wfn.linkage = "internal"
        wfn.attributes = mcg.function_attributes()
        w = FunctionCodegen(mcg, wfn, self.name, in_parallel=True)
        cl = wfn.args[0]

        def field(b, base, i):
            return b.gep(base, [ir.Constant(I32, 0), ir.Constant(I32, i)], inbounds=True,
                         source_etype=closure_t)

        wb = w.b
        loaded = [wb.load(field(wb, cl, i), typ=t) for i, t in enumerate(fields[:-1])]
        w_lo, w_ext = loaded[-2], loaded[-1]
        tid = wb.call(mcg.declare("omp_get_thread_num", I32, []), [])
        nth = wb.call(mcg.declare("omp_get_num_threads", I32, []), [])
        if vt != I32:
            tid, nth = wb.sext(tid, vt), wb.sext(nth, vt)
        one = ir.Constant(vt, 1)
        chunk = wb.sdiv(wb.sub(wb.add(w_ext, nth), one), nth)
        start = wb.mul(tid, chunk)
        stop = wb.add(start, chunk)
        start = wb.select(wb.icmp_signed("<", start, w_ext), start, w_ext)
        stop = wb.select(wb.icmp_signed("<", stop, w_ext), stop, w_ext)
        rc = wb.call(kfn, loaded[:-2] + [wb.add(w_lo, start), wb.add(w_lo, stop)])
        fail = wfn.append_basic_block("fail")
        done = wfn.append_basic_block("done")
        wb.cbranch(wb.icmp_signed("!=", rc, ir.Constant(I32, 0)), fail, done)
        wb.position_at_end(fail)
        wb.store(ir.Constant(I32, 1), field(wb, cl, len(fields) - 1))
        wb.branch(done)
        wb.position_at_end(done)
        w.finish(None)

        slot = self.alloca_b.alloca(closure_t)
        slot.type = PTR
        for i, v in enumerate(values + [lo, ext, ir.Constant(I32, 0)]):
            self.b.store(v, field(self.b, slot, i))
        gomp = mcg.declare("GOMP_parallel", ir.VoidType(), [PTR, PTR, I32, I32])
        self.b.call(gomp, [wfn, slot, ir.Constant(I32, mcg.num_threads), ir.Constant(I32, 0)])
        mcg.uses_openmp = True
        err = self.b.load(field(self.b, slot, len(fields) - 1), typ=I32)
        ok = self.fn.append_basic_block("parallel.ok")
        bad = self.fn.append_basic_block("parallel.fail")
        self.b.cbranch(self.b.icmp_signed("==", err, ir.Constant(I32, 0)), ok, bad)
        self.b.position_at_end(bad)
        self.b.ret(ir.Constant(I32, -1))
        self.b.position_at_end(ok)


class _Unbound:
    pass


_UNBOUND = _Unbound()


def _is_const(e, v) -> bool:
    return isinstance(e, E.IntImm) and e.value == v


class _UsedVars(Visitor):
    """Variables a statement reads, buffer data pointers included, in first-seen order."""

    def __init__(self):
        self.seen: dict = {}

    def visit_Var(self, v):
        self.seen.setdefault(v, None)

    def _buffer(self, buf):
        self.seen.setdefault(buf.data, None)
        if buf.elem_offset is not None:
            self.visit(buf.elem_offset)

    def visit_BufferLoad(self, e):
        self._buffer(e.buffer)
        self.generic_visit(e)

    def visit_BufferStore(self, s):
        self._buffer(s.buffer)
        self.generic_visit(s)

    def visit_Allocate(self, s):
        for d in s.buffer.shape:
            self.visit(d)
        self.generic_visit(s)


def _used_vars(node) -> list:
    c = _UsedVars()
    c.visit(node)
    return list(c.seen)


def _lookup(table, t):
    for k in t.__mro__:
        f = table.get(k)
        if f is not None:
            table[t] = f
            return f
    return None


def _table(prefix: str, module_ns) -> dict:
    out = {}
    for name in dir(FunctionCodegen):
        if name.startswith(prefix):
            cls = getattr(module_ns, name[len(prefix):], None)
            if cls is not None:
                out[cls] = getattr(FunctionCodegen, name)
    return out


_EXPR = _table("expr_", E)
_EXPR[E.CmpOp] = FunctionCodegen.expr_CmpOp
_STMT = _table("stmt_", S)
