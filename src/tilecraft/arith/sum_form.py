"""The canonical form of an integer expression: a sum of monomials with integer coefficients.

`Sum.terms` maps a monomial -- a sorted tuple of atom ids, the atoms being variables and
expressions the sum cannot see into (`x // 8`, `min(a, b)`, `A[i]`) -- to its non-zero
coefficient; `Sum.const` is the constant term.  Like terms meet in the dict, so
`x*32 + y - x*32` cancels to `y` in one pass with no rewriting search.  Dict order is first
appearance, which keeps the printed form close to what the user wrote.
"""

from __future__ import annotations


class Sum:
    """Treated as immutable: operations build new sums (constant sums are shared)."""

    __slots__ = ("terms", "const", "dtype")

    def __init__(self, terms: dict, const: int, dtype: str):
        self.terms = terms
        self.const = const
        self.dtype = dtype

    @staticmethod
    def of_const(v: int, dtype: str) -> Sum:
        s = _CONSTS.get((v, dtype))
        if s is None:
            s = Sum({}, v, dtype)
            if len(_CONSTS) < 4096:
                _CONSTS[(v, dtype)] = s
        return s

    @staticmethod
    def of_atom(aid: int, dtype: str, coeff: int = 1) -> Sum:
        return Sum({(aid,): coeff}, 0, dtype)

    @property
    def is_const(self) -> bool:
        return not self.terms

    def key(self) -> tuple:
        """A structural key: equal keys mean equal sums, whatever the term order."""
        return (self.dtype, frozenset(self.terms.items()), self.const)

    def single_atom(self) -> int | None:
        """The atom id when the sum is exactly one atom (coefficient 1, no constant)."""
        if self.const == 0 and len(self.terms) == 1:
            (mono, c), = self.terms.items()
            if c == 1 and len(mono) == 1:
                return mono[0]
        return None

    def coeff_gcd(self) -> int:
        """The gcd of the term coefficients (0 for a constant)."""
        from math import gcd

        g = 0
        for c in self.terms.values():
            g = gcd(g, c)
        return g

    def __add__(self, o: Sum) -> Sum:
        return self.plus(o, 1)

    def __sub__(self, o: Sum) -> Sum:
        return self.plus(o, -1)

    def plus(self, o: Sum, sign: int) -> Sum:
        terms = dict(self.terms)
        accumulate(terms, o.terms, sign)
        return Sum(terms, self.const + sign * o.const, self.dtype)

    def scale(self, k: int) -> Sum:
        if k == 0:
            return Sum({}, 0, self.dtype)
        return Sum({m: c * k for m, c in self.terms.items()}, self.const * k, self.dtype)

    def add_const(self, k: int) -> Sum:
        return Sum(self.terms, self.const + k, self.dtype)

    def times(self, o: Sum) -> Sum:
        """The expanded product (callers cap its size: it is quadratic in the term counts)."""
        if o.is_const:
            return self.scale(o.const)
        if self.is_const:
            return o.scale(self.const)
        a = list(self.terms.items()) + ([((), self.const)] if self.const else [])
        b = list(o.terms.items()) + ([((), o.const)] if o.const else [])
        terms: dict = {}
        const = 0
        for m1, c1 in a:
            for m2, c2 in b:
                m = tuple(sorted(m1 + m2))
                if m:
                    v = terms.get(m, 0) + c1 * c2
                    if v:
                        terms[m] = v
                    else:
                        del terms[m]
                else:
                    const += c1 * c2
        return Sum(terms, const, self.dtype)


_CONSTS: dict = {}


def accumulate(terms: dict, more: dict, sign: int) -> None:
    """terms += sign * more, in place, dropping terms that cancel."""
    for m, c in more.items():
        v = terms.get(m, 0) + sign * c
        if v:
            terms[m] = v
        else:
            terms.pop(m, None)
