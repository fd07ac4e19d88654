"""EliminateCommonSubexpr: identical computations become one node.

Two calls are identical when they call the same operator with equal attributes (compared with
==, arrays by value) on the same arguments, after their arguments were themselves merged;
likewise tuples and tuple fields.  Small constants equal in dtype, shape and value are merged
first, so `x * 2.0` written twice is found (a relay.const is a new node each time).

`fskip(call) -> bool` (classic signature) leaves the calls it selects alone.
"""

from __future__ import annotations

import numpy as np

from ...transform import module_pass
from ..visitor import ExprMutator
from .infer_type import infer_type

MAX_MERGED_CONST = 1024  # constants with more elements are compared by identity only


def _key(v):
    """A hashable stand-in for an attribute value with the same equality."""
    if isinstance(v, np.ndarray):
        return ("ndarray", str(v.dtype), v.shape, v.tobytes())
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(_key(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple(sorted((k, _key(x)) for k, x in v.items())))
    try:
        hash(v)
    except TypeError:
        return ("repr", repr(v))
    return (type(v).__name__, v)


class _CSE(ExprMutator):
    def __init__(self, fskip=None):
        super().__init__()
        self.table: dict = {}
        self.fskip = fskip

    def _merge(self, key, node):
        return self.table.setdefault(key, node)

    def visit_constant(self, c):
        if c.data.size > MAX_MERGED_CONST:
            return c
        return self._merge(("const", str(c.data.dtype), c.data.shape, c.data.tobytes()), c)

    def visit_call(self, c):
        new = super().visit_call(c)
        if self.fskip is not None and self.fskip(c):
            return new
        op = id(new.op)  # fused functions are merged only when they are the same object
        return self._merge(("call", op, tuple(id(a) for a in new.args), _key(new.attrs)), new)

    def visit_tuple(self, t):
        new = super().visit_tuple(t)
        return self._merge(("tuple", tuple(id(f) for f in new.fields)), new)

    def visit_tuple_getitem(self, t):
        new = super().visit_tuple_getitem(t)
        return self._merge(("getitem", id(new.tuple_value), new.index), new)


def eliminate_common_subexpr(func, fskip=None):
    func = infer_type(func)
    out = _CSE(fskip).visit(func)
    return func if out is func else infer_type(out)


def EliminateCommonSubexpr(fskip=None):  # noqa: N802  (classic relay.transform name)
    @module_pass(opt_level=3, name="EliminateCommonSubexpr")
    def run(mod):
        return mod.with_function("main", eliminate_common_subexpr(mod["main"], fskip))

    return run

