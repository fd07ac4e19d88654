"""Schedules: how to compute.  A Schedule has one Stage per operation (te/stage.py); primitives
reshape a stage's loop nest (split, fuse, reorder, ...), place it (compute_at, compute_inline) or
rewrite the dataflow (cache_read, cache_write, rfactor: te/dataflow_rewrite.py).

A schedule records the primitives applied to it (`s.trace()`: printable as te code, replayable)
and can be copied (`s.copy()`), so a search can branch from a state without rebuilding it.
"""

from __future__ import annotations

from ..ir.expr import ProducerLoad
from ..ir.functor import post_order_visit
from . import dataflow_rewrite
from .stage import Fuse, IterAttr, ScheduleError, Singleton, Split, Stage  # noqa: F401  (te.schedule.Stage, ...)
from .tensor import ComputeOp, Operation, PlaceholderOp, Tensor
from .trace import Trace, primitive


class Schedule:
    """Stages in producer-before-consumer order; `s[T]` is the stage of tensor T."""

    def __init__(self, outputs):
        self.outputs = [o.op if isinstance(o, Tensor) else o for o in outputs]
        self.stages: list[Stage] = []
        self.stage_map: dict = {}
        seen = set()

        def visit(op):
            if op in seen:
                return
            seen.add(op)
            for t in op.input_tensors:
                visit(t.op)
            st = Stage(op, self)
            self.stages.append(st)
            self.stage_map[op] = st

        for op in self.outputs:
            if not isinstance(op, Operation):
                raise TypeError(f"create_schedule expects tensors or operations, got {op!r}")
            visit(op)
        for op in self.outputs:
            self.stage_map[op].is_output = True
        for st in list(self.stages):  # a scan's body runs inside its loop over time (te/scan.py)
            if hasattr(st.op, "body_stages"):
                for b in st.op.body_stages(self):
                    b.attach_type, b.attach_stage, b.attach_ivar = "scope", st, st.op.scan_axis
        self._steps: list = []  # the primitives applied, in order (te/trace.py)
        self._recording = True  # set-up, not the user's primitives: not in the trace
        for st in list(self.stages):  # compute(..., lambda i: intrin(A[i, 0:16])): tensorized from the start
            call = getattr(st.op, "attrs", {}).get("tensor_intrin_call")
            if call is not None:
                intrin, n_outer, n_outer_reduce, _ = call
                axes, red = list(st.op.axis), list(st.op.reduce_axis)
                st.reorder(*axes[:n_outer], *red[:n_outer_reduce], *axes[n_outer:], *red[n_outer_reduce:])
                st.tensorize(axes[n_outer], intrin)
        self._recording = False  # inside a primitive: the primitives it calls are not recorded

    def __getitem__(self, t) -> Stage:
        op = t.op if isinstance(t, Tensor) else t
        st = self.stage_map.get(op)
        if st is None:
            name = getattr(op, "name", repr(op))
            raise ScheduleError(f"{name} is not part of this schedule (it is not an output of "
                                f"create_schedule nor an input of one)")
        return st

    def __contains__(self, t) -> bool:
        return (t.op if isinstance(t, Tensor) else t) in self.stage_map

    def _owner_of(self, iv) -> Stage | None:
        for st in self.stages:
            if iv in st.all_iter_vars:
                return st
        return None

    def readers(self, stage: Stage) -> list[Stage]:
        """Stages whose current body reads one of stage's tensors."""
        out = []
        for st in self.stages:
            if st is stage or isinstance(st.op, PlaceholderOp):
                continue
            if any(self.stage_map.get(t.op) is stage for t in st.op.input_tensors):
                out.append(st)
        return out

    def _consumer_chain_ok(self, stage: Stage, parent: Stage) -> bool:
        """True if parent needs stage: it reads it directly or through other stages.

        Whether those intermediate stages end up inlined or inside parent's loop depends on
        primitives that may still follow (compute_at calls come in any order), so that part is
        checked when the schedule is lowered."""
        todo, seen = [stage], set()
        while todo:
            for r in self.readers(todo.pop()):
                if r is parent:
                    return True
                if r not in seen:
                    seen.add(r)
                    todo.append(r)
        return False

    def _insert_before(self, stage: Stage, new: Stage) -> None:
        self.stages.insert(self.stages.index(stage), new)

    def _insert_after(self, stage: Stage, new: Stage) -> None:
        self.stages.insert(self.stages.index(stage) + 1, new)

    # ------------------------------------------------------------------ dataflow rewrites
    @primitive
    def cache_read(self, tensor: Tensor, scope: str, readers) -> Tensor:
        """Copy `tensor` into a `scope` buffer that `readers` read instead (e.g. packing, shared memory)."""
        return dataflow_rewrite.cache_read(self, tensor, scope, readers)

    @primitive
    def cache_write(self, tensor: Tensor, scope: str) -> Tensor:
        """Compute `tensor` into a `scope` buffer first, then copy it out (a write cache).  The
        cache's layout follows the stage's loops so far (classic TVM): call it before splitting
        the stage unless that re-layout is what you want."""
        return dataflow_rewrite.cache_write(self, tensor, scope)

    @primitive
    def rfactor(self, tensor: Tensor, axis, factor_axis: int = 0):
        """Turn reduction axis `axis` (a leaf of tensor's stage) into a data-parallel axis of a new
        partial-result tensor; the original stage then reduces over those partial results."""
        return dataflow_rewrite.rfactor(self, tensor, axis, factor_axis)

    # ------------------------------------------------------------------ search support
    def copy(self) -> Schedule:
        """An independent schedule in the same state: primitives applied to one leave the other
        unchanged.  Operations, tensors and iter vars are immutable and shared, so `s[T]` and the
        user's axes work on both."""
        new = Schedule.__new__(Schedule)
        new.outputs = list(self.outputs)
        stages = {st: st._copy(new) for st in self.stages}
        new.stages = [stages[st] for st in self.stages]
        for st in new.stages:
            if st.attach_stage is not None:
                st.attach_stage = stages[st.attach_stage]
        new.stage_map = {op: stages[st] for op, st in self.stage_map.items()}
        new._steps = list(self._steps)
        new._recording = False
        return new

    __copy__ = copy

    def __deepcopy__(self, memo) -> Schedule:
        return self.copy()

    def trace(self) -> Trace:
        """The primitives applied so far, in order: `print(s.trace())` shows them as te code,
        `s.trace().apply(te.create_schedule(outputs))` replays them."""
        return Trace(self.outputs, self._steps)

    def normalize(self) -> Schedule:
        """Classic TVM rebases loops to start at 0 here; tilecraft's loops always do, so this
        returns the schedule itself (kept so classic code such as `InferBound(s.normalize())` runs)."""
        return self


def InferBound(sch: Schedule) -> dict:  # noqa: N802  (classic name: tvm.te.schedule.InferBound)
    """{IterVar: Range} for every loop of the schedule; see te.infer_bound."""
    from .bound_inference import infer_bound

    return infer_bound(sch)


def _auto_inline(sch: Schedule, which) -> None:
    """compute_inline every stage not scheduled yet (at root, loops as created) that `which` accepts."""
    for st in sch.stages:
        op = st.op
        if (isinstance(op, ComputeOp) and not op.reduce_axis and not st.is_output and st.attach_type == "root"
                and not st.relations and op.num_outputs == 1 and which(op)):
            st.compute_inline()


def _elementwise(op) -> bool:
    """Every tensor the op reads is read at exactly its own axes, in order."""
    axes = [iv.var for iv in op.axis]
    ok = [True]

    def check(n):
        if isinstance(n, ProducerLoad) and not (len(n.indices) == len(axes)
                                                and all(i is a for i, a in zip(n.indices, axes))):
            ok[0] = False

    for b in op.body:
        post_order_visit(b, check)
    return ok[0]


def AutoInlineElemWise(sch: Schedule) -> None:  # noqa: N802  (classic te.schedule names)
    """Inline the element-wise stages (each input read at the stage's own index)."""
    _auto_inline(sch, _elementwise)


def AutoInlineBroadcast(sch: Schedule) -> None:  # noqa: N802
    """Inline the element-wise and broadcast stages (no reduction)."""
    _auto_inline(sch, lambda op: True)


AutoInlineInjective = AutoInlineBroadcast  # classic: every stage without a reduction


def create_schedule(ops) -> Schedule:
    """A default schedule (every stage at root, loops in axis order) for the given outputs."""
    if not isinstance(ops, (list, tuple)):
        ops = [ops]
    return Schedule(list(ops))


# Classic `tvm.te.schedule.*` names.
from ..ir.expr import Buffer, IterVar  # noqa: E402,F401


def ScheduleOps(sch: Schedule, bounds=None, debug_keep_trivial_loop: bool = False):  # noqa: N802
    """The loop nest of `sch` as one statement, before any lowering pass; its arguments are the
    placeholders it reads and its outputs (classic tests inspect its loops)."""
    from .lower import lower_schedule

    outs = [sch.stage_map[o].op.output(i) for o in sch.outputs for i in range(o.num_outputs)]
    inputs = [s.op.output(0) for s in sch.stages if isinstance(s.op, PlaceholderOp)]
    return lower_schedule(sch, [*inputs, *outs]).body
