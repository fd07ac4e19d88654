"""ONNX converters, neural-network family: activations (LeakyRelu, Elu / Selu / Celu, PRelu,
HardSigmoid, Softplus, Mish, Gelu), matrix products (MatMul, Gemm), convolution and pooling,
normalization and softmax, and Resize / Upsample. Each converter takes (GraphProto, inputs,
attributes) and registers itself with `_register` in the `_CONVERTERS` table of `onnx.py`, which
imports this module at its end, and uses the helpers there.
"""

from __future__ import annotations

import numpy as np

from ..expr import Call, Expr, const
from ..op import image as _image
from ..op import nn as _nn
from ..op import tensor as _t
from ..op import transform as _tr
from ..op._rel import broadcast_shapes
from .common import OpNotImplemented
from .onnx import _CONVERTERS, ONNXImportError, _ints, _prod, _register, _reshape, _scalar, _str

# -- activations

@_register("LeakyRelu")
def _leaky_relu(g, ins, a):
    return _nn.leaky_relu(g.expr(ins[0]), a.get("alpha", 0.01))


@_register("Elu", "Selu", "Celu")
def _elu(g, ins, a):
    x = g.expr(ins[0])
    dt = g.dtype_of(x)
    op = g.node.op_type
    alpha = a.get("alpha", {"Elu": 1.0, "Selu": 1.67326319217681884765625, "Celu": 1.0}[op])
    xs = _t.divide(x, _scalar(alpha, dt)) if op == "Celu" else x
    neg = _t.multiply(_scalar(alpha, dt), _t.subtract(_t.exp(xs), _scalar(1, dt)))
    out = _t.where(_t.greater(x, _scalar(0, dt)), x, neg)
    if op == "Selu":
        out = _t.multiply(out, _scalar(a.get("gamma", 1.05070102214813232421875), dt))
    return out


@_register("PRelu")
def _prelu(g, ins, a):
    x, slope = g.expr(ins[0]), g.expr(ins[1])
    return _t.where(_t.greater(x, _scalar(0, g.dtype_of(x))), x, _t.multiply(x, slope))


@_register("HardSigmoid")
def _hard_sigmoid(g, ins, a):
    x = g.expr(ins[0])
    dt = g.dtype_of(x)
    y = _t.add(_t.multiply(x, _scalar(a.get("alpha", 0.2), dt)), _scalar(a.get("beta", 0.5), dt))
    return _t.clip(y, 0.0, 1.0)


@_register("Softplus")
def _softplus(g, ins, a):
    x = g.expr(ins[0])
    return _t.log1p(_t.exp(x))


@_register("Mish")
def _mish(g, ins, a):
    x = g.expr(ins[0])
    return _t.multiply(x, _t.tanh(_t.log1p(_t.exp(x))))


@_register("Gelu")
def _gelu(g, ins, a):
    return _nn.gelu(g.expr(ins[0]), _str(a.get("approximate", "none")))


# -- matrix products

def _swap_last2(g, e):
    """If e is transpose(y) that swaps only the last two axes, return y."""
    if isinstance(e, Call) and getattr(e.op, "name", "") == "transpose":
        n = len(g.shape(e))
        axes = e.attrs.get("axes")
        if axes is not None and n >= 2 and tuple(axes) == tuple(range(n - 2)) + (n - 1, n - 2):
            return e.args[0]
    return None


def _t2(g, e):
    """e with its last two axes swapped (undoing a transpose when e is one)."""
    inner = _swap_last2(g, e)
    if inner is not None:
        return inner
    n = len(g.shape(e))
    return _tr.transpose(e, tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul(g, a, b):
    ea, eb = g.expr(a), g.expr(b)
    sa, sb = tuple(g.shape(ea)), tuple(g.shape(eb))
    if len(sa) == 1 or len(sb) == 1:  # numpy semantics for vectors
        out_shape = np.matmul(np.empty(sa, np.int8), np.empty(sb, np.int8)).shape
        if len(sa) == 1:
            ea, sa = _reshape(g, ea, (1,) + sa), (1,) + sa
        if len(sb) == 1:
            eb, sb = _reshape(g, eb, sb + (1,)), sb + (1,)
        return _reshape(g, _matmul(g, ea, eb), out_shape)
    if sa[-1] != sb[-2]:
        raise ONNXImportError(f"MatMul: inner dimensions differ ({sa} x {sb})")
    batch = broadcast_shapes(sa[:-2], sb[:-2])
    if _prod(sb[:-2]) == 1 and tuple(sa[:-2]) == tuple(batch):
        # (..., M, K) x (K, N): one dense over all rows
        return _nn.dense(ea, _t2(g, _reshape(g, eb, sb[-2:])))
    m, n = sa[-2], sb[-1]
    bsz = _prod(batch)

    def to3(e, s):
        if tuple(s[:-2]) != tuple(batch) and _prod(s[:-2]) != 1:
            e = _tr.broadcast_to(e, tuple(batch) + tuple(s[-2:]))
            s = tuple(batch) + tuple(s[-2:])
        return _reshape(g, e, (bsz if _prod(s[:-2]) != 1 else 1,) + tuple(s[-2:]))

    inner_b = _swap_last2(g, eb)
    if inner_b is not None:  # x @ y.T: batch_matmul's native (transpose_b) form
        yb = to3(inner_b, tuple(g.shape(inner_b)))
        out = _nn.batch_matmul(to3(ea, sa), yb, transpose_b=True)
    else:
        out = _nn.batch_matmul(to3(ea, sa), to3(eb, sb), transpose_b=False)
    return _reshape(g, out, tuple(batch) + (m, n))


@_register("MatMul")
def _matmul_conv(g, ins, a):
    return _matmul(g, ins[0], ins[1])


@_register("Gemm")
def _gemm(g, ins, a):
    x = g.expr(ins[0])
    if a.get("transA", 0):
        x = _t2(g, x)
    w = g.expr(ins[1])
    w = w if a.get("transB", 0) else _t2(g, w)
    out = _nn.dense(x, w)
    dt = g.dtype_of(out)
    alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
    if alpha != 1.0:
        out = _t.multiply(out, _scalar(alpha, dt))
    if len(ins) > 2 and ins[2] is not None and beta != 0.0:
        c = g.expr(ins[2], None if isinstance(ins[2], Expr) else dt)
        if beta != 1.0:
            c = _t.multiply(c, _scalar(beta, dt))
        out = _nn.bias_add(out, c, axis=1) if g.shape(c) == (g.shape(out)[1],) else _t.add(out, c)
    return out


# -- convolution and pooling

def _auto_pad(a, in_sizes, kernel, strides, dilations, ceil_mode=False):
    """ONNX pads (begin..., end...) for auto_pad / explicit pads."""
    nd = len(kernel)
    mode = _str(a.get("auto_pad", "NOTSET"))
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            lo = total // 2 if mode == "SAME_UPPER" else total - total // 2
            begin.append(lo)
            end.append(total - lo)
        return begin + end
    if mode == "VALID":
        return [0] * (2 * nd)
    return _ints(a.get("pads", [0] * (2 * nd)))


@_register("Conv")
def _conv(g, ins, a):
    x, w = g.expr(ins[0]), g.expr(ins[1])
    kernel = tuple(g.shape(w)[2:])
    nd = len(kernel)
    if nd not in (1, 2):
        raise OpNotImplemented(f"{nd}-D convolution is not supported (1-D and 2-D are)")
    strides = _ints(a.get("strides", [1] * nd))
    dil = _ints(a.get("dilations", [1] * nd))
    pads = _auto_pad(a, g.shape(x)[2:], kernel, strides, dil)
    if nd == 1:  # as 2-D with a height of 1
        n, c, length = g.shape(x)
        x = _reshape(g, x, (n, c, 1, length))
        w = _reshape(g, w, tuple(g.shape(w)[:2]) + (1, kernel[0]))
        strides, dil, pads = [1] + strides, [1] + dil, [0, pads[0], 0, pads[1]]
    out = _nn.conv2d(x, w, strides=strides, padding=(pads[0], pads[1], pads[2], pads[3]), dilation=dil,
                     groups=a.get("group", 1), channels=int(g.shape(w)[0]), kernel_size=tuple(g.shape(w)[2:]))
    if len(ins) > 2 and ins[2] is not None:
        out = _nn.bias_add(out, g.expr(ins[2]), axis=1)
    if nd == 1:
        s = g.shape(out)
        out = _reshape(g, out, (s[0], s[1], s[3]))
    return out


@_register("ConvTranspose")
def _conv_transpose(g, ins, a):
    x, w = g.expr(ins[0]), g.expr(ins[1])
    kernel = tuple(g.shape(w)[2:])
    if len(kernel) != 2:
        raise OpNotImplemented("only 2-D ConvTranspose is supported")
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise OpNotImplemented("ConvTranspose with groups or dilations is not supported")
    strides = _ints(a.get("strides", [1, 1]))
    out_pad = _ints(a.get("output_padding", [0, 0]))
    in_sizes = g.shape(x)[2:]
    if "output_shape" in a:
        target = _ints(a["output_shape"])[-2:]
        pads_b, pads_e = [], []
        for size, k, s, op, t in zip(in_sizes, kernel, strides, out_pad, target):
            total = s * (size - 1) + op + k - t
            lo = total // 2 if _str(a.get("auto_pad", "NOTSET")) != "SAME_LOWER" else total - total // 2
            pads_b.append(lo)
            pads_e.append(total - lo)
        pads = pads_b + pads_e
    elif _str(a.get("auto_pad", "NOTSET")) in ("SAME_UPPER", "SAME_LOWER"):
        pads_b, pads_e = [], []
        for size, k, s, op in zip(in_sizes, kernel, strides, out_pad):
            total = max(0, s * (size - 1) + op + k - size * s)
            lo = total // 2 if _str(a["auto_pad"]) == "SAME_LOWER" else total - total // 2
            pads_b.append(lo)
            pads_e.append(total - lo)
        pads = pads_b + pads_e
    else:
        pads = _ints(a.get("pads", [0, 0, 0, 0]))
    out = _nn.conv2d_transpose(x, w, strides=strides, padding=pads, output_padding=out_pad,
                               channels=int(g.shape(w)[1]), kernel_size=kernel)
    if len(ins) > 2 and ins[2] is not None:
        out = _nn.bias_add(out, g.expr(ins[2]), axis=1)
    return out


@_register("MaxPool", "AveragePool")
def _pool(g, ins, a):
    op = g.node.op_type
    x = g.expr(ins[0])
    kernel = _ints(a["kernel_shape"])
    nd = len(kernel)
    if nd not in (1, 2):
        raise OpNotImplemented(f"{nd}-D pooling is not supported (1-D and 2-D are)")
    if op == "MaxPool" and a.get("storage_order", 0):
        raise OpNotImplemented("MaxPool storage_order=1 is not supported")
    strides = _ints(a.get("strides", [1] * nd))
    dil = _ints(a.get("dilations", [1] * nd))
    pads = _auto_pad(a, g.shape(x)[2:], kernel, strides, dil)
    ceil = bool(a.get("ceil_mode", 0))
    if nd == 1:
        n, c, length = g.shape(x)
        x = _reshape(g, x, (n, c, 1, length))
        kernel, strides, dil, pads = [1] + kernel, [1] + strides, [1] + dil, [0, pads[0], 0, pads[1]]
    pad4 = (pads[0], pads[1], pads[2], pads[3])
    if op == "MaxPool":
        out = _nn.max_pool2d(x, kernel, strides, dil, pad4, ceil_mode=ceil)
    else:
        if dil != [1, 1]:
            raise OpNotImplemented("AveragePool with dilations is not supported")
        out = _nn.avg_pool2d(x, kernel, strides, dil, pad4, ceil_mode=ceil,
                             count_include_pad=bool(a.get("count_include_pad", 0)))
    out = (out)
    if nd == 1:
        s = g.shape(out)
        out = _reshape(g, out, (s[0], s[1], s[3]))
    return out


@_register("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(g, ins, a):
    x = g.expr(ins[0])
    avg = g.node.op_type == "GlobalAveragePool"
    if len(g.shape(x)) == 4:
        return _nn.global_avg_pool2d(x) if avg else _nn.global_max_pool2d(x)
    axes = tuple(range(2, len(g.shape(x))))
    return (_t.mean if avg else _t.max)(x, axis=axes, keepdims=True)


# -- normalization

@_register("BatchNormalization")
def _batch_norm(g, ins, a):
    x = g.expr(ins[0])
    if a.get("training_mode", 0):
        raise OpNotImplemented("BatchNormalization in training mode is not supported (export the model in eval mode)")
    gamma, beta, mean, var = (g.expr(v) for v in ins[1:5])
    return _nn.batch_norm(x, gamma, beta, mean, var, axis=1, epsilon=a.get("epsilon", 1e-5))[0]


@_register("InstanceNormalization")
def _instance_norm(g, ins, a):
    x = g.expr(ins[0])
    if len(g.shape(x)) != 4:
        raise OpNotImplemented("InstanceNormalization is supported for 4-D (NCHW) inputs")
    return _nn.group_norm(x, g.expr(ins[1]), g.expr(ins[2]), num_groups=int(g.shape(x)[1]), axis=1,
                          epsilon=a.get("epsilon", 1e-5))


@_register("LayerNormalization")
def _layer_norm(g, ins, a):
    x = g.expr(ins[0])
    shape, dt = tuple(g.shape(x)), g.dtype_of(x)
    axis = a.get("axis", -1) % len(shape)
    eps = a.get("epsilon", 1e-5)
    scale = g.expr(ins[1])
    bias = g.expr(ins[2]) if len(ins) > 2 and ins[2] is not None else None
    if axis == len(shape) - 1 and g.shape(scale) == (shape[-1],) and (bias is None or g.shape(bias) == g.shape(scale)):
        bias = bias if bias is not None else const(np.zeros(shape[-1], dtype=dt))
        return _nn.layer_norm(x, scale, bias, axis=-1, epsilon=eps)
    axes = tuple(range(axis, len(shape)))
    mean = _t.mean(x, axis=axes, keepdims=True)
    centered = _t.subtract(x, mean)
    var = _t.mean(_t.multiply(centered, centered), axis=axes, keepdims=True)
    out = _t.multiply(_t.divide(centered, _t.sqrt(_t.add(var, _scalar(eps, dt)))), scale)
    return out if bias is None else _t.add(out, bias)


def _softmax(g, ins, a, fn):
    x = g.expr(ins[0])
    shape = tuple(g.shape(x))
    if g.opset >= 13:
        return fn(x, a.get("axis", -1))
    axis = a.get("axis", 1) % len(shape)
    if axis == len(shape) - 1:
        return fn(x, -1)
    flat = _reshape(g, x, (_prod(shape[:axis]), _prod(shape[axis:])))
    return _reshape(g, (fn(flat, -1)), shape)


_CONVERTERS["Softmax"] = lambda g, ins, a: _softmax(g, ins, a, _nn.softmax)
_CONVERTERS["LogSoftmax"] = lambda g, ins, a: _softmax(g, ins, a, _nn.log_softmax)


# -- resize

@_register("Resize", "Upsample")
def _resize(g, ins, a):
    x = g.expr(ins[0])
    shape = tuple(g.shape(x))
    if len(shape) != 4:
        raise OpNotImplemented("Resize is supported for 4-D NCHW inputs")
    if g.node.op_type == "Upsample" or g.opset < 11:
        scales = a.get("scales") if "scales" in a else g.const_input(ins[1], "Resize's scales")
        sizes = None
    else:
        scales = g.const_input(ins[2], "Resize's scales") if len(ins) > 2 and ins[2] is not None else None
        sizes = g.const_input(ins[3], "Resize's sizes") if len(ins) > 3 and ins[3] is not None else None
    if sizes is not None and np.size(sizes):
        out = _ints(sizes)
    else:
        out = [int(np.floor(s * f)) for s, f in zip(shape, np.asarray(scales, dtype=np.float64).reshape(-1))]
    if tuple(out[:2]) != shape[:2]:
        raise OpNotImplemented("Resize may only change the H and W axes")
    mode = _str(a.get("mode", "nearest"))
    method = {"nearest": "nearest_neighbor", "linear": "linear", "bilinear": "linear"}.get(mode)
    if method is None:
        raise OpNotImplemented(f"Resize mode {mode!r} is not supported (nearest and linear are)")
    ctm = _str(a.get("coordinate_transformation_mode", "half_pixel" if g.opset >= 11 else "asymmetric"))
    if ctm == "tf_crop_and_resize":
        raise OpNotImplemented("coordinate_transformation_mode 'tf_crop_and_resize' is not supported")
    rounding = ""
    if method == "nearest_neighbor":
        rounding = {"round_prefer_floor": "round_prefer_floor", "round_prefer_ceil": "round_prefer_ceil",
                    "floor": "floor", "ceil": "ceil"}[_str(a.get("nearest_mode", "round_prefer_floor"))]
        if g.node.op_type == "Upsample" or g.opset < 11:
            rounding = "floor"
    return _image.resize2d(x, out[2:], method=method, coordinate_transformation_mode=ctm, rounding_method=rounding)


# -- recurrent layers (LSTM, GRU, RNN): one node is one layer, forward, reverse or bidirectional

# ONNX gate blocks in the order nn.recurrent (PyTorch's) wants them: LSTM i,o,f,c -> i,f,c,o;
# GRU z,r,h -> r,z,h.
_ONNX_GATE_ORDER = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2), "RNN": (0,)}
_ONNX_DEFAULT_ACTS = {"LSTM": ("sigmoid", "tanh", "tanh"), "GRU": ("sigmoid", "tanh"), "RNN": ("tanh",)}


def _onnx_gates(w, d: int, order, hidden: int, rest: tuple):
    """Direction d of an ONNX weight [D, G*H, ...] (or a bias block) with its gates reordered."""
    w = _tr.reshape(_tr.strided_slice(w, [d], [d + 1], axes=[0]), (len(order) * hidden,) + rest)
    if order == tuple(range(len(order))):
        return w
    blocks = [_tr.strided_slice(w, [g * hidden], [(g + 1) * hidden], axes=[0]) for g in order]
    return _tr.concatenate(blocks, axis=0)


def _trivial(g, v, what: str, ok, detail: str):
    """An optional input that only has its neutral value is dropped; anything else is refused."""
    if v is None:
        return
    if isinstance(v, Expr) or not ok(np.asarray(v)):
        raise OpNotImplemented(f"input {what} {detail} is not supported")


@_register("LSTM", "GRU", "RNN")
def _recurrent(g, ins, a):
    from .recurrent import recurrent_direction

    op = g.node.op_type
    ins = list(ins) + [None] * (8 - len(ins))
    x, w, r, b, seq_lens, init_h = ins[:6]
    init_c = ins[6] if op == "LSTM" else None
    x = g.expr(x)
    dt = g.dtype_of(x)
    w_shape = g.shape(w)
    dirs, hidden = int(w_shape[0]), int(a.get("hidden_size", g.shape(r)[2]))
    direction = _str(a.get("direction", "forward"))
    if direction not in ("forward", "reverse", "bidirectional") or (dirs == 2) != (direction == "bidirectional"):
        raise ONNXImportError(f"direction {direction!r} does not fit weights for {dirs} direction(s)")
    acts = tuple(_str(s).lower() for s in a.get("activations", ()))
    mode = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN_TANH"}[op]
    if op == "RNN" and acts and acts == ("relu",) * dirs:
        mode = "RNN_RELU"
    elif acts and acts != _ONNX_DEFAULT_ACTS[op] * dirs:
        raise OpNotImplemented(f"activations {list(acts)} are not supported (only the defaults "
                               f"{list(_ONNX_DEFAULT_ACTS[op])}" + (" or Relu" if op == "RNN" else "") + ")")
    for attr in ("clip", "activation_alpha", "activation_beta"):
        if attr in a:
            raise OpNotImplemented(f"attribute {attr} is not supported")
    if a.get("input_forget", 0):
        raise OpNotImplemented("input_forget=1 (coupled input and forget gates) is not supported")
    layout = int(a.get("layout", 0))
    if layout:
        x = _tr.transpose(x, (1, 0, 2))
    T, B, size = (int(s) for s in g.shape(x))
    _trivial(g, seq_lens, "sequence_lens", lambda v: bool(np.all(v == T)),
             f"with lengths other than the full sequence ({T}) (variable-length batches)")
    _trivial(g, ins[7] if op == "LSTM" else None, "P", lambda v: not np.any(v),
             "(peephole weights) with non-zero values")

    order = _ONNX_GATE_ORDER[op]
    G = len(order)
    w, r = g.expr(w), g.expr(r)
    b = g.expr(b) if b is not None else None
    init_h = g.expr(init_h, dt) if init_h is not None else None
    init_c = g.expr(init_c, dt) if init_c is not None else None
    if layout and init_h is not None:
        init_h = _tr.transpose(init_h, (1, 0, 2))
    if layout and init_c is not None:
        init_c = _tr.transpose(init_c, (1, 0, 2))
    flat = _reshape(g, x, (T * B, size))
    ys, hs, cs = [], [], []
    from .recurrent import initial_state

    for d in range(dirs):
        weights = (_onnx_gates(w, d, order, hidden, (size,)), _onnx_gates(r, d, order, hidden, (hidden,)),
                   None, None)
        if b is not None:
            bd = _tr.reshape(_tr.strided_slice(b, [d], [d + 1], axes=[0]), (2, G * hidden))
            weights = weights[:2] + (_onnx_gates(bd, 0, order, hidden, ()), _onnx_gates(bd, 1, order, hidden, ()))
        out = recurrent_direction(flat, (T, B), dt, weights, mode, hidden, initial_state(init_h, d, B, hidden, dt),
                                  initial_state(init_c, d, B, hidden, dt) if mode == "LSTM" else None,
                                  reverse=direction == "reverse" or d == 1,
                                  linear_before_reset=bool(a.get("linear_before_reset", 0)))
        ys.append(out[0])
        hs.append(out[1])
        if mode == "LSTM":
            cs.append(out[2])
    y = _tr.stack(ys, axis=1)  # [T, D, B, H]
    y_h = _tr.stack(hs, axis=0)
    y_c = _tr.stack(cs, axis=0) if cs else None
    if layout:
        y = _tr.transpose(y, (2, 0, 1, 3))  # [B, T, D, H]
        y_h = _tr.transpose(y_h, (1, 0, 2))
        y_c = _tr.transpose(y_c, (1, 0, 2)) if y_c is not None else None
    return (y, y_h, y_c) if mode == "LSTM" else (y, y_h)
