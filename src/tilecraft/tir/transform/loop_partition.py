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
"""

from __future__ import annotations

from ...arith import Analyzer
from ...arith.const_bound import POS_INF
from ...ir import expr as E
from ...ir.functor import Mutator, Visitor, substitute
from ..stmt import For, ForKind, IfThenElse, LetStmt, PrimFunc, seq
from .function_pass import prim_func_pass


def loop_partition(func: PrimFunc) -> PrimFunc:
    body = _Partitioner().visit(func.body)
    return func if body is func.body else func.with_body(body)


def _conjuncts(cond):
    if isinstance(cond, E.And):
        return _conjuncts(cond.a) + _conjuncts(cond.b)
    return [cond]


def _vars(expr) -> set:
    found = set()

    class _Find(Visitor):
        def visit_Var(self, v):
            found.add(v)

    _Find().visit(expr)
    return found


class _Partitioner(Mutator):
    def __init__(self):
        self.ana = Analyzer()

    def visit(self, node):
        if isinstance(node, E.PrimExpr):
            return node
        return super().visit(node)

    def visit_For(self, s):
        with self.ana.scope():
            self.ana.bind(s.loop_var, E.Range(s.min, s.extent))
            body = self.visit(s.body)
        if (s.kind == ForKind.SERIAL and isinstance(s.min, E.IntImm) and isinstance(s.extent, E.IntImm)
                and s.extent.value > 1):
            last = _LastGuardFree(self.ana, s.loop_var).last(body)
            head = None if last is None else last - s.min.value + 1
            if head is not None and 0 < head < s.extent.value:
                dtype = s.extent.dtype
                return seq(For(s.loop_var, s.min, E.IntImm(head, dtype), s.kind, body, s.thread_tag, s.annotations),
                           For(s.loop_var, E.IntImm(s.min.value + head, dtype), E.IntImm(s.extent.value - head, dtype),
                               s.kind, body, s.thread_tag, s.annotations))
        if body is s.body:
            return s
        return For(s.loop_var, s.min, s.extent, s.kind, body, s.thread_tag, s.annotations)


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
        for cond in _conjuncts(s.condition):
            last = self._last_true(cond)
            if last is not None:
                self.result = last if self.result is None else min(self.result, last)
        self.visit(s.then_case)
        if s.else_case is not None:
            self.visit(s.else_case)

    def _last_true(self, cond) -> int | None:
        """The largest x for which `cond` (`a*x + rest < b`, a > 0) holds for every `rest`."""
        if not isinstance(cond, (E.LT, E.LE, E.GT, E.GE)) or not cond.a.dtype.startswith("int"):
            return None
        x = self.x
        if x not in _vars(cond):
            return None
        strict = isinstance(cond, (E.LT, E.GT))
        diff = cond.a - cond.b if isinstance(cond, (E.LT, E.LE)) else cond.b - cond.a  # < 0 or <= 0
        rest = self.ana.simplify(substitute(diff, {x: E.const(0, x.dtype)}))
        slope = self.ana.simplify(substitute(diff, {x: E.const(1, x.dtype)}) - rest)
        if not isinstance(slope, E.IntImm) or slope.value <= 0 or not _vars(rest) <= self.inner:
            return None
        if not self.ana.can_prove_equal(diff, slope * x + rest):  # linear in x
            return None
        high = self.ana.const_int_bound(rest).max_value
        if high == POS_INF:
            return None
        room = -high - (1 if strict else 0)  # slope * x <= room
        return room // slope.value


def LoopPartition():  # noqa: N802  (classic tvm.tir.transform name)
    return prim_func_pass(lambda f, mod, ctx: loop_partition(f), 0, "LoopPartition")
