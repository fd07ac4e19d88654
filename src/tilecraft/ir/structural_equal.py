"""Classic `tvm.ir.structural_equal(a, b, map_free_vars=False)` and `assert_structural_equal`: two
IR trees (tir or relay) are equal when they have the same shape, operators, attributes and
constants, and their variables correspond — variables a node defines (function parameters, let and
loop variables) are matched by position, free ones must be the same object unless map_free_vars.

Node classes say which of their fields define variables with a `binding_fields` class attribute and
mark variable classes with `is_variable`, so this layer needs to know neither relay nor tir."""

from __future__ import annotations

import sys
from dataclasses import fields, is_dataclass

from .expr import FloatImm, IntImm

_SKIPPED = frozenset(("ty", "name", "name_hint", "span"))  # inferred types and display names


class _Equal:
    def __init__(self, map_free_vars: bool):
        self.map_free_vars = map_free_vars
        self.a_to_b: dict = {}
        self.b_to_a: dict = {}
        self.mismatch = ""

    def fail(self, a, b, why: str) -> bool:
        if not self.mismatch:
            self.mismatch = f"{why}:\n  lhs: {str(a)[:300]}\n  rhs: {str(b)[:300]}"
        return False

    def define(self, a, b) -> bool:
        if isinstance(a, (tuple, list)):
            return (len(a) == len(b) or self.fail(a, b, "different numbers of parameters")) and all(
                self.define(x, y) for x, y in zip(a, b))
        if getattr(type(a), "is_variable", False) and type(a) is type(b):
            self.a_to_b[id(a)], self.b_to_a[id(b)] = b, a
            return self.var_types_equal(a, b)
        if is_dataclass(a) and type(a) is type(b):  # a parameter that holds variables (a Buffer's data, shape)
            return all(self.define(getattr(a, f.name), getattr(b, f.name)) for f in fields(a) if f.name not in _SKIPPED)
        return self.equal(a, b)

    def var_types_equal(self, a, b) -> bool:
        for f in fields(a):
            if f.name not in _SKIPPED and not self.equal(getattr(a, f.name), getattr(b, f.name)):
                return self.fail(a, b, f"variables {a} and {b} differ in {f.name}")
        return True

    def var_equal(self, a, b) -> bool:
        if id(a) in self.a_to_b or id(b) in self.b_to_a:
            return self.a_to_b.get(id(a)) is b or self.fail(a, b, "variables do not correspond")
        if not self.map_free_vars:
            return self.fail(a, b, "different free variables (pass map_free_vars=True to match them)")
        self.a_to_b[id(a)], self.b_to_a[id(b)] = b, a
        return self.var_types_equal(a, b)

    def equal(self, a, b) -> bool:
        if a is b:
            return True
        if isinstance(a, (IntImm, FloatImm)) and isinstance(b, (int, float)) and not isinstance(b, bool):
            return a.value == b or self.fail(a, b, "different constants")
        if isinstance(b, (IntImm, FloatImm)) and isinstance(a, (int, float)) and not isinstance(a, bool):
            return self.equal(b, a)
        if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):  # both are classic Arrays
            return (len(a) == len(b) or self.fail(a, b, "different lengths")) and all(
                self.equal(x, y) for x, y in zip(a, b))
        if all(hasattr(x, "tobytes") and hasattr(x, "shape") and hasattr(x, "dtype") for x in (a, b)):  # numpy
            same = a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
            return same or self.fail(a, b, "different constant data")
        if type(a) is not type(b):
            return self.fail(a, b, f"a {type(a).__name__} against a {type(b).__name__}")
        if isinstance(a, dict):
            return (a.keys() == b.keys() or self.fail(a, b, "different attribute names")) and all(
                self.equal(a[k], b[k]) for k in a)
        if getattr(type(a), "is_variable", False):
            return self.var_equal(a, b)
        if is_dataclass(a):
            binding = getattr(type(a), "binding_fields", ())
            if not all(self.define(getattr(a, n), getattr(b, n)) for n in binding):
                return False
            return all(self.equal(getattr(a, f.name), getattr(b, f.name))
                       for f in fields(a) if f.name not in _SKIPPED and f.name not in binding)
        return a == b or self.fail(a, b, "different values")


def _deep_enough(depth: int = 20000):
    """The comparison recurses along the graph: long chains (256 fused operators) need room."""
    if sys.getrecursionlimit() < depth:
        sys.setrecursionlimit(depth)


def structural_equal(lhs, rhs, map_free_vars: bool = False) -> bool:
    _deep_enough()
    return _Equal(map_free_vars).equal(lhs, rhs)


def assert_structural_equal(lhs, rhs, map_free_vars: bool = False) -> None:
    """Raise ValueError showing the first differing pair of sub-trees."""
    _deep_enough()
    eq = _Equal(map_free_vars)
    if not eq.equal(lhs, rhs):
        raise ValueError(f"the two IR trees are not structurally equal; first difference: {eq.mismatch}")
