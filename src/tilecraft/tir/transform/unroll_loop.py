"""UnrollLoop: replicate the bodies of loops marked `unroll`, and auto-unroll small loop nests.

Semantics follow TVM's UnrollLoop:

- A For of kind "unroll" with a constant extent is unrolled.  A non-constant extent cannot be,
  so that loop stays an ordinary serial loop.
- A For annotated ("pragma_auto_unroll_max_step", N) (schedule primitive `pragma`) sets the
  budget N for the loops *inside* it; `auto_max_step` is the budget everywhere else.  Working
  innermost first, a serial loop of constant extent is unrolled when every loop inside it was
  unrolled, it is at most `auto_max_depth` unrolled loops deep, and extent x (statements in its
  body) <= N.
- ("pragma_unroll_explicit", 0/1) on that same For chooses, for the loops inside it, between
  replicating the body (explicit) and keeping a serial loop annotated
  ("llvm.loop.unroll.full", 1), which codegen turns into LLVM loop metadata.

Explicit replication substitutes the loop variable in order (min, min+1, ...) and folds the
constants this exposes, so an `if i < 3` guard in an unrolled body becomes a plain branch or
vanishes.  To keep code size in check it is capped at `MAX_EXPLICIT_STATEMENTS` statements per
loop, and skipped for bodies that declare memory or bind variables (a copy per iteration would
re-declare them); those loops get the annotation instead.

A nest whose full unrolling would exceed `MAX_UNROLLED_STATEMENTS` leaf statements stays a loop,
even where the schedule asked for `unroll`: LLVM's O3 then spends minutes on a few thousand
lines, and a tuner's candidate must build in bounded time.
"""

from __future__ import annotations

import operator

from ...ir import expr as E
from ...ir.functor import Mutator, post_order_visit
from ..stmt import Allocate, For, ForKind, IfThenElse, LetStmt, PrimFunc, seq
from .function_pass import prim_func_pass

MAX_EXPLICIT_STATEMENTS = 512
MAX_UNROLLED_STATEMENTS = 4096
UNROLL_FULL = ("llvm.loop.unroll.full", 1)

_CMP = {E.EQ: operator.eq, E.NE: operator.ne, E.LT: operator.lt, E.LE: operator.le,
        E.GT: operator.gt, E.GE: operator.ge}


class _FoldingSubstituter(Mutator):
    """Substitute variables and re-fold the operators whose operands became constants."""

    def __init__(self, vmap: dict):
        self.vmap = vmap

    def visit_Var(self, v):
        return self.vmap.get(v, v)

    def visit_BinaryOp(self, op):
        a, b = self.visit(op.a), self.visit(op.b)
        if a is op.a and b is op.b:
            return op
        t = type(op)
        if t in _CMP:
            return _CMP[t](a, b)
        if t is E.And:
            return E.logical_and(a, b)
        if t is E.Or:
            return E.logical_or(a, b)
        return E.binary(t, a, b)

    def visit_Not(self, op):
        a = self.visit(op.a)
        return op if a is op.a else E.logical_not(a)

    def visit_Select(self, op):
        c, t, f = self.visit(op.condition), self.visit(op.true_value), self.visit(op.false_value)
        if c is op.condition and t is op.true_value and f is op.false_value:
            return op
        return E.select(c, t, f)

    def visit_Cast(self, op):
        v = self.visit(op.value)
        return op if v is op.value else E.cast(v, op.dtype)

    def visit_IfThenElse(self, op):
        cond = self.visit(op.condition)
        if isinstance(cond, E.IntImm):
            taken = op.then_case if cond.value else op.else_case
            return self.visit(taken) if taken is not None else seq()
        then = self.visit(op.then_case)
        other = self.visit(op.else_case) if op.else_case is not None else None
        if cond is op.condition and then is op.then_case and other is op.else_case:
            return op
        return IfThenElse(cond, then, other)


def _const_extent(op: For) -> int | None:
    return op.extent.value if isinstance(op.extent, E.IntImm) else None


def _ann_int(value) -> int:
    return int(getattr(value, "value", value))


def _declares(body) -> bool:
    found = []
    post_order_visit(body, lambda n: found.append(n) if isinstance(n, (Allocate, LetStmt, E.Let)) else None)
    return bool(found)


def _with_unroll_annotation(op: For, body) -> For:
    anns = op.annotations if UNROLL_FULL in op.annotations else op.annotations + (UNROLL_FULL,)
    return For(op.loop_var, op.min, op.extent, ForKind.SERIAL, body, op.thread_tag, anns)


class _Unroller(Mutator):
    """Bottom-up, tracking (as TVM does) for the statement just visited: how many leaf
    statements it executes, how deep its unrolled loops nest, and whether it keeps a loop."""

    def __init__(self, auto_max_step: int, explicit: bool, auto_max_depth: int):
        self.max_step = auto_max_step
        self.explicit = explicit
        self.max_depth = auto_max_depth
        self.step_count = 0
        self.unroll_depth = 0
        self.normal_loop_depth = 0

    def visit_BufferStore(self, op):
        self.step_count += 1
        return op

    def visit_Evaluate(self, op):
        self.step_count += 1
        return op

    def visit_SeqStmt(self, op):
        total, unroll_depth, normal_depth = 0, 0, 0
        out = []
        for s in op.seq:
            self.step_count = self.unroll_depth = self.normal_loop_depth = 0
            out.append(self.visit(s))
            total += self.step_count
            unroll_depth = max(unroll_depth, self.unroll_depth)
            normal_depth = max(normal_depth, self.normal_loop_depth)
        self.step_count, self.unroll_depth, self.normal_loop_depth = total, unroll_depth, normal_depth
        return op if all(a is b for a, b in zip(out, op.seq)) else seq(*out)

    def visit_For(self, op):
        anns = dict(op.annotations)
        saved = self.max_step, self.explicit
        if "pragma_auto_unroll_max_step" in anns:
            self.max_step = _ann_int(anns["pragma_auto_unroll_max_step"])
        if "pragma_unroll_explicit" in anns:
            self.explicit = bool(_ann_int(anns["pragma_unroll_explicit"]))
        try:
            body = self.visit(op.body)
        finally:
            # The pragma's budget covers the loops inside; this loop obeys the enclosing one.
            self.max_step, self.explicit = saved
        extent = _const_extent(op)
        if extent is not None and extent * max(self.step_count, 1) > MAX_UNROLLED_STATEMENTS:
            unroll = False  # code size: see the module docstring
        elif op.kind == ForKind.UNROLLED:
            unroll = extent is not None
        else:
            unroll = (op.kind == ForKind.SERIAL and extent is not None and self.normal_loop_depth == 0
                      and self.unroll_depth <= self.max_depth and extent * self.step_count <= self.max_step)
        if not unroll:
            self.normal_loop_depth += 1
            kind = ForKind.SERIAL if op.kind == ForKind.UNROLLED else op.kind
            if body is op.body and kind == op.kind:
                return op
            return For(op.loop_var, op.min, op.extent, kind, body, op.thread_tag, op.annotations)
        body_steps = self.step_count
        self.step_count *= extent
        self.unroll_depth += 1
        if self.explicit and extent * max(body_steps, 1) <= MAX_EXPLICIT_STATEMENTS and not _declares(body):
            return seq(*(_FoldingSubstituter({op.loop_var: E.add(op.min, k)}).visit(body)
                         for k in range(extent)))
        return _with_unroll_annotation(op, body)


def unroll_loop(func: PrimFunc, auto_max_step: int = 0, explicit: bool = True,
                auto_max_depth: int = 8) -> PrimFunc:
    """Unroll `unroll` loops and, within the step budget, small constant loop nests."""
    return func.with_body(_Unroller(auto_max_step, explicit, auto_max_depth).visit(func.body))


def UnrollLoop():  # noqa: N802  (classic tvm.tir.transform name)
    return prim_func_pass(lambda f, mod, ctx: unroll_loop(f), 0, "UnrollLoop")
