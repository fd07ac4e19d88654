"""Operators as tensor expressions, with a default schedule per target (topi/x86, topi/cuda)."""

from . import x86  # noqa: F401
from .matmul import matmul_packed  # noqa: F401
