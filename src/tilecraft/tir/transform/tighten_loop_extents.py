"""TightenLoopExtents: a loop whose whole body is guarded by `if x < c` runs only to c.

Non-dividing splits and compute_at leave loops such as `for x in range(40): if x < 1: ...` (the
guard of an overhanging region).  The iterations past the guard do nothing, but LLVM still sees
forty copies' worth of control flow, and after unrolling O3 can spend minutes on it.  Here a
serial or unrolled loop whose body is one IfThenElse without else takes, from each conjunct
`a*x + rest < b` of the condition (a > 0 a constant, `rest` bounded below), the largest x any
iteration can run and shortens its extent to it.  The guard stays: it still holds per iteration.
"""

from __future__ import annotations

import functools
import operator

from ...arith import Analyzer
from ...ir import expr as E
from ...ir.functor import Mutator, substitute
from ..stmt import For, ForKind, IfThenElse, PrimFunc
from .function_pass import prim_func_pass


def tighten_loop_extents(func: PrimFunc) -> PrimFunc:
    body = _Tightener().visit(func.body)
    return func if body is func.body else func.with_body(body)


def conjuncts(cond) -> list:
    """The terms of `a and b and ...`."""
    if isinstance(cond, E.And):
        return conjuncts(cond.a) + conjuncts(cond.b)
    return [cond]


def all_of(conds):
    """`c0 and c1 and ...` of a non-empty list of conditions."""
    return functools.reduce(operator.and_, conds)


def guard_difference(cond):
    """(d, strict) when integer `cond` reads `d < 0` (strict) or `d <= 0`; else None."""
    if not isinstance(cond, (E.LT, E.LE, E.GT, E.GE)) or not cond.a.dtype.startswith("int"):
        return None
    diff = cond.a - cond.b if isinstance(cond, (E.LT, E.LE)) else cond.b - cond.a
    return diff, isinstance(cond, (E.LT, E.GT))


def linear_in(ana: Analyzer, expr, v):
    """(slope, rest) when expr == slope*v + rest with slope a constant and rest free of v; else None."""
    rest = ana.simplify(substitute(expr, {v: E.const(0, v.dtype)}))
    slope = ana.simplify(substitute(expr, {v: E.const(1, v.dtype)}) - rest)
    if not isinstance(slope, E.IntImm) or not ana.can_prove_equal(expr, slope * v + rest):
        return None
    return slope.value, rest


def upper_guard(ana: Analyzer, x, cond):
    """(slope, rest, strict) when `cond` reads `slope*x + rest < 0` (`<= 0` unless strict), slope a
    positive constant and `rest` free of x: a guard that bounds x from above; else None."""
    diff = guard_difference(cond)
    linear = None if diff is None else linear_in(ana, diff[0], x)
    if linear is None or linear[0] <= 0:
        return None
    return linear[0], linear[1], diff[1]


def last_iteration(slope: int, rest_bound: int, strict: bool) -> int:
    """The largest x with `slope*x + rest_bound < 0` (or `<= 0`)."""
    return (-rest_bound - (1 if strict else 0)) // slope


class LoopStmtMutator(Mutator):
    """A statement mutator whose analyzer knows the ranges of the loops around the statement it
    visits (expressions are left as they are)."""

    def __init__(self):
        self.ana = Analyzer()

    def visit(self, node):
        if isinstance(node, E.PrimExpr):
            return node
        return super().visit(node)

    def visit_loop_body(self, s: For):
        with self.ana.scope():
            self.ana.bind(s.loop_var, E.Range(s.min, s.extent))
            return self.visit(s.body)


class _Tightener(LoopStmtMutator):
    def visit_For(self, s):
        body = self.visit_loop_body(s)
        extent = s.extent
        if (s.kind in (ForKind.SERIAL, ForKind.UNROLLED) and isinstance(extent, E.IntImm)
                and isinstance(s.min, E.IntImm) and isinstance(body, IfThenElse) and body.else_case is None):
            lasts = [v for v in (self._last(s.loop_var, c) for c in conjuncts(body.condition)) if v is not None]
            last = min(lasts, default=None)
            if last is not None and last - s.min.value + 1 < extent.value:
                extent = E.IntImm(max(0, last - s.min.value + 1), extent.dtype)
        if extent is s.extent and body is s.body:
            return s
        return For(s.loop_var, s.min, extent, s.kind, body, s.thread_tag, s.annotations)

    def _last(self, x, cond) -> int | None:
        """The largest x for which `cond` can hold, if it bounds x from above; else None."""
        guard = upper_guard(self.ana, x, cond)
        if guard is None:
            return None
        slope, rest, strict = guard
        low = self.ana.const_int_bound(rest).min_value
        return None if low <= -(1 << 62) else last_iteration(slope, low, strict)


def TightenLoopExtents():  # noqa: N802  (a pass constructor, named like the classic ones)
    return prim_func_pass(lambda f, mod, ctx: tighten_loop_extents(f), 0, "TightenLoopExtents")
