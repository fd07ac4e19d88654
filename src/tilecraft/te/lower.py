"""Schedule -> loop nest (tir.PrimFunc), read top to bottom:

1. inline: compute_inline stages are substituted into their readers' expressions (te/inline.py);
2. bound inference, consumers first: the range of every loop and the region of every tensor
   (te/bound_inference.py);
3. storage: a parameter per argument, an allocation per other computed stage (te/storage.py);
4. loop nests: each root stage becomes loops, with the stages attached to it inside
   (te/loop_nest.py).
"""

from __future__ import annotations

from ..ir.expr import Var
from ..tir.stmt import PrimFunc
from .bound_inference import infer_stage_bounds
from .inline import InlinedBodies
from .loop_nest import LoopNests
from .scan import ScanOp
from .schedule import Schedule, ScheduleError
from .storage import StageStorage, param_buffer, placeholder_storage, stage_storage
from .tensor import PlaceholderOp, Tensor


def lower_schedule(sch: Schedule, args, name: str = "main") -> PrimFunc:
    """The loop nest of `sch` as a function of `args` (tensors and te.var scalars, in order)."""
    args = list(args)
    arg_outputs, unused = _arguments(sch, args)
    bodies = InlinedBodies(sch)
    needed = bodies.needed_stages([sch.stage_map[o] for o in sch.outputs] + list(arg_outputs))
    stages = [s for s in sch.stages if s in needed]
    # A scan's state placeholders, init and update stages all live in the scan's output buffers.
    states = {sch[p]: (sch.stage_map[op], k) for op in sch.stage_map if isinstance(op, ScanOp)
              for k, p in enumerate(op.state_placeholder)}
    aliases = {sch[t]: (sch.stage_map[op], k) for op in sch.stage_map if isinstance(op, ScanOp)
               for part in (op.init, op.update) for k, t in enumerate(part)}
    storage = {}
    for st in stages:
        if isinstance(st.op, PlaceholderOp):
            if st not in states:
                _check_passed(sch, st, stages, arg_outputs)
            storage[st] = placeholder_storage(st)
    bounds = infer_stage_bounds(sch, stages, bodies)
    for st in stages:
        if st in bounds:
            storage[st] = stage_storage(sch, st, bounds[st], arg_outputs.get(st))
    as_args = dict(storage)
    for st, (scan_st, k) in {**states, **aliases}.items():
        if st in storage and scan_st in storage:
            out = storage[scan_st]
            storage[st] = StageStorage([out.buffers[k]], out.offsets, [False])
    body = LoopNests(sch, stages, bounds, storage, bodies).build()
    params = [unused.get(a) or as_args[sch[a]].buffers[a.value_index] if isinstance(a, Tensor) else a
              for a in args]
    return PrimFunc(tuple(params), body, name)


def _arguments(sch: Schedule, args) -> tuple[dict, dict]:
    """({stage: {value_index: tensor}} for tensors the schedule computes or reads,
    {tensor: buffer} for tensors it never touches or inlines: still parameters, as in classic TVM)."""
    arg_outputs: dict = {}
    unused: dict = {}
    for a in args:
        if isinstance(a, Tensor):
            if a not in sch or sch[a].attach_type == "inline":
                unused[a] = param_buffer(a)
                continue
            arg_outputs.setdefault(sch[a], {})[a.value_index] = a
        elif not isinstance(a, Var):
            raise TypeError(f"arguments must be tensors or te.var scalars, got {a!r}")
    return arg_outputs, unused


def _check_passed(sch: Schedule, st, stages: list, arg_outputs: dict) -> None:
    if st not in arg_outputs:
        readers = [r.op.name for r in stages if r in sch.readers(st)]
        raise ScheduleError(f"input {st.op.name} (read by {', '.join(readers)}) is missing from the "
                            "argument list; pass it to lower/build")
