"""ONNX operator converters for the importer in `onnx.py`: element-wise and activation operators,
matrix products (MatMul, Gemm), convolution and pooling, normalization and softmax, shape and
layout operators (Reshape, Transpose, Slice, Gather, Concat, Pad ...), reductions and Resize.
Each converter takes (GraphProto, inputs, attributes) and registers itself with `_register` in
the `_CONVERTERS` table of `onnx.py`, which imports this module at its end.
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
from .onnx import _CONVERTERS, ONNXImportError, _ints, _np_dtype, _prod, _register, _str


def _unary(relay_fn):
    return lambda g, ins, a: relay_fn(g.expr(ins[0]))


for _name, _fn in {"Relu": _nn.relu, "Sigmoid": _t.sigmoid, "Tanh": _t.tanh, "Exp": _t.exp, "Log": _t.log,
                   "Sqrt": _t.sqrt, "Reciprocal": _t.reciprocal, "Neg": _t.negative, "Abs": _t.abs, "Erf": _t.erf,
                   "Floor": _t.floor, "Ceil": _t.ceil, "Round": _t.round, "Sin": _t.sin, "Cos": _t.cos,
                   "Sign": _t.sign, "HardSwish": _nn.hardswish}.items():
    _CONVERTERS[_name] = _unary(_fn)


def _binary_args(g, ins):
    a, b = ins[0], ins[1]
    dt = g.dtype_of(a) if isinstance(a, Expr) or not isinstance(b, Expr) else g.dtype_of(b)
    return g.expr(a, None if isinstance(a, Expr) else dt), g.expr(b, None if isinstance(b, Expr) else dt)


def _binary(relay_fn):
    return lambda g, ins, a: relay_fn(*_binary_args(g, ins))


for _name, _fn in {"Add": _t.add, "Sub": _t.subtract, "Mul": _t.multiply, "Div": _t.divide, "Equal": _t.equal,
                   "Less": _t.less, "Greater": _t.greater, "LessOrEqual": _t.less_equal,
                   "GreaterOrEqual": _t.greater_equal, "And": _t.logical_and, "Or": _t.logical_or,
                   "Xor": _t.not_equal}.items():
    _CONVERTERS[_name] = _binary(_fn)


@_register("Identity", "Dropout")
def _identity(g, ins, a):
    return ins[0]


@_register("Not")
def _not(g, ins, a):
    return _t.equal(g.expr(ins[0]), const(np.array(False)))


@_register("Mod")
def _mod(g, ins, a):
    x, y = _binary_args(g, ins)
    if a.get("fmod", 0) or "float" in g.dtype_of(x):
        return _t.mod(x, y) if a.get("fmod", 0) else _t.floor_mod(x, y)
    return _t.floor_mod(x, y)


@_register("Pow")
def _pow(g, ins, a):
    x = g.expr(ins[0])
    p = ins[1]
    if g.known(p) and np.size(p) == 1:
        v = float(np.asarray(p).reshape(()))
        if v == 1.0:
            return x
        if v == 2.0:
            return _t.multiply(x, x)
        if v == 0.5:
            return _t.sqrt(x)
    return _t.power(x, _cast_to(g, g.expr(p), g.dtype_of(x)) if isinstance(p, Expr) else g.expr(p, g.dtype_of(x)))


def _cast_to(g, e, dtype):
    return e if g.dtype_of(e) == dtype else (_t.cast(e, dtype))


@_register("Max", "Min", "Sum", "Mean")
def _variadic(g, ins, a):
    fn = {"Max": _t.maximum, "Min": _t.minimum, "Sum": _t.add, "Mean": _t.add}[g.node.op_type]
    dt = next((g.dtype_of(v) for v in ins if isinstance(v, Expr)), g.dtype_of(ins[0]))
    out = g.expr(ins[0], dt)
    for v in ins[1:]:
        out = (fn(out, g.expr(v, dt)))
    if g.node.op_type == "Mean":
        out = _t.divide(out, const(np.array(len(ins), dtype=dt)))
    return out


@_register("Where")
def _where(g, ins, a):
    dt = next((g.dtype_of(v) for v in ins[1:] if isinstance(v, Expr)), g.dtype_of(ins[1]))
    return _t.where(g.expr(ins[0], "bool"), g.expr(ins[1], dt), g.expr(ins[2], dt))


@_register("Cast")
def _cast(g, ins, a):
    x = g.expr(ins[0])
    return _cast_to(g, x, _np_dtype(a["to"]))


@_register("CastLike")
def _cast_like(g, ins, a):
    return _cast_to(g, g.expr(ins[0]), g.dtype_of(ins[1]))


@_register("Clip")
def _clip(g, ins, a):
    x = g.expr(ins[0])
    if g.opset < 11:
        lo, hi = a.get("min", None), a.get("max", None)
    else:
        lo = ins[1] if len(ins) > 1 else None
        hi = ins[2] if len(ins) > 2 else None
        if isinstance(lo, Expr) or isinstance(hi, Expr):  # computed bounds: maximum / minimum
            out = x
            if lo is not None:
                out = _t.maximum(out, g.expr(lo))
            if hi is not None:
                out = _t.minimum(out, g.expr(hi))
            return out
        lo = None if lo is None else float(np.asarray(lo).reshape(()))
        hi = None if hi is None else float(np.asarray(hi).reshape(()))
    if "int" in g.dtype_of(x):
        info = np.iinfo(g.dtype_of(x))
    else:
        info = np.finfo(g.dtype_of(x))
    return _t.clip(x, info.min if lo is None else lo, info.max if hi is None else hi)


# -- activations

@_register("LeakyRelu")
def _leaky_relu(g, ins, a):
    return _nn.leaky_relu(g.expr(ins[0]), a.get("alpha", 0.01))


def _scalar(v, dtype):
    return const(np.array(v, dtype=dtype))


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
    return _t.log(_t.add(_t.exp(x), _scalar(1, g.dtype_of(x))))


@_register("Mish")
def _mish(g, ins, a):
    x = g.expr(ins[0])
    return _t.multiply(x, _t.tanh(_t.log(_t.add(_t.exp(x), _scalar(1, g.dtype_of(x))))))


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


def _reshape(g, e, shape):
    shape = tuple(int(s) for s in shape)
    return e if tuple(g.shape(e)) == shape else (_tr.reshape(e, shape))


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


# -- shapes and layout

@_register("Flatten")
def _flatten(g, ins, a):
    x = g.expr(ins[0])
    shape = tuple(g.shape(x))
    axis = a.get("axis", 1) % (len(shape) + 1) if shape else 0
    return _reshape(g, x, (_prod(shape[:axis]), _prod(shape[axis:])))


def _reshape_target(in_shape, spec, allowzero=False) -> tuple:
    spec = _ints(spec)
    out = [in_shape[i] if (s == 0 and not allowzero) else s for i, s in enumerate(spec)]
    if out.count(-1) > 1:
        raise ONNXImportError(f"Reshape: more than one -1 in {spec}")
    if -1 in out:
        known = _prod([s for s in out if s != -1])
        out[out.index(-1)] = _prod(in_shape) // known if known else 0
    if _prod(out) != _prod(in_shape):
        raise ONNXImportError(f"Reshape: cannot reshape {tuple(in_shape)} into {tuple(out)} (spec {spec})")
    return tuple(out)


@_register("Reshape")
def _reshape_conv(g, ins, a):
    x = g.expr(ins[0])
    spec = g.const_input(ins[1], "Reshape's shape") if g.opset >= 5 else a["shape"]
    return _reshape(g, x, _reshape_target(g.shape(x), spec, a.get("allowzero", 0)))


@_register("Transpose")
def _transpose(g, ins, a):
    x = g.expr(ins[0])
    n = len(g.shape(x))
    perm = tuple(_ints(a["perm"])) if "perm" in a else tuple(reversed(range(n)))
    if perm == tuple(range(n)):
        return x
    return _tr.transpose(x, perm)


def _axes(g, ins, a, k=1):
    """Axes from the attribute (older opsets) or from input k (newer)."""
    if "axes" in a:
        return _ints(a["axes"])
    if len(ins) > k and ins[k] is not None:
        return _ints(g.const_input(ins[k], f"{g.node.op_type}'s axes"))
    return None


@_register("Squeeze")
def _squeeze(g, ins, a):
    x = g.expr(ins[0])
    shape = tuple(g.shape(x))
    axes = _axes(g, ins, a)
    axes = [i for i, s in enumerate(shape) if s == 1] if axes is None else [ax % len(shape) for ax in axes]
    return _reshape(g, x, tuple(s for i, s in enumerate(shape) if i not in axes))


@_register("Unsqueeze")
def _unsqueeze(g, ins, a):
    x = g.expr(ins[0])
    shape = list(g.shape(x))
    n = len(shape) + len(_axes(g, ins, a))
    for ax in sorted(ax % n for ax in _axes(g, ins, a)):
        shape.insert(ax, 1)
    return _reshape(g, x, shape)


@_register("Concat")
def _concat(g, ins, a):
    vals = [v for v in ins if v is not None]
    dt = next((g.dtype_of(v) for v in vals if isinstance(v, Expr)), g.dtype_of(vals[0]))
    axis = a["axis"] % len(g.shape(vals[0]))
    vals = [v for v in vals if g.shape(v)[axis] != 0] or vals[:1]
    if len(vals) == 1:
        return g.expr(vals[0], dt)
    return _tr.concatenate([g.expr(v, dt) for v in vals], axis)


@_register("Split")
def _split(g, ins, a):
    x = g.expr(ins[0])
    axis = a.get("axis", 0) % len(g.shape(x))
    dim = g.shape(x)[axis]
    if "split" in a:
        sizes = _ints(a["split"])
    elif len(ins) > 1 and ins[1] is not None:
        sizes = _ints(g.const_input(ins[1], "Split's sizes"))
    else:
        n = a.get("num_outputs", len(g.node.output))
        chunk = -(-dim // n)
        sizes = [min(chunk, dim - i * chunk) for i in range(n)]
    if len(sizes) == 1:
        return [x]
    bounds = list(np.cumsum(sizes)[:-1])
    parts = _tr.split(x, [int(b) for b in bounds], axis)
    return [parts[i] for i in range(len(sizes))]


@_register("Slice")
def _slice(g, ins, a):
    x = g.expr(ins[0])
    if g.opset < 10:
        starts, ends, axes, steps = a["starts"], a["ends"], a.get("axes"), None
    else:
        starts = g.const_input(ins[1], "Slice's starts")
        ends = g.const_input(ins[2], "Slice's ends")
        axes = g.const_input(ins[3], "Slice's axes") if len(ins) > 3 else None
        steps = g.const_input(ins[4], "Slice's steps") if len(ins) > 4 else None
    n = len(g.shape(x))
    starts, ends = _ints(starts), _ints(ends)
    axes = list(range(len(starts))) if axes is None else [ax % n for ax in _ints(axes)]
    steps = [1] * len(starts) if steps is None else _ints(steps)
    # clamp the int64 "to the end" sentinels so attributes stay small numbers
    begin, end = [], []
    for b, e, ax in zip(starts, ends, axes):
        dim = g.shape(x)[ax]
        begin.append(max(min(b, dim), -dim - 1))
        end.append(max(min(e, dim), -dim - 1))
    if all(b == 0 for b in begin) and all(e >= g.shape(x)[ax] for e, ax in zip(end, axes)) and \
            all(s == 1 for s in steps):
        return x
    return _tr.strided_slice(x, begin, end, steps, axes)


@_register("Gather")
def _gather(g, ins, a):
    data = g.expr(ins[0])
    axis = a.get("axis", 0) % len(g.shape(data))
    idx = ins[1]
    if g.known(idx):
        idx = np.asarray(idx).astype(np.int64)
        idx = np.where(idx < 0, idx + g.shape(data)[axis], idx).astype(np.int32)
        return _tr.take(data, const(idx), axis=axis, mode="fast")
    return _tr.take(data, _cast_to(g, idx, "int32"), axis=axis, mode="wrap")


@_register("GatherElements")
def _gather_elements(g, ins, a):
    data = g.expr(ins[0])
    axis = a.get("axis", 0) % len(g.shape(data))
    idx = ins[1]
    idx = const(np.asarray(idx).astype(np.int32)) if g.known(idx) else _cast_to(g, idx, "int32")
    return _tr.gather(data, axis, idx)


@_register("GatherND")
def _gather_nd(g, ins, a):
    """As a take on the data with its indexed axes flattened: flat index = sum(index * stride)."""
    data, idx = g.expr(ins[0]), ins[1]
    dshape, ishape = g.shape(data), g.shape(idx)
    b, m = a.get("batch_dims", 0), g.shape(idx)[-1]
    lead = dshape[:b + m]
    strides = np.array([_prod(lead[k + 1:]) for k in range(len(lead))], np.int64)
    offset = np.zeros(ishape[:-1], np.int64)  # the batch axes' share of the flat index
    for k in range(b):
        offset = offset + np.arange(ishape[k]).reshape([-1 if j == k else 1 for j in range(len(ishape) - 1)]) * \
            strides[k]
    dims = np.array(dshape[b:b + m], np.int64)
    if g.known(idx):
        v = np.asarray(idx).astype(np.int64)
        flat = const((offset + (np.where(v < 0, v + dims, v) * strides[b:]).sum(-1)).astype(np.int32))
    else:
        v = _cast_to(g, idx, "int32")
        v = _t.where(_t.less(v, _scalar(0, "int32")), _t.add(v, const(dims.astype(np.int32))), v)
        flat = _t.sum(_t.multiply(v, const(strides[b:].astype(np.int32))), axis=-1)
        if b:
            flat = _t.add(flat, const(offset.astype(np.int32)))
    return _tr.take(_reshape(g, data, (_prod(lead),) + tuple(dshape[b + m:])), flat, axis=0, mode="fast")


@_register("Expand")
def _expand(g, ins, a):
    x = g.expr(ins[0])
    target = broadcast_shapes(tuple(g.shape(x)), tuple(_ints(g.const_input(ins[1], "Expand's shape"))))
    if tuple(target) == tuple(g.shape(x)):
        return x
    return _tr.broadcast_to(x, target)


@_register("Tile")
def _tile(g, ins, a):
    return _tr.tile(g.expr(ins[0]), _ints(g.const_input(ins[1], "Tile's repeats")))


@_register("Trilu")
def _trilu(g, ins, a):
    x = g.expr(ins[0])
    k = int(np.asarray(g.const_input(ins[1], "Trilu's k")).reshape(())) if len(ins) > 1 and ins[1] is not None \
        else 0
    rows, cols = g.shape(x)[-2:]
    ones = np.ones((rows, cols), dtype=bool)
    mask = np.triu(ones, k) if a.get("upper", 1) else np.tril(ones, k)
    return _t.where(const(mask), x, _scalar(0, g.dtype_of(x)))


@_register("Pad")
def _pad(g, ins, a):
    x = g.expr(ins[0])
    n = len(g.shape(x))
    mode = _str(a.get("mode", "constant"))
    if mode != "constant":
        raise OpNotImplemented(f"Pad mode {mode!r} is not supported (only 'constant')")
    if g.opset < 11:
        pads, value = _ints(a["pads"]), a.get("value", 0.0)
    else:
        pads = _ints(g.const_input(ins[1], "Pad's pads"))
        value = ins[2] if len(ins) > 2 and ins[2] is not None else 0.0
        value = float(np.asarray(g.const_input(value, "Pad's constant_value")).reshape(-1)[0]) \
            if np.size(value) else 0.0
        axes = _ints(g.const_input(ins[3], "Pad's axes")) if len(ins) > 3 and ins[3] is not None else None
        if axes is not None:
            full = [0] * (2 * n)
            for k, ax in enumerate(axes):
                full[ax % n], full[ax % n + n] = pads[k], pads[k + len(axes)]
            pads = full
    if any(p < 0 for p in pads):
        raise OpNotImplemented("negative pads are not supported")
    if not any(pads):
        return x
    return _tr.pad(x, [(pads[i], pads[i + n]) for i in range(n)], value)


@_register("DepthToSpace", "SpaceToDepth")
def _depth_space(g, ins, a):
    x = g.expr(ins[0])
    b = a["blocksize"]
    n, c, h, w = g.shape(x)
    if g.node.op_type == "SpaceToDepth":
        y = _reshape(g, x, (n, c, h // b, b, w // b, b))
        y = _tr.transpose(y, (0, 3, 5, 1, 2, 4))
        return _reshape(g, y, (n, c * b * b, h // b, w // b))
    if _str(a.get("mode", "DCR")) == "DCR":
        y = _tr.transpose(_reshape(g, x, (n, b, b, c // (b * b), h, w)), (0, 3, 4, 1, 5, 2))
    else:
        y = _tr.transpose(_reshape(g, x, (n, c // (b * b), b, b, h, w)), (0, 1, 4, 2, 5, 3))
    return _reshape(g, y, (n, c // (b * b), h * b, w * b))


# -- reductions

def _reduce_axes(g, ins, a, ndim):
    axes = _axes(g, ins, a)
    if axes is None or len(axes) == 0:
        return None if a.get("noop_with_empty_axes", 0) else tuple(range(ndim))
    return tuple(ax % ndim for ax in axes)


@_register("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
           "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum")
def _reduce(g, ins, a):
    x = g.expr(ins[0])
    op = g.node.op_type
    axes = _reduce_axes(g, ins, a, len(g.shape(x)))
    if axes is None:
        return x
    keep = bool(a.get("keepdims", 1))
    simple = {"ReduceMean": _t.mean, "ReduceSum": _t.sum, "ReduceMax": _t.max, "ReduceMin": _t.min,
              "ReduceProd": _t.prod}
    if op in simple:
        return simple[op](x, axis=axes, keepdims=keep)
    if op == "ReduceL1":
        return _t.sum(_t.abs(x), axis=axes, keepdims=keep)
    if op == "ReduceSumSquare":
        return _t.sum(_t.multiply(x, x), axis=axes, keepdims=keep)
    if op == "ReduceL2":
        return _t.sqrt(_t.sum(_t.multiply(x, x), axis=axes, keepdims=keep))
    if op == "ReduceLogSum":
        return _t.log(_t.sum(x, axis=axes, keepdims=keep))
    m = _t.max(x, axis=axes, keepdims=True)  # ReduceLogSumExp, stably
    s = _t.log(_t.sum(_t.exp(_t.subtract(x, m)), axis=axes, keepdims=True))
    out = _t.add(s, m)
    return out if keep else _reshape(g, (out), [d for i, d in enumerate(g.shape(x)) if i not in axes])


@_register("ArgMax", "ArgMin")
def _arg(g, ins, a):
    x = g.expr(ins[0])
    if a.get("select_last_index", 0):
        raise OpNotImplemented("select_last_index=1 is not supported")
    fn = _t.argmax if g.node.op_type == "ArgMax" else _t.argmin
    out = (fn(x, axis=(a.get("axis", 0) % len(g.shape(x)),), keepdims=bool(a.get("keepdims", 1))))
    return _cast_to(g, out, "int64")


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
