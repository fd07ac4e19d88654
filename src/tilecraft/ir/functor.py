"""The one visitor/mutator every pass builds on.

Dispatch is by class name along the MRO (`visit_Add`, then `visit_BinaryOp`, ...), falling back
to a generic walk over the node's expression and statement fields.  The mutator rebuilds a node
only when a child changed, so untouched subtrees stay shared.  Which nodes are walked is a
class attribute, `Node.walked` (true for expressions and tir statements), so this layer never
needs to know the statement classes.  Buffers, IterVars, reducers and te producers are leaves to
the walk: passes that change them do so on purpose.
"""

from __future__ import annotations

from .expr import Node, Var, node_fields


class _Dispatch:
    _cache: dict

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls._cache = {}

    def _method(self, node):
        t = type(node)
        m = self._cache.get(t)
        if m is None:
            m = self.__class__._generic_name
            for k in t.__mro__:
                if hasattr(self.__class__, "visit_" + k.__name__):
                    m = "visit_" + k.__name__
                    break
            self._cache[t] = m
        return getattr(self, m)


class Visitor(_Dispatch):
    _cache: dict = {}
    _generic_name = "generic_visit"

    def visit(self, node):
        return self._method(node)(node)

    def generic_visit(self, node):
        for name in node_fields(type(node)):
            v = getattr(node, name)
            if isinstance(v, tuple):
                for x in v:
                    if isinstance(x, Node) and x.walked:
                        self.visit(x)
            elif isinstance(v, Node) and v.walked:
                self.visit(v)


class Mutator(_Dispatch):
    _cache: dict = {}
    _generic_name = "generic_visit"

    def visit(self, node):
        return self._method(node)(node)

    def generic_visit(self, node):
        cls = type(node)
        names = node_fields(cls)
        values = []
        changed = False
        for name in names:
            v = getattr(node, name)
            if isinstance(v, tuple):
                nv = tuple(self.visit(x) if isinstance(x, Node) and x.walked else x for x in v)
                if any(a is not b for a, b in zip(nv, v)):
                    v = nv
                    changed = True
            elif isinstance(v, Node) and v.walked:
                nv = self.visit(v)
                if nv is not v:
                    v = nv
                    changed = True
            values.append(v)
        return cls(*values) if changed else node


class _Substituter(Mutator):
    def __init__(self, vmap):
        self.vmap = vmap

    def visit_Var(self, v):
        return self.vmap.get(v, v)


def substitute(node, vmap: dict):
    """Replace variables by expressions throughout `node` (an expression or a statement)."""
    if not vmap:
        return node
    return _Substituter(vmap).visit(node)


class _Collector(Visitor):
    def __init__(self, fn):
        self.fn = fn

    def generic_visit(self, node):
        super().generic_visit(node)
        self.fn(node)


def post_order_visit(node, fn) -> None:
    """Call fn on every expression and statement under node, children first."""
    _Collector(fn).visit(node)


class _Transformer(Mutator):
    def __init__(self, preorder, postorder, only):
        self.preorder, self.postorder, self.only = preorder, postorder, only

    def _chosen(self, node) -> bool:
        return self.only is None or type(node).__name__ in self.only

    def visit(self, node):
        chosen = self._chosen(node)
        if chosen and self.preorder is not None:
            new = self.preorder(node)
            if new is not None:
                return new
        node = self._method(node)(node)
        if chosen and self.postorder is not None:
            new = self.postorder(node)
            if new is not None:
                return new
        return node


def ir_transform(node, preorder, postorder, only_enable=None):
    """Rewrite `node` (classic `tir.stmt_functor.ir_transform`): on each chosen node, `preorder(n)`
    may return a replacement (its children are then not visited); else the children are rewritten
    and `postorder(n)` may return one.  None keeps the node.  `only_enable` names the node types
    to call back on ("tir.For" or "For"); by default, all."""
    only = None if only_enable is None else {str(k).rpartition(".")[2] for k in only_enable}
    return _Transformer(preorder, postorder, only).visit(node)


def free_vars(node) -> list:
    """Variables that occur under node, in first-seen order."""
    seen: dict = {}

    def f(n):
        if isinstance(n, Var):
            seen.setdefault(n, None)

    post_order_visit(node, f)
    return list(seen)


def uses_var(node, vars_) -> bool:
    vs = set(vars_)
    if not vs:
        return False
    found = False

    def f(n):
        nonlocal found
        if n in vs:
            found = True

    post_order_visit(node, f)
    return found


def structural_equal(a, b) -> bool:
    """Same shape, same constants, same variables (by identity)."""
    if a is b:
        return True
    if type(a) is not type(b):
        if isinstance(a, (int, float, str)) and isinstance(b, (int, float, str)):
            return a == b
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(structural_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Var):
        return False
    if isinstance(a, Node):
        if not a.walked:
            return False
        return all(structural_equal(getattr(a, n), getattr(b, n)) for n in node_fields(type(a)))
    return a == b
