"""SkipAssert: drop every AssertStmt, keeping its body (what `tir.disable_assert` asks for).

Assertions cost a compare and a branch where they sit, often inside loops.  Without them a
failed condition is no longer reported: the code runs on with whatever values it has.  (The
runtime's checks of argument dtypes, shapes and devices are made in Python before the call,
not in the generated code, so they stay.)
"""

from __future__ import annotations

from ...ir.functor import Mutator
from ..stmt import PrimFunc
from .function_pass import prim_func_pass


class _AssertDropper(Mutator):
    def visit_AssertStmt(self, s):
        return self.visit(s.body)

    def visit_PrimExpr(self, e):
        return e  # assertions are statements: expressions need no walk


def skip_assert(func: PrimFunc) -> PrimFunc:
    """`func` without its assertions."""
    return func.with_body(_AssertDropper().visit(func.body))


def SkipAssert():  # noqa: N802  (classic tvm.tir.transform name)
    return prim_func_pass(lambda f, mod, ctx: skip_assert(f), 0, "SkipAssert")
