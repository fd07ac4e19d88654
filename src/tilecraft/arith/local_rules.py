"""Everything but the integer canonical form: comparisons, boolean logic, floats and vectors are
simplified children first with a few local rules.  Floats get constant folding and exact
identities only: reassociating them would change results."""

from __future__ import annotations

from ..ir import dtype as dt
from ..ir.expr import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    Add,
    And,
    Broadcast,
    Call,
    Cast,
    CmpOp,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    Or,
    PrimExpr,
    Ramp,
    Select,
    SizeVar,
    StringImm,
    Sub,
    Var,
    binary,
    cast,
)
from .canonical import is_int_scalar
from .sum_form import Sum


class LocalRules:
    """Mixin of Simplifier: `simp`, and the rules for what has no canonical form."""

    # ------------------------------------------------------------------ simplify
    def simp(self, e: PrimExpr) -> PrimExpr:
        r = self._simp.get(e)
        if r is None:
            if type(e) is IntImm:
                return e
            if is_int_scalar(e.dtype):
                r = self.to_expr(self.canon(e))
            else:
                r = _SIMP.get(type(e), LocalRules._s_other)(self, e)
            self._simp[e] = r
        return r

    def _s_leaf(self, e):
        return e

    def _s_var(self, e):
        v = self.var_value.get(e)
        return e if v is None else v

    def _s_other(self, e):
        return self._children.generic_visit(e)

    def _s_cast(self, e):
        inner = self.simp(e.value)
        if isinstance(inner, (IntImm, FloatImm)) and dt.lanes(e.dtype) == 1:
            return cast(inner, e.dtype)
        if inner.dtype == e.dtype:
            return inner
        return e if inner is e.value else Cast(e.dtype, inner)

    def _s_cmp(self, e):
        if not is_int_scalar(e.a.dtype):
            return self._s_binary(e)
        cls = type(e)
        d = self.canon(e.a) - self.canon(e.b)
        if cls is GT:  # a > b  <=>  b - a < 0
            cls, d = LT, d.scale(-1)
        elif cls is GE:
            cls, d = LE, d.scale(-1)
        hi, lo = self._hi(d), self._lo(d)
        if cls is LT:
            truth = True if hi < 0 else False if lo >= 0 else None
        elif cls is LE:
            truth = True if hi <= 0 else False if lo > 0 else None
        else:
            g = d.coeff_gcd()
            if lo == hi == 0:
                eq = True
            elif lo > 0 or hi < 0 or (g > 1 and d.const % g):
                eq = False
            else:
                eq = None
            truth = eq if eq is None or cls is EQ else not eq
        if truth is not None:
            return IntImm(int(truth), "bool")
        r = self._cmp_expr(cls, d)
        if self.facts:
            known = self.facts.get(self.key_of(r))
            if known is not None:
                return IntImm(int(known), "bool")
        return r

    def _cmp_expr(self, cls, d: Sum) -> PrimExpr:
        """`d <op> 0` written as `positive terms <op> negated negative terms - constant`."""
        if cls in (EQ, NE) and not any(c > 0 for c in d.terms.values()):
            d = d.scale(-1)
        pos = {m: c for m, c in d.terms.items() if c > 0}
        neg = {m: -c for m, c in d.terms.items() if c < 0}
        if pos:
            lhs, rhs = Sum(pos, 0, d.dtype), Sum(neg, -d.const, d.dtype)
        else:
            lhs, rhs = Sum({}, d.const, d.dtype), Sum(neg, 0, d.dtype)
        return cls(self.to_expr(lhs), self.to_expr(rhs), "bool")

    def _s_and_or(self, e):
        is_and = type(e) is And
        a = self.simp(e.a)
        if isinstance(a, IntImm) and dt.lanes(a.dtype) == 1:
            if bool(a.value) != is_and:  # False and _, True or _
                return a
            return self.simp(e.b)
        b = self.simp(e.b)
        if isinstance(b, IntImm) and dt.lanes(b.dtype) == 1:
            return a if bool(b.value) == is_and else b
        if self.key_of(a) == self.key_of(b):
            return a
        if a is e.a and b is e.b:
            return e
        return type(e)(a, b, e.dtype)

    def _s_not(self, e):
        a = self.simp(e.a)
        if isinstance(a, IntImm):
            return IntImm(int(not a.value), a.dtype)
        if isinstance(a, Not):
            return a.a
        if isinstance(a, CmpOp) and is_int_scalar(a.a.dtype):  # exact for integers (no NaN)
            flip = {LT: (LE, True), LE: (LT, True), EQ: (NE, False), NE: (EQ, False)}.get(type(a))
            if flip is not None:
                cls, swap = flip
                return self.simp(cls(a.b, a.a, "bool") if swap else cls(a.a, a.b, "bool"))
        return e if a is e.a else Not(a, e.dtype)

    def _s_select(self, e):
        c = self.simp(e.condition)
        if isinstance(c, IntImm):
            return self.simp(e.true_value if c.value else e.false_value)
        t, f = self.simp(e.true_value), self.simp(e.false_value)
        if self.key_of(t) == self.key_of(f):
            return t
        if c is e.condition and t is e.true_value and f is e.false_value:
            return e
        return Select(c, t, f, e.dtype)

    def _s_call(self, e):
        r = self._children.generic_visit(e)
        if r.op == "likely" and len(r.args) == 1 and isinstance(r.args[0], IntImm):
            return r.args[0]
        return r

    def _s_ramp(self, e):
        base, stride = self.simp(e.base), self.simp(e.stride)
        if isinstance(stride, IntImm) and stride.value == 0:
            return Broadcast(base, e.lanes, e.dtype)
        if base is e.base and stride is e.stride:
            return e
        return Ramp(base, stride, e.lanes, e.dtype)

    def _s_binary(self, e):
        """Float, unsigned, bool and vector arithmetic: fold constants, exact identities only."""
        cls = type(e)
        a, b = self.simp(e.a), self.simp(e.b)
        if dt.lanes(e.dtype) > 1 or dt.lanes(a.dtype) > 1:
            v = self._vector_binary(cls, a, b, e.dtype)
            if v is not None:
                return v
        elif isinstance(a, (IntImm, FloatImm)) and isinstance(b, (IntImm, FloatImm)):
            folded = _fold_cmp(cls, a, b) if issubclass(cls, CmpOp) else binary(cls, a, b)
            if isinstance(folded, (IntImm, FloatImm)):
                return folded
        elif dt.is_float(e.dtype):
            if cls in (Mul, Div) and _is_value(b, 1) or cls is Sub and _is_value(b, 0):
                return a  # exact: x*1, x/1 and x-0 are x for every float, -0.0 and NaN included
            if cls is Mul and _is_value(a, 1):
                return b
        if a is e.a and b is e.b:
            return e
        return cls(a, b, e.dtype)

    def _vector_binary(self, cls, a, b, dtype):
        """Broadcast(x) op Broadcast(y) -> Broadcast(x op y); ramps absorb additions, scaling."""
        lanes = dt.lanes(dtype)
        elem = dt.element_of(dtype)
        if isinstance(a, Broadcast) and isinstance(b, Broadcast):
            return Broadcast(self.simp(cls(a.value, b.value, elem)), lanes, dtype)
        if not is_int_scalar(elem):
            return None
        ra, rb = isinstance(a, Ramp), isinstance(b, Ramp)
        if cls in (Add, Sub) and (ra or rb) and isinstance(a, (Ramp, Broadcast)) \
                and isinstance(b, (Ramp, Broadcast)):
            base = self.simp(cls(a.base if ra else a.value, b.base if rb else b.value, elem))
            zero = IntImm(0, elem)
            stride = self.simp(cls(a.stride if ra else zero, b.stride if rb else zero, elem))
            return self._s_ramp(Ramp(base, stride, lanes, dtype))
        if cls is Mul and (ra and isinstance(b, Broadcast) or rb and isinstance(a, Broadcast)):
            r, k = (a, b.value) if ra else (b, a.value)
            return self._s_ramp(Ramp(self.simp(Mul(r.base, k, elem)), self.simp(Mul(r.stride, k, elem)),
                                     lanes, dtype))
        if cls in (FloorDiv, FloorMod) and ra and isinstance(b, Broadcast) \
                and isinstance(b.value, IntImm) and b.value.value > 0 \
                and isinstance(a.stride, IntImm) and a.stride.value >= 0:
            c = b.value
            last = Add(a.base, IntImm(a.stride.value * (lanes - 1), elem), elem)
            first_q, last_q = self.canon(FloorDiv(a.base, c, elem)), self.canon(FloorDiv(last, c, elem))
            spread = last_q - first_q
            if spread.is_const and spread.const == 0:  # no lane crosses a multiple of c
                if cls is FloorDiv:
                    return Broadcast(self.to_expr(first_q), lanes, dtype)
                return Ramp(self.simp(FloorMod(a.base, c, elem)), a.stride, lanes, dtype)
        return None


def _is_value(e, v) -> bool:
    return isinstance(e, (IntImm, FloatImm)) and e.value == v


def _fold_cmp(cls, a, b) -> PrimExpr:
    x, y = a.value, b.value
    r = {EQ: x == y, NE: x != y, LT: x < y, LE: x <= y, GT: x > y, GE: x >= y}[cls]
    return IntImm(int(r), "bool")


_SIMP = {
    IntImm: LocalRules._s_leaf, FloatImm: LocalRules._s_leaf, StringImm: LocalRules._s_leaf,
    Var: LocalRules._s_var, SizeVar: LocalRules._s_var, Cast: LocalRules._s_cast,
    EQ: LocalRules._s_cmp, NE: LocalRules._s_cmp, LT: LocalRules._s_cmp, LE: LocalRules._s_cmp,
    GT: LocalRules._s_cmp, GE: LocalRules._s_cmp, And: LocalRules._s_and_or, Or: LocalRules._s_and_or,
    Not: LocalRules._s_not, Select: LocalRules._s_select, Call: LocalRules._s_call,
    Ramp: LocalRules._s_ramp,
    **{c: LocalRules._s_binary for c in (Add, Sub, Mul, Div, Mod, FloorDiv, FloorMod, Min, Max)},
}
