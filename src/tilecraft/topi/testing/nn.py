"""numpy references for dense / matmul, softmax, pooling and normalization (classic topi.testing)."""

from __future__ import annotations

import math

import numpy as np

from .conv import _pair


def dense(x, y, bias=None, use_bias=False, use_relu=False, out_dtype=None):
    """x [M, K], y [N, K] -> x @ y.T (+ bias) (relu)."""
    dtype = out_dtype or x.dtype
    out = np.dot(x.astype(dtype), y.T.astype(dtype))
    if use_bias:
        out = out + bias
    return np.maximum(out, 0) if use_relu else out


def matmul(a, b, bias=None, transpose_a=False, transpose_b=False, out_dtype=None):
    dtype = out_dtype or a.dtype
    out = np.matmul((a.T if transpose_a else a).astype(dtype), (b.T if transpose_b else b).astype(dtype))
    return out if bias is None else out + bias


def batch_matmul(x, y, out_dtype=None, trans_x=False, trans_y=True):
    """x [B or 1, M, K] (or [B, K, M] with trans_x), y [B or 1, N, K] (or [B, K, N]) -> [B, M, N]."""
    dtype = out_dtype or x.dtype
    xx = np.swapaxes(x, 1, 2) if trans_x else x
    yy = np.swapaxes(y, 1, 2) if trans_y else y
    return np.matmul(xx.astype(dtype), yy.astype(dtype))


def softmax_python(a_np, axis=1):
    e = np.exp(a_np - np.max(a_np, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax_python(a_np, axis=1):
    shifted = a_np - np.max(a_np, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _to_channels_first(x, layout):
    if layout is None or layout.index("C") == 1:
        return x, None
    perm = (0, x.ndim - 1, *range(1, x.ndim - 1))  # NHWC / NDHWC / NWC
    return x.transpose(perm), np.argsort(perm)


def poolnd_python(np_data, kernel, strides, dilation, padding_before, padding_after, pool_type,
                  count_include_pad=True, ceil_mode=False, dtype="float32", layout=None):
    """1-, 2- or 3-D max / avg pooling over the axes after N and C (or before C for *HWC layouts)."""
    data, back = _to_channels_first(np.asarray(np_data), layout)
    nsp = data.ndim - 2
    out_sizes = []
    for i in range(nsp):
        span = data.shape[2 + i] + padding_before[i] + padding_after[i] - (kernel[i] - 1) * dilation[i] - 1
        # classic TVM: ceil_mode rounds up, even where the last window starts in the right padding
        out_sizes.append((math.ceil if ceil_mode else math.floor)(span / strides[i]) + 1)
    extra = [max(0, (o - 1) * s + (k - 1) * d + 1 - (n + b + a))
             for o, s, k, d, n, b, a in zip(out_sizes, strides, kernel, dilation, data.shape[2:], padding_before,
                                            padding_after)]
    widths = [(0, 0), (0, 0)] + [(b, a + e) for b, a, e in zip(padding_before, padding_after, extra)]
    fill = -np.inf if pool_type == "max" else 0.0
    padded = np.pad(data.astype("float64"), widths, constant_values=fill)
    # count_include_pad counts the user's padding, never the extra cells ceil_mode adds
    inside = np.pad(np.ones(data.shape[2:]), [(b, a) for b, a in zip(padding_before, padding_after)],
                    constant_values=1.0 if count_include_pad else 0.0)
    inside = np.pad(inside, [(0, e) for e in extra])
    out = np.zeros(data.shape[:2] + tuple(out_sizes))
    for idx in np.ndindex(*out_sizes):
        sl = tuple(slice(o * s, o * s + (k - 1) * d + 1, d) for o, s, k, d in zip(idx, strides, kernel, dilation))
        window = padded[(slice(None), slice(None), *sl)]
        if pool_type == "max":
            out[(slice(None), slice(None), *idx)] = window.reshape(*window.shape[:2], -1).max(axis=2)
        elif pool_type == "avg":
            count = inside[sl].sum()
            total = window.reshape(*window.shape[:2], -1).sum(axis=2)
            out[(slice(None), slice(None), *idx)] = total / count if count else 0.0
        else:
            raise ValueError(f"pool_type {pool_type!r}: use 'max' or 'avg'")
    out = out.astype(dtype)
    return out if back is None else out.transpose(back)


def pool2d_python(a_np, kernel, stride, padding, pool_type, ceil_mode=False, count_include_pad=True,
                  dilation=(1, 1), layout="NCHW"):
    """2-D pooling; padding is (top, left, bottom, right), (h, w) or an int."""
    pad = (padding,) * 4 if np.isscalar(padding) else tuple(padding)
    if len(pad) == 2:
        pad = pad * 2
    return poolnd_python(a_np, _pair(kernel), _pair(stride), _pair(dilation), pad[:2], pad[2:], pool_type,
                         count_include_pad, ceil_mode, a_np.dtype, layout)


def adaptive_pool(np_data, out_size, pool_type, layout="NCHW"):
    """Adaptive max / avg pooling: output cell i covers [floor(i*n/o), ceil((i+1)*n/o))."""
    data, back = _to_channels_first(np.asarray(np_data), layout)
    out_size = (out_size,) * (data.ndim - 2) if np.isscalar(out_size) else tuple(out_size)
    reduce = np.max if pool_type == "max" else np.mean
    out = np.zeros(data.shape[:2] + out_size, dtype=data.dtype)
    for idx in np.ndindex(*out_size):
        sl = tuple(slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in zip(idx, data.shape[2:], out_size))
        window = data[(slice(None), slice(None), *sl)]
        out[(slice(None), slice(None), *idx)] = reduce(window.reshape(*window.shape[:2], -1), axis=2)
    return out if back is None else out.transpose(back)


def batch_norm(x, gamma, beta, moving_mean, moving_var, axis, epsilon, center=True, scale=True):
    """Inference batch norm; returns (out, moving_mean, moving_var) as classic topi.testing does."""
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    out = (x - moving_mean.reshape(shape)) / np.sqrt(moving_var.reshape(shape) + epsilon)
    if scale:
        out = out * gamma.reshape(shape)
    if center:
        out = out + beta.reshape(shape)
    return out.astype(x.dtype), moving_mean, moving_var


def layer_norm_python(data, gamma, beta, axis, epsilon=1e-5):
    axis = tuple(np.atleast_1d(axis))
    mean = data.mean(axis=axis, keepdims=True)
    var = data.var(axis=axis, keepdims=True)
    out = (data - mean) / np.sqrt(var + epsilon) * gamma
    return out + beta if beta is not None else out


def group_norm_python(data, gamma, beta, num_groups, channel_axis, axes, epsilon=1e-5):
    """Normalize over `axes` within each of num_groups channel groups; gamma/beta per channel."""
    shape = list(data.shape)
    c = shape[channel_axis]
    grouped = shape[:channel_axis] + [num_groups, c // num_groups] + shape[channel_axis + 1:]
    x = data.reshape(grouped)
    red = tuple(a + 1 if a >= channel_axis else a for a in axes) + (channel_axis + 1,)
    red = tuple(sorted(set(red) - {channel_axis}))
    x = (x - x.mean(axis=red, keepdims=True)) / np.sqrt(x.var(axis=red, keepdims=True) + epsilon)
    bshape = [1] * data.ndim
    bshape[channel_axis] = c
    return x.reshape(shape) * gamma.reshape(bshape) + beta.reshape(bshape)


def instance_norm_python(data, gamma, beta, axis, epsilon=1e-5):
    axis = tuple(np.atleast_1d(axis))
    mean = data.mean(axis=axis, keepdims=True)
    var = data.var(axis=axis, keepdims=True)
    return (data - mean) / np.sqrt(var + epsilon) * gamma + beta


def lrn_python(a_np, size, axis, bias, alpha, beta):
    """Local response normalization across `axis`: a / (bias + alpha/size * sum(a^2 over size))^beta."""
    sq = np.moveaxis(a_np.astype("float64"), axis, -1) ** 2
    half = size // 2
    padded = np.pad(sq, [(0, 0)] * (sq.ndim - 1) + [(half, half)])
    window = np.lib.stride_tricks.sliding_window_view(padded, size, axis=-1).sum(axis=-1)
    out = np.moveaxis(a_np, axis, -1) / (bias + alpha / size * window) ** beta
    return np.moveaxis(out, -1, axis).astype(a_np.dtype)


def l2_normalize_python(a_np, eps, axis=None):
    return a_np / np.sqrt(np.maximum(np.sum(a_np * a_np, axis=axis, keepdims=True), eps))


def one_hot(indices, on_value, off_value, depth, axis, dtype):
    out = np.where(np.expand_dims(indices, -1) == np.arange(depth), on_value, off_value).astype(dtype)
    return np.moveaxis(out, -1, axis)


def gather_python(data, axis, indices):
    return np.take_along_axis(data, indices, axis=axis)


def gather_nd_python(a_np, indices_np):
    return a_np[tuple(indices_np)]


def strided_slice_python(data, begin, end, strides, slice_mode="end", axes=None):
    """numpy slicing from per-axis begin / end / strides (`axes` names the axes they refer to).
    slice_mode="size": `end` holds sizes (-1: to the end) and strides are ignored."""
    axes = list(range(len(begin))) if axes is None else list(axes)
    strides = list(strides or [])
    index = [slice(None)] * data.ndim
    for i, axis in enumerate(axes):
        b = begin[i]
        if slice_mode == "size":
            size = end[i] if i < len(end) else -1
            index[axis] = slice(b, None if size < 0 else b + size)
        else:
            index[axis] = slice(b, end[i] if i < len(end) else None, strides[i] if i < len(strides) else None)
    return data[tuple(index)]


def slice_axis_python(data, axis, begin, end=None):
    """data[..., begin:end, ...] along `axis` (end None: to the end)."""
    index = [slice(None)] * data.ndim
    index[axis] = slice(begin, end)
    return data[tuple(index)]
