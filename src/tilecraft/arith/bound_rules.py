"""Bounds: constant intervals of sums and atoms from what is known of the variables, refined
once by symbolic bounds (`i - n` with `i < n` is below zero).  The canonical rules ask these to
decide divisions, min/max and comparisons."""

from __future__ import annotations

from ..ir import dtype as dt
from ..ir.expr import IntImm, PrimExpr, SizeVar, Var
from . import const_bound as cb
from .canonical import Atom, is_int_scalar
from .const_bound import NEG_INF, POS_INF, ConstIntBound
from .sum_form import Sum, accumulate


class BoundRules:
    """Mixin of Simplifier: constant integer bounds."""

    # ------------------------------------------------------------------ bounds
    def const_int_bound(self, e: PrimExpr) -> ConstIntBound:
        if is_int_scalar(e.dtype):
            return self.bound_sum(self.canon(e))
        if dt.lanes(e.dtype) == 1 and (dt.is_bool(e.dtype) or dt.is_uint(e.dtype)):
            e = self.simp(e)
            if isinstance(e, IntImm):
                return ConstIntBound(e.value, e.value)
            return cb.of_dtype(e.dtype)
        return cb.EVERYTHING

    def bound_sum(self, s: Sum) -> ConstIntBound:
        # Hot path: plain integer sums, with the infinite ends tracked as flags.
        lo = hi = s.const
        lo_inf = hi_inf = False
        for mono, c in s.terms.items():
            b = self.bound_atom(mono[0])
            for aid in mono[1:]:
                b = cb.mul(b, self.bound_atom(aid))
            blo, bhi = b
            if c < 0:
                blo, bhi = bhi, blo
            if blo == NEG_INF or blo == POS_INF:
                lo_inf = True
            else:
                lo += c * blo
            if bhi == POS_INF or bhi == NEG_INF:
                hi_inf = True
            else:
                hi += c * bhi
        return ConstIntBound(NEG_INF if lo_inf else cb.sat(lo), POS_INF if hi_inf else cb.sat(hi))

    def bound_atom(self, aid: int) -> ConstIntBound:
        b = self._atom_bound.get(aid)
        if b is None:
            b = self._compute_atom_bound(self.atoms[aid])
            self._atom_bound[aid] = b
        return b

    def _default_var_bound(self, v: Var) -> ConstIntBound:
        b = cb.of_dtype(v.dtype)
        return ConstIntBound(0, b.max_value) if isinstance(v, SizeVar) else b

    def _compute_atom_bound(self, atom: Atom) -> ConstIntBound:
        k, args = atom.kind, atom.args
        if k == "var":
            v = atom.expr
            if v in self.var_value:
                return self.const_int_bound(self.var_value[v])
            return self.var_bound.get(v) or self._default_var_bound(v)
        if k == "fdiv":
            return cb.floordiv(self.bound_sum(args[0]), args[1])
        if k == "fmod":
            return cb.floormod(self.bound_sum(args[0]), args[1])
        if k == "tdiv":
            return cb.truncdiv(self.bound_sum(args[0]), args[1])
        if k == "tmod":
            return cb.truncmod(self.bound_sum(args[0]), args[1])
        if k in ("min", "max", "select", "mul"):
            x, y = self.bound_sum(args[0]), self.bound_sum(args[1])
            if k == "min":
                return ConstIntBound(min(x.min_value, y.min_value), min(x.max_value, y.max_value))
            if k == "max":
                return ConstIntBound(max(x.min_value, y.min_value), max(x.max_value, y.max_value))
            return cb.union(x, y) if k == "select" else cb.mul(x, y)
        if k.startswith(("sdiv", "smod")):
            return self._sym_div_bound(k, self.bound_sum(args[0]), self.bound_sum(args[1]), atom.expr.dtype)
        if k == "cast" and dt.parse(args.dtype).code in ("int", "uint", "bool"):
            inner, full = self.const_int_bound(args), cb.of_dtype(atom.expr.dtype)
            return inner if cb.intersect(inner, full) == inner else full
        return cb.of_dtype(atom.expr.dtype)

    @staticmethod
    def _sym_div_bound(kind: str, a: ConstIntBound, b: ConstIntBound, dtype: str) -> ConstIntBound:
        if b.min_value <= 0 or a.min_value < 0:
            return cb.of_dtype(dtype)
        if kind.startswith("sdiv"):
            hi = a.max_value if a.max_value == POS_INF else a.max_value // b.min_value
            return ConstIntBound(0, hi)
        hi = b.max_value if b.max_value == POS_INF else b.max_value - 1
        return ConstIntBound(0, min(hi, a.max_value))

    def _hi(self, s: Sum) -> int:
        """An upper bound of s, using symbolic variable bounds when constant ones fall short."""
        hi = self.bound_sum(s).max_value
        if (self.sym_hi or self.sym_lo) and not self._refining:
            hi = min(hi, self._refined(s, upper=True))
        return hi

    def _lo(self, s: Sum) -> int:
        lo = self.bound_sum(s).min_value
        if (self.sym_hi or self.sym_lo) and not self._refining:
            lo = max(lo, self._refined(s, upper=False))
        return lo

    def _refined(self, s: Sum, upper: bool) -> int:
        """Replace each variable term by its symbolic bound on the side that bounds s, then
        bound again: i - n with i in [0, n) gives (n - 1) - n == -1.  One round only: the
        bounds may mention each other (or the variable itself, from an assumed `x < f(x)`)."""
        self._refining = True
        try:
            return self._refined_once(s, upper)
        finally:
            self._refining = False

    def _refined_once(self, s: Sum, upper: bool) -> int:
        out = Sum({}, s.const, s.dtype)
        changed = False
        for mono, c in s.terms.items():
            repl = None
            if len(mono) == 1 and self.atoms[mono[0]].kind == "var":
                v = self.atoms[mono[0]].expr
                repl = (self.sym_hi if (c > 0) == upper else self.sym_lo).get(v)
            if repl is None:
                accumulate(out.terms, {mono: c}, 1)
            else:
                out = out + self.canon(repl).scale(c)
                changed = True
        if not changed:
            return POS_INF if upper else NEG_INF
        b = self.bound_sum(out)
        return b.max_value if upper else b.min_value
