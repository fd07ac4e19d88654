"""Types of graph values: tensors of a static shape and dtype, and tuples of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir.dtype import parse as parse_dtype


@dataclass(frozen=True)
class TensorType:
    shape: tuple
    dtype: str = "float32"

    def __post_init__(self):  # a bad dtype or a negative size fails here, not deep inside a build
        parse_dtype(self.dtype)
        bad = [s for s in self.shape if isinstance(s, (int, np.integer)) and s < 0]
        if bad:
            raise ValueError(f"tensor type with shape {tuple(self.shape)}: sizes must be >= 0")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def concrete_shape(self) -> tuple:
        return tuple(int(s) for s in self.shape)

    def __str__(self) -> str:
        return f"Tensor[({', '.join(str(s) for s in self.shape)}), {self.dtype}]"


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
