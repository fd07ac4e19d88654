"""CheckAccessBounds: an access that may fall outside its tensor is checked where it happens.

te/access_check.py looks at each compute definition over its whole domain and wraps every index
it cannot prove inside its tensor as `checked_index(idx, extent, what)` (an index read from data,
`A[idx[i]]`, or one interval analysis cannot bound).  This pass, the first of the build pipeline,
removes the wrappers: walking down with each loop's range, let value and condition known (the
branches of an `if_then_else` included, as codegen evaluates only the branch taken), a wrapped
index still not proven inside gets an assertion before its statement, under the conditions that
guard the access, so the compiled function returns an error naming the read instead of touching
foreign memory.  Indices the schedule computes are not checked: bound inference derives every
buffer from them.

Hand-written loops (ir_builder, TIR built directly) carry no wrappers; an access there that is
proven outside its buffer on every path that reaches it is an OutOfBoundsError at build time.
"""

from __future__ import annotations

from ...arith import Analyzer
from ...ir.construct import logical_and, logical_not, logical_or
from ...ir.expr import Call, PrimExpr, Range, const
from ...ir.functor import Mutator
from ..stmt import AssertStmt, IfThenElse, LetStmt, PrimFunc
from .function_pass import prim_func_pass

CHECKED_INDEX = "tilecraft.checked_index"


class OutOfBoundsError(IndexError):
    """An access that no execution can make inside its tensor."""


def check_access_bounds(func: PrimFunc) -> PrimFunc:
    """`func` with its checked indices unwrapped behind run-time assertions."""
    body = _Checker(func.name).visit(func.body)
    return func if body is func.body else func.with_body(body)


def proven_inside(ana: Analyzer, idx, extent) -> bool:
    return ana.can_prove(idx >= 0) and ana.can_prove(idx < extent)


def bound_if_outside(ana: Analyzer, idx, extent):
    """The constant bound of `idx` when none of its values lies in [0, extent), else None."""
    b = ana.const_int_bound(idx)
    return b if b.max_value < 0 or b.min_value >= ana.const_int_bound(extent).max_value else None


class GuardedMutator(Mutator):
    """An expression mutator that knows the conditions guarding each node: codegen evaluates only
    the branch of an `if_then_else` taken, so inside one branch the analyzer assumes its condition
    (the negation in the other) and `guards` lists the conditions in force; a let binds its
    variable.  (A Select evaluates both sides, so it guards nothing.)"""

    def __init__(self, ana: Analyzer):
        self.ana = ana
        self.guards: list = []

    def visit_Call(self, e):
        if e.op != "if_then_else" or len(e.args) != 3:
            return self.generic_visit(e)
        cond = self.visit(e.args[0])
        branches = []
        for guard, branch in ((cond, e.args[1]), (logical_not(cond), e.args[2])):
            with self.ana.constraint_scope(guard):
                self.guards.append(guard)
                branches.append(self.visit(branch))
                self.guards.pop()
        if cond is e.args[0] and all(a is b for a, b in zip(branches, e.args[1:])):
            return e
        return Call(e.dtype, e.op, (cond, *branches))

    def visit_Let(self, e):
        value = self.visit(e.value)
        with self.ana.scope():
            self.ana.bind(e.var, value)
            body = self.visit(e.body)
        return e if value is e.value and body is e.body else type(e)(e.var, value, body, e.dtype)


class _Indices(GuardedMutator):
    """One statement's expressions with the wrappers removed; collects the checks still needed,
    each with the `if_then_else` conditions that guard it, and refuses proven-outside accesses."""

    def __init__(self, checker: _Checker):
        super().__init__(checker.ana)
        self.c = checker
        self.checks: list = []  # (guards, index, extent, what the access is)
        self.marked = None  # what the wrapper found in the index being visited says

    def visit_Call(self, e):
        if e.op == CHECKED_INDEX:
            self.marked = e.args[2].value
            return self.visit(e.args[0])
        return super().visit_Call(e)

    def visit_BufferLoad(self, e):
        e = type(e)(e.buffer, self.indices(e.buffer, e.indices), e.dtype)
        self.c.refuse_outside(e.buffer, e.indices, "reads")
        return e

    def indices(self, buf, indices) -> tuple:
        """The indices without wrappers; a wrapped one not proven inside the buffer gets a check."""
        out = []
        for d, idx in enumerate(indices):
            outer, self.marked = self.marked, None
            new = self.visit(idx)
            if self.marked is not None and d < len(buf.shape) and not proven_inside(self.ana, new, buf.shape[d]):
                self.checks.append((tuple(self.guards), new, buf.shape[d], self.marked))
            self.marked = outer
            out.append(new)
        return tuple(out)


class _Checker(Mutator):
    def __init__(self, func: str):
        self.func = func
        self.ana = Analyzer()

    def refuse_outside(self, buf, indices, verb: str) -> None:
        if len(indices) != len(buf.shape):  # a flat view of a buffer (ir_builder code)
            return
        for idx, extent in zip(indices, buf.shape):
            if getattr(idx, "lanes", 1) != 1 or not idx.dtype.startswith(("int", "uint")):
                continue
            b = bound_if_outside(self.ana, idx, extent)
            if b is not None:
                dims = ", ".join(str(d) for d in buf.shape)
                raise OutOfBoundsError(
                    f"{self.func}: {buf.name}[{', '.join(str(i) for i in indices)}] {verb} outside "
                    f"{buf.name} (shape ({dims})): the index {idx} ranges over [{b.min_value}, "
                    f"{b.max_value}] but the axis has {extent} elements")

    def _expr(self, e, found: list):
        acc = _Indices(self)
        out = acc.visit(e)
        found.extend(acc.checks)
        return out

    def visit(self, node):
        if isinstance(node, PrimExpr):
            return node
        return super().visit(node)

    def visit_For(self, s):
        with self.ana.scope():
            self.ana.bind(s.loop_var, Range(s.min, s.extent))
            return self.generic_visit(s)

    def visit_AttrStmt(self, s):
        with self.ana.scope():
            if s.attr_key == "thread_extent" and hasattr(s.node, "var"):
                self.ana.bind(s.node.var, Range(const(0, s.value.dtype), s.value))
            return self.generic_visit(s)

    def visit_IfThenElse(self, s):
        found: list = []
        cond = self._expr(s.condition, found)
        with self.ana.constraint_scope(cond):
            then_case = self.visit(s.then_case)
        else_case = None
        if s.else_case is not None:
            with self.ana.scope():
                self.ana.assume(cond, False)
                else_case = self.visit(s.else_case)
        same = cond is s.condition and then_case is s.then_case and else_case is s.else_case
        return self._guarded(s if same else IfThenElse(cond, then_case, else_case), found)

    def visit_LetStmt(self, s):
        found: list = []
        value = self._expr(s.value, found)
        with self.ana.scope():
            self.ana.bind(s.var, value)
            body = self.visit(s.body)
        return self._guarded(s if value is s.value and body is s.body else LetStmt(s.var, value, body), found)

    def visit_AssertStmt(self, s):
        found: list = []
        cond = self._expr(s.condition, found)
        body = self.visit(s.body)
        same = cond is s.condition and body is s.body
        return self._guarded(s if same else AssertStmt(cond, s.message, body), found)

    def visit_BufferStore(self, s):
        acc = _Indices(self)
        indices, value = acc.indices(s.buffer, s.indices), acc.visit(s.value)
        found = acc.checks
        self.refuse_outside(s.buffer, indices, "writes")
        same = value is s.value and all(a is b for a, b in zip(indices, s.indices))
        return self._guarded(s if same else type(s)(s.buffer, value, indices), found)

    def visit_Evaluate(self, s):
        found: list = []
        value = self._expr(s.value, found)
        return self._guarded(s if value is s.value else type(s)(value), found)

    @staticmethod
    def _guarded(stmt, found: list):
        """`stmt` behind one assertion per check (each failure names its access)."""
        for guards, idx, extent, what in reversed(found):
            ok = logical_and(idx >= 0, idx < extent)
            for g in guards:
                ok = logical_or(logical_not(g), ok)
            stmt = AssertStmt(ok, f"index out of bounds: {what}", stmt)
        return stmt


def CheckAccessBounds():  # noqa: N802  (a pass constructor, named like the classic ones)
    return prim_func_pass(lambda f, mod, ctx: check_access_bounds(f), 0, "CheckAccessBounds")
