"""LoopPartition: a loop whose last iterations alone need a guard is split into the guarded tail
and a guard-free body.

A split that does not divide its loop (`ow` by 6 over 28 columns) leaves `if o*6 + i < 28` in
every iteration of the outer loop `o`, deep inside the register tile's reduction.  Whether LLVM
then hoists the six guards out of the reduction loop depends on its unswitching budget: the same
convolution ran at 73 GFLOP/s over 28 columns and at 150 over 56.  Here a serial loop `x` of
constant bounds whose body holds guards `a*x + rest < b` (a > 0 a constant, `rest` bounded by the
loops around the guard) becomes two loops over the same iterations in the same order: first the
iterations for which every such guard holds whatever `rest` is, then the others.  Simplify then
drops the guards of the first loop; the second keeps them (and, of extent 1, folds them).  This is
classic TVM's LoopPartition for constant loops, for the guards non-dividing splits produce.

When the guard's outer part comes from a parallel loop in a form that is not linear (a fused
`p % 50 * 4 + i < 198`), the serial loop under it is unswitched instead: `if H: the loop without
its guards else: the loop`, H saying that every guard holds for all values of the loop's own
variables.
"""

from __future__ import annotations

from ...arith import Analyzer
from ...ir import expr as E
from ...ir.functor import Mutator, Visitor, free_vars
from ..stmt import For, ForKind, IfThenElse, LetStmt, PrimFunc, seq
from .function_pass import prim_func_pass
from .tighten_loop_extents import (
    LoopStmtMutator,
    all_of,
    conjuncts,
    guard_difference,
    last_iteration,
    linear_in,
    upper_guard,
)


def loop_partition(func: PrimFunc) -> PrimFunc:
    body = _Partitioner().visit(func.body)
    return func if body is func.body else func.with_body(body)


class _Partitioner(LoopStmtMutator):
    def visit_For(self, s):
        body = self.visit_loop_body(s)
        if (s.kind == ForKind.SERIAL and isinstance(s.min, E.IntImm) and isinstance(s.extent, E.IntImm)
                and s.extent.value > 1):
            last = _LastGuardFree(self.ana, s.loop_var).last(body)
            head = None if last is None else last - s.min.value + 1
            if head is not None and 0 < head < s.extent.value:
                dtype = s.extent.dtype
                return seq(For(s.loop_var, s.min, E.IntImm(head, dtype), s.kind, body, s.thread_tag, s.annotations),
                           For(s.loop_var, E.IntImm(s.min.value + head, dtype), E.IntImm(s.extent.value - head, dtype),
                               s.kind, body, s.thread_tag, s.annotations))
        if s.kind == ForKind.PARALLEL and isinstance(body, For) and body.kind == ForKind.SERIAL:
            body = _unswitch(self.ana, body)
        if body is s.body:
            return s
        return For(s.loop_var, s.min, s.extent, s.kind, body, s.thread_tag, s.annotations)


def _unswitch(ana: Analyzer, loop: For):
    """`if H: loop without its guards else: loop`, where H says that every guard of the loop holds
    for all values of the loop's own variables.  For the guards of a tile whose row block comes from
    the parallel loop around it (`p % 50 * 4 + i < 198`, not linear in p): every block but the last
    runs guard-free (DeiT's 198-row dense: 75 -> 142 GFLOP/s)."""
    found = _InvariantGuards(ana)
    found.visit(loop)
    if not found.guards or found.refused:
        return loop
    hoisted = all_of(list(dict.fromkeys(found.guards.values())))
    return IfThenElse(hoisted, _DropGuards(found.guards).visit(loop), loop)


class _DropGuards(Mutator):
    def __init__(self, guards):
        self.guards = guards

    def visit(self, node):
        if isinstance(node, E.PrimExpr):
            return node
        return super().visit(node)

    def visit_IfThenElse(self, s):
        if id(s) in self.guards:
            return self.visit(s.then_case)
        return super().generic_visit(s)


class _InvariantGuards(Visitor):
    """The guards (id -> condition on the enclosing variables) that hold for every value of the
    loops under them when that condition holds: linear in each such loop variable, whose range is
    constant.  `refused` when an if-then-else guard cannot be expressed so (nothing is then done)."""

    def __init__(self, ana: Analyzer):
        self.ana, self.ranges, self.guards, self.refused = ana, {}, {}, False

    def visit(self, node):
        if isinstance(node, E.PrimExpr):
            return None
        return super().visit(node)

    def visit_For(self, s):
        if not (isinstance(s.min, E.IntImm) and isinstance(s.extent, E.IntImm)) or s.extent.value < 1:
            self.refused = True
            return
        self.ranges[s.loop_var] = (s.min.value, s.min.value + s.extent.value - 1)
        self.visit(s.body)

    def visit_LetStmt(self, s):
        self.refused = True

    def visit_IfThenElse(self, s):
        cond = self._for_all(s.condition) if s.else_case is None else None
        if cond is None:
            self.refused = True
            return
        self.guards[id(s)] = cond
        self.visit(s.then_case)

    def _for_all(self, cond):
        terms = []
        for c in conjuncts(cond):
            guard = guard_difference(c)
            if guard is None:
                return None
            diff, strict = guard
            for v in free_vars(diff):  # each of the loop's own variables at its worst end
                if v not in self.ranges:
                    continue
                linear = linear_in(self.ana, diff, v)
                if linear is None:
                    return None
                slope, rest = linear
                low, high = self.ranges[v]
                diff = self.ana.simplify(rest + E.const(slope * (high if slope > 0 else low), diff.dtype))
            zero = E.const(0, diff.dtype)
            terms.append(diff < zero if strict else diff <= zero)
        return all_of(terms)


class _LastGuardFree(Visitor):
    """The largest x for which every upper-bound guard on x in a loop body holds whatever the
    body's own variables are (None: no such guard).  Loops and lets inside the body are bound in
    the analyzer on the way down, so `rest` is bounded by what can reach the guard.  A guard that
    also depends on an enclosing loop is left to that loop: partitioning x by its worst case would
    copy the body and leave the guard in both copies."""

    def __init__(self, ana: Analyzer, x):
        self.ana, self.x, self.result = ana, x, None
        self.inner = set()

    def last(self, body):
        with self.ana.scope():
            self.visit(body)
        return self.result

    def visit(self, node):
        if isinstance(node, E.PrimExpr):
            return None
        return super().visit(node)

    def visit_For(self, s):
        self.inner.add(s.loop_var)
        with self.ana.scope():
            self.ana.bind(s.loop_var, E.Range(s.min, s.extent))
            self.visit(s.body)

    def visit_LetStmt(self, s: LetStmt):
        self.inner.add(s.var)
        with self.ana.scope():
            if s.value.dtype == s.var.dtype and s.value.dtype.startswith("int"):
                self.ana.bind_bound(s.var, self.ana.const_int_bound(s.value))
            self.visit(s.body)

    def visit_IfThenElse(self, s: IfThenElse):
        for cond in conjuncts(s.condition):
            last = self._last_true(cond)
            if last is not None:
                self.result = last if self.result is None else min(self.result, last)
        self.visit(s.then_case)
        if s.else_case is not None:
            self.visit(s.else_case)

    def _last_true(self, cond) -> int | None:
        """The largest x for which `cond` (`a*x + rest < b`, a > 0) holds for every `rest`."""
        if self.x not in free_vars(cond):
            return None
        guard = upper_guard(self.ana, self.x, cond)
        if guard is None or not set(free_vars(guard[1])) <= self.inner:
            return None
        slope, rest, strict = guard
        high = self.ana.const_int_bound(rest).max_value
        return None if high >= 1 << 62 else last_iteration(slope, high, strict)


def LoopPartition():  # noqa: N802  (classic tvm.tir.transform name)
    return prim_func_pass(lambda f, mod, ctx: loop_partition(f), 0, "LoopPartition")
