"""Each stage's buffers: a parameter for a tensor passed as an argument, otherwise an allocation
sized by the region bound inference found (padded by storage_align), in the scope the stage's
placement implies."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.expr import Buffer, IntImm, Var, const
from ..tir.stmt import Allocate
from .attachment import storage_scope
from .bound_inference import StageBound
from .extern import ExternOp
from .scan import ScanOp
from .schedule import ScheduleError, Stage
from .tensor import Tensor


@dataclass
class StageStorage:
    buffers: list = field(default_factory=list)  # one per output of the operation
    offsets: list = field(default_factory=list)  # buffer index = absolute index - offset, per axis
    allocated: list = field(default_factory=list)  # per buffer: True if lowering allocates it


def param_buffer(t: Tensor) -> Buffer:
    return Buffer(Var(t.name, "handle"), t.name, tuple(t.shape), t.dtype)


def placeholder_storage(st: Stage) -> StageStorage:
    return StageStorage([param_buffer(st.op.output(0))], [const(0)] * len(st.op.shape), [False])


def stage_storage(sch, st: Stage, bound: StageBound, arg_outputs: dict | None) -> StageStorage:
    """arg_outputs: {value_index: tensor} of st's outputs passed as arguments (None if none is)."""
    if isinstance(st.op, (ExternOp, ScanOp)):  # written whole (a scan row by row)
        return _extern_storage(sch, st, arg_outputs or {})
    if arg_outputs is not None:
        bufs = [param_buffer(arg_outputs[i]) if i in arg_outputs else
                Buffer(Var(t.name, "handle"), t.name, tuple(t.shape), t.dtype, (), storage_scope(sch, st))
                for i, t in enumerate(st.op._outputs)]
        return StageStorage(bufs, [const(0)] * len(st.op.axis), [i not in arg_outputs for i in range(len(bufs))])
    shape = tuple(e for _, e in bound.region)
    strides = ()
    if st.storage_aligns:
        if not all(isinstance(s, IntImm) for s in shape):
            raise ScheduleError(f"stage {st.op.name}: storage_align needs a constant-size buffer")
        acc, out = 1, []
        for d in reversed(range(len(shape))):
            out.append(acc)
            acc *= shape[d].value
            if d - 1 in st.storage_aligns:
                factor, offset = st.storage_aligns[d - 1]
                acc += (offset - acc % factor) % factor
        strides = tuple(const(s) for s in reversed(out))
    bufs = [Buffer(Var(t.name, "handle"), t.name, shape, t.dtype, strides, storage_scope(sch, st))
            for t in st.op._outputs]
    return StageStorage(bufs, [mn for mn, _ in bound.region], [True] * len(bufs))


def _extern_storage(sch, st: Stage, arg_outputs: dict) -> StageStorage:
    """An extern stage writes its outputs whole: each is a parameter or a full-size allocation."""
    bufs = [param_buffer(arg_outputs[i]) if i in arg_outputs else
            Buffer(Var(t.name, "handle"), t.name, tuple(t.shape), t.dtype, (), storage_scope(sch, st))
            for i, t in enumerate(st.op._outputs)]
    ndim = max(len(t.shape) for t in st.op._outputs)
    return StageStorage(bufs, [const(0)] * ndim, [i not in arg_outputs for i in range(len(bufs))])


def allocate(storage: StageStorage, body):
    """Wrap body in the allocations the stage owns."""
    for buf, own in reversed(list(zip(storage.buffers, storage.allocated))):
        if own:
            body = Allocate(buf, body)
    return body
