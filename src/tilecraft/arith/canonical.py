"""Integer rules: a signed integer scalar expression becomes a canonical `Sum` of atoms.

Like terms cancel and constants fold in the sum (sum_form.py); floor/trunc division and modulo
by constants go through divmod.py, using interval bounds of the terms (bound_rules.py); min,
max, select and casts resolve when bounds decide them, and otherwise become atoms.  `to_expr`
prints a sum back as an expression.
"""

from __future__ import annotations

from functools import cache

from ..ir import dtype as dt
from ..ir.expr import (
    Add,
    Cast,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Max,
    Min,
    Mod,
    Mul,
    PrimExpr,
    Select,
    SizeVar,
    Sub,
    Var,
    cast,
)
from . import divmod as dm
from .sum_form import Sum, accumulate

# Expanding a product of two sums is quadratic; past this many partial products keep it opaque.
_MAX_EXPANSION = 16


@cache
def is_int_scalar(dtype: str) -> bool:
    """Signed integer scalars get the canonical form (unsigned ones wrap, so they do not)."""
    d = dt.parse(dtype)
    return d.code == "int" and d.lanes == 1


class Atom:
    """An entry of the atom table: its expression, and what the rules need to know about it."""

    __slots__ = ("expr", "kind", "args")

    def __init__(self, expr: PrimExpr, kind: str, args):
        self.expr = expr
        self.kind = kind  # var fdiv fmod tdiv tmod sdiv smod min max select mul cast opaque
        self.args = args


class CanonicalRules:
    """Mixin of Simplifier: the canonical form of integer expressions, and back."""

    # ------------------------------------------------------------------ canonical form
    def canon(self, e: PrimExpr) -> Sum:
        s = self._canon.get(e)
        if s is None:
            s = _CANON.get(type(e), CanonicalRules._c_other)(self, e)
            self._canon[e] = s
        return s

    def _c_imm(self, e):
        return Sum.of_const(e.value, e.dtype)

    def _c_var(self, e):
        v = self.var_value.get(e)
        if v is not None:
            return self.canon(v)
        return Sum.of_atom(self._atom(e, "var", None, lambda: e), e.dtype)

    def _c_addsub(self, e):
        # Walk the left spine iteratively: long sums must not recurse once per term.
        parts = []
        node = e
        while type(node) in (Add, Sub) and node not in self._canon:
            parts.append((node.b, 1 if type(node) is Add else -1))
            node = node.a
        base = self.canon(node)
        terms, const = dict(base.terms), base.const
        for b, sign in reversed(parts):
            sb = self.canon(b)
            accumulate(terms, sb.terms, sign)
            const += sign * sb.const
        s = Sum(terms, const, e.dtype)
        return dm.merge_divmod(self, s) if dm.has_divmod(self, s) else s

    def _c_mul(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const:
            return sa.scale(sb.const)
        if sa.is_const:
            return sb.scale(sa.const)
        if (len(sa.terms) + (sa.const != 0)) * (len(sb.terms) + (sb.const != 0)) <= _MAX_EXPANSION:
            return sa.times(sb)
        return self._pair_atom("mul", Mul, sa, sb, e.dtype, commutative=True)

    def _c_floordiv(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const > 0:
            return dm.floordiv(self, sa, sb.const)
        if sb.is_const and sb.const < 0:  # floor(a / -c) == floor(-a / c)
            return dm.floordiv(self, sa.scale(-1), -sb.const)
        return self._sym_div(e, sa, sb, "sdiv", FloorDiv)

    def _c_floormod(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const > 0:
            return dm.floormod(self, sa, sb.const)
        if sb.is_const and sb.const < 0:  # a mod -c == -((-a) mod c)
            return dm.floormod(self, sa.scale(-1), -sb.const).scale(-1)
        return self._sym_div(e, sa, sb, "smod", FloorMod)

    def _c_truncdiv(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const != 0:
            c, sign = abs(sb.const), (1 if sb.const > 0 else -1)
            lo, hi = self.bound_sum(sa)
            if lo >= 0:
                return dm.floordiv(self, sa, c).scale(sign)
            if hi <= 0:  # trunc(a / c) == -floor(-a / c) for a <= 0
                return dm.floordiv(self, sa.scale(-1), c).scale(-sign)
            if -c < lo and hi < c:
                return Sum.of_const(0, e.dtype)
            r = sa if sign > 0 else sa.scale(-1)
            aid = self._atom(("tdiv", r.key(), c), "tdiv", (r, c),
                             lambda: Div(self.to_expr(r), IntImm(c, e.dtype), e.dtype))
            return Sum.of_atom(aid, e.dtype)
        return self._sym_div(e, sa, sb, "sdiv", Div)

    def _c_truncmod(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const != 0:
            c = abs(sb.const)  # the remainder takes the dividend's sign only
            lo, hi = self.bound_sum(sa)
            if lo >= 0:
                return dm.floormod(self, sa, c)
            if hi <= 0:
                return dm.floormod(self, sa.scale(-1), c).scale(-1)
            if -c < lo and hi < c:
                return sa
            aid = self._atom(("tmod", sa.key(), c), "tmod", (sa, c),
                             lambda: Mod(self.to_expr(sa), IntImm(c, e.dtype), e.dtype))
            return Sum.of_atom(aid, e.dtype)
        return self._sym_div(e, sa, sb, "smod", Mod)

    def _sym_div(self, e, sa: Sum, sb: Sum, kind: str, cls) -> Sum:
        """Division by a non-constant: only 0 <= a < b is resolved (quotient 0, remainder a)."""
        la = self.bound_sum(sa).min_value
        if la >= 0 and self._lo(sb - sa) >= 1:
            return Sum.of_const(0, e.dtype) if kind == "sdiv" else sa
        return self._pair_atom(kind + cls.__name__, cls, sa, sb, e.dtype, commutative=False)

    def _c_minmax(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        d = sa - sb
        is_min = type(e) is Min
        if self._hi(d) <= 0:
            return sa if is_min else sb
        if self._lo(d) >= 0:
            return sb if is_min else sa
        kind = "min" if is_min else "max"
        return self._pair_atom(kind, type(e), sa, sb, e.dtype, commutative=True)

    def _c_select(self, e):
        c = self.simp(e.condition)
        if isinstance(c, IntImm):
            return self.canon(e.true_value if c.value else e.false_value)
        st, sf = self.canon(e.true_value), self.canon(e.false_value)
        if st.key() == sf.key():
            return st
        key = ("select", self.key_of(c), st.key(), sf.key())
        aid = self._atom(key, "select", (st, sf),
                         lambda: Select(c, self.to_expr(st), self.to_expr(sf), e.dtype))
        return Sum.of_atom(aid, e.dtype)

    def _c_cast(self, e):
        inner = self.simp(e.value)
        if isinstance(inner, (IntImm, FloatImm)):
            folded = cast(inner, e.dtype)
            if isinstance(folded, IntImm):
                return Sum.of_const(folded.value, e.dtype)
        if inner.dtype == e.dtype:
            return self.canon(inner)
        node = Cast(e.dtype, inner)
        aid = self._atom(("cast", e.dtype, self.key_of(inner)), "cast", inner, lambda: node)
        return Sum.of_atom(aid, e.dtype)

    def _c_other(self, e):
        return self._opaque(e)

    # ------------------------------------------------------------------ back to expressions
    def to_expr(self, s: Sum) -> PrimExpr:
        """Print a sum: positive terms first (first-appearance order), then `- t`, then `+/- k`."""
        dtype = s.dtype
        e = None
        neg = []
        for mono, c in s.terms.items():
            if c > 0:
                t = self._mono_expr(mono, c, dtype)
                e = t if e is None else Add(e, t, dtype)
            else:
                neg.append((mono, -c))
        const = s.const
        if e is None and neg and const > 0:
            e, const = IntImm(const, dtype), 0
        for mono, c in neg:
            if e is None:
                e = self._mono_expr(mono, -c, dtype)
            else:
                e = Sub(e, self._mono_expr(mono, c, dtype), dtype)
        if e is None:
            return IntImm(const, dtype)
        if const > 0:
            return Add(e, IntImm(const, dtype), dtype)
        if const < 0:
            return Sub(e, IntImm(-const, dtype), dtype)
        return e

    def _mono_expr(self, mono: tuple, c: int, dtype: str) -> PrimExpr:
        atoms = self.atoms
        e = atoms[mono[0]].expr
        for aid in mono[1:]:
            e = Mul(e, atoms[aid].expr, dtype)
        return e if c == 1 else Mul(e, IntImm(c, dtype), dtype)


_CANON = {
    IntImm: CanonicalRules._c_imm, Var: CanonicalRules._c_var, SizeVar: CanonicalRules._c_var,
    Add: CanonicalRules._c_addsub, Sub: CanonicalRules._c_addsub, Mul: CanonicalRules._c_mul,
    FloorDiv: CanonicalRules._c_floordiv, FloorMod: CanonicalRules._c_floormod,
    Div: CanonicalRules._c_truncdiv, Mod: CanonicalRules._c_truncmod,
    Min: CanonicalRules._c_minmax, Max: CanonicalRules._c_minmax,
    Select: CanonicalRules._c_select, Cast: CanonicalRules._c_cast,
}
