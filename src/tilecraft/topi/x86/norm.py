"""CPU schedules for layer_norm (topi.x86.schedule_layer_norm) and group/instance norm.

Layer norm over the trailing axes: rows run in parallel; inside a row the sum and the sum of
squared deviations accumulate into 16-lane vector partials (rfactor), then the row is
normalized, scaled and shifted in vectors of 16.  The row (3 KiB for 768 floats) is read three
times while it sits in L1, so the kernel streams the input once from memory.
"""

from __future__ import annotations

from ... import te
from ..utils import as_list, find_stage, get_const_tuple, inlined_schedule
from .injective import PARALLEL_MIN_ELEMENTS, row_vector_width, schedule_injective_from_existing
from .reduction import rfactor_row


def _stat_tensors(norm):
    """The sum and the squared-deviation sum the normalization reads (sqsum reads sum)."""
    sq = next(t for t in norm.op.input_tensors if t.op.name.endswith("_sqsum"))
    s = next(t for t in norm.op.input_tensors if t.op.name.endswith("_sum") and t.op is not sq.op)
    return s, sq


def _vectorize_trailing(s, out, n_inner: int):
    """Fuse the n_inner trailing axes of out, split by the vector width, vectorize."""
    st = s[out]
    axes = list(st.op.axis)
    inner = axes[len(axes) - n_inner:]
    ext = 1
    for d in get_const_tuple(out.shape)[len(axes) - n_inner:]:
        ext = ext * d if isinstance(d, int) else 0
    vec = row_vector_width(ext, n_inner)
    if not vec or not inner:
        return
    fused = st.fuse(*inner) if len(inner) > 1 else inner[0]
    _, ii = st.split(fused, factor=vec)
    st.vectorize(ii)


def _schedule_rows(s, out, norm, n_inner: int, stats_at_row: bool):
    ssum, sq = _stat_tensors(norm)
    rf_sum = rfactor_row(s, ssum)
    rf_sq = rfactor_row(s, sq)
    axes = list(s[out].op.axis)
    outer = axes[:len(axes) - n_inner]
    total = 1
    for d in get_const_tuple(out.shape):
        total *= d if isinstance(d, int) else 1024
    row = s[out].fuse(*outer) if len(outer) > 1 else (outer[0] if outer else None)
    if row is not None and total >= PARALLEL_MIN_ELEMENTS:
        s[out].parallel(row)
    _vectorize_trailing(s, out, n_inner)
    if row is not None and stats_at_row:
        for t in (sq, rf_sq, ssum, rf_sum):  # consumers first
            if t is not None:
                s[t].compute_at(s[out], row)
        return
    # statistics at root: each a parallel loop over its rows with the partials inside
    for t, rf in ((ssum, rf_sum), (sq, rf_sq)):
        st = s[t]
        t_axes = list(st.op.axis)
        r = st.fuse(*t_axes) if len(t_axes) > 1 else (t_axes[0] if t_axes else None)
        if r is None:
            continue
        st.parallel(r)
        if rf is not None:
            s[rf].compute_at(st, r)


def schedule_layer_norm(outs) -> te.Schedule:
    """Schedule topi.nn.layer_norm / group_norm / instance_norm (and element-wise stages fused
    after them)."""
    outs = as_list(outs)
    s = inlined_schedule(outs)
    out = outs[0]
    norm = find_stage(out, ("layer_norm", "group_norm"))
    if norm is None:
        raise ValueError("schedule_layer_norm: no layer_norm / group_norm stage in the group")
    if norm.op is not out.op:
        if get_const_tuple(norm.shape) == get_const_tuple(out.shape):
            s[norm].compute_inline()
        else:
            schedule_injective_from_existing(s, out)
            out = norm
    axes = norm.op.attrs.get("axis", (len(norm.shape) - 1,))
    n = len(norm.shape)
    if norm.op.tag == "layer_norm" and tuple(axes) == tuple(range(n - len(axes), n)):
        _schedule_rows(s, out, norm, len(axes), stats_at_row=True)
    else:
        # group/instance norm (NCHW): rows are (n, c); a group's statistics are shared by its
        # channels, so they are computed once at root unless each channel is its own group.
        ssum, _ = _stat_tensors(norm)
        norm_ch = get_const_tuple(norm.shape)
        stat_ch = get_const_tuple(ssum.shape)
        one_per_row = all(a == b for k, (a, b) in enumerate(zip(norm_ch, stat_ch)) if k not in axes)
        n_inner = len(axes) if tuple(axes) == tuple(range(n - len(axes), n)) else 0
        _schedule_rows(s, out, norm, n_inner, stats_at_row=one_per_row and n_inner > 0)
    return s


schedule_group_norm = schedule_layer_norm
schedule_instance_norm = schedule_layer_norm


def schedule_batch_norm(outs) -> te.Schedule:
    """Inference batch norm is a broadcast element-wise op: the injective schedule."""
    from .injective import schedule_injective

    return schedule_injective(outs)


__all__ = ["schedule_layer_norm", "schedule_group_norm", "schedule_instance_norm", "schedule_batch_norm"]
