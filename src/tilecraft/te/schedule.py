"""Schedules: how to compute.  A Schedule has one Stage per operation; primitives reshape a
stage's loop nest (split, fuse, reorder, ...), place it (compute_at, compute_inline) or rewrite
the dataflow (cache_read, cache_write, rfactor).

Every primitive checks its preconditions when called, so a mistake fails on the user's line
with the stage and axis named, never later inside lowering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.expr import (
    IntImm,
    IterType,
    IterVar,
    PrimExpr,
    ProducerLoad,
    Range,
    Reduce,
    Var,
    const,
    convert,
    logical_and,
)
from ..ir.functor import Mutator, substitute
from .tensor import ComputeOp, Operation, PlaceholderOp, Tensor


class ScheduleError(ValueError):
    """A schedule primitive was used in a way that cannot be lowered."""


@dataclass(frozen=True, eq=False)
class Split:
    parent: IterVar
    outer: IterVar
    inner: IterVar
    factor: PrimExpr | None
    nparts: PrimExpr | None


@dataclass(frozen=True, eq=False)
class Fuse:
    outer: IterVar
    inner: IterVar
    fused: IterVar


@dataclass
class IterAttr:
    kind: str = "serial"  # serial | parallel | vectorized | unroll | thread_binding
    thread_tag: str = ""
    thread_iv: IterVar | None = None
    pragmas: list = field(default_factory=list)


def _is_reduce(iv: IterVar) -> bool:
    return iv.iter_type == IterType.COMM_REDUCE


class Stage:
    """The schedule of one operation: its loop nest and where it is computed."""

    def __init__(self, op: Operation, schedule: Schedule):
        self.op = op
        self.origin_op = op
        self.schedule = schedule
        self.all_iter_vars = list(op.axis) + list(op.reduce_axis)
        self.leaf_iter_vars = list(self.all_iter_vars)
        self.relations: list = []
        self.iter_var_attrs: dict = {}
        self.attach_type = "root"  # root | inline | scope
        self.attach_stage: Stage | None = None
        self.attach_ivar: IterVar | None = None
        self.scope = ""  # storage scope; "" = inferred from where the stage is computed (see te/lower.py)
        self.storage_aligns: dict = {}  # root axis index -> (factor, offset)
        self.is_output = False

    # ------------------------------------------------------------------ helpers
    @property
    def name(self) -> str:
        return self.op.name

    def __repr__(self) -> str:
        return f"stage({self.op.name})"

    def _err(self, msg: str) -> ScheduleError:
        return ScheduleError(f"stage {self.op.name}: {msg}")

    def _describe(self, iv) -> str:
        return iv.var.name if isinstance(iv, IterVar) else repr(iv)

    def _check_compute(self, what: str) -> None:
        if isinstance(self.op, PlaceholderOp):
            raise self._err(f"cannot {what}: {self.op.name} is an input placeholder; it has no loops to schedule")

    def _check_leaf(self, iv, what: str) -> IterVar:
        self._check_compute(what)
        if not isinstance(iv, IterVar):
            raise self._err(f"cannot {what} {iv!r}: expected an axis (IterVar) such as "
                            f"{self.op.name}.op.axis[0]")
        if iv in self.leaf_iter_vars:
            return iv
        if iv in self.all_iter_vars:
            children = [r for r in self.relations if iv in _inputs_of(r)]
            made = ", ".join(v.var.name for r in children for v in _outputs_of(r))
            raise self._err(f"cannot {what} axis {iv.var.name}: it is no longer a leaf of the loop nest "
                            f"(it was split or fused into {made}); use those axes instead")
        owner = self.schedule._owner_of(iv)
        hint = f"; it belongs to stage {owner.op.name} — use s[{owner.op.name}]" if owner else ""
        raise self._err(f"cannot {what} axis {iv.var.name}: it is not an axis of this stage "
                        f"(leaf axes: {', '.join(v.var.name for v in self.leaf_iter_vars)}){hint}")

    def _new_iv(self, name: str, like: IterVar) -> IterVar:
        iv = IterVar(None, Var(name, like.var.dtype), like.iter_type)
        self.all_iter_vars.append(iv)
        return iv

    def _attr(self, iv: IterVar) -> IterAttr:
        return self.iter_var_attrs.setdefault(iv, IterAttr())

    # ------------------------------------------------------------------ loop structure
    def split(self, parent: IterVar, factor=None, nparts=None):
        """Split `parent` into (outer, inner) with inner extent `factor` (or `nparts` outer parts)."""
        self._check_leaf(parent, "split")
        if (factor is None) == (nparts is None):
            raise self._err(f"split of {parent.var.name}: give exactly one of factor= or nparts=")
        what = "factor" if factor is not None else "nparts"
        amount = convert(factor if factor is not None else nparts)
        if not amount.dtype.startswith(("int", "uint")):
            raise TypeError(f"stage {self.op.name}: split of {parent.var.name}: {what} must be an integer, "
                            f"got {amount} of dtype {amount.dtype}")
        if isinstance(amount, IntImm) and amount.value <= 0:
            raise self._err(f"split of {parent.var.name}: {'factor' if factor is not None else 'nparts'} "
                            f"must be positive, got {amount.value}")
        if self.iter_var_attrs.get(parent, IterAttr()).kind != "serial":
            raise self._err(f"cannot split {parent.var.name}: it is already marked "
                            f"{self.iter_var_attrs[parent].kind}; split before annotating")
        outer = self._new_iv(f"{parent.var.name}_outer", parent)
        inner = self._new_iv(f"{parent.var.name}_inner", parent)
        self.relations.append(Split(parent, outer, inner, amount if factor is not None else None,
                                    amount if nparts is not None else None))
        k = self.leaf_iter_vars.index(parent)
        self.leaf_iter_vars[k:k + 1] = [outer, inner]
        return outer, inner

    def tile(self, x_parent, y_parent, x_factor, y_factor):
        """Split two axes and order them (xo, yo, xi, yi): the classic 2-D blocking."""
        xo, xi = self.split(x_parent, factor=x_factor)
        yo, yi = self.split(y_parent, factor=y_factor)
        self.reorder(xo, yo, xi, yi)
        return xo, yo, xi, yi

    def fuse(self, *args):
        """Fuse adjacent axes (outer first) into one."""
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        if not args:
            raise self._err("fuse needs at least one axis")
        ivs = [self._check_leaf(a, "fuse") for a in args]
        fused = ivs[0]
        for inner in ivs[1:]:
            fused = self._fuse2(fused, inner)
        return fused

    def _fuse2(self, outer: IterVar, inner: IterVar) -> IterVar:
        if _is_reduce(outer) != _is_reduce(inner):
            raise self._err(f"cannot fuse {outer.var.name} with {inner.var.name}: one is a reduction axis "
                            f"and the other is not")
        po, pi = self.leaf_iter_vars.index(outer), self.leaf_iter_vars.index(inner)
        if pi != po + 1:
            raise self._err(f"cannot fuse {outer.var.name} and {inner.var.name}: they must be adjacent in the "
                            f"loop nest with {outer.var.name} directly outside {inner.var.name} "
                            f"(current order: {', '.join(v.var.name for v in self.leaf_iter_vars)}); "
                            "reorder first")
        fused = self._new_iv(f"{outer.var.name}_{inner.var.name}_fused", outer)
        self.relations.append(Fuse(outer, inner, fused))
        self.leaf_iter_vars[po:pi + 1] = [fused]
        return fused

    def reorder(self, *args):
        """Put the given axes in this order, in the positions they occupy now."""
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        ivs = [self._check_leaf(a, "reorder") for a in args]
        if len(set(ivs)) != len(ivs):
            raise self._err(f"reorder got an axis twice: {', '.join(v.var.name for v in ivs)}")
        pos = sorted(self.leaf_iter_vars.index(v) for v in ivs)
        for p, v in zip(pos, ivs):
            self.leaf_iter_vars[p] = v

    # ------------------------------------------------------------------ loop annotations
    def _annotate(self, iv, kind: str, what: str):
        self._check_leaf(iv, what)
        cur = self._attr(iv)
        if cur.kind not in ("serial", kind):
            raise self._err(f"cannot {what} {iv.var.name}: it is already marked {cur.kind}")
        cur.kind = kind

    def vectorize(self, iv):
        """Run this (innermost, constant-extent) loop as SIMD lanes."""
        self._check_leaf(iv, "vectorize")
        if _is_reduce(iv):
            raise self._err(f"cannot vectorize {iv.var.name}: it is a reduction axis, and its iterations "
                            "accumulate into the same element; vectorize a data-parallel axis (e.g. the "
                            "innermost output axis) and reorder the reduction outside it")
        self._annotate(iv, "vectorized", "vectorize")

    def parallel(self, iv):
        """Run this loop's iterations on several cores (OpenMP)."""
        self._check_leaf(iv, "parallel")
        if _is_reduce(iv):
            raise self._err(f"cannot parallelize {iv.var.name}: it is a reduction axis (iterations would race "
                            "on the same output); use rfactor to make the reduction parallel")
        self._annotate(iv, "parallel", "parallelize")

    def unroll(self, iv):
        self._annotate(iv, "unroll", "unroll")

    def bind(self, iv, thread_iv: IterVar):
        """Map a loop to a GPU block or thread index (te.thread_axis("threadIdx.x"))."""
        self._check_leaf(iv, "bind")
        if not isinstance(thread_iv, IterVar) or thread_iv.iter_type != IterType.THREAD_INDEX:
            raise self._err(f"bind of {iv.var.name}: the second argument must be te.thread_axis(...)")
        if _is_reduce(iv):
            raise self._err(f"cannot bind reduction axis {iv.var.name} to {thread_iv.thread_tag}; "
                            "use rfactor first (cross-thread reduction)")
        for other, a in self.iter_var_attrs.items():
            if a.kind == "thread_binding" and a.thread_tag == thread_iv.thread_tag and other is not iv:
                raise self._err(f"{thread_iv.thread_tag} is already bound to axis {other.var.name}")
        self._annotate(iv, "thread_binding", "bind")
        a = self._attr(iv)
        a.thread_tag, a.thread_iv = thread_iv.thread_tag, thread_iv

    def pragma(self, iv, pragma_type: str, pragma_value=1):
        """Attach a pragma to a loop: auto_unroll_max_step, unroll_explicit, or any key for codegen."""
        self._check_leaf(iv, "pragma")
        v = pragma_value
        if isinstance(v, bool):
            v = int(v)
        self._attr(iv).pragmas.append((f"pragma_{pragma_type}", v))

    # ------------------------------------------------------------------ placement
    def compute_at(self, parent: Stage, scope: IterVar):
        """Compute this stage inside loop `scope` of `parent`, just where it is needed."""
        self._check_compute("compute_at")
        if not isinstance(parent, Stage):
            raise self._err("compute_at expects a stage, e.g. s[C].compute_at(s[D], D_axis)")
        if parent is self:
            raise self._err("cannot compute_at itself")
        if self.is_output:
            raise self._err("cannot compute_at: it is an output of the schedule and is computed at root")
        if scope not in parent.leaf_iter_vars:
            owner = self.schedule._owner_of(scope)
            hint = f"; it is an axis of stage {owner.op.name}" if owner is not None and owner is not parent \
                else ""
            raise ScheduleError(f"stage {self.op.name}: compute_at axis "
                                f"{getattr(getattr(scope, 'var', None), 'name', scope)} is not a leaf axis of "
                                f"stage {parent.op.name} (its loops: "
                                f"{', '.join(v.var.name for v in parent.leaf_iter_vars)}){hint}")
        p = parent
        while p is not None:
            if p is self:
                raise self._err(f"compute_at {parent.op.name} would create a cycle: {parent.op.name} is already "
                                f"computed inside {self.op.name}")
            p = p.attach_stage
        if self.schedule._consumer_chain_ok(self, parent) is False:
            raise self._err(f"cannot compute_at stage {parent.op.name}: {parent.op.name} does not consume "
                            f"{self.op.name}, directly or through other stages")
        self.attach_type, self.attach_stage, self.attach_ivar = "scope", parent, scope

    def compute_inline(self):
        """Substitute this stage's expression into its consumers instead of storing it."""
        self._check_compute("compute_inline")
        if self.op.reduce_axis:
            raise self._err("cannot compute_inline a reduction; only element-wise/injective stages can be "
                            "inlined")
        if self.is_output:
            raise self._err("cannot compute_inline an output of the schedule")
        if self.op.num_outputs != 1:
            raise self._err("cannot compute_inline an operation with several outputs")
        self.attach_type, self.attach_stage, self.attach_ivar = "inline", None, None

    def compute_root(self):
        self._check_compute("compute_root")
        self.attach_type, self.attach_stage, self.attach_ivar = "root", None, None

    def storage_align(self, axis: IterVar, factor: int, offset: int):
        """Pad the row stride of `axis` so that stride % factor == offset (avoids cache conflicts)."""
        self._check_compute("storage_align")
        axes = list(self.op.axis)
        if axis not in axes:
            raise self._err(f"storage_align axis {self._describe(axis)} must be one of the operation's "
                            f"axes: {', '.join(v.var.name for v in axes)}")
        if axes.index(axis) == len(axes) - 1:
            raise self._err("storage_align applies to an outer axis (it pads the stride of the axis below "
                            "it); the innermost axis has stride 1")
        if factor <= 0 or not 0 <= offset < factor:
            raise self._err(f"storage_align needs factor > 0 and 0 <= offset < factor, got {factor}, {offset}")
        self.storage_aligns[axes.index(axis)] = (int(factor), int(offset))

    def set_scope(self, scope: str):
        self.scope = scope


def _inputs_of(r) -> tuple:
    return (r.parent,) if isinstance(r, Split) else (r.outer, r.inner)


def _outputs_of(r) -> tuple:
    return (r.outer, r.inner) if isinstance(r, Split) else (r.fused,)


class _ReplaceLoads(Mutator):
    """Redirect reads of one stage's tensors to another tensor."""

    def __init__(self, schedule, stage, new_tensors):
        self.schedule, self.stage, self.new_tensors = schedule, stage, new_tensors

    def visit_ProducerLoad(self, n):
        idx = tuple(self.visit(i) for i in n.indices)
        if self.schedule.stage_map.get(n.producer.op) is self.stage:
            t = self.new_tensors[n.producer.value_index]
            return ProducerLoad(t, idx, t.dtype)
        return n if all(a is b for a, b in zip(idx, n.indices)) else ProducerLoad(n.producer, idx, n.dtype)


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
    def cache_read(self, tensor: Tensor, scope: str, readers) -> Tensor:
        """Copy `tensor` into a `scope` buffer that `readers` read instead (e.g. packing, shared memory)."""
        src = self[tensor]
        if not isinstance(readers, (list, tuple)):
            readers = [readers]
        reader_stages = [self[r] for r in readers]
        for r in reader_stages:
            if r not in self.readers(src):
                raise ScheduleError(f"cache_read of {tensor.name}: {r.op.name} does not read {tensor.name}")
        axis = tuple(IterVar(Range(const(0, s.dtype), s), Var(f"ax{i}", s.dtype), IterType.DATA_PAR)
                     for i, s in enumerate(tensor.shape))
        op = ComputeOp(f"{tensor.name}_{scope.replace('.', '_')}", "", {}, axis, (),
                       (tensor[tuple(iv.var for iv in axis)],))
        cache = Stage(op, self)
        cache.scope = scope
        self.stage_map[op] = cache
        self._insert_after(src, cache)
        for r in reader_stages:
            new_tensors = [op.output(0)] * src.op.num_outputs
            if src.op.num_outputs != 1:
                new_tensors = [op.output(0) if i == tensor.value_index else t
                               for i, t in enumerate(src.op._outputs)]
            body = tuple(_ReplaceLoads(self, src, new_tensors).visit(b) for b in r.op.body)
            self._replace_op(r, r.op.replace_body(body))
        return op.output(0)

    def _replace_op(self, stage: Stage, op: ComputeOp) -> None:
        stage.op = op
        self.stage_map[op] = stage

    def cache_write(self, tensor: Tensor, scope: str) -> Tensor:
        """Compute `tensor` into a `scope` buffer first, then copy it out (a write cache).

        Must come before any other primitive on the tensor's stage."""
        st = self[tensor]
        st._check_compute("cache_write")
        if st.relations or st.iter_var_attrs:
            raise st._err("cache_write must be called before the stage's axes are split, fused or annotated")
        if st.attach_type == "inline":
            raise st._err("cannot cache_write an inlined stage")
        old = st.op
        if old.num_outputs != 1:
            raise st._err("cache_write of an operation with several outputs is not supported; "
                          "cache each output separately")
        vmap, axis, raxis = {}, [], []
        for iv in old.axis:
            nv = IterVar(iv.dom, Var(iv.var.name + "_c", iv.var.dtype), iv.iter_type)
            vmap[iv.var] = nv.var
            axis.append(nv)
        for iv in old.reduce_axis:
            nv = IterVar(iv.dom, Var(iv.var.name, iv.var.dtype), iv.iter_type)
            vmap[iv.var] = nv.var
            raxis.append(nv)
        body = tuple(_rebuild_reduce(substitute(b, vmap), tuple(raxis)) for b in old.body)
        cache_op = ComputeOp(f"{old.name}_{scope.replace('.', '_')}", old.tag, old.attrs, axis, raxis, body)
        cache = Stage(cache_op, self)
        cache.scope = scope
        self.stage_map[cache_op] = cache
        self._insert_before(st, cache)
        copy = ComputeOp(old.name, old.tag, old.attrs, old.axis, (),
                         (cache_op.output(0)[tuple(iv.var for iv in old.axis)],))
        self._replace_op(st, copy)
        st.all_iter_vars = list(copy.axis)
        st.leaf_iter_vars = list(copy.axis)
        return cache_op.output(0)

    def rfactor(self, tensor: Tensor, axis: IterVar, factor_axis: int = 0) -> Tensor:
        """Turn reduction axis `axis` (a leaf of tensor's stage) into a data-parallel axis of a new
        partial-result tensor; the original stage then reduces over those partial results."""
        from .bound import leaf_extents_static, root_values

        st = self[tensor]
        st._check_leaf(axis, "rfactor")
        op = st.op
        if not op.reduce_axis:
            raise st._err("rfactor needs a reduction stage")
        if not _is_reduce(axis):
            raise st._err(f"rfactor axis {axis.var.name} is not derived from a reduction axis")
        if not 0 <= factor_axis <= len(op.axis):
            raise st._err(f"rfactor factor_axis must be in [0, {len(op.axis)}], got {factor_axis}")
        ext = leaf_extents_static(st)
        if ext is None:
            raise st._err("rfactor needs constant reduction extents")
        values, guards = root_values(st, ext)
        reduce_leaves = [iv for iv in st.leaf_iter_vars if _is_reduce(iv)]
        # The partial-result op: axis becomes data-parallel, the other reduce leaves stay reductions.
        rf_axis = IterVar(Range(const(0), ext[axis]), Var(axis.var.name + "_rf", axis.var.dtype))
        spatial = [IterVar(iv.dom, Var(iv.var.name + "_rf", iv.var.dtype)) for iv in op.axis]
        new_reduce = [IterVar(Range(const(0), ext[iv]), Var(iv.var.name, iv.var.dtype), IterType.COMM_REDUCE)
                      for iv in reduce_leaves if iv is not axis]
        leaf_map = {axis.var: rf_axis.var, **{o.var: n.var for o, n in
                                              zip([iv for iv in reduce_leaves if iv is not axis], new_reduce)}}
        vmap = {iv.var: n.var for iv, n in zip(op.axis, spatial)}
        for r in op.reduce_axis:
            vmap[r.var] = substitute(r.dom.min + values[r], leaf_map)
        guard = substitute(logical_and_all([g for g in guards if _only_reduce(g, st)]), leaf_map)
        rf_axes = spatial[:factor_axis] + [rf_axis] + spatial[factor_axis:]
        rf_body = []
        for b in op.body:
            cond = logical_and(substitute(b.condition, vmap), guard)
            rf_body.append(Reduce(b.combiner, tuple(substitute(x, vmap) for x in b.source), tuple(new_reduce),
                                  cond, b.value_index, b.init, b.dtype))
        if not new_reduce:
            rf_body = [_as_plain(b) for b in rf_body]
        rf_op = ComputeOp(f"{op.name}_rf", op.tag, op.attrs, rf_axes, tuple(new_reduce), tuple(rf_body))
        rf = Stage(rf_op, self)
        self.stage_map[rf_op] = rf
        self._insert_before(st, rf)
        # The original stage now reduces the partial results over the factored axis.
        k = IterVar(Range(const(0), ext[axis]), Var(axis.var.name + "_v", axis.var.dtype), IterType.COMM_REDUCE)
        outs = []
        for i in range(len(op.body)):
            idx = [iv.var for iv in op.axis]
            idx.insert(factor_axis, k.var)
            outs.append(rf_op.output(i)[tuple(idx)])
        comb = op.body[0].combiner
        new_body = tuple(Reduce(comb, tuple(outs), (k,), const(True), i, (), b.dtype) for i, b in enumerate(op.body))
        new_op = ComputeOp(op.name, op.tag, op.attrs, op.axis, (k,), new_body)
        self._replace_op(st, new_op)
        st.all_iter_vars = list(new_op.axis) + [k]
        st.leaf_iter_vars = list(st.all_iter_vars)
        st.relations, st.iter_var_attrs = [], {}
        return rf_op.output(0) if rf_op.num_outputs == 1 else list(rf_op._outputs)


def logical_and_all(conds) -> PrimExpr:
    out = const(True)
    for c in conds:
        out = logical_and(out, c)
    return out


def _only_reduce(guard, stage) -> bool:
    from ..ir.functor import free_vars

    spatial = {iv.var for iv in stage.all_iter_vars if not _is_reduce(iv)}
    return not any(v in spatial for v in free_vars(guard))


def _as_plain(r: Reduce) -> PrimExpr:
    """A reduction with no axes left is its combined single value (combined with the identity)."""
    from .reduce import identity_of

    n = len(r.combiner.lhs)
    vmap = dict(zip(r.combiner.lhs, r.combiner.identity_element[:n] if not r.init else r.init))
    vmap.update(zip(r.combiner.rhs, r.source))
    from ..ir.expr import select

    value = substitute(r.combiner.result[r.value_index], vmap)
    return select(r.condition, value, identity_of(r))


def _rebuild_reduce(e, axes):
    if isinstance(e, Reduce):
        return Reduce(e.combiner, e.source, axes, e.condition, e.value_index, e.init, e.dtype)
    return e


def create_schedule(ops) -> Schedule:
    """A default schedule (every stage at root, loops in axis order) for the given outputs."""
    if not isinstance(ops, (list, tuple)):
        ops = [ops]
    return Schedule(list(ops))
