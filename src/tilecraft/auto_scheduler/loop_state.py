"""The auto-scheduler's loop state: a list of transform steps plus a cheap view of the loop nest
they produce (stages, their iterators with names, extents and annotations, and where each stage
is computed).

The search mutates thousands of states, so the view is updated by the steps themselves with plain
integers (transform_steps.py), never by building a te schedule; `ComputeDAG.apply_steps_from_state`
replays the steps onto a fresh te schedule when a candidate is compiled, and
`ComputeDAG.infer_bound_from_state` fills extents the view leaves unknown (loops of a stage that
was moved with compute_at).

A state is copied cheaply: steps are immutable and shared, stages and iterators are immutable
records (a step replaces the ones it changes), so a copy copies a few lists and dicts.
"""

from __future__ import annotations

from ..te.tensor import Operation, PlaceholderOp, Tensor


class IteratorKind:
    SPATIAL = 0
    REDUCTION = 1
    MIXED = 2
    SPECIAL = 3


class IteratorAnnotation:
    NONE = 0
    UNROLL = 1
    VECTORIZE = 2
    PARALLEL = 3
    VTHREAD = 4
    BLOCK_X = 5
    THREAD_X = 6
    BLOCK_Y = 7
    THREAD_Y = 8
    BLOCK_Z = 9
    THREAD_Z = 10
    TENSORIZE = 11


# The name each annotation prints with (and, for thread bindings, the te thread tag).
ANNOTATION_STRING = ("for", "unroll", "vectorize", "parallel", "vthread", "blockIdx.x", "threadIdx.x",
                     "blockIdx.y", "threadIdx.y", "blockIdx.z", "threadIdx.z", "tensorize")
THREAD_ANNOTATION = {name: i for i, name in enumerate(ANNOTATION_STRING) if i >= IteratorAnnotation.VTHREAD
                     and i != IteratorAnnotation.TENSORIZE}


class ComputeAtKind:
    ROOT = 0
    INLINED = 1
    ITER = 2


class StageKind:
    PLACEHOLDER = 0
    COMPUTE = 1


class Iterator:
    """One loop of a stage in the state's view: name, extent (an int, or None when unknown),
    kind (spatial / reduction / mixed), annotation, and the iterators it was fused from."""

    __slots__ = ("name", "extent", "iter_kind", "annotation", "orig_iters")

    def __init__(self, name: str, extent, iter_kind: int, annotation: int = IteratorAnnotation.NONE,
                 orig_iters: tuple = ()):
        self.name, self.extent, self.iter_kind = name, extent, iter_kind
        self.annotation, self.orig_iters = annotation, tuple(orig_iters)

    @property
    def range(self):
        """(min, extent) as classic's Range, or None when the extent is unknown."""
        return None if self.extent is None else (0, self.extent)

    def with_(self, **kw) -> Iterator:
        d = {k: getattr(self, k) for k in self.__slots__}
        d.update(kw)
        return Iterator(**d)

    def __eq__(self, other):
        return isinstance(other, Iterator) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self):
        return hash((self.name, self.extent, self.iter_kind, self.annotation))

    def __repr__(self) -> str:
        ann = ANNOTATION_STRING[self.annotation]
        return f"Iterator({self.name}, {self.extent if self.extent is not None else 'None'}, {ann})"


class Stage:
    """One operation in the state's view: its loops and where it is computed."""

    __slots__ = ("op", "op_type", "iters", "compute_at", "auto_unroll_max_step", "storage_offset")

    def __init__(self, op: Operation, op_type: int | None = None, iters=None, compute_at: int = ComputeAtKind.ROOT,
                 auto_unroll_max_step: int = 0, storage_offset: int = 0):
        self.op = op
        self.op_type = op_type if op_type is not None else (
            StageKind.PLACEHOLDER if isinstance(op, PlaceholderOp) else StageKind.COMPUTE)
        self.iters = tuple(iters) if iters is not None else initial_iters(op)
        self.compute_at = compute_at
        self.auto_unroll_max_step, self.storage_offset = auto_unroll_max_step, storage_offset

    def with_(self, **kw) -> Stage:
        d = {k: getattr(self, k) for k in self.__slots__}
        d.update(kw)
        return Stage(**d)

    def __eq__(self, other):
        # Operations compare by name: a state read back from a record names the same stages
        # through a DAG rebuilt from the workload key.
        return isinstance(other, Stage) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__
                                                if k != "op") and self.op.name == other.op.name

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"Stage({self.op.name}: {', '.join(it.name for it in self.iters)})"


def _int_or_none(e):
    v = getattr(e, "value", e)
    return v if isinstance(v, int) else None


def initial_iters(op: Operation) -> tuple:
    if isinstance(op, PlaceholderOp):
        return ()
    its = [Iterator(iv.var.name, _int_or_none(iv.dom.extent), IteratorKind.SPATIAL) for iv in op.axis]
    its += [Iterator(iv.var.name, _int_or_none(iv.dom.extent), IteratorKind.REDUCTION) for iv in op.reduce_axis]
    return tuple(its)


class AttachMap:
    """Where compute_at put each stage: stage id -> (target stage id, target iter id), and back."""

    __slots__ = ("stage_to_attach_iter", "iter_to_attached_stages")

    def __init__(self, stage_to_attach_iter=None, iter_to_attached_stages=None):
        self.stage_to_attach_iter = dict(stage_to_attach_iter or {})
        self.iter_to_attached_stages = {k: list(v) for k, v in (iter_to_attached_stages or {}).items()}

    def copy(self) -> AttachMap:
        return AttachMap(self.stage_to_attach_iter, self.iter_to_attached_stages)

    def set_compute_at_iter(self, stage_id: int, target_stage_id: int, target_iter_id: int) -> None:
        self.delete_stage(stage_id)
        key = (target_stage_id, target_iter_id)
        self.stage_to_attach_iter[stage_id] = key
        self.iter_to_attached_stages.setdefault(key, []).append(stage_id)

    def delete_stage(self, stage_id: int) -> None:
        key = self.stage_to_attach_iter.pop(stage_id, None)
        if key is not None:
            lst = self.iter_to_attached_stages[key]
            lst.remove(stage_id)
            if not lst:
                del self.iter_to_attached_stages[key]

    def update_iters(self, mapping: dict, stage_id: int) -> None:
        """Move attachments at (stage_id, old iter id) to (stage_id, mapping[old iter id])."""
        moved = {k: v for k, v in self.iter_to_attached_stages.items() if k[0] == stage_id and k[1] in mapping}
        for k in moved:
            del self.iter_to_attached_stages[k]
        for (sid, old), stages in moved.items():
            new_key = (sid, mapping[old])
            self.iter_to_attached_stages.setdefault(new_key, []).extend(stages)
            for s in stages:
                self.stage_to_attach_iter[s] = new_key

    def apply_stage_id_offset(self, start_id: int, offset: int = 1) -> AttachMap:
        def f(s):
            return s + offset if s >= start_id else s
        new = AttachMap()
        for s, (t, i) in self.stage_to_attach_iter.items():
            new.stage_to_attach_iter[f(s)] = (f(t), i)
        for (t, i), stages in self.iter_to_attached_stages.items():
            new.iter_to_attached_stages[(f(t), i)] = [f(s) for s in stages]
        return new

    def __eq__(self, other):
        return isinstance(other, AttachMap) and self.stage_to_attach_iter == other.stage_to_attach_iter


class State:
    """A loop state: the transform steps applied to a ComputeDAG's initial state and the loop view
    they produce.  Methods take the stage as a tensor, an operation or a stage id, and the
    iterator as an Iterator of that stage or its index; they return the new iterators."""

    def __init__(self, dag, stages=None, transform_steps=None, attach_map=None, current_compute_dag=None,
                 concrete: bool = True, stage_id_map=None):
        self.dag = dag
        self.stages: list = list(stages) if stages is not None else [Stage(op) for op in dag.ops]
        self.transform_steps: list = list(transform_steps or [])
        self.attach_map = attach_map.copy() if attach_map is not None else AttachMap()
        self.current_compute_dag = current_compute_dag  # the DAG after cache/rfactor steps, or None
        self.concrete = concrete
        self.stage_id_map: dict = dict(stage_id_map) if stage_id_map is not None else {
            op: i for i, op in enumerate(dag.ops)}

    # ------------------------------------------------------------------ copying, comparing
    def copy(self) -> State:
        return State(self.dag, self.stages, self.transform_steps, self.attach_map, self.current_compute_dag,
                     self.concrete, self.stage_id_map)

    __copy__ = copy

    def __eq__(self, other):
        return (isinstance(other, State) and self.stages == other.stages
                and self.transform_steps == other.transform_steps)

    __hash__ = object.__hash__

    @property
    def stage_ops(self) -> list:
        return [st.op for st in self.stages]

    @property
    def compute_dag(self):
        """The DAG the current stages compute: the initial one, or the one cache/rfactor steps made."""
        return self.current_compute_dag or self.dag

    def __getitem__(self, key) -> Stage:
        return self.stages[self._resolve_stage_id(key)]

    def _resolve_stage_id(self, stage) -> int:
        if isinstance(stage, int):
            return stage
        if isinstance(stage, Tensor):
            stage = stage.op
        if isinstance(stage, Stage):
            stage = stage.op
        if isinstance(stage, Operation):
            sid = self.stage_id_map.get(stage)
            if sid is None:
                for i, st in enumerate(self.stages):
                    if st.op is stage:
                        return i
                raise ValueError(f"{stage.name} is not a stage of this state (stages: "
                                 f"{', '.join(s.op.name for s in self.stages)})")
            return sid
        raise TypeError(f"a stage is given as a Tensor, an Operation or a stage id, got {stage!r}")

    def _resolve_iter_id(self, stage_id: int, it) -> int:
        if isinstance(it, int):
            return it
        iters = self.stages[stage_id].iters
        for i, x in enumerate(iters):
            if x is it:
                return i
        for i, x in enumerate(iters):
            if x == it:
                return i
        raise ValueError(f"iterator {it!r} is not a loop of stage {self.stages[stage_id].op.name} "
                         f"(its loops: {', '.join(x.name for x in iters)})")

    def _apply_stage_id_offset(self, start_id: int, offset: int = 1) -> None:
        for op, sid in list(self.stage_id_map.items()):
            if sid >= start_id:
                self.stage_id_map[op] = sid + offset

    def _add(self, step):
        """Append a step and update the view (what every method below and a replay from records do)."""
        self.transform_steps.append(step)
        try:
            result = step.apply_to_state(self)
        except Exception:
            self.transform_steps.pop()
            raise
        if isinstance(step, ts.CacheReadStep):
            self._new_stage(result)
        elif isinstance(step, (ts.CacheWriteStep, ts.RfactorStep)):
            self._new_stage(step.stage_id)
        return result

    def _new_stage(self, first_moved: int) -> None:
        """A stage was inserted: stages from first_moved on moved one up; the user's handles (the
        original operations) keep naming the same stages, and every current operation names its own."""
        self._apply_stage_id_offset(first_moved)
        for i, st in enumerate(self.stages):
            self.stage_id_map[st.op] = i

    # ------------------------------------------------------------------ annotations
    def bind(self, stage, iterator, thread_name: str):
        """Bind a loop to a GPU thread axis ("blockIdx.x", "threadIdx.x", "vthread", ...)."""
        if thread_name not in THREAD_ANNOTATION:
            raise ValueError(f"unknown thread name {thread_name!r}; use one of {', '.join(THREAD_ANNOTATION)}")
        sid = self._resolve_stage_id(stage)
        return self._add(ts.AnnotationStep(sid, self._resolve_iter_id(sid, iterator), THREAD_ANNOTATION[thread_name]))

    def parallel(self, stage, iterator):
        sid = self._resolve_stage_id(stage)
        return self._add(ts.AnnotationStep(sid, self._resolve_iter_id(sid, iterator), IteratorAnnotation.PARALLEL))

    def unroll(self, stage, iterator, max_unroll=None):
        """Unroll a loop (not if its extent is known to exceed max_unroll: then nothing happens)."""
        sid = self._resolve_stage_id(stage)
        iid = self._resolve_iter_id(sid, iterator)
        ext = self.stages[sid].iters[iid].extent
        if max_unroll is not None and ext is not None and ext > max_unroll:
            return self.stages[sid].iters[iid]
        return self._add(ts.AnnotationStep(sid, iid, IteratorAnnotation.UNROLL))

    def vectorize(self, stage, iterator):
        sid = self._resolve_stage_id(stage)
        return self._add(ts.AnnotationStep(sid, self._resolve_iter_id(sid, iterator), IteratorAnnotation.VECTORIZE))

    def pragma(self, stage, iterator, pragma_type: str):
        """A pragma on a loop; "auto_unroll_max_step$N" sets the stage's unroll depth."""
        sid = self._resolve_stage_id(stage)
        return self._add(ts.PragmaStep(sid, self._resolve_iter_id(sid, iterator), str(pragma_type)))

    def storage_align(self, stage, iterator, factor: int, offset: int):
        sid = self._resolve_stage_id(stage)
        return self._add(ts.StorageAlignStep(sid, self._resolve_iter_id(sid, iterator), int(factor), int(offset)))

    # ------------------------------------------------------------------ loop structure
    def fuse(self, stage, iters):
        sid = self._resolve_stage_id(stage)
        return self._add(ts.FuseStep(sid, tuple(self._resolve_iter_id(sid, it) for it in iters)))

    def reorder(self, stage, order):
        sid = self._resolve_stage_id(stage)
        return self._add(ts.ReorderStep(sid, tuple(self._resolve_iter_id(sid, it) for it in order)))

    def split(self, stage, iterator, lengths, inner_to_outer: bool = True):
        """Split a loop into len(lengths) + 1 loops; lengths are the inner extents (inner_to_outer)
        or the outer ones (nparts, inner_to_outer=False).  Returns the new iterators, outer first."""
        sid = self._resolve_stage_id(stage)
        iid = self._resolve_iter_id(sid, iterator)
        ext = self.stages[sid].iters[iid].extent
        lens = tuple(None if x is None else int(x) for x in lengths)
        return self._add(ts.SplitStep(sid, iid, ext, lens, bool(inner_to_outer)))

    def follow_split(self, stage, iterator, src_step_id: int, n_split: int):
        """Split a loop like the SplitStep at src_step_id (its first n_split - 1 lengths, and the
        product of the rest as the last)."""
        sid = self._resolve_stage_id(stage)
        return self._add(ts.FollowSplitStep(sid, self._resolve_iter_id(sid, iterator), int(src_step_id), int(n_split)))

    def follow_fused_split(self, stage, iterator, src_step_ids, level: int, factor_or_nparts: bool):
        """Split a loop by the product of the level-th lengths of several SplitSteps (a fused loop
        that follows the tiles of the loops it was fused from)."""
        sid = self._resolve_stage_id(stage)
        return self._add(ts.FollowFusedSplitStep(sid, self._resolve_iter_id(sid, iterator),
                                                 tuple(int(x) for x in src_step_ids), int(level),
                                                 bool(factor_or_nparts)))

    # ------------------------------------------------------------------ placement
    def compute_at(self, stage, target_stage, target_iter):
        sid = self._resolve_stage_id(stage)
        tid = self._resolve_stage_id(target_stage)
        return self._add(ts.ComputeAtStep(sid, tid, self._resolve_iter_id(tid, target_iter)))

    def compute_inline(self, stage):
        return self._add(ts.ComputeInlineStep(self._resolve_stage_id(stage)))

    def compute_root(self, stage):
        return self._add(ts.ComputeRootStep(self._resolve_stage_id(stage)))

    # ------------------------------------------------------------------ dataflow rewrites
    def cache_read(self, stage, scope_name: str, reader_stages):
        """Add a stage that copies `stage`'s output into `scope_name` for the readers; returns the
        new stage's operation (the new stage is stage id + 1)."""
        sid = self._resolve_stage_id(stage)
        readers = tuple(self._resolve_stage_id(r) for r in reader_stages)
        return self.stages[self._add(ts.CacheReadStep(sid, str(scope_name), readers))].op

    def cache_write(self, stage, scope_name: str):
        """Compute `stage` into a `scope_name` buffer first (a new stage at stage's id; the
        original moves one up); returns the cache stage's operation."""
        sid = self._resolve_stage_id(stage)
        return self.stages[self._add(ts.CacheWriteStep(sid, str(scope_name)))].op

    def rfactor(self, stage, iterator, factor_iter_id: int):
        """Factor reduction loop `iterator` out into a new stage of partial results (at stage's id;
        the original moves one up); returns the new stage's operation."""
        sid = self._resolve_stage_id(stage)
        return self.stages[self._add(ts.RfactorStep(sid, self._resolve_iter_id(sid, iterator),
                                                    int(factor_iter_id)))].op

    # ------------------------------------------------------------------ printing
    def to_str(self, delete_trivial_loop: bool = True) -> str:
        lines = ["Placeholder: " + ", ".join(st.op.name for st in self.stages if st.op_type == StageKind.PLACEHOLDER)]
        for i, st in enumerate(self.stages):
            if st.op_type == StageKind.COMPUTE and st.compute_at == ComputeAtKind.ROOT:
                self._print_stage(lines, i, 0, delete_trivial_loop)
        return "\n".join(lines) + "\n"

    def _print_stage(self, lines, stage_id, base, delete_trivial_loop):
        st = self.stages[stage_id]
        if st.auto_unroll_max_step:
            lines.append(" " * base + f"{st.op.name} auto_unroll: {st.auto_unroll_max_step}")
        if st.storage_offset:
            lines.append(" " * base + f"{st.op.name} storage_offset: {st.storage_offset}")
        indent = 0
        for i, it in enumerate(st.iters):
            if not (delete_trivial_loop and it.extent == 1):
                rng = f"(0,{it.extent})" if it.extent is not None else "(None)"
                lines.append(" " * (base + indent) + f"{ANNOTATION_STRING[it.annotation]} {it.name} {rng}")
                indent += 2
            for attached in self.attach_map.iter_to_attached_stages.get((stage_id, i), ()):
                self._print_stage(lines, attached, base + indent, delete_trivial_loop)
        lines.append(" " * (base + indent) + f"{st.op.name} = ...")

    def __str__(self) -> str:
        return self.to_str(True)

    def __repr__(self) -> str:
        return f"State({len(self.transform_steps)} steps)\n{self.to_str(True)}"


from . import transform_steps as ts  # noqa: E402  (the steps update the classes above)
