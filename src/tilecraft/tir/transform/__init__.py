"""TIR passes, one per file, and the one pipeline that runs them (read it top to bottom).

Set TILECRAFT_PRINT_IR=1 (or pass print_ir=True) to print the IR after every pass.
"""

from __future__ import annotations

import os

from .flatten_buffer import flatten_buffer
from .lower_intrinsics import lower_intrinsics
from .simplify import simplify
from .unroll_loop import unroll_loop
from .vectorize_loop import vectorize_loop

# What `lower` shows: the loop nest as scheduled, cleaned up, buffers still multi-dimensional.
LOWER_PASSES = [
    simplify,
]

# What `build` adds before code generation.
BUILD_PASSES = [
    flatten_buffer,  # multi-dimensional buffers -> one index each (strides, storage_align)
    vectorize_loop,  # vectorized loops -> Ramp / Broadcast vector expressions
    unroll_loop,  # unrolled loops and pragma auto_unroll_max_step -> straight-line code
    simplify,  # clean the index arithmetic the passes above produced
    lower_intrinsics,  # sigmoid, tanh, erf, rsqrt, ... -> what the backends have
]


def run_passes(func, passes, print_ir: bool | None = None):
    if print_ir is None:
        print_ir = os.environ.get("TILECRAFT_PRINT_IR", "") not in ("", "0")
    for p in passes:
        func = p(func)
        if print_ir:
            print(f"# after {p.__name__}\n{func}\n")
    return func


__all__ = ["LOWER_PASSES", "BUILD_PASSES", "run_passes", "flatten_buffer", "lower_intrinsics", "simplify",
           "unroll_loop", "vectorize_loop"]
