"""Types of graph values: tensors of a shape and dtype, and tuples of them.

A dimension is an int, or a symbolic expression (a `te.size_var`, `relay.Any()`) while a graph is
only type-checked: relations carry symbols through as classic Relay does; building needs ints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arith import simplify
from ..ir.dtype import parse as parse_dtype
from ..ir.expr import Any, IntImm, PrimExpr
from ..ir.functor import structural_equal


def dim(s):
    """One dimension normalized: an int where it is constant, else the simplified expression."""
    if isinstance(s, (bool, np.bool_)):
        raise TypeError(f"a dimension must be an int or a symbolic expression, got {s!r}")
    if isinstance(s, (int, np.integer)):
        return int(s)
    if isinstance(s, IntImm):
        return int(s.value)
    if isinstance(s, PrimExpr):
        s = simplify(s)
        return int(s.value) if isinstance(s, IntImm) else s
    return int(s)  # a string or float that names an int, else the TypeError says what it was


def dims_equal(a, b) -> bool | None:
    """True/False where it is known, None where two symbolic sizes may or may not agree."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if structural_equal(a, b) and not isinstance(a, Any):
        return True
    return None


@dataclass(frozen=True, eq=False)
class TensorType:
    shape: tuple
    dtype: str = "float32"

    def __post_init__(self):  # a bad dtype or a negative size fails here, not deep inside a build
        parse_dtype(self.dtype)
        object.__setattr__(self, "shape", tuple(dim(s) for s in self.shape))
        bad = [s for s in self.shape if isinstance(s, int) and s < 0]
        if bad:
            raise ValueError(f"tensor type with shape {tuple(self.shape)}: sizes must be >= 0")

    def __eq__(self, other) -> bool:  # symbolic sizes compare by structure (n is n, n + 1 is n + 1)
        return (isinstance(other, TensorType) and self.dtype == other.dtype and len(self.shape) == len(other.shape)
                and all(structural_equal(a, b) for a, b in zip(self.shape, other.shape)))

    def __hash__(self) -> int:
        return hash((self.dtype, tuple(s if isinstance(s, int) else type(s).__name__ for s in self.shape)))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return all(isinstance(s, int) for s in self.shape)

    @property
    def concrete_shape(self) -> tuple:
        if not self.is_static:
            raise ValueError(f"{self} has symbolic dimensions; compiling needs every size known "
                             f"(give the input a concrete shape)")
        return self.shape

    def __str__(self) -> str:
        return f"Tensor[({', '.join(str(s) for s in self.shape)}), {self.dtype}]"


@dataclass(frozen=True)
class IncompleteType:
    """A type left for inference to find from the variable's uses (classic relay.IncompleteType)."""

    kind: int = 0

    def __str__(self) -> str:
        return "?"


@dataclass(frozen=True)
class TupleType:
    fields: tuple

    def __post_init__(self):  # relay.TupleType([t1, t2]) as classic code writes it
        if not isinstance(self.fields, tuple):
            object.__setattr__(self, "fields", tuple(self.fields))

    def __str__(self) -> str:
        return f"({', '.join(str(f) for f in self.fields)})"


@dataclass(frozen=True)
class FuncType:
    arg_types: tuple
    ret_type: object

    def __str__(self) -> str:
        return f"fn ({', '.join(str(a) for a in self.arg_types)}) -> {self.ret_type}"
