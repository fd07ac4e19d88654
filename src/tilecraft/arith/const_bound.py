"""Constant integer bounds: closed intervals of Python ints with saturating infinities.

The simplifier proves facts ("0 <= r < 32", "a - b <= 0") by bounding expressions with
integer intervals.  Bounds that escape the 64-bit range saturate to `POS_INF` / `NEG_INF`, so
one unbounded operand makes the result unbounded instead of silently wrong.
"""

from __future__ import annotations

from typing import NamedTuple

from ..ir import dtype as dt

POS_INF = (1 << 63) - 1
NEG_INF = -POS_INF


class ConstIntBound(NamedTuple):
    """`min_value <= expr <= max_value`; the ends may be `NEG_INF` / `POS_INF`."""

    min_value: int
    max_value: int

    POS_INF = POS_INF
    NEG_INF = NEG_INF

    @property
    def is_const(self) -> bool:
        return self.min_value == self.max_value

    @property
    def is_bounded(self) -> bool:
        return self.min_value != NEG_INF and self.max_value != POS_INF


EVERYTHING = ConstIntBound(NEG_INF, POS_INF)
BOOL = ConstIntBound(0, 1)


def sat(v: int) -> int:
    """Clamp to the representable range: anything beyond it is an infinity."""
    if v >= POS_INF:
        return POS_INF
    if v <= NEG_INF:
        return NEG_INF
    return v


def _is_inf(v: int) -> bool:
    return v == POS_INF or v == NEG_INF


def add_val(a: int, b: int) -> int:
    if _is_inf(a):
        return a
    if _is_inf(b):
        return b
    return sat(a + b)


def mul_val(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    if _is_inf(a) or _is_inf(b):
        return POS_INF if (a > 0) == (b > 0) else NEG_INF
    return sat(a * b)


def add(x: ConstIntBound, y: ConstIntBound) -> ConstIntBound:
    return ConstIntBound(add_val(x.min_value, y.min_value), add_val(x.max_value, y.max_value))


def scale(x: ConstIntBound, k: int) -> ConstIntBound:
    lo, hi = mul_val(x.min_value, k), mul_val(x.max_value, k)
    return ConstIntBound(lo, hi) if k >= 0 else ConstIntBound(hi, lo)


def mul(x: ConstIntBound, y: ConstIntBound) -> ConstIntBound:
    corners = [mul_val(a, b) for a in x for b in y]
    return ConstIntBound(min(corners), max(corners))


def floordiv(x: ConstIntBound, c: int) -> ConstIntBound:
    """Bound of floor(x / c) for a constant c > 0 (monotone, so the ends map to the ends)."""
    f = lambda v: v if _is_inf(v) else v // c
    return ConstIntBound(f(x.min_value), f(x.max_value))


def floormod(x: ConstIntBound, c: int) -> ConstIntBound:
    """Bound of x mod c (floor semantics) for a constant c > 0."""
    lo, hi = x
    if not _is_inf(lo) and not _is_inf(hi) and lo // c == hi // c:
        return ConstIntBound(lo % c, hi % c)
    if lo >= 0:
        return ConstIntBound(0, min(hi, c - 1))
    return ConstIntBound(0, c - 1)


def truncdiv(x: ConstIntBound, c: int) -> ConstIntBound:
    """Bound of x / c rounding toward zero, c > 0: monotone as well."""
    def f(v):
        if _is_inf(v):
            return v
        q = abs(v) // c
        return q if v >= 0 else -q
    return ConstIntBound(f(x.min_value), f(x.max_value))


def truncmod(x: ConstIntBound, c: int) -> ConstIntBound:
    """Bound of the C remainder x % c for c > 0: it takes the dividend's sign."""
    lo, hi = x
    if lo >= 0:
        return floormod(x, c)
    if hi <= 0:
        return ConstIntBound(max(lo, -(c - 1)), 0)
    return ConstIntBound(max(lo, -(c - 1)), min(hi, c - 1))


def union(x: ConstIntBound, y: ConstIntBound) -> ConstIntBound:
    return ConstIntBound(min(x.min_value, y.min_value), max(x.max_value, y.max_value))


def intersect(x: ConstIntBound, y: ConstIntBound) -> ConstIntBound:
    return ConstIntBound(max(x.min_value, y.min_value), min(x.max_value, y.max_value))


def of_dtype(dtype: str) -> ConstIntBound:
    """Every value a scalar of `dtype` can hold (ints are assumed never to overflow)."""
    d = dt.parse(dtype)
    if d.code == "bool":
        return BOOL
    if d.code == "int":
        return ConstIntBound(sat(-(1 << (d.bits - 1))), sat((1 << (d.bits - 1)) - 1))
    if d.code == "uint":
        return ConstIntBound(0, sat((1 << d.bits) - 1))
    return EVERYTHING
