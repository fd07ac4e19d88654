"""Symbolic integer intervals, and the interval an expression covers as variables range.

Bound inference asks: as the inner loop variables of a compute_at region run over their
ranges, which indices of the producer are touched?  `eval_set(io*32 + ii, {ii: [0, 31]})` is
`[io*32, io*32 + 31]`: the bounds stay symbolic in the variables held fixed (io), and the
extent simplifies to the constant 32, which is what lets the region become a fixed-size buffer.
"""

from __future__ import annotations

from ..ir import dtype as dt
from ..ir.expr import (
    Add,
    Cast,
    Div,
    FloorDiv,
    FloorMod,
    IntImm,
    Let,
    Max,
    Min,
    Mod,
    Mul,
    PrimExpr,
    Range,
    Select,
    Sub,
    Var,
    cast,
    convert,
    floordiv,
    floormod,
    max_,
    min_,
    sub,
    truncdiv,
)
from ..ir.functor import structural_equal, uses_var


class IntervalSet:
    """The integers in [min_value, max_value] (inclusive); None on a side means unbounded."""

    __slots__ = ("min_value", "max_value")

    def __init__(self, min_value, max_value):
        self.min_value = None if min_value is None else convert(min_value)
        self.max_value = None if max_value is None else convert(max_value)

    @staticmethod
    def point(e) -> IntervalSet:
        e = convert(e)
        return IntervalSet(e, e)

    @staticmethod
    def everything() -> IntervalSet:
        return IntervalSet(None, None)

    @staticmethod
    def from_range(rng: Range, analyzer=None) -> IntervalSet:
        ana = _analyzer(analyzer)
        mn = ana.simplify(rng.min)
        return IntervalSet(mn, ana.simplify(sub(mn + rng.extent, 1)))

    def has_lower_bound(self) -> bool:
        return self.min_value is not None

    def has_upper_bound(self) -> bool:
        return self.max_value is not None

    def is_everything(self) -> bool:
        return self.min_value is None and self.max_value is None

    def is_single_point(self) -> bool:
        return self.min_value is not None and structural_equal(self.min_value, self.max_value)

    def union(self, other: IntervalSet, analyzer=None) -> IntervalSet:
        ana = _analyzer(analyzer)
        lo = _combine(min_, self.min_value, other.min_value, unbounded_wins=True)
        hi = _combine(max_, self.max_value, other.max_value, unbounded_wins=True)
        return IntervalSet(_simp(ana, lo), _simp(ana, hi))

    def extent(self, analyzer=None) -> PrimExpr:
        """max - min + 1, simplified; an error for a set unbounded on either side."""
        if self.min_value is None or self.max_value is None:
            raise ValueError(f"the interval {self} is unbounded, so it has no extent; "
                             "bind the variables it depends on to ranges first")
        return _analyzer(analyzer).simplify(sub(self.max_value, self.min_value) + 1)

    def to_range(self, analyzer=None) -> Range:
        return Range(self.min_value, self.extent(analyzer))

    def __repr__(self) -> str:
        lo = "-inf" if self.min_value is None else str(self.min_value)
        hi = "+inf" if self.max_value is None else str(self.max_value)
        return f"[{lo}, {hi}]"


def eval_set(expr, dom: dict, analyzer=None) -> IntervalSet:
    """The interval of `expr` when each variable in `dom` ranges over its IntervalSet (or
    Range); variables not in dom are fixed symbols.  Bounds come back simplified."""
    ana = _analyzer(analyzer)
    sets = {v: (IntervalSet.from_range(s, ana) if isinstance(s, Range) else s) for v, s in dom.items()}
    r = _Eval(sets, ana).visit(_simplify_over(convert(expr), sets, ana))
    if _is_point(r):
        return IntervalSet.point(_simp(ana, r.min_value))
    return IntervalSet(_simp(ana, r.min_value), _simp(ana, r.max_value))


def _simplify_over(expr, sets: dict, ana):
    """Simplify expr knowing each ranging variable's set (and only that about it).

    Interval arithmetic cannot see that terms are correlated: over f in [fo, fo+1],
    (f // 2)*2 + f % 2 would come out wider than [fo, fo+1].  The canonical form first turns
    it back into f.  The analyzer's own facts about the ranging variables are set aside, since
    the caller's sets are what counts here.
    """
    with ana.scope():
        eng = ana._eng
        for v in sets:
            eng.forget(v)
        for v, s in sets.items():
            if s.min_value is not None and s.max_value is not None:
                eng.bind_range(v, s.min_value, sub(s.max_value, s.min_value) + 1)
        return ana.simplify(expr)


def _analyzer(analyzer):
    if analyzer is not None:
        return analyzer
    from .analyzer import Analyzer

    return Analyzer()


def _simp(ana, e):
    return None if e is None else ana.simplify(e)


def _combine(fn, a, b, unbounded_wins: bool):
    """fn(a, b) for bound ends where None is the infinity on that side."""
    if a is None or b is None:
        return None if unbounded_wins else (b if a is None else a)
    return fn(a, b)


def _is_point(s: IntervalSet) -> bool:
    """Points are built with min and max the same object, so this test is O(1)."""
    return s.min_value is s.max_value and s.min_value is not None


def _is_const(e) -> bool:
    return isinstance(e, IntImm)


class _Eval:
    """Interval arithmetic over the expression tree; a point stays one object (min is max)."""

    def __init__(self, dom: dict, ana):
        self.dom = dom
        self.ana = ana

    def visit(self, e: PrimExpr) -> IntervalSet:
        if isinstance(e, Var):
            return self.dom.get(e) or IntervalSet.point(e)
        fn = _RULES.get(type(e))
        if fn is None:
            return self._opaque(e)
        return fn(self, e)

    def _opaque(self, e):
        if not uses_var(e, self.dom):
            return IntervalSet.point(e)
        if dt.is_bool(e.dtype):
            return IntervalSet(IntImm(0, "bool"), IntImm(1, "bool"))
        return IntervalSet.everything()

    def _sign(self, e) -> int:
        """1 if e >= 0 provably, -1 if e <= 0 provably, else 0."""
        b = self.ana.const_int_bound(e)
        return 1 if b.min_value >= 0 else -1 if b.max_value <= 0 else 0

    def _add(self, e):
        a, b = self.visit(e.a), self.visit(e.b)
        if _is_point(a) and _is_point(b):
            return IntervalSet.point(type(e)(a.min_value, b.min_value, e.dtype))
        if isinstance(e, Add):
            return IntervalSet(_combine(_add, a.min_value, b.min_value, True),
                               _combine(_add, a.max_value, b.max_value, True))
        return IntervalSet(_combine(_sub, a.min_value, b.max_value, True),
                           _combine(_sub, a.max_value, b.min_value, True))

    def _mul(self, e):
        a, b = self.visit(e.a), self.visit(e.b)
        a_pt, b_pt = _is_point(a), _is_point(b)
        if a_pt and b_pt:
            return IntervalSet.point(Mul(a.min_value, b.min_value, e.dtype))
        if a_pt:
            a, b = b, a  # now b is the point factor
        elif not b_pt:
            if all(x is not None and self._sign(x) > 0 for x in (a.min_value, b.min_value)):
                hi = _combine(_mul, a.max_value, b.max_value, True)
                return IntervalSet(_mul(a.min_value, b.min_value), hi)
            return IntervalSet.everything()
        k = b.min_value
        sign = (1 if k.value >= 0 else -1) if _is_const(k) else self._sign(k)
        lo = None if a.min_value is None else _mul(a.min_value, k)
        hi = None if a.max_value is None else _mul(a.max_value, k)
        if sign > 0:
            return IntervalSet(lo, hi)
        if sign < 0:
            return IntervalSet(hi, lo)
        return IntervalSet.everything()

    def _div(self, e):
        a, b = self.visit(e.a), self.visit(e.b)
        if _is_point(a) and _is_point(b):
            return IntervalSet.point(type(e)(a.min_value, b.min_value, e.dtype))
        if not _is_point(b) or dt.is_float(e.dtype):
            return IntervalSet.everything()
        k = b.min_value
        sign = (1 if k.value > 0 else -1 if k.value < 0 else 0) if _is_const(k) else self._sign(k - 1)
        if sign == 0 or not _is_const(k) and sign < 0:
            return IntervalSet.everything()
        op = floordiv if isinstance(e, FloorDiv) else truncdiv
        lo = None if a.min_value is None else op(a.min_value, k)
        hi = None if a.max_value is None else op(a.max_value, k)
        return IntervalSet(lo, hi) if sign > 0 else IntervalSet(hi, lo)

    def _mod(self, e):
        a, b = self.visit(e.a), self.visit(e.b)
        if _is_point(a) and _is_point(b):
            return IntervalSet.point(type(e)(a.min_value, b.min_value, e.dtype))
        if not _is_point(b) or dt.is_float(e.dtype):
            return IntervalSet.everything()
        k = b.min_value
        if not (_is_const(k) and k.value > 0 or not _is_const(k) and self._sign(k - 1) > 0):
            return IntervalSet.everything()
        nonneg = a.min_value is not None and self._sign(a.min_value) > 0
        if isinstance(e, FloorMod) or nonneg:
            if a.min_value is not None and a.max_value is not None and self.ana.can_prove_equal(
                    floordiv(a.min_value, k), floordiv(a.max_value, k)):
                return IntervalSet(floormod(a.min_value, k), floormod(a.max_value, k))
            return IntervalSet(IntImm(0, e.dtype), sub(k, 1))
        return IntervalSet(sub(1, k), sub(k, 1))

    def _minmax(self, e):
        a, b = self.visit(e.a), self.visit(e.b)
        if _is_point(a) and _is_point(b):
            return IntervalSet.point(type(e)(a.min_value, b.min_value, e.dtype))
        fn = min_ if isinstance(e, Min) else max_
        # min: the lower end is unbounded if either is; the upper end is bounded if either is.
        return IntervalSet(_combine(fn, a.min_value, b.min_value, unbounded_wins=fn is min_),
                           _combine(fn, a.max_value, b.max_value, unbounded_wins=fn is max_))

    def _select(self, e):
        t, f = self.visit(e.true_value), self.visit(e.false_value)
        c = self.visit(e.condition)
        if _is_point(t) and _is_point(f) and _is_point(c):
            return IntervalSet.point(Select(c.min_value, t.min_value, f.min_value, e.dtype))
        return IntervalSet(_combine(min_, t.min_value, f.min_value, True),
                           _combine(max_, t.max_value, f.max_value, True))

    def _cast(self, e):
        a = self.visit(e.value)
        if _is_point(a):
            return IntervalSet.point(cast(a.min_value, e.dtype))
        return IntervalSet(None if a.min_value is None else cast(a.min_value, e.dtype),
                           None if a.max_value is None else cast(a.max_value, e.dtype))

    def _let(self, e):
        inner = _Eval({**self.dom, e.var: self.visit(e.value)}, self.ana)
        return inner.visit(e.body)

    def _imm(self, e):
        return IntervalSet.point(e)


def _add(a, b):
    return a + b


def _sub(a, b):
    return a - b


def _mul(a, b):
    return a * b


_RULES = {
    IntImm: _Eval._imm, Add: _Eval._add, Sub: _Eval._add, Mul: _Eval._mul,
    FloorDiv: _Eval._div, Div: _Eval._div, FloorMod: _Eval._mod, Mod: _Eval._mod,
    Min: _Eval._minmax, Max: _Eval._minmax, Select: _Eval._select, Cast: _Eval._cast, Let: _Eval._let,
}
