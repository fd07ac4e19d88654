"""CPU schedule for reductions (topi.x86.schedule_reduce) and the row-reduction helper that the
softmax and layer-norm schedules share.

Two shapes of reduction, told apart by what the innermost input axis is:

* the reduced axis is innermost (sum over the last axis, mean over H*W, softmax/layer-norm rows):
  the reduction is split by the vector width and the inner part factored out (rfactor), so each
  row accumulates into a vector of partial sums with contiguous vector loads; the partials are
  then added up.  Rows run in parallel.
* a kept axis is innermost (sum over axis 0 or over C of NCHW): the reduction loops move outside
  that axis, which is vectorized (every lane its own accumulator), the outer kept axes parallel.

Injective producers are inlined into the reduction; an element-wise stage after the reduction
(mean's division, argmax's copy, a fused epilogue) owns the loop nest and the reduction is
computed inside its parallel loop.
"""

from __future__ import annotations

from ... import te
from ...ir.expr import ProducerLoad
from ...ir.functor import post_order_visit
from .. import tag as _tag
from ..utils import as_list, get_const_tuple, inlined_schedule
from .injective import PARALLEL_MIN_ELEMENTS, row_vector_width, schedule_injective_from_existing


def _prod(xs) -> int:
    n = 1
    for x in xs:
        n *= x if isinstance(x, int) else 1024
    return n


def reduces_innermost(op) -> bool:
    """True when a reduction variable indexes the last axis of some tensor the reduction reads
    (so vectorizing along the reduction reads contiguous memory)."""
    rvars = {iv.var for iv in op.reduce_axis}
    found = []

    def f(n):
        if isinstance(n, ProducerLoad) and n.indices:
            last = n.indices[-1]
            hit = []
            post_order_visit(last, lambda x: hit.append(x) if x in rvars else None)
            if hit:
                found.append(n)

    for b in op.body:
        for src in getattr(b, "source", ()):  # a reduction over no axes is its element
            post_order_visit(src, f)
    return bool(found)


def rfactor_row(s: te.Schedule, red: te.Tensor):
    """Factor the (fused) reduction of `red` into `vec` partial accumulators held in one vector.

    Returns the partial-result tensor, its stage reordered and vectorized (or None when the
    reduction is short or does not divide by the vector width: it then stays a scalar loop).
    Call before scheduling red's own axes: rfactor rebuilds red's stage."""
    st = s[red]
    raxes = list(st.op.reduce_axis)
    extents = [get_const_tuple((iv.dom.extent,))[0] for iv in raxes]
    if not all(isinstance(e, int) for e in extents):
        return None
    total = _prod(extents)
    vec = row_vector_width(total, len(raxes)) if total >= 32 else 0
    if not vec:
        return None
    k = st.fuse(*raxes) if len(raxes) > 1 else raxes[0]
    _, ki = st.split(k, factor=vec)
    rf = s.rfactor(red, ki, factor_axis=len(st.op.axis))
    rf_t = rf[0] if isinstance(rf, list) else rf
    rst = s[rf_t]
    *spatial, lane = rst.op.axis
    (ko,) = rst.op.reduce_axis
    rst.reorder(*spatial, ko, lane)
    rst.vectorize(lane)
    return rf_t


def row_reduction_at(s: te.Schedule, red: te.Tensor, stage, axis, rf=None) -> None:
    """Compute red (and its rfactor partials) inside loop `axis` of `stage`."""
    if stage is not s[red]:
        s[red].compute_at(stage, axis)
    if rf is not None:
        s[rf].compute_at(stage, axis)


def lanes_inside_reduction(st, vec) -> list:
    """Move the reduction loops of stage `st` outside its innermost data axis, which is split by
    `vec` and vectorized (when vec is nonzero): every vector lane keeps its own accumulator.
    Returns the data axes outside the reduction (to fuse / parallelize)."""
    axes = list(st.op.axis)
    if not vec:
        st.reorder(*axes, *st.op.reduce_axis)
        return axes
    io, ii = st.split(axes[-1], factor=vec)
    st.reorder(*axes[:-1], io, *st.op.reduce_axis, ii)
    st.vectorize(ii)
    return axes[:-1] + [io]


def _schedule_inner_reduction(s, red: te.Tensor, out: te.Tensor, work: int):
    """Rows in parallel (red's own rows, or those of an element-wise epilogue `out` of red's
    shape that owns the loop), each row's reduction vectorized through rfactor."""
    rf = rfactor_row(s, red)
    axes = list(s[out].op.axis)
    if not axes:  # a full reduction to a scalar: the partials stay at root, one vectorized pass
        return
    row = s[out].fuse(*axes) if len(axes) > 1 else axes[0]
    if _prod(get_const_tuple(out.shape)) > 1 and work >= PARALLEL_MIN_ELEMENTS:
        s[out].parallel(row)
    row_reduction_at(s, red, s[out], row, rf)


def _schedule_outer_reduction(s, red: te.Tensor, out: te.Tensor, work: int):
    """Reduction loops outside the innermost kept axis, which is vectorized."""
    st = s[red]
    outer = lanes_inside_reduction(st, row_vector_width(get_const_tuple(red.shape)[-1]))
    par = st.fuse(*outer) if len(outer) > 1 else (outer[0] if outer else None)
    if out.op is red.op:
        if par is not None and work >= PARALLEL_MIN_ELEMENTS:
            st.parallel(par)
        return
    schedule_injective_from_existing(s, out)


def _schedule_one(s, red: te.Tensor, out: te.Tensor):
    data_elems = 0
    for t in red.op.input_tensors:
        data_elems = max(data_elems, _prod(get_const_tuple(t.shape)))
    shape = get_const_tuple(red.shape)
    if reduces_innermost(red.op) or not shape or get_const_tuple(red.shape)[-1] == 1:
        _schedule_inner_reduction(s, red, out, data_elems)
    else:
        _schedule_outer_reduction(s, red, out, data_elems)


def schedule_reduce(outs) -> te.Schedule:
    """Schedule a group holding reductions (topi.sum/mean/max/argmax/... and what relay fuses
    into them): injective producers inlined, rows parallel, the reduction vectorized."""
    outs = as_list(outs)
    s = inlined_schedule(outs)
    out_stages = {s[o] for o in outs}
    done = set()  # stages, not ops: rfactor gives a stage a new op
    for o in outs:
        op = o.op
        if _tag.is_reduction(op.tag) or (isinstance(op, te.ComputeOp) and op.reduce_axis):
            _schedule_one(s, o, o)
            done.add(s[o])
            continue
        # An element-wise epilogue: find the reduction it reads with the same shape.
        for t in op.input_tensors:
            if t.op.reduce_axis and s[t] not in done and get_const_tuple(t.shape) == get_const_tuple(o.shape) \
                    and t.op.num_outputs <= 2:
                _schedule_one(s, t, o)
                done.add(s[t])
                break
        else:
            schedule_injective_from_existing(s, o)
    # Reductions that are neither outputs nor attached to one: at root, scheduled on their own.
    for st in list(s.stages):
        op = st.op
        if isinstance(op, te.ComputeOp) and op.reduce_axis and st not in done and st not in out_stages \
                and st.attach_type == "root" and not op.name.endswith("_rf"):
            _schedule_one(s, op.output(0), op.output(0))
            done.add(st)
    return s


__all__ = ["reduces_innermost", "rfactor_row", "lanes_inside_reduction", "row_reduction_at", "schedule_reduce"]
