"""TIR expressions to llvmlite values: constants, casts, arithmetic (integer division and
modulo in their truncated and floor forms), comparisons, logic, select, let, and the vector
forms Ramp and Broadcast.  A mixin of FunctionCodegen (llvm_func.py), which dispatches each
expression node to its `expr_<Node>` method here; buffer loads are in llvm_memory.py and
intrinsic calls in llvm_calls.py.
"""

from __future__ import annotations

import llvmlite.ir as ir

from ...ir import dtype as dt
from ...ir import expr as E
from .llvm_types import I32, const, lanes_of, value_type
from .nonneg import positive_const

_ICMP = {E.EQ: "==", E.NE: "!=", E.LT: "<", E.LE: "<=", E.GT: ">", E.GE: ">="}


class ExprMixin:
    """Expression methods of FunctionCodegen (uses its builder `b`, `flags`, `expr`, `bind`)."""

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

    def _int_operands(self, e):
        """The operands of an integer division or remainder, checked: a zero divisor returns an
        error from the function (the CPU would raise SIGFPE), and MIN / -1, which also traps,
        divides by 1 instead (the wrapped result, as numpy gives)."""
        a, b = self._operands(e)
        divisor = e.b.value if isinstance(e.b, E.Broadcast) else e.b
        if isinstance(divisor, E.IntImm) and divisor.value not in (0, -1):
            return a, b
        zero, d = const(e.dtype, 0), dt.parse(e.dtype)
        nonzero = self.b.icmp_unsigned("!=", b, zero)
        if d.lanes > 1:  # all lanes nonzero: no bit set in the mask of zero lanes
            zero_lanes = self.b.bitcast(self.b.not_(nonzero), ir.IntType(d.lanes))
            nonzero = self.b.icmp_unsigned("==", zero_lanes, ir.Constant(ir.IntType(d.lanes), 0))
        text = str(e)
        where = text if len(text) <= 160 else text[:157] + "..."
        self.fail_unless(nonzero, "div.nonzero", self.mcg.assert_code(f"integer division by zero in `{where}`"))
        if d.code == "int" and not self.is_nonneg(e.b):
            overflow = self.b.and_(self.b.icmp_signed("==", b, const(e.dtype, -1)),
                                   self.b.icmp_signed("==", a, const(e.dtype, -(1 << (d.bits - 1)))))
            b = self.b.select(overflow, const(e.dtype, 1), b)
        return a, b

    def _truncating(self, e, fop, uop, sop):
        """Truncated division or remainder: `fop` on floats, the unsigned `uop` when both sides are
        unsigned or known to be >= 0, else the signed `sop`."""
        if dt.parse(e.dtype).code == "float":
            a, b = self._operands(e)
            return getattr(self.b, fop)(a, b, flags=self.flags)
        a, b = self._int_operands(e)
        if self._floor_fast(e):
            return getattr(self.b, uop)(a, b)
        return getattr(self.b, sop)(a, b)

    def expr_Div(self, e):
        return self._truncating(e, "fdiv", "udiv", "sdiv")

    def expr_Mod(self, e):
        return self._truncating(e, "frem", "urem", "srem")

    def _floor_parts(self, e):
        """(a, b, q, r, adjust) with truncated q, r and adjust = lanes where q must drop by one."""
        a, b = self._int_operands(e)
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
            return self.b.udiv(*self._int_operands(e))
        _, _, q, _, adjust = self._floor_parts(e)
        return self.b.sub(q, self.b.zext(adjust, q.type))

    def expr_FloorMod(self, e):
        d = dt.parse(e.dtype)
        if d.code == "float":
            a, b = self._operands(e)
            q = self._intrinsic("floor", a.type, [self.b.fdiv(a, b, flags=self.flags)])
            return self.b.fsub(a, self.b.fmul(q, b, flags=self.flags), flags=self.flags)
        if self._floor_fast(e):
            return self.b.urem(*self._int_operands(e))
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
