"""Normalizations: layer_norm, batch_norm (inference), group_norm, instance_norm, lrn, l2_normalize.

layer_norm / group_norm / instance_norm compute the statistics in two passes (the sum, then the
sum of squared deviations from the mean), so inputs with a large mean do not lose precision to
cancellation:

    T_layer_norm_sum[r]    = sum_k x[r, k]
    T_layer_norm_sqsum[r]  = sum_k (x[r, k] - sum[r] / n)^2
    T_layer_norm[r, k]     = (x[r, k] - sum[r] / n) * rsqrt(sqsum[r] / n + eps) * gamma[k] + beta[k]

The output is tagged "layer_norm" (with the reduced axes in attrs) so schedule_layer_norm can
find the statistics and compute them inside the row loop.
"""

from __future__ import annotations

from ... import te
from ...ir.expr import const
from ..reduction import normalize_axes
from ..tag import BROADCAST, COMM_REDUCE

LAYER_NORM = "layer_norm"


def _stats(data: te.Tensor, axes: tuple, name: str, group=None):
    """The sum and the sum of squared deviations of data over `axes` (kept as size-1 dims).

    group: (channel_axis, channels_per_group) to reduce over a channel group as well: the
    statistics then have one entry per group along the channel axis."""
    n = len(data.shape)
    stat_shape = []
    for k, s in enumerate(data.shape):
        if group is not None and k == group[0]:
            stat_shape.append(s // group[1])
        else:
            stat_shape.append(const(1) if k in axes else s)
    count = 1
    for k in axes:
        count *= data.shape[k].value
    if group is not None:
        count *= group[1]

    def reduce_body(stat_idx, f):
        raxes = {k: te.reduce_axis((0, data.shape[k]), name=f"k{k}") for k in axes}
        rc = te.reduce_axis((0, group[1]), name="kc") if group is not None else None
        idx = []
        for k in range(n):
            if k in raxes:
                idx.append(raxes[k].var)
            elif group is not None and k == group[0]:
                idx.append(stat_idx[k] * group[1] + rc.var)
            else:
                idx.append(stat_idx[k])
        all_r = ([rc] if rc is not None else []) + [raxes[k] for k in sorted(raxes)]
        return te.sum(f(data[tuple(idx)], stat_idx), axis=all_r)

    inv = 1.0 / count
    s = te.compute(tuple(stat_shape), lambda *i: reduce_body(i, lambda v, _: v), name=f"T_{name}_sum",
                   tag=COMM_REDUCE)

    def sq(v, i):
        d = v - s[i] * const(inv, v.dtype)
        return d * d

    sq_sum = te.compute(tuple(stat_shape), lambda *i: reduce_body(i, sq), name=f"T_{name}_sqsum", tag=COMM_REDUCE)
    return s, sq_sum, inv


def _normalize(data, s, sq_sum, inv, epsilon, stat_index, scale, name, tag, attrs):
    def f(*i):
        si = stat_index(i)
        v = data[i]
        mean = s[si] * const(inv, v.dtype)
        y = (v - mean) * te.rsqrt(sq_sum[si] * const(inv, v.dtype) + const(epsilon, v.dtype))
        return scale(y, i)

    return te.compute(data.shape, f, name=name, tag=tag, attrs=attrs)


def layer_norm(data: te.Tensor, gamma, beta, axis=-1, epsilon: float = 1e-5):
    """Normalize over `axis` (an int or the trailing axes as a list), then scale by gamma and shift
    by beta (each shaped like data over those axes; None to skip)."""
    n = len(data.shape)
    axes = normalize_axes(n, axis, "layer_norm")
    s, sq_sum, inv = _stats(data, axes, "layer_norm")

    def scale(y, i):
        sub = tuple(i[k] for k in axes)
        if gamma is not None:
            y = y * gamma[sub]
        if beta is not None:
            y = y + beta[sub]
        return y

    return _normalize(data, s, sq_sum, inv, epsilon, lambda i: tuple(const(0) if k in axes else i[k] for k in range(n)),
                      scale, "T_layer_norm", LAYER_NORM, {"axis": axes})


def group_norm(data: te.Tensor, gamma, beta, num_groups: int, channel_axis: int = 1, axes=None,
               epsilon: float = 1e-5):
    """Normalize over each group of channels and the `axes` (default: all axes after the channel
    axis), then scale and shift per channel."""
    n = len(data.shape)
    c_axis = channel_axis % n
    axes = tuple(range(c_axis + 1, n)) if axes is None else normalize_axes(n, axes, "group_norm")
    channels = data.shape[c_axis].value
    if channels % num_groups:
        raise ValueError(f"group_norm: {channels} channels do not split into {num_groups} groups")
    per = channels // num_groups
    s, sq_sum, inv = _stats(data, axes, "group_norm", group=(c_axis, per))

    def stat_index(i):
        return tuple(const(0) if k in axes else (i[k] // per if k == c_axis else i[k]) for k in range(n))

    def scale(y, i):
        if gamma is not None:
            y = y * gamma[i[c_axis]]
        if beta is not None:
            y = y + beta[i[c_axis]]
        return y

    return _normalize(data, s, sq_sum, inv, epsilon, stat_index, scale, "T_group_norm", "group_norm",
                      {"axis": axes})


def instance_norm(data: te.Tensor, gamma, beta, channel_axis: int = 1, axes=None, epsilon: float = 1e-5):
    """Normalize each (sample, channel) over the `axes` (default: the spatial axes), then scale and
    shift per channel: group_norm with one channel per group."""
    channels = data.shape[channel_axis % len(data.shape)].value
    return group_norm(data, gamma, beta, channels, channel_axis, axes, epsilon)


def batch_norm(data: te.Tensor, gamma, beta, moving_mean: te.Tensor, moving_var: te.Tensor, axis: int = 1,
               epsilon: float = 1e-5, center: bool = True, scale: bool = True, training: bool = False,
               momentum: float = 0.1):
    """Inference batch norm: (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c], c the index
    along `axis`.  Returns the normalized tensor (a broadcast element-wise op)."""
    if training:
        raise ValueError("batch_norm: training=True is not supported (tilecraft compiles inference); "
                         "use training=False with the running statistics")
    axis = axis % len(data.shape)

    def f(*i):
        c = i[axis]
        v = data[i]
        y = (v - moving_mean[c]) * te.rsqrt(moving_var[c] + const(epsilon, v.dtype))
        if scale and gamma is not None:
            y = y * gamma[c]
        if center and beta is not None:
            y = y + beta[c]
        return y

    return te.compute(data.shape, f, name="T_batch_norm", tag=BROADCAST)


__all__ = ["LAYER_NORM", "layer_norm", "group_norm", "instance_norm", "batch_norm", "lrn", "l2_normalize"]


def lrn(data: te.Tensor, size: int, axis: int = 1, bias: float = 2.0, alpha: float = 1e-4, beta: float = 0.75):
    """Local response normalization across `axis` (AlexNet): data / (bias + alpha / size * s)^beta, s the sum
    of squares over the `size` neighbours centred on each element (zeros beyond the edges)."""
    from ...ir.op import pow as power
    from .pad import pad

    n = len(data.shape)
    axis = normalize_axes(n, axis, "lrn")[0]
    if int(size) < 1:
        raise ValueError(f"lrn: size must be >= 1, got {size}")
    before, after = [0] * n, [0] * n
    before[axis], after[axis] = size // 2, size - 1 - size // 2
    padded = pad(data, before, after, name="T_lrn_pad")
    k = te.reduce_axis((0, size), name="k")

    def window(*i):
        x = padded[i[:axis] + (i[axis] + k,) + i[axis + 1:]]
        return te.sum(x * x, axis=k)

    sqsum = te.compute(data.shape, window, name="T_lrn_sqsum", tag=COMM_REDUCE)
    dt = data.dtype
    return te.compute(data.shape, lambda *i: data[i] / power(const(bias, dt) + const(alpha / size, dt) * sqsum[i],
                                                              const(beta, dt)), name="T_lrn", tag=BROADCAST)


def l2_normalize(data: te.Tensor, eps: float, axis=None):
    """data / sqrt(max(sum of squares over `axis`, eps))."""
    from ...ir.expr import max_
    from ...ir.op import sqrt

    n = len(data.shape)
    axes = normalize_axes(n, axis if axis is not None else tuple(range(n)), "l2_normalize")
    ks = [te.reduce_axis((0, data.shape[a]), name=f"k{a}") for a in axes]

    def total(*i):
        idx = list(i)
        for a, k in zip(axes, ks):
            idx[a] = k
        x = data[tuple(idx)]
        return te.sum(x * x, axis=ks)

    sq = te.compute(tuple(1 if a in axes else s for a, s in enumerate(data.shape)), total, name="T_l2_sqsum",
                    tag=COMM_REDUCE)
    dt = data.dtype
    return te.compute(data.shape, lambda *i: data[i] / sqrt(max_(sq[tuple(0 if a in axes else x for a, x in
                                                                             enumerate(i))], const(eps, dt))),
                      name="T_l2_normalize", tag=BROADCAST)
