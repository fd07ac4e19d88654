"""Transform steps: the immutable records a loop State is made of.

Each step can
  (a) update a State's loop view (`apply_to_state`) with plain integers, without a te schedule;
  (b) apply itself to a te schedule (`apply_to_schedule`, on a ScheduleReplay);
  (c) serialise to and from the classic Ansor v0.6 record (`to_record`, `step_from_record`), with
      the classic step codes and argument layout: ["SP", stage_id, iter_id, extent, lengths,
      inner_to_outer], ["CA", stage_id, target_stage_id, target_iter_id], ...;
  (d) print as te schedule code (`te_code(dag, steps_before)`; the whole state:
      ComputeDAG.print_python_code_from_state).

Stages are named by their index in the state (classic stage ids: the DAG's ops in topological
order, a cache_write / rfactor stage inserted before its stage, a cache_read stage after its
producer); iterators by their index in the stage's current loop order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import ClassVar

from ..te import thread_axis
from .loop_state import (
    ANNOTATION_STRING,
    ComputeAtKind,
    Iterator,
    IteratorAnnotation,
    IteratorKind,
    Stage,
)


class StepError(ValueError):
    """A step does not apply to the state it was given."""


def _ceildiv(a: int, b: int) -> int:
    return -(-a // b)


def _to_record(v):
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, bool):
        return int(v)
    return 0 if v is None else v  # classic writes an unknown split extent as 0


class ScheduleReplay:
    """A te schedule being built from steps: the stages in state order and each stage's loops in
    the order the state's iterators have (classic's stage_to_axes)."""

    def __init__(self, dag, steps=()):
        from ..te import create_schedule

        self.dag = dag
        self.sch = create_schedule([op for op in dag.ops if dag.access_analyzer.is_output[op]])
        self.stages = [self.sch[op] for op in dag.ops]
        self.axes = {st: list(st.op.axis) + list(st.op.reduce_axis) for st in self.stages}
        self.steps = list(steps)

    def reset_axes(self, st) -> None:
        self.axes[st] = list(st.op.axis) + list(st.op.reduce_axis)

    def insert_before(self, stage_id: int, op) -> None:
        """cache_write and rfactor: the stage of `op` goes in before stage `stage_id`, whose
        operation (and so loops) the primitive replaced."""
        self.reset_axes(self.stages[stage_id])
        new = self.sch[op]
        self.reset_axes(new)
        self.stages.insert(stage_id, new)

    def apply(self, steps) -> ScheduleReplay:
        self.steps = list(steps)
        for n, step in enumerate(steps):
            try:
                step.apply_to_schedule(self)
            except (ValueError, IndexError, KeyError, TypeError) as e:
                raise StepError(f"step {n} {step.to_record()} does not apply to the schedule: {e}") from e
        return self


@dataclass(frozen=True)
class Step(ABC):
    stage_id: int
    record_prefix: ClassVar[str] = ""

    @abstractmethod
    def apply_to_state(self, state):
        """Update the state's loop view; returns what the State method returns."""

    @abstractmethod
    def apply_to_schedule(self, replay: ScheduleReplay):
        """Apply the step to the te schedule being replayed."""

    def to_record(self) -> list:
        """The classic v0.6 record: the step code, then the fields in declaration order."""
        return [self.record_prefix, *(_to_record(getattr(self, f.name)) for f in fields(self))]

    def te_code(self, dag, steps_before=()) -> str:
        """This step as te schedule code, in the context of the steps before it."""
        before = dag.print_python_code_from_state(list(steps_before)).splitlines()
        after = dag.print_python_code_from_state(list(steps_before) + [self]).splitlines()
        return "\n".join(after[len(before):])

    # helpers
    def _stage(self, state) -> Stage:
        if not 0 <= self.stage_id < len(state.stages):
            raise StepError(f"{self.record_prefix}: stage id {self.stage_id} out of range (the state has "
                            f"{len(state.stages)} stages)")
        return state.stages[self.stage_id]

    def _stage_iter(self, state) -> tuple[Stage, Iterator]:
        """The stage and its loop `self.iter_id` (steps that name one loop)."""
        st = self._stage(state)
        return st, self._iter(st, self.iter_id)

    def _iter(self, stage: Stage, iter_id: int) -> Iterator:
        if not 0 <= iter_id < len(stage.iters):
            raise StepError(f"{self.record_prefix}: stage {stage.op.name} has no loop {iter_id} (its loops: "
                            f"{', '.join(it.name for it in stage.iters)})")
        return stage.iters[iter_id]

    def _set_stage(self, state, stage: Stage) -> None:
        state.stages[self.stage_id] = stage


# ---------------------------------------------------------------------- single-stage steps
@dataclass(frozen=True)
class AnnotationStep(Step):
    iter_id: int
    annotation: int
    record_prefix: ClassVar[str] = "AN"

    def apply_to_state(self, state):
        st, it = self._stage_iter(state)
        if it.annotation != IteratorAnnotation.NONE:
            raise StepError(f"cannot mark loop {it.name} of {st.op.name} {ANNOTATION_STRING[self.annotation]}: it "
                            f"is already {ANNOTATION_STRING[it.annotation]}")
        if it.iter_kind == IteratorKind.REDUCTION and self.annotation in (IteratorAnnotation.PARALLEL,
                                                                         IteratorAnnotation.VECTORIZE):
            raise StepError(f"cannot {ANNOTATION_STRING[self.annotation]} reduction loop {it.name} of {st.op.name}")
        new_it = it.with_(annotation=self.annotation)
        iters = list(st.iters)
        iters[self.iter_id] = new_it
        self._set_stage(state, st.with_(iters=iters))
        return new_it

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        iv = r.axes[st][self.iter_id]
        a = self.annotation
        if a == IteratorAnnotation.UNROLL:
            st.unroll(iv)
        elif a == IteratorAnnotation.VECTORIZE:
            st.vectorize(iv)
        elif a == IteratorAnnotation.PARALLEL:
            st.parallel(iv)
        elif IteratorAnnotation.VTHREAD <= a <= IteratorAnnotation.THREAD_Z:
            st.bind(iv, thread_axis(ANNOTATION_STRING[a]))
        elif a != IteratorAnnotation.NONE:
            raise StepError(f"annotation {ANNOTATION_STRING[a]} is not supported")


@dataclass(frozen=True)
class FuseStep(Step):
    fused_ids: tuple[int, ...]
    record_prefix: ClassVar[str] = "FU"

    def apply_to_state(self, state):
        st = self._stage(state)
        ids = list(self.fused_ids)
        if not ids:
            raise StepError("FU: nothing to fuse")
        for a, b in zip(ids, ids[1:]):
            if b != a + 1:
                raise StepError(f"FU: loops {ids} of {st.op.name} are not consecutive")
        for i in ids[:-1]:
            if (self.stage_id, i) in state.attach_map.iter_to_attached_stages:
                raise StepError(f"FU: cannot fuse loop {st.iters[i].name} of {st.op.name}: another stage is "
                                f"computed at it")
        its = [self._iter(st, i) for i in ids]
        name = "".join(it.name + "@" for it in its) if len(its) > 1 else its[0].name
        ext = 1
        for it in its:
            ext = None if ext is None or it.extent is None else ext * it.extent
        kind = its[0].iter_kind
        if any(it.iter_kind != kind for it in its):
            kind = IteratorKind.MIXED
        new_it = Iterator(name, ext, kind, IteratorAnnotation.NONE, its) if len(its) > 1 else its[0]
        begin, end = ids[0], ids[-1]
        iters = list(st.iters[:begin]) + [new_it] + list(st.iters[end + 1:])
        self._set_stage(state, st.with_(iters=iters))
        mapping = {i: begin for i in range(begin + 1, end + 1)}
        mapping.update({i: i - (end - begin) for i in range(end + 1, len(st.iters))})
        state.attach_map.update_iters(mapping, self.stage_id)
        return new_it

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        axes = r.axes[st]
        fused = st.fuse(*[axes[i] for i in self.fused_ids])
        begin, end = self.fused_ids[0], self.fused_ids[-1]
        r.axes[st] = axes[:begin] + [fused] + axes[end + 1:]
        return fused


@dataclass(frozen=True)
class PragmaStep(Step):
    iter_id: int
    pragma_type: str
    record_prefix: ClassVar[str] = "PR"

    def _unroll_value(self) -> int | None:
        if self.pragma_type.startswith("auto_unroll_max_step"):
            _, sep, v = self.pragma_type.partition("$")
            if not sep:
                raise StepError(f"PR: {self.pragma_type!r} has no value (write auto_unroll_max_step$N)")
            return int(v)
        return None

    def apply_to_state(self, state):
        st = self._stage(state)
        v = self._unroll_value()
        if v is not None:
            self._set_stage(state, st.with_(auto_unroll_max_step=v))
        elif self.pragma_type == "debug_skip_region":
            state.attach_map.delete_stage(self.stage_id)
        else:
            self._iter(st, self.iter_id)

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        axes = r.axes[st]
        v = self._unroll_value()
        if v is not None:
            if self.iter_id < len(axes):
                st.pragma(axes[self.iter_id], "auto_unroll_max_step", v)
                st.pragma(axes[self.iter_id], "unroll_explicit", True)
        else:
            st.pragma(axes[self.iter_id], self.pragma_type)


@dataclass(frozen=True)
class ReorderStep(Step):
    after_ids: tuple[int, ...]
    record_prefix: ClassVar[str] = "RE"

    def apply_to_state(self, state):
        st = self._stage(state)
        if sorted(self.after_ids) != list(range(len(st.iters))):
            raise StepError(f"RE: {list(self.after_ids)} is not a permutation of the {len(st.iters)} loops of "
                            f"{st.op.name}")
        self._set_stage(state, st.with_(iters=[st.iters[i] for i in self.after_ids]))
        # An attached stage follows its loop to the loop's new position (te attaches to the loop).
        state.attach_map.update_iters({old: new for new, old in enumerate(self.after_ids)}, self.stage_id)

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        axes = r.axes[st]
        if len(self.after_ids) != len(axes):
            raise StepError(f"RE: {len(self.after_ids)} ids for {len(axes)} loops")
        new_axes = [axes[i] for i in self.after_ids]
        st.reorder(*new_axes)
        r.axes[st] = new_axes


def _split_state(step, state, iter_id: int, lengths, inner_to_outer: bool) -> list:
    """The view of a split (also for follow_split and follow_fused_split): len(lengths) + 1 loops
    named it.0, it.1, ... (outer first), extents by ceil-division."""
    st = step._stage(state)
    it = step._iter(st, iter_id)
    ext = it.extent
    outs = []
    n = len(lengths)
    for i in range(n):
        if inner_to_outer:
            ln, name = lengths[n - i - 1], f"{it.name}.{n - i}"
        else:
            ln, name = lengths[i], f"{it.name}.{i}"
        if ln is not None and ext is not None:
            outs.append(Iterator(name, ln, it.iter_kind))
            ext = _ceildiv(ext, ln)
        else:
            outs.append(Iterator(name, None, it.iter_kind))
            ext = None
            if ln is None:
                state.concrete = False
    if inner_to_outer:
        outs.append(Iterator(f"{it.name}.0", ext, it.iter_kind))
        outs.reverse()
    else:
        outs.append(Iterator(f"{it.name}.{n}", ext, it.iter_kind))
    iters = list(st.iters[:iter_id]) + outs + list(st.iters[iter_id + 1:])
    step._set_stage(state, st.with_(iters=iters))
    state.attach_map.update_iters({i: i + n for i in range(iter_id, len(st.iters))}, step.stage_id)
    return outs


def _split_schedule(step, r: ScheduleReplay, iter_id: int, lengths, inner_to_outer: bool) -> list:
    st = r.stages[step.stage_id]
    axes = r.axes[st]
    if any(ln is None for ln in lengths):
        raise StepError(f"{step.record_prefix}: the split lengths {list(lengths)} are not all known")
    outs = []
    if inner_to_outer:
        outer = axes[iter_id]
        for ln in reversed(lengths):
            outer, inner = st.split(outer, factor=ln)
            outs.append(inner)
        outs.append(outer)
        outs.reverse()
    else:
        inner = axes[iter_id]
        for ln in lengths:
            outer, inner = st.split(inner, nparts=ln)
            outs.append(outer)
        outs.append(inner)
    r.axes[st] = axes[:iter_id] + outs + axes[iter_id + 1:]
    return outs


@dataclass(frozen=True)
class SplitStep(Step):
    iter_id: int
    extent: int | None
    lengths: tuple[int | None, ...]
    inner_to_outer: bool
    record_prefix: ClassVar[str] = "SP"

    def apply_to_state(self, state):
        return _split_state(self, state, self.iter_id, self.lengths, self.inner_to_outer)

    def apply_to_schedule(self, r: ScheduleReplay):
        return _split_schedule(self, r, self.iter_id, self.lengths, self.inner_to_outer)


def _src_split(step, steps, src_id: int) -> SplitStep:
    if not 0 <= src_id < len(steps) or not isinstance(steps[src_id], SplitStep):
        raise StepError(f"{step.record_prefix}: step {src_id} is not a split step")
    return steps[src_id]


@dataclass(frozen=True)
class FollowSplitStep(Step):
    iter_id: int
    src_step_id: int
    n_split: int
    record_prefix: ClassVar[str] = "FSP"

    def lengths(self, steps) -> list:
        src = _src_split(self, steps, self.src_step_id)
        if self.n_split > len(src.lengths) + 1:
            raise StepError(f"FSP: n_split {self.n_split} exceeds the {len(src.lengths) + 1} parts of step "
                            f"{self.src_step_id}")
        out = list(src.lengths[:self.n_split - 1])
        last = 1
        for ln in src.lengths[self.n_split - 1:]:
            last = None if last is None or ln is None else last * ln
        out.append(last)
        return out

    def apply_to_state(self, state):
        return _split_state(self, state, self.iter_id, self.lengths(state.transform_steps), True)

    def apply_to_schedule(self, r: ScheduleReplay):
        return _split_schedule(self, r, self.iter_id, self.lengths(r.steps), True)


@dataclass(frozen=True)
class FollowFusedSplitStep(Step):
    iter_id: int
    src_step_ids: tuple[int, ...]
    level: int
    factor_or_nparts: bool
    record_prefix: ClassVar[str] = "FFSP"

    def length(self, steps):
        ret = 1
        for sid in self.src_step_ids:
            src = _src_split(self, steps, sid)
            ln = src.lengths[self.level]
            if ln is None:
                return None
            ret *= ln
        return ret

    def apply_to_state(self, state):
        return _split_state(self, state, self.iter_id, [self.length(state.transform_steps)], self.factor_or_nparts)

    def apply_to_schedule(self, r: ScheduleReplay):
        return _split_schedule(self, r, self.iter_id, [self.length(r.steps)], self.factor_or_nparts)


@dataclass(frozen=True)
class StorageAlignStep(Step):
    iter_id: int
    factor: int
    offset: int
    record_prefix: ClassVar[str] = "SA"

    def apply_to_state(self, state):
        st, _ = self._stage_iter(state)
        self._set_stage(state, st.with_(storage_offset=self.offset))

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        st.storage_align(r.axes[st][self.iter_id], self.factor, self.offset)


# ---------------------------------------------------------------------- placement steps
def _without_extents(st: Stage) -> list:
    return [it.with_(extent=None) for it in st.iters]


@dataclass(frozen=True)
class ComputeAtStep(Step):
    target_stage_id: int
    target_iter_id: int
    record_prefix: ClassVar[str] = "CA"

    def apply_to_state(self, state):
        st = self._stage(state)
        if not 0 <= self.target_stage_id < len(state.stages):
            raise StepError(f"CA: target stage id {self.target_stage_id} out of range")
        target = state.stages[self.target_stage_id]
        self._iter(target, self.target_iter_id)
        # Bounds of a stage computed inside another stage's loop depend on that loop: unknown
        # until infer_bound_from_state.
        self._set_stage(state, st.with_(iters=_without_extents(st), compute_at=ComputeAtKind.ITER))
        state.attach_map.set_compute_at_iter(self.stage_id, self.target_stage_id, self.target_iter_id)

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        target = r.stages[self.target_stage_id]
        st.compute_at(target, r.axes[target][self.target_iter_id])


@dataclass(frozen=True)
class ComputeInlineStep(Step):
    record_prefix: ClassVar[str] = "CI"

    def apply_to_state(self, state):
        st = self._stage(state)
        for i in range(len(st.iters)):
            if (self.stage_id, i) in state.attach_map.iter_to_attached_stages:
                raise StepError(f"CI: cannot inline {st.op.name}: other stages are computed at its loops")
        self._set_stage(state, st.with_(compute_at=ComputeAtKind.INLINED))
        state.attach_map.delete_stage(self.stage_id)

    def apply_to_schedule(self, r: ScheduleReplay):
        r.stages[self.stage_id].compute_inline()


@dataclass(frozen=True)
class ComputeRootStep(Step):
    record_prefix: ClassVar[str] = "CR"

    def apply_to_state(self, state):
        st = self._stage(state)
        self._set_stage(state, st.with_(iters=_without_extents(st), compute_at=ComputeAtKind.ROOT))
        state.attach_map.delete_stage(self.stage_id)

    def apply_to_schedule(self, r: ScheduleReplay):
        r.stages[self.stage_id].compute_root()


# ---------------------------------------------------------------------- steps that add stages
def _replayed_ops(state) -> list:
    """The operations of every stage after the state's steps (the new step included), from a
    replay of them on a fresh te schedule (cached per step list by the DAG)."""
    return state.dag.replay_ops(state.transform_steps)


def _stage_added(state, ops, added: int) -> int:
    """The state after a step added stage `added`: later stages get their new operations, the
    attach map and the current DAG follow."""
    for i in range(added + 1, len(state.stages)):
        state.stages[i] = state.stages[i].with_(op=ops[i])
    state.attach_map = state.attach_map.apply_stage_id_offset(added)
    state.current_compute_dag = state.dag.replay_dag(state.transform_steps)
    return added


def _insert_before(step, state, ops, compute_at: int) -> int:
    """The state view of cache_write and rfactor: a new stage at step.stage_id, before the one
    it was made from, which keeps its placement but gets fresh loops."""
    sid = step.stage_id
    state.stages.insert(sid, Stage(ops[sid]))
    state.stages[sid + 1] = Stage(ops[sid + 1], compute_at=compute_at)
    return _stage_added(state, ops, sid)


@dataclass(frozen=True)
class CacheReadStep(Step):
    scope_name: str
    reader_stage_ids: tuple[int, ...]
    record_prefix: ClassVar[str] = "CHR"

    def apply_to_state(self, state):
        self._stage(state)
        ops = _replayed_ops(state)
        added = self.stage_id + 1
        state.stages[self.stage_id] = state.stages[self.stage_id].with_(op=ops[self.stage_id])
        state.stages.insert(added, Stage(ops[added]))
        return _stage_added(state, ops, added)

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        readers = [r.stages[i].origin_op for i in self.reader_stage_ids]
        out = r.sch.cache_read(st.origin_op.output(0), self.scope_name, readers)
        new = r.sch[out.op]
        r.reset_axes(new)  # the readers' operations changed, their loops did not
        r.stages.insert(self.stage_id + 1, new)
        return out


@dataclass(frozen=True)
class CacheWriteStep(Step):
    scope_name: str
    record_prefix: ClassVar[str] = "CHW"

    def apply_to_state(self, state):
        self._stage(state)
        ops = _replayed_ops(state)
        if len(ops) != len(state.stages) + 1:
            raise StepError(f"CHW: cache_write of stage {self.stage_id} added {len(ops) - len(state.stages)} stages")
        return _insert_before(self, state, ops, state.stages[self.stage_id].compute_at)

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        out = r.sch.cache_write(st.origin_op.output(0), self.scope_name)
        r.insert_before(self.stage_id, out.op)
        return out


@dataclass(frozen=True)
class RfactorStep(Step):
    iter_id: int
    factor_iter_id: int
    record_prefix: ClassVar[str] = "RF"

    def apply_to_state(self, state):
        st, it = self._stage_iter(state)
        if it.iter_kind != IteratorKind.REDUCTION:
            raise StepError(f"RF: loop {it.name} of {st.op.name} is not a reduction loop")
        return _insert_before(self, state, _replayed_ops(state), st.compute_at)

    def apply_to_schedule(self, r: ScheduleReplay):
        st = r.stages[self.stage_id]
        out = r.sch.rfactor(st.origin_op.output(0), r.axes[st][self.iter_id], self.factor_iter_id)
        r.insert_before(self.stage_id, (out[0] if isinstance(out, list) else out).op)
        return out


# ---------------------------------------------------------------------- records
# The record field of each annotation, read back into the step's field.
_FROM_RECORD = {
    "int": int,
    "str": str,
    "bool": bool,
    "int | None": lambda x: int(x) or None,  # 0: unknown
    "tuple[int, ...]": lambda x: tuple(int(v) for v in x),
    "tuple[int | None, ...]": lambda x: tuple(None if v is None else int(v) for v in x),
}
STEP_KINDS = (AnnotationStep, FuseStep, PragmaStep, ReorderStep, SplitStep, FollowSplitStep, FollowFusedSplitStep,
              StorageAlignStep, ComputeAtStep, ComputeInlineStep, ComputeRootStep, CacheReadStep, CacheWriteStep,
              RfactorStep)
_KIND_OF_CODE = {kind.record_prefix: kind for kind in STEP_KINDS}


def step_from_record(rec) -> Step:
    """A step from its classic v0.6 record, e.g. ["SP", 2, 0, 128, [8, 2, 2], 1]."""
    try:
        code, *a = rec
        kind = _KIND_OF_CODE.get(code) if isinstance(code, str) else None
        if kind is not None:
            return kind(*(_FROM_RECORD[f.type](a[i]) for i, f in enumerate(fields(kind))))
    except (ValueError, TypeError, IndexError) as e:
        raise StepError(f"malformed step record {rec!r}: {e}") from None
    raise StepError(f"unknown step code in record {rec!r}; the v0.6 codes are SP, FSP, FFSP, RE, FU, AN, PR, CA, "
                    "CI, CR, CHR, CHW, RF, SA")


def is_stage_number_changing(step: Step) -> bool:
    return isinstance(step, (CacheReadStep, CacheWriteStep, RfactorStep))
