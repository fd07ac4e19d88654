"""Data types as plain strings ("float32", "int8", "float32x8"), with helpers to take them apart.

Strings keep IR nodes small and printable; `DType` parses one when the parts are needed.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

SCALAR_TYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float16", "float32", "float64")


class DType(NamedTuple):
    code: str  # "int", "uint", "float", "bool", "handle"
    bits: int
    lanes: int

    @property
    def scalar(self) -> str:
        return self.code if self.code in ("bool", "handle") else f"{self.code}{self.bits}"

    def with_lanes(self, lanes: int) -> str:
        return self.scalar if lanes == 1 else f"{self.scalar}x{lanes}"


@cache
def parse(dtype: str) -> DType:
    """Split "float32x8" into (float, 32, 8); raise a clear error for anything else."""
    if not isinstance(dtype, str):
        dtype = str(np.dtype(dtype))
    base, _, lanes = dtype.partition("x")
    n = int(lanes) if lanes else 1
    if base == "bool":
        return DType("bool", 1, n)
    if base == "handle":
        return DType("handle", 64, 1)
    for code in ("uint", "int", "float"):
        if base.startswith(code) and base[len(code):].isdigit():
            bits = int(base[len(code):])
            if code == "float" and bits not in (16, 32, 64) or code != "float" and bits not in (8, 16, 32, 64):
                break
            return DType(code, bits, n)
    raise ValueError(f"unknown dtype {dtype!r}; use one of {', '.join(SCALAR_TYPES)}")


def canonical(dtype) -> str:
    """Accept numpy dtypes, numpy type objects and strings; return the canonical string."""
    if isinstance(dtype, str):
        parse(dtype)
        return dtype
    return str(np.dtype(dtype))


def is_float(dtype: str) -> bool:
    return parse(dtype).code == "float"


def is_int(dtype: str) -> bool:
    return parse(dtype).code in ("int", "uint")


def is_uint(dtype: str) -> bool:
    return parse(dtype).code == "uint"


def is_bool(dtype: str) -> bool:
    return parse(dtype).code == "bool"


def lanes(dtype: str) -> int:
    return parse(dtype).lanes


def element_of(dtype: str) -> str:
    return parse(dtype).scalar


def with_lanes(dtype: str, n: int) -> str:
    return parse(dtype).with_lanes(n)


def itemsize(dtype: str) -> int:
    d = parse(dtype)
    return max(1, d.bits // 8) * d.lanes


def to_numpy(dtype: str) -> np.dtype:
    return np.dtype(element_of(dtype))
