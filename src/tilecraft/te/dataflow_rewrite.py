"""Schedule primitives that rewrite the dataflow: cache_read and cache_write add a stage that
copies a tensor through a buffer in another scope; rfactor turns part of a reduction into a
data-parallel stage of partial results.  The Schedule methods of the same names call these."""

from __future__ import annotations

from ..arith import Analyzer
from ..ir.expr import (
    CommReducer,
    IntImm,
    IterType,
    IterVar,
    PrimExpr,
    ProducerLoad,
    Range,
    Reduce,
    Var,
    const,
    logical_and,
    select,
)
from ..ir.functor import Mutator, free_vars, substitute
from ..ir.op import if_then_else
from .bound import leaf_extents, leaf_indices, root_values
from .reduce import identity_of
from .stage import ScheduleError, Stage, _is_reduce
from .tensor import ComputeOp, Tensor


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


def _add_stage(sch, op: ComputeOp, scope: str = "") -> Stage:
    st = Stage(op, sch)
    st.scope = scope
    sch.stage_map[op] = st
    return st


def _replace_op(sch, stage: Stage, op: ComputeOp) -> None:
    stage.op = op
    sch.stage_map[op] = stage


def cache_read(sch, tensor: Tensor, scope: str, readers) -> Tensor:
    src = sch[tensor]
    if not isinstance(readers, (list, tuple)):
        readers = [readers]
    reader_stages = [sch[r] for r in readers]
    for r in reader_stages:
        if r not in sch.readers(src):
            raise ScheduleError(f"cache_read of {tensor.name}: {r.op.name} does not read {tensor.name}")
    axis = tuple(IterVar(Range(const(0, s.dtype), s), Var(f"ax{i}", s.dtype), IterType.DATA_PAR)
                 for i, s in enumerate(tensor.shape))
    op = ComputeOp(f"{tensor.name}_{scope.replace('.', '_')}", "", {}, axis, (),
                   (tensor[tuple(iv.var for iv in axis)],))
    sch._insert_after(src, _add_stage(sch, op, scope))
    for r in reader_stages:
        new_tensors = [op.output(0)] * src.op.num_outputs
        if src.op.num_outputs != 1:
            new_tensors = [op.output(0) if i == tensor.value_index else t for i, t in enumerate(src.op._outputs)]
        body = tuple(_ReplaceLoads(sch, src, new_tensors).visit(b) for b in r.op.body)
        _replace_op(sch, r, r.op.replace_body(body))
    return op.output(0)


def cache_write(sch, tensor, scope: str):
    """As classic TVM: the cache stage gets the stage's loop nest as its layout (one axis per
    data-parallel leaf, in leaf order, so an earlier split or reorder shapes the cache), keeps the
    reduction axes (the user's handles stay valid), and the stage becomes a copy out of the cache
    over its original axes, with a fresh loop nest.  An operation with several outputs is cached
    whole: pass all its outputs as a list, get the list of caches."""
    tensors = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    st = sch[tensors[0]]
    st._check_compute("cache_write")
    if st.attach_type == "inline":
        raise st._err("cannot cache_write an inlined stage")
    old = st.op
    if any(sch[t] is not st for t in tensors):
        raise st._err("cache_write of a list: all tensors must be outputs of one operation")
    if len(tensors) != old.num_outputs:
        names = ", ".join(t.name for t in old._outputs)
        raise st._err(f"cache_write of an operation with {old.num_outputs} outputs caches them all at once: "
                      f"pass the list of its outputs, s.cache_write([{names}], {scope!r})")
    _check_cache_write(sch, st)
    ana = Analyzer()
    ext = leaf_extents(st, {iv: iv.dom.extent for iv in old.axis + old.reduce_axis}, ana)
    leaves = [iv for iv in st.leaf_iter_vars if not _is_reduce(iv)]
    axis = [IterVar(Range(const(0, iv.var.dtype), ext[iv]), Var(iv.var.name + "_c", iv.var.dtype), iv.iter_type)
            for iv in leaves]
    new_var = {iv.var: nv.var for iv, nv in zip(leaves, axis)}
    values, guards = root_values(st, ext, ana)
    vmap = {iv.var: substitute(values[iv], new_var) for iv in old.axis}
    guard = substitute(logical_and_all(guards), new_var) if guards else None
    memo: dict = {}
    body = tuple(_guarded(_substitute_reduce(b, vmap, memo), guard) for b in old.body)
    reduce_axis = body[0].axis if isinstance(body[0], Reduce) else ()
    cache_op = ComputeOp(f"{old.name}_{scope.replace('.', '_')}", old.tag, old.attrs, axis, reduce_axis, body)
    sch._insert_before(st, _add_stage(sch, cache_op, scope))
    index = leaf_indices(st, ext)
    cache_index = tuple(index[iv] for iv in leaves)
    copy = ComputeOp(old.name, old.tag, old.attrs, old.axis, (),
                     tuple(cache_op.output(i)[cache_index] for i in range(old.num_outputs)))
    _replace_op(sch, st, copy)
    made = [iv for iv in st.all_iter_vars if iv not in old.axis and not _is_reduce(iv)]
    for iv in made:
        st.dropped[iv] = (f"cache_write({old.name}) made {st.op.name}'s loops the layout of {cache_op.name} "
                          f"(axes {', '.join(a.var.name for a in axis)}) and reset {st.op.name} to its original "
                          f"axes {', '.join(a.var.name for a in old.axis)}; split s[{st.op.name}].op.axis again")
    st.all_iter_vars = list(copy.axis)
    st.leaf_iter_vars = list(copy.axis)
    st.relations = []
    caches = [cache_op.output(t.value_index) for t in tensors]
    return caches if isinstance(tensor, (list, tuple)) else caches[0]


def _check_cache_write(sch, st: Stage) -> None:
    if st.iter_var_attrs:
        marks = ", ".join(f"{iv.var.name} ({a.kind})" for iv, a in st.iter_var_attrs.items())
        raise st._err(f"cache_write after annotating loops ({marks}): call cache_write before annotating, "
                      "then annotate the loops of the stage or of its cache")
    split_reduce = [iv for iv in st.leaf_iter_vars if _is_reduce(iv) and iv not in st.op.reduce_axis]
    if split_reduce:
        raise st._err(f"cannot cache_write after splitting or fusing a reduction axis (now "
                      f"{', '.join(iv.var.name for iv in split_reduce)}): call cache_write before that split, "
                      "and split the reduction on the cache stage it returns")
    kept = set(st.op.axis)
    for other in sch.stages:
        if other.attach_stage is st and other.attach_ivar not in kept:
            raise st._err(f"cannot cache_write: stage {other.op.name} is computed at its loop "
                          f"{other.attach_ivar.var.name}, which cache_write resets; call cache_write before "
                          f"compute_at")


def _substitute_reduce(e: PrimExpr, vmap: dict, memo: dict) -> PrimExpr:
    """substitute(e, vmap), also in a reduction's combiner and axis domains, which may use the
    stage's axes (a loop-dependent reduction).  Axes whose domain does not change stay the same
    IterVars, so the user's reduce-axis handles keep working on the new stage."""
    e = substitute(e, vmap)
    if not isinstance(e, Reduce):
        return e
    if not memo:  # the bodies of one operation share their combiner and axes
        c = e.combiner
        memo["combiner"] = CommReducer(c.lhs, c.rhs, tuple(substitute(x, vmap) for x in c.result),
                                       tuple(substitute(x, vmap) for x in c.identity_element), c.name)
        memo["axis"] = tuple(_substitute_dom(iv, vmap) for iv in e.axis)
    return Reduce(memo["combiner"], e.source, memo["axis"], e.condition, e.value_index, e.init, e.dtype)


def _substitute_dom(iv: IterVar, vmap: dict) -> IterVar:
    mn, ext = substitute(iv.dom.min, vmap), substitute(iv.dom.extent, vmap)
    if mn is iv.dom.min and ext is iv.dom.extent:
        return iv
    return IterVar(Range(mn, ext), iv.var, iv.iter_type, iv.thread_tag)


def _guarded(e: PrimExpr, guard) -> PrimExpr:
    """Restrict e to the original domain inside a cache padded by a non-dividing split."""
    if guard is None:
        return e
    if isinstance(e, Reduce):
        return Reduce(e.combiner, e.source, e.axis, logical_and(e.condition, guard), e.value_index, e.init,
                      e.dtype)
    return if_then_else(guard, e, const(0, e.dtype))


def rfactor(sch, tensor: Tensor, axis: IterVar, factor_axis: int = 0):
    st = sch[tensor]
    st._check_leaf(axis, "rfactor")
    op = st.op
    if not op.reduce_axis:
        raise st._err("rfactor needs a reduction stage")
    if not _is_reduce(axis):
        raise st._err(f"rfactor axis {axis.var.name} is not derived from a reduction axis")
    if not 0 <= factor_axis <= len(op.axis):
        raise st._err(f"rfactor factor_axis must be in [0, {len(op.axis)}], got {factor_axis}")
    ana = Analyzer()
    ext = leaf_extents(st, {iv: iv.dom.extent for iv in [*op.axis, *op.reduce_axis]}, ana)  # may be symbolic
    values, guards = root_values(st, ext, ana)
    reduce_leaves = [iv for iv in st.leaf_iter_vars if _is_reduce(iv)]
    # The partial-result op: axis becomes data-parallel, the other reduce leaves stay reductions
    # over the same variables (classic TVM: untouched reduce axes first, keeping their IterVars).
    rf_axis = IterVar(Range(const(0, axis.var.dtype), ext[axis]), Var(axis.var.name + "_rf", axis.var.dtype))
    spatial = [IterVar(iv.dom, Var(iv.var.name + "_rf", iv.var.dtype)) for iv in op.axis]
    others = sorted((iv for iv in reduce_leaves if iv is not axis), key=lambda iv: iv not in op.reduce_axis)
    new_reduce = [iv if iv in op.reduce_axis and _starts_at_zero(iv) else
                  IterVar(Range(const(0, iv.var.dtype), ext[iv]), iv.var, IterType.COMM_REDUCE) for iv in others]
    leaf_map = {axis.var: rf_axis.var}
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
    sch._insert_before(st, _add_stage(sch, rf_op))
    # The original stage now reduces the partial results over the factored axis.
    k = IterVar(Range(const(0, axis.var.dtype), ext[axis]), Var(axis.var.name + "_v", axis.var.dtype),
                IterType.COMM_REDUCE)
    outs = []
    for i in range(len(op.body)):
        idx = [iv.var for iv in op.axis]
        idx.insert(factor_axis, k.var)
        outs.append(rf_op.output(i)[tuple(idx)])
    comb = op.body[0].combiner
    new_body = tuple(Reduce(comb, tuple(outs), (k,), const(True), i, (), b.dtype) for i, b in enumerate(op.body))
    new_op = ComputeOp(op.name, op.tag, op.attrs, op.axis, (k,), new_body)
    _replace_op(sch, st, new_op)
    st.all_iter_vars = list(new_op.axis) + [k]
    st.leaf_iter_vars = list(st.all_iter_vars)
    st.relations, st.iter_var_attrs = [], {}
    return rf_op.output(0) if rf_op.num_outputs == 1 else list(rf_op._outputs)


def _starts_at_zero(iv: IterVar) -> bool:
    return isinstance(iv.dom.min, IntImm) and iv.dom.min.value == 0


def logical_and_all(conds) -> PrimExpr:
    out = const(True)
    for c in conds:
        out = logical_and(out, c)
    return out


def _only_reduce(guard, stage) -> bool:
    spatial = {iv.var for iv in stage.all_iter_vars if not _is_reduce(iv)}
    return not any(v in spatial for v in free_vars(guard))


def _as_plain(r: Reduce) -> PrimExpr:
    """A reduction with no axes left is its combined single value (combined with the identity)."""
    n = len(r.combiner.lhs)
    vmap = dict(zip(r.combiner.lhs, r.combiner.identity_element[:n] if not r.init else r.init))
    vmap.update(zip(r.combiner.rhs, r.source))
    value = substitute(r.combiner.result[r.value_index], vmap)
    return select(r.condition, value, identity_of(r))
