"""Operator strategies, one file per target family: generic (any target), x86 (key "cpu"),
cuda (keys "cuda", "gpu")."""

from . import cuda, generic, x86  # noqa: F401
from .generic import (  # noqa: F401
    OpImplementation,
    OpStrategy,
    Selection,
    auto_scheduler_enabled,
    op_strategy,
    register_strategy,
    schedule_injective,
    select_implementation,
    workload_of,
)
