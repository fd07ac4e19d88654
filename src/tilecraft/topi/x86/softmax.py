"""CPU schedule for softmax / log_softmax (topi.x86.schedule_softmax).

Softmax along the last axis: rows run in parallel and each row is one pass over memory: the max
(16 partial maxima in one vector, then combined), exp(x - max) into a row buffer that stays in
L1 while its sum accumulates into 16 vector partials, then the normalisation, vectorized.  Along
another axis, the outer axes run in parallel and every stage covers the (axis, inner...) slab
inside that loop, vectorized along the innermost axis.
"""

from __future__ import annotations

from ... import te
from ..utils import as_list, find_stage, get_const_tuple, inlined_schedule
from .injective import PARALLEL_MIN_ELEMENTS, row_vector_width, schedule_injective_from_existing
from .reduction import lanes_inside_reduction, rfactor_row


def _vectorize_inner(s, t):
    """Split t's innermost data axis by the vector width and vectorize it."""
    st = s[t]
    axes = list(st.op.axis)
    n = get_const_tuple(t.shape)[-1]
    vec = row_vector_width(n)
    if vec:
        _, inner = st.split(axes[-1], factor=vec)
        st.vectorize(inner)


def _schedule_last_axis(s, out, maxelem, exp, expsum, readers_of_exp):
    rf_max = rfactor_row(s, maxelem)
    rf_sum = rfactor_row(s, expsum)
    axes = list(s[out].op.axis)
    outer = axes[:-1]
    row = s[out].fuse(*outer) if len(outer) > 1 else (outer[0] if outer else None)
    n_rows = 1
    for d in get_const_tuple(out.shape)[:-1]:
        n_rows *= d if isinstance(d, int) else 1024
    total = n_rows * (get_const_tuple(out.shape)[-1] or 1)
    if row is not None and total >= PARALLEL_MIN_ELEMENTS:
        s[out].parallel(row)
    _vectorize_inner(s, out)
    if readers_of_exp == 1:
        s[exp].compute_inline()
    else:
        _vectorize_inner(s, exp)
    if row is None:
        return
    # consumers first: compute_at checks that the parent loop needs the stage
    if readers_of_exp != 1:
        s[exp].compute_at(s[out], row)
    for t in (expsum, rf_sum, maxelem, rf_max):
        if t is not None:
            s[t].compute_at(s[out], row)


def _schedule_other_axis(s, out, axis, maxelem, exp, expsum, readers_of_exp):
    axes = list(s[out].op.axis)
    pre = axes[:axis]
    if readers_of_exp == 1:
        s[exp].compute_inline()
    stages = [maxelem] + ([exp] if readers_of_exp != 1 else []) + [expsum]
    for t in stages:
        st = s[t]
        t_axes = list(st.op.axis)
        inner_ext = get_const_tuple(t.shape)[-1] if t_axes else 0
        vec = row_vector_width(inner_ext)
        if st.op.reduce_axis and t_axes and len(t_axes) > axis:
            lanes_inside_reduction(st, vec)
        elif not st.op.reduce_axis and vec:
            _, ii = st.split(t_axes[-1], factor=vec)
            st.vectorize(ii)
    if not pre:
        _vectorize_inner(s, out)
        return
    fused = s[out].fuse(*pre) if len(pre) > 1 else pre[0]
    s[out].parallel(fused)
    _vectorize_inner(s, out)
    for t in reversed(stages):
        s[t].compute_at(s[out], fused)


def schedule_softmax(outs) -> te.Schedule:
    """Schedule topi.nn.softmax / log_softmax (and element-wise stages fused after them)."""
    outs = as_list(outs)
    s = inlined_schedule(outs)
    out = outs[0]
    sm = find_stage(out, "softmax_output") or find_stage(out, "log_softmax_output")
    if sm is None:
        raise ValueError("schedule_softmax: no softmax (tag softmax_output / log_softmax_output) in the group")
    if sm.op is not out.op:
        if get_const_tuple(out.shape) == get_const_tuple(sm.shape) and len(s.readers(s[sm])) == 1:
            # an element-wise epilogue (a cast, a scale) computed in the normalisation pass
            s[sm].compute_inline()
        else:  # a broadcast to a larger shape: softmax at root, both scheduled on their own
            schedule_injective_from_existing(s, out)
            out = sm
    maxelem = find_stage(sm, "softmax_maxelem")
    exp = find_stage(sm, "softmax_exp")
    expsum = find_stage(sm, "softmax_expsum")
    readers_of_exp = len([st for st in s.readers(s[exp])])
    axis = sm.op.attrs.get("axis", len(sm.shape) - 1)
    if axis == len(sm.shape) - 1:
        _schedule_last_axis(s, out, maxelem, exp, expsum, readers_of_exp)
    else:
        _schedule_other_axis(s, out, axis, maxelem, exp, expsum, readers_of_exp)
    return s


__all__ = ["schedule_softmax"]
