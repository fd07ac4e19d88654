"""Simplify: clean every expression of a function, using what the loop nest tells us.

Walking down, each loop variable is bound to its range (and each thread extent, let value and
if-condition is recorded), so index arithmetic simplifies with that knowledge:
`(io*32 + ii) // 32` becomes `io` inside `for ii in range(32)`.  Statements go too when they
are decided: ifs whose condition is proven, loops of extent 0, and loops of extent 1 (their
variable becomes the loop's min).  Buffers are left as they are: they are compared by identity.
"""

from __future__ import annotations

from ...arith import Analyzer
from ...ir.expr import IntImm, IterVar, PrimExpr, Range
from ...ir.functor import Mutator
from ..stmt import (
    Allocate,
    AssertStmt,
    AttrStmt,
    Evaluate,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    PrimFunc,
    seq,
)
from .function_pass import prim_func_pass


def simplify(func: PrimFunc) -> PrimFunc:
    """`func` with its body simplified (Simplify() is the pass, for modules and pipelines)."""
    return func.with_body(simplify_stmt(func.body))


def simplify_stmt(stmt, analyzer: Analyzer | None = None):
    """Simplify a statement; pass an analyzer that already knows the enclosing loops' ranges."""
    return _StmtSimplifier(analyzer or Analyzer()).visit(stmt)


def _is_noop(s) -> bool:
    return isinstance(s, Evaluate) and isinstance(s.value, IntImm)


_NOOP = seq()


class _StmtSimplifier(Mutator):
    def __init__(self, analyzer: Analyzer):
        self.ana = analyzer

    def visit(self, node):
        if isinstance(node, PrimExpr):
            return self.ana.simplify(node)
        return super().visit(node)

    def visit_SeqStmt(self, s):
        body = [self.visit(x) for x in s.seq]
        if all(a is b for a, b in zip(body, s.seq)):
            return s
        return seq(*body)

    def visit_For(self, s):
        mn, extent = self.ana.simplify(s.min), self.ana.simplify(s.extent)
        if isinstance(extent, IntImm) and extent.value <= 0:
            return _NOOP
        one = isinstance(extent, IntImm) and extent.value == 1
        with self.ana.scope():
            self.ana.bind(s.loop_var, Range(mn, extent))  # extent 1 binds loop_var := mn
            body = self.visit(s.body)
        if one and s.kind != ForKind.THREAD_BINDING:
            return body
        if _is_noop(body):
            return body
        if mn is s.min and extent is s.extent and body is s.body:
            return s
        return For(s.loop_var, mn, extent, s.kind, body, s.thread_tag, s.annotations)

    def visit_IfThenElse(self, s):
        cond = self.ana.simplify(s.condition)
        if isinstance(cond, IntImm):
            if cond.value:
                return self.visit(s.then_case)
            return _NOOP if s.else_case is None else self.visit(s.else_case)
        with self.ana.constraint_scope(cond):
            then_case = self.visit(s.then_case)
        else_case = None
        if s.else_case is not None:
            with self.ana.scope():
                self.ana.assume(cond, False)
                else_case = self.visit(s.else_case)
            if _is_noop(else_case):
                else_case = None
        if _is_noop(then_case) and else_case is None:
            return _NOOP
        if cond is s.condition and then_case is s.then_case and else_case is s.else_case:
            return s
        return IfThenElse(cond, then_case, else_case)

    def visit_LetStmt(self, s):
        # The let stays (inlining could duplicate work); its value's range is what we learn.
        value = self.ana.simplify(s.value)
        with self.ana.scope():
            if value.dtype == s.var.dtype and value.dtype.startswith("int"):
                self.ana.bind_bound(s.var, self.ana.const_int_bound(value))
            body = self.visit(s.body)
        if value is s.value and body is s.body:
            return s
        return LetStmt(s.var, value, body)

    def visit_AttrStmt(self, s):
        value = self.ana.simplify(s.value)
        with self.ana.scope():
            if s.attr_key == "thread_extent" and isinstance(s.node, IterVar):
                self.ana.bind(s.node.var, Range(IntImm(0, value.dtype), value))
            body = self.visit(s.body)
        if value is s.value and body is s.body:
            return s
        return AttrStmt(s.node, s.attr_key, value, body)

    def visit_AssertStmt(self, s):
        cond = self.ana.simplify(s.condition)
        body = self.visit(s.body)
        if isinstance(cond, IntImm) and cond.value:
            return body
        if cond is s.condition and body is s.body:
            return s
        return AssertStmt(cond, s.message, body)

    def visit_Allocate(self, s):
        body = self.visit(s.body)
        if _is_noop(body):
            return body
        return s if body is s.body else Allocate(s.buffer, body)


def Simplify():  # noqa: N802  (classic tvm.tir.transform name)
    return prim_func_pass(lambda f, mod, ctx: simplify(f), 0, "Simplify")
