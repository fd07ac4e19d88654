"""TIR passes, one per file, and the two pipelines that run them (read them top to bottom).

Each pass is a classic `tvm.tir.transform` constructor returning a Pass (`Simplify()`,
`VectorizeLoop()`, ...), applicable to an IRModule of PrimFuncs or to a single PrimFunc; the
lower-case function in the same file (`simplify(func)`) is the transformation itself.
The pipelines are Sequentials, so the current PassContext's disabled_pass, required_pass,
config and instruments reach every TIR pass; TILECRAFT_PRINT_IR=1 prints the IR after each.
"""

from __future__ import annotations

from ...ir.transform import Pass, PassContext, Sequential, register_pass
from .check_access_bounds import CheckAccessBounds, OutOfBoundsError, check_access_bounds
from .flatten_buffer import FlattenBuffer, flatten_buffer
from .function_pass import prim_func_pass
from .inject_virtual_thread import InjectVirtualThread, inject_virtual_thread
from .loop_partition import LoopPartition, loop_partition
from .lower_intrinsics import LowerIntrinsics, lower_intrinsics
from .simplify import Simplify, simplify
from .skip_assert import SkipAssert, skip_assert
from .tighten_loop_extents import TightenLoopExtents, tighten_loop_extents
from .unroll_loop import UnrollLoop, unroll_loop
from .vectorize_loop import VectorizeLoop, vectorize_loop

for _factory in (CheckAccessBounds, FlattenBuffer, InjectVirtualThread, LoopPartition, LowerIntrinsics, Simplify,
                 SkipAssert, TightenLoopExtents, UnrollLoop, VectorizeLoop):
    register_pass(_factory)


def _user_passes(phase: int) -> list:
    """The passes PassContext config "tir.add_lower_pass" adds at `phase` (classic TVM's phases 0-3)."""
    added = PassContext.current().get_config("tir.add_lower_pass")
    for entry in added:
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2 and entry[0] in (0, 1, 2, 3)
                and isinstance(entry[1], Pass)):
            raise TypeError(f'PassContext config "tir.add_lower_pass" takes [(phase 0-3, pass), ...], got {entry!r}; '
                            "make the pass with @tvm.tir.transform.prim_func_pass")
    return [p for ph, p in added if ph == phase]


def lower_pipeline() -> Sequential:
    """What `lower` shows: the loop nest as scheduled, cleaned up, buffers still multi-dimensional."""
    return Sequential([*_user_passes(0), Simplify(), *_user_passes(1)], name="tir.lower_pipeline")


def build_pipeline() -> Sequential:
    """What `build` runs on lowered functions before code generation, under the current PassContext."""
    ctx = PassContext.current()
    passes = [
        InjectVirtualThread(),  # vthread loops -> serial loops (the same values on every target)
        CheckAccessBounds(),  # an access outside its buffer: an error, or a run-time check if unproven
        FlattenBuffer(),  # multi-dimensional buffers -> one index each (strides, storage_align)
        *_user_passes(2),
        LoopPartition(),  # a non-dividing split's guarded last iterations -> a loop of their own
        VectorizeLoop(not ctx.get_config("tir.disable_vectorize")),  # vectorized loops -> Ramp / Broadcast
        TightenLoopExtents(),  # `for x in range(40): if x < 1:` -> range(1) (no dead iterations to unroll)
        UnrollLoop(),  # unrolled loops and pragma auto_unroll_max_step -> straight-line code
        Simplify(),  # clean the index arithmetic the passes above produced
        LowerIntrinsics(),  # sigmoid, tanh, erf, rsqrt, ... -> what the backends have
        *_user_passes(3),
    ]
    if ctx.get_config("tir.disable_assert"):
        passes.insert(0, SkipAssert())
    return Sequential(passes, name="tir.build_pipeline")


def run_passes(func, passes):
    """Apply `passes` (a Pass such as build_pipeline(), or a list run as one Sequential) to a
    PrimFunc or an IRModule; returns the same kind."""
    return (passes if isinstance(passes, Pass) else Sequential(passes))(func)


__all__ = ["CheckAccessBounds", "OutOfBoundsError", "check_access_bounds",
           "FlattenBuffer", "InjectVirtualThread", "LoopPartition", "LowerIntrinsics", "Simplify", "SkipAssert",
           "TightenLoopExtents", "UnrollLoop",
           "VectorizeLoop", "build_pipeline", "flatten_buffer", "inject_virtual_thread", "loop_partition",
           "lower_intrinsics", "lower_pipeline", "prim_func_pass",
           "run_passes", "simplify", "skip_assert", "tighten_loop_extents", "unroll_loop", "vectorize_loop"]
