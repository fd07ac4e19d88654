"""Walking graph IR: relay graphs are DAGs, so every walk is memoized by node identity."""

from __future__ import annotations

from dataclasses import replace

from .expr import Call, Constant, Function, Let, Tuple, TupleGetItem, Var


def children(e) -> tuple:
    if isinstance(e, Call):
        return e.args
    if isinstance(e, Tuple):
        return e.fields
    if isinstance(e, TupleGetItem):
        return (e.tuple_value,)
    if isinstance(e, Let):
        return (e.value, e.var, e.body)  # the value first: a let variable's type is its value's
    if isinstance(e, Function):
        return (*e.params, e.body)
    return ()


def post_order(e, stop=()) -> list:
    """Every node under e, each once, producers before consumers (iterative: deep graphs are fine).
    Nodes whose id is in `stop` (e.g. a mutator's memo) are neither listed nor entered, so repeated
    walks from nodes that share a visited subgraph cost only their new part."""
    out, seen, stack = [], set(), [(e, False)]
    while stack:
        n, done = stack.pop()
        if done:
            out.append(n)
            continue
        if id(n) in seen or id(n) in stop:
            continue
        seen.add(id(n))
        stack.append((n, True))
        for c in reversed(children(n)):
            if id(c) not in seen and id(c) not in stop:
                stack.append((c, False))
    return out


class ExprMutator:
    """Rebuild a graph bottom-up; override visit_call etc.  Unchanged nodes are kept as they are."""

    def __init__(self):
        self.memo: dict = {}

    def visit(self, e):
        # Only the part of e's graph not visited yet is walked (everything under a memoized node is
        # memoized too), so visiting many nodes of one graph costs its size once, not once per call.
        for n in post_order(e, self.memo):
            self.memo[id(n)] = self._dispatch(n)
        return self.memo[id(e)]

    def new(self, e):
        return self.memo[id(e)]

    def _dispatch(self, n):
        if isinstance(n, Call):
            return self.visit_call(n)
        if isinstance(n, Var):
            return self.visit_var(n)
        if isinstance(n, Constant):
            return self.visit_constant(n)
        if isinstance(n, Tuple):
            return self.visit_tuple(n)
        if isinstance(n, TupleGetItem):
            return self.visit_tuple_getitem(n)
        if isinstance(n, Let):
            return self.visit_let(n)
        if isinstance(n, Function):
            return self.visit_function(n)
        raise TypeError(f"unknown graph node {type(n).__name__}")

    def _same(self, olds) -> tuple:
        return tuple(self.memo[id(o)] for o in olds)

    def visit_var(self, v):
        return v

    def visit_constant(self, c):
        return c

    def visit_call(self, c):
        args = self._same(c.args)
        op = self.visit(c.op) if isinstance(c.op, Function) else c.op
        if op is c.op and all(a is b for a, b in zip(args, c.args)):
            return c
        return replace(c, op=op, args=args, ty=None)

    def visit_tuple(self, t):
        f = self._same(t.fields)
        return t if all(a is b for a, b in zip(f, t.fields)) else replace(t, fields=f, ty=None)

    def visit_tuple_getitem(self, t):
        v = self.memo[id(t.tuple_value)]
        return t if v is t.tuple_value else replace(t, tuple_value=v, ty=None)

    def visit_let(self, e):
        var, value, body = self._same((e.var, e.value, e.body))
        if var is e.var and value is e.value and body is e.body:
            return e
        return Let(var, value, body)

    def visit_function(self, f):
        params = self._same(f.params)
        body = self.memo[id(f.body)]
        if body is f.body and all(a is b for a, b in zip(params, f.params)):
            return f
        return replace(f, params=params, body=body, ty=None)


def replace_nodes(expr, table: dict):
    """`expr` with every node whose id is a key of `table` replaced by its value (variables bound to
    constants or call arguments, constants lifted to parameters); the rest rebuilt only where changed."""

    class Replace(ExprMutator):
        def _dispatch(self, n):
            new = table.get(id(n))
            return new if new is not None else super()._dispatch(n)

    return Replace().visit(expr)
