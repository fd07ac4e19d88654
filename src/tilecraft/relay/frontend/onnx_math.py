"""ONNX converters, math family: element-wise unary and binary operators, Identity / Not / Mod /
Pow, the variadic Max / Min / Sum / Mean, Where, Cast / CastLike, Clip, the reductions
(Reduce*, ArgMax / ArgMin), IsNaN / IsInf and CumSum.  Each converter takes (GraphProto, inputs,
attributes) and registers itself with `_register` in the `_CONVERTERS` table of `onnx.py`, which
imports this module at its end, and uses the helpers there.
"""

from __future__ import annotations

import numpy as np

from ..expr import Expr, const
from ..op import nn as _nn
from ..op import tensor as _t
from .common import OpNotImplemented
from .onnx import _CONVERTERS, _axes, _cast_to, _np_dtype, _register, _reshape


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


# ------------------------------------------------------------------------------------ IsNaN / IsInf / CumSum

@_register("IsNaN")
def _isnan(g, ins, a):
    """PyTorch's exporters write masked attention as Where(IsNaN(Softmax(x)), 0, Softmax(x))."""
    return _t.isnan(g.expr(ins[0]))


@_register("IsInf")
def _isinf(g, ins, a):
    x = g.expr(ins[0])
    neg, pos = int(a.get("detect_negative", 1)), int(a.get("detect_positive", 1))
    if neg and pos:
        return _t.isinf(x)
    zero = const(np.array(0, dtype=g.dtype_of(x)))
    if not (neg or pos):
        return _t.logical_and(_t.isinf(x), _t.less(x, x))  # detects nothing: all False
    side = _t.less(x, zero) if neg else _t.greater(x, zero)
    return _t.logical_and(_t.isinf(x), side)


@_register("CumSum")
def _cumsum(g, ins, a):
    """CumSum (opset 11+) along an axis known at import time, with the exclusive and reverse attributes;
    exact for integer inputs (RoBERTa's position ids), see common.cumsum_expr."""
    from .common import cumsum_expr

    x = g.expr(ins[0])
    shape = g.shape(x)
    axis = int(np.asarray(g.const_input(ins[1], "CumSum's axis")).reshape(-1)[0])
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"CumSum: axis {axis} is out of range for a tensor of rank {len(shape)}")
    return cumsum_expr(x, axis % len(shape), shape, g.dtype_of(x), exclusive=bool(a.get("exclusive", 0)),
                       reverse=bool(a.get("reverse", 0)))
