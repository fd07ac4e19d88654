"""ATen converters, neural-network family: activations (gelu, silu, hardswish, elu, softplus,
mish ...), softmax and normalization layers, convolution, pooling and upsampling, and embedding.
Linear algebra and attention are in aten_linalg.py.  Each converter registers itself in the
shared table of `aten.py` (which imports this module at its end) and uses its helpers.
"""

from __future__ import annotations

import math

import numpy as np

from ..op import image as _image
from ..op import nn as _nn
from ..op import tensor as _t
from ..op import transform as _tf
from .aten import _bias, _has_op, _int, _ints, _norm_axis, _numel, _reshape, _scalar, register
from .aten_math import _cast
from .aten_shape import _index_expr
from .common import OpNotImplemented, new_const

# ------------------------------------------------------------------------------------ activations

@register("gelu")
def _gelu(ctx, a):
    approx = a.get("approximate", "none") or "none"
    return _nn.gelu(a[0], approximate=approx)


@register("silu")
def _silu(ctx, a):
    return _nn.silu(a[0])


@register("hardswish")
def _hardswish(ctx, a):
    return _nn.hardswish(a[0])


@register("hardsigmoid")
def _hardsigmoid(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    return _t.clip(_t.add(_t.multiply(x, ctx.scalar_const(1 / 6, dt)), ctx.scalar_const(0.5, dt)), 0.0, 1.0)


@register("leaky_relu")
def _leaky_relu(ctx, a):
    slope = _scalar(a.get(1))
    return _nn.leaky_relu(a[0], 0.01 if slope is None else float(slope))


@register("hardtanh")
def _hardtanh(ctx, a):
    lo, hi = _scalar(a.get(1)), _scalar(a.get(2))
    return _t.clip(a[0], -1.0 if lo is None else float(lo), 1.0 if hi is None else float(hi))


@register("relu6")
def _relu6(ctx, a):
    return _t.clip(a[0], 0.0, 6.0)


@register("elu", "celu", "selu")
def _elu(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    alpha = float(_scalar(a.get("alpha", 1.0)) if a.has("alpha") else 1.0)
    scale = float(_scalar(a.get("scale", 1.0)) if a.has("scale") else 1.0)
    in_scale = float(_scalar(a.get("input_scale", 1.0)) if a.has("input_scale") else 1.0)
    if len(a) == 1:  # selu
        alpha, scale = 1.6732632423543772, 1.0507009873554805
    zero = ctx.scalar_const(0.0, dt)
    neg = _t.multiply(_t.subtract(_t.exp(_t.multiply(x, ctx.scalar_const(in_scale, dt))), ctx.scalar_const(1.0, dt)),
                      ctx.scalar_const(alpha, dt))
    y = _t.where(_t.greater(x, zero), x, neg)
    return _t.multiply(y, ctx.scalar_const(scale, dt)) if scale != 1.0 else y


@register("softplus")
def _softplus(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    beta = float(_scalar(a.get(1)) if a.get(1) is not None else 1.0)
    threshold = float(_scalar(a.get(2)) if a.get(2) is not None else 20.0)
    bx = _t.multiply(x, ctx.scalar_const(beta, dt)) if beta != 1.0 else x
    soft = _t.log1p(_t.exp(bx))  # PyTorch's log1p: log(1 + e) loses e's digits when e is small
    if beta != 1.0:
        soft = _t.divide(soft, ctx.scalar_const(beta, dt))
    return _t.where(_t.greater(bx, ctx.scalar_const(threshold, dt)), x, soft)


@register("mish")
def _mish(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    sp = _t.log(_t.add(_t.exp(x), ctx.scalar_const(1.0, dt)))
    return _t.multiply(x, _t.tanh(sp))


# ------------------------------------------------------------------------------------ softmax & norms

@register("softmax", "_softmax")
def _softmax(ctx, a):
    x = a[0]
    dtype = a.get("dtype") if a.has("dtype") else None
    if dtype is not None:
        x = _cast(ctx, x, dtype)
    axis = _norm_axis(_int(a[1]), ctx.ndim(x))
    return _nn.softmax(x, axis=axis)


@register("log_softmax", "_log_softmax")
def _log_softmax(ctx, a):
    x = a[0]
    dtype = a.get("dtype") if a.has("dtype") else None
    if dtype is not None:
        x = _cast(ctx, x, dtype)
    return _nn.log_softmax(x, axis=_norm_axis(_int(a[1]), ctx.ndim(x)))


def _ones_or(ctx, v, n, dt, fill):
    return ctx.expr(v) if v is not None else new_const(np.full((n,), fill, dtype=dt))


@register("layer_norm", "native_layer_norm")
def _layer_norm(ctx, a):
    x, normalized_shape, w, b = a[0], _ints(a[1]), a[2], a[3]
    eps = float(_scalar(a[4]) if a[4] is not None else 1e-5)
    dt = ctx.dtype(x)
    shape = ctx.shape(x)
    k = len(normalized_shape)
    n = _numel(normalized_shape)
    gamma = _ones_or(ctx, w, n, dt, 1.0)
    beta = _ones_or(ctx, b, n, dt, 0.0)
    if k == 1:
        out = _nn.layer_norm(x, gamma, beta, axis=-1, epsilon=eps)
    else:
        flat = _reshape(ctx, x, tuple(shape[:-k]) + (n,))
        out = _nn.layer_norm(flat, _reshape(ctx, gamma, (n,)), _reshape(ctx, beta, (n,)), axis=-1, epsilon=eps)
        out = _reshape(ctx, out, shape)
    if a.opname == "aten::native_layer_norm":  # returns (out, mean, rstd)
        import torch

        stat = torch.zeros(tuple(shape[:-k]) + (1,) * k)
        return (out, stat, stat)
    return out


@register("rms_norm")
def _rms_norm(ctx, a):
    x, normalized_shape, w, eps = a[0], _ints(a[1]), a[2], _scalar(a[3])
    dt = ctx.dtype(x)
    eps = float(eps) if eps is not None else float(np.finfo(np.float32).eps)
    axes = tuple(range(ctx.ndim(x) - len(normalized_shape), ctx.ndim(x)))
    ms = _t.mean(_t.multiply(x, x), axis=axes, keepdims=True)
    out = _t.multiply(x, _t.rsqrt(_t.add(ms, ctx.scalar_const(eps, dt))))
    return _t.multiply(out, ctx.expr(w)) if w is not None else out


@register("batch_norm", "_native_batch_norm_legit_no_training", "_native_batch_norm_legit", "native_batch_norm")
def _batch_norm(ctx, a):
    x, w, b, mean, var = a[0], a[1], a[2], a[3], a[4]
    if a.has("training") and a["training"]:
        if a.has("use_input_stats") or mean is None:
            raise OpNotImplemented("batch_norm in training mode (call model.eval() before importing)")
    if mean is None or var is None:
        raise OpNotImplemented("batch_norm without running statistics (call model.eval())")
    eps = float(_scalar(a["eps"]))
    c = ctx.shape(x)[1]
    dt = ctx.dtype(x)
    gamma = _ones_or(ctx, w, c, dt, 1.0)
    beta = _ones_or(ctx, b, c, dt, 0.0)
    out = _nn.batch_norm(x, gamma, beta, ctx.expr(mean), ctx.expr(var), axis=1, epsilon=eps)[0]
    if a.opname == "aten::batch_norm":
        return out
    import torch

    empty = torch.zeros((0,))
    return (out, empty, empty)  # _native_batch_norm_legit_no_training: (out, save_mean, save_rstd)


@register("group_norm")
def _group_norm(ctx, a):
    x, groups, w, b = a[0], _int(a[1]), a[2], a[3]
    eps = float(_scalar(a[4]) if a[4] is not None else 1e-5)
    c = ctx.shape(x)[1]
    dt = ctx.dtype(x)
    gamma = _ones_or(ctx, w, c, dt, 1.0)
    beta = _ones_or(ctx, b, c, dt, 0.0)
    if ctx.ndim(x) == 4 and _has_op("nn.group_norm"):
        return _nn.group_norm(x, gamma, beta, num_groups=groups, axis=1, epsilon=eps)
    shape = ctx.shape(x)
    g = _reshape(ctx, x, (shape[0], groups, _numel(shape[1:]) // groups))
    mu = _t.mean(g, axis=(2,), keepdims=True)
    d = _t.subtract(g, mu)
    v = _t.mean(_t.multiply(d, d), axis=(2,), keepdims=True)
    y = _reshape(ctx, _t.multiply(d, _t.rsqrt(_t.add(v, ctx.scalar_const(eps, dt)))), shape)
    bshape = (1, c) + (1,) * (len(shape) - 2)
    return _t.add(_t.multiply(y, _reshape(ctx, gamma, bshape)), _reshape(ctx, beta, bshape))


@register("instance_norm")
def _instance_norm(ctx, a):
    x, w, b = a[0], a[1], a[2]
    eps = float(_scalar(a["eps"]))
    shape = ctx.shape(x)
    dt = ctx.dtype(x)
    axes = tuple(range(2, len(shape)))
    mu = _t.mean(x, axis=axes, keepdims=True)
    d = _t.subtract(x, mu)
    v = _t.mean(_t.multiply(d, d), axis=axes, keepdims=True)
    y = _t.multiply(d, _t.rsqrt(_t.add(v, ctx.scalar_const(eps, dt))))
    bshape = (1, shape[1]) + (1,) * (len(shape) - 2)
    if w is not None:
        y = _t.multiply(y, _reshape(ctx, ctx.expr(w), bshape))
    if b is not None:
        y = _t.add(y, _reshape(ctx, ctx.expr(b), bshape))
    return y


# ------------------------------------------------------------------------------------ convolution & pooling

def _conv(ctx, x, w, b, stride, padding, dilation, transposed, output_padding, groups):
    w = ctx.expr(w)
    nd = ctx.ndim(x)
    if nd not in (3, 4):
        raise OpNotImplemented(f"convolution of a {nd}-D input (only conv1d and conv2d are supported)")
    k = nd - 2
    stride, dilation = _ints(stride), _ints(dilation)
    stride = stride * k if len(stride) == 1 else stride
    dilation = dilation * k if len(dilation) == 1 else dilation
    wshape = ctx.shape(w)
    if isinstance(padding, str):
        if padding == "valid":
            padding = [0] * k
        elif padding == "same":
            total = [d * (kk - 1) for d, kk in zip(dilation, wshape[2:])]
            before = [t // 2 for t in total]
            pads = before + [t - bb for t, bb in zip(total, before)]
            padding = pads
        else:
            raise ValueError(f"unknown padding {padding!r}")
    else:
        padding = _ints(padding)
        padding = padding * k if len(padding) == 1 else padding
    if k == 1:  # conv1d as conv2d over (N, C, 1, L)
        x = _tf.expand_dims(x, 2)
        w = _tf.expand_dims(w, 2)
        stride, dilation = [1] + stride, [1] + dilation
        padding = [0, padding[0], 0, padding[1]] if len(padding) == 2 else [0] + padding
        output_padding = [0] + _ints(output_padding) if output_padding is not None else None
    if len(padding) == 2:
        padding = [padding[0], padding[1], padding[0], padding[1]]
    if transposed:
        if groups != 1 or list(dilation) != [1, 1]:
            raise OpNotImplemented("conv_transpose with groups or dilation is not supported")
        op = list(_ints(output_padding)) if output_padding is not None else [0, 0]
        op = op * 2 if len(op) == 1 else op
        out = _nn.conv2d_transpose(x, w, strides=stride, padding=padding, output_padding=op)
    else:
        out = _nn.conv2d(x, w, strides=stride, padding=padding, dilation=dilation, groups=groups,
                         channels=wshape[0], kernel_size=tuple(ctx.shape(w)[2:]))
    out = _bias(ctx, out, b, axis=1)
    if k == 1:
        out = _tf.squeeze(out, (2,))
    return out


@register("_convolution", "convolution")
def _convolution(ctx, a):
    return _conv(ctx, a[0], a[1], a[2], a[3], a[4], a[5], bool(a[6]), a[7], _int(a[8]))


@register("conv2d", "conv1d", "_convolution_mode")
def _conv2d(ctx, a):
    return _conv(ctx, a[0], a[1], a[2], a[3], a[4], a[5], False, None, _int(a[6]))


@register("conv_transpose2d", "conv_transpose1d")
def _conv_t(ctx, a):
    # (input, weight, bias, stride, padding, output_padding, groups, dilation)
    return _conv(ctx, a[0], a[1], a[2], a[3], a[4], a[7], True, a[5], _int(a[6]))


def _pool_args(ctx, x, kernel, stride, padding, dilation=1):
    kernel = _ints(kernel)
    kernel = kernel * 2 if len(kernel) == 1 else kernel
    stride = _ints(stride) if stride is not None and stride != [] else kernel
    stride = stride * 2 if len(stride) == 1 else stride
    padding = _ints(padding)
    padding = padding * 2 if len(padding) == 1 else padding
    dilation = _ints(dilation)
    dilation = dilation * 2 if len(dilation) == 1 else dilation
    return kernel, stride, padding, dilation


def _pool1d(ctx, x, fn):
    out = fn(_tf.expand_dims(x, 2))
    return _tf.squeeze(out, (2,))


@register("max_pool2d", "max_pool2d_with_indices", "max_pool1d")
def _max_pool(ctx, a):
    x = a[0]
    one_d = ctx.ndim(x) == 3
    kernel, stride, padding, dilation = _pool_args(ctx, x, a[1], a[2], a[3], a[4])
    if one_d:
        kernel, stride, padding, dilation = ([1, kernel[0]], [1, stride[0]], [0, padding[0]], [1, dilation[0]])
        x = _tf.expand_dims(x, 2)
    out = _nn.max_pool2d(x, pool_size=kernel, strides=stride, dilation=dilation, padding=padding,
                         ceil_mode=bool(a[5]))
    if one_d:
        out = _tf.squeeze(out, (2,))
    if a.opname == "aten::max_pool2d_with_indices":
        import torch

        return (out, torch.zeros((0,), dtype=torch.int64))  # the indices are not computed
    return out


@register("avg_pool2d", "avg_pool1d")
def _avg_pool(ctx, a):
    x = a[0]
    one_d = ctx.ndim(x) == 3
    kernel, stride, padding, _ = _pool_args(ctx, x, a[1], a[2], a[3])
    ceil_mode = bool(a[4])
    count_include_pad = bool(a[5]) if a.get(5) is not None else True
    if a.get(6) is not None:
        raise OpNotImplemented("avg_pool2d with divisor_override")
    if one_d:
        kernel, stride, padding = [1, kernel[0]], [1, stride[0]], [0, padding[0]]
        x = _tf.expand_dims(x, 2)
    out = _nn.avg_pool2d(x, pool_size=kernel, strides=stride, padding=padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad)
    return _tf.squeeze(out, (2,)) if one_d else out


def _adaptive(kind):
    def conv(ctx, a):
        x = a[0]
        size = _ints(a[1])
        size = size * 2 if len(size) == 1 and ctx.ndim(x) == 4 else size
        one_d = ctx.ndim(x) == 3
        if one_d:
            x = _tf.expand_dims(x, 2)
            size = [1, size[0]]
        h, w = ctx.shape(x)[2:]
        if tuple(size) == (1, 1):
            out = (_nn.global_avg_pool2d if kind == "avg" else _nn.global_max_pool2d)(x)
        else:
            out = (_nn.adaptive_avg_pool2d if kind == "avg" else _nn.adaptive_max_pool2d)(x, output_size=size)
        if one_d:
            out = _tf.squeeze(out, (2,))
        if kind == "max":
            import torch

            return (out, torch.zeros((0,), dtype=torch.int64))  # adaptive_max_pool2d returns (out, indices)
        return out

    return conv


register("adaptive_avg_pool2d", "_adaptive_avg_pool2d", "adaptive_avg_pool1d")(_adaptive("avg"))
register("adaptive_max_pool2d", "adaptive_max_pool1d")(_adaptive("max"))


def _upsample(method):
    def conv(ctx, a):
        x = a[0]
        h, w = ctx.shape(x)[2:]
        size = a.get("output_size")
        if size is None and a.has("scale_factors"):
            sf = a.get("scale_factors")
            size = [int(math.floor(h * sf[0])), int(math.floor(w * sf[-1]))] if sf is not None else None
        if size is None:
            scales = [a.get("scales_h"), a.get("scales_w")]
            if None in scales:
                raise OpNotImplemented("upsample without output size or scales")
            size = [int(math.floor(h * scales[0])), int(math.floor(w * scales[1]))]
        size = _ints(size)
        if method == "nearest":
            return _image.resize2d(x, size, method="nearest_neighbor", coordinate_transformation_mode="asymmetric",
                                   rounding_method="floor")
        align = bool(a.get("align_corners", False))
        return _image.resize2d(x, size, method="linear",
                               coordinate_transformation_mode="align_corners" if align else "half_pixel")

    return conv


register("upsample_nearest2d")(_upsample("nearest"))
register("upsample_bilinear2d")(_upsample("linear"))


# ------------------------------------------------------------------------------------ embedding

@register("embedding")
def _embedding(ctx, a):
    w, idx = ctx.expr(a[0]), a[1]
    return _tf.take(w, _index_expr(ctx, idx, ctx.shape(w)[0]), axis=0)


# ------------------------------------------------------------------------------------ recurrent

_RNN_MODES = {"aten::lstm": "LSTM", "aten::gru": "GRU", "aten::rnn_tanh": "RNN_TANH", "aten::rnn_relu": "RNN_RELU"}


@register("lstm", "gru", "rnn_tanh", "rnn_relu")
def _rnn(ctx, a):
    """aten::lstm.input(input, hx[], params[], has_biases, num_layers, dropout, train, bidirectional,
    batch_first); gru / rnn_tanh / rnn_relu take one hx tensor. Weights are layer-major, forward
    then reverse, each (w_ih, w_hh[, b_ih, b_hh])."""
    from .recurrent import recurrent_network

    name = a.opname.split(".")[0]
    mode = _RNN_MODES[name]
    if a.overload == "data" or a.has("batch_sizes") or len(a) < 9:
        raise OpNotImplemented(f"{name} on a packed sequence (nn.utils.rnn.pack_padded_sequence) is not "
                               f"supported; pass the padded tensor")
    x, hx, params = a[0], a[1], list(a[2])
    has_biases, num_layers, bidirectional, batch_first = bool(a[3]), _int(a[4]), bool(a[7]), bool(a[8])
    dirs = 2 if bidirectional else 1
    per = 4 if has_biases else 2
    if len(params) != num_layers * dirs * per:
        extra = " (an LSTM with proj_size > 0 is not supported)" if len(params) == num_layers * dirs * (per + 1) else ""
        raise OpNotImplemented(f"{name}: expected {num_layers * dirs * per} weight tensors for {num_layers} layer(s), "
                               f"{dirs} direction(s), has_biases={has_biases}, got {len(params)}{extra}")
    dt = ctx.dtype(x)
    x = ctx.expr(x, dt)
    weights = []
    for k in range(num_layers * dirs):
        ws = [ctx.expr(p, dt) for p in params[k * per:(k + 1) * per]]
        weights.append((ws[0], ws[1], ws[2], ws[3]) if has_biases else (ws[0], ws[1], None, None))
    hidden = ctx.shape(weights[0][1])[1]
    if mode == "LSTM":
        h0, c0 = (ctx.expr(hx[0], dt), ctx.expr(hx[1], dt)) if hx is not None and len(hx) else (None, None)
    else:
        h0, c0 = (ctx.expr(hx, dt) if hx is not None else None), None
    return recurrent_network(x, ctx.shape(x), dt, weights, mode, hidden, num_layers, bidirectional, batch_first,
                             h0, c0)
