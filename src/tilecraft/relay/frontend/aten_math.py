"""ATen converters, math family: casts, element-wise unary and binary operators, comparisons,
logical and bitwise operators, clamp / where / masked_fill / lerp, and reductions (sum, mean,
max/min, argmax, var/std, any/all, logsumexp, norm).  Each converter registers itself in the
shared table of `aten.py` (which imports this module at its end) and uses its helpers.
"""

from __future__ import annotations

import math

from ..expr import Expr
from ..op import nn as _nn
from ..op import tensor as _t
from ..op import transform as _tf
from .aten import (
    Args,
    _binary_operands,
    _int,
    _ints,
    _is_float,
    _is_scalar,
    _norm_axis,
    _numel,
    _scalar,
    dtype_str,
    promote,
    register,
)
from .common import OpNotImplemented

# ------------------------------------------------------------------------------------ casts

def _cast(ctx, x, dtype):
    dt = dtype_str(dtype)
    if dt is None or ctx.dtype(x) == dt:
        return x
    return _t.cast(x, dt)


@register("to", "_to_copy")
def _to(ctx, a):
    x = a[0]
    if a.has("other"):
        return _cast(ctx, x, ctx.dtype(a["other"]))
    dtype = a.get("dtype")  # to.dtype / to.device / to.dtype_layout / _to_copy all name it "dtype"
    return _cast(ctx, x, dtype)


@register("type_as")
def _type_as(ctx, a):
    return _cast(ctx, a[0], ctx.dtype(a[1]))


def _cast_to(dtype):
    return lambda ctx, a: _cast(ctx, a[0], dtype)


for _n, _d in (("float", "float32"), ("double", "float32"), ("half", "float16"), ("int", "int32"),
               ("long", "int64"), ("bool", "bool"), ("byte", "uint8"), ("char", "int8"), ("short", "int16")):
    register(_n)(_cast_to(_d))


# ------------------------------------------------------------------------------------ element-wise

def _unary(relay_fn, float_only=True):
    def conv(ctx, a):
        x = a[0]
        if float_only and not _is_float(ctx.dtype(x)):
            x = _t.cast(x, "float32")
        return relay_fn(x)

    return conv


for _name, _fn in (("exp", _t.exp), ("log", _t.log), ("sqrt", _t.sqrt), ("rsqrt", _t.rsqrt),
                   ("sigmoid", _t.sigmoid), ("tanh", _t.tanh), ("erf", _t.erf), ("sin", _t.sin), ("cos", _t.cos),
                   ("reciprocal", _t.reciprocal)):
    register(_name)(_unary(_fn))
for _name, _fn in (("floor", _t.floor), ("ceil", _t.ceil), ("trunc", _t.trunc), ("fix", _t.trunc),
                   ("abs", _t.abs), ("neg", _t.negative), ("negative", _t.negative), ("sign", _t.sign),
                   ("relu", _nn.relu), ("square", _t.square)):
    register(_name)(_unary(_fn, float_only=False))


@register("round")
def _round(ctx, a):
    if a.get("decimals"):
        s = 10.0 ** _int(a["decimals"])
        x = a[0]
        return _t.divide(_t.round(_t.multiply(x, ctx.scalar_const(s, ctx.dtype(x)))), ctx.scalar_const(s, ctx.dtype(x)))
    return _t.round(a[0])


def _log_base(base):
    def conv(ctx, a):
        x = a[0] if _is_float(ctx.dtype(a[0])) else _t.cast(a[0], "float32")
        return _t.multiply(_t.log(x), ctx.scalar_const(1.0 / math.log(base), ctx.dtype(x)))

    return conv


register("log2")(_log_base(2.0))
register("log10")(_log_base(10.0))


@register("log1p")
def _log1p(ctx, a):
    x = a[0]
    return _t.log1p(x)


@register("expm1")
def _expm1(ctx, a):
    x = a[0]
    return _t.subtract(_t.exp(x), ctx.scalar_const(1.0, ctx.dtype(x)))


@register("logical_not", "bitwise_not")
def _logical_not(ctx, a):
    x = a[0]
    if ctx.dtype(x) != "bool":
        if a.opname == "aten::bitwise_not":
            raise OpNotImplemented(f"bitwise_not of a {ctx.dtype(x)} tensor (only bool is supported)")
        x = _t.not_equal(x, ctx.scalar_const(0, ctx.dtype(x)))
    return _t.equal(x, ctx.scalar_const(False, "bool"))


# ------------------------------------------------------------------------------------ binary

def _alpha(ctx, other, alpha):
    alpha = _scalar(alpha)
    if alpha is None or alpha == 1:
        return other
    if isinstance(other, Expr):
        return _t.multiply(other, ctx.scalar_const(alpha, ctx.dtype(other)))
    return other * alpha


@register("add")
def _add(ctx, a):
    x, y = a[0], _alpha(ctx, a[1], a.get("alpha"))
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):  # aten::add.t: list concatenation
        return list(x) + list(y)
    x, y, _ = _binary_operands(ctx, x, y)
    return _t.add(x, y)


@register("sub", "subtract")
def _sub(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], _alpha(ctx, a[1], a.get("alpha")))
    return _t.subtract(x, y)


@register("rsub")
def _rsub(ctx, a):
    x, y, _ = _binary_operands(ctx, a[1], _alpha(ctx, a[0], a.get("alpha")))
    return _t.subtract(x, y)


@register("mul", "multiply")
def _mul(ctx, a):
    x, y, dt = _binary_operands(ctx, a[0], a[1])
    if dt == "bool":
        return _t.logical_and(x, y)
    return _t.multiply(x, y)


@register("div", "divide", "true_divide")
def _div(ctx, a):
    mode = a.get("rounding_mode")
    dt = promote(ctx, a[0], a[1])
    if mode is None and not _is_float(dt):
        dt = "float32"
    x, y, dt = _binary_operands(ctx, a[0], a[1], dt)
    if mode is None:
        return _t.divide(x, y)
    if mode == "floor":
        return _t.floor_divide(x, y) if not _is_float(dt) else _t.floor(_t.divide(x, y))
    if mode == "trunc":
        if _is_float(dt):
            return _t.trunc(_t.divide(x, y))
        return _t.divide(x, y)  # integer division truncates
    raise ValueError(f"div: unknown rounding_mode {mode!r}")


@register("floor_divide")
def _floordiv(ctx, a):
    x, y, dt = _binary_operands(ctx, a[0], a[1])
    return _t.floor_divide(x, y) if not _is_float(dt) else _t.floor(_t.divide(x, y))


@register("remainder")
def _remainder(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], a[1])
    return _t.floor_mod(x, y)


@register("fmod")
def _fmod(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], a[1])
    return _t.mod(x, y)


@register("pow")
def _pow(ctx, a):
    base, exp = a[0], _scalar(a[1])
    if isinstance(base, Expr) and _is_scalar(exp):
        dt = promote(ctx, base, exp)
        x = ctx.expr(base, dt)
        if exp == 1:
            return x
        if exp == 2:
            return _t.multiply(x, x)
        if exp == 3:
            return _t.multiply(_t.multiply(x, x), x)
        if exp == 0.5:
            return _t.sqrt(x)
        if exp == -0.5:
            return _t.rsqrt(x)
        if exp == -1:
            return _t.divide(ctx.scalar_const(1, dt), x)
    x, y, _ = _binary_operands(ctx, base, exp)
    return _t.power(x, y)


def _binary(fn):
    def conv(ctx, a):
        x, y, _ = _binary_operands(ctx, a[0], a[1])
        return fn(x, y)

    return conv


register("maximum", "fmax")(_binary(_t.maximum))
register("minimum", "fmin")(_binary(_t.minimum))
for _name, _fn in (("eq", _t.equal), ("ne", _t.not_equal), ("lt", _t.less), ("le", _t.less_equal),
                   ("gt", _t.greater), ("ge", _t.greater_equal), ("less", _t.less), ("greater", _t.greater),
                   ("less_equal", _t.less_equal), ("greater_equal", _t.greater_equal), ("not_equal", _t.not_equal)):
    register(_name)(_binary(_fn))


def _to_bool(ctx, x):
    return x if ctx.dtype(x) == "bool" else _t.not_equal(x, ctx.scalar_const(0, ctx.dtype(x)))


def _logical(fn, bitwise=False):
    def conv(ctx, a):
        x, y, dt = _binary_operands(ctx, a[0], a[1])
        if bitwise and dt != "bool":
            raise OpNotImplemented(f"bitwise operations on {dt} tensors are not supported (only bool)")
        return fn(_to_bool(ctx, x), _to_bool(ctx, y))

    return conv


register("logical_and")(_logical(_t.logical_and))
register("logical_or")(_logical(_t.logical_or))
register("__and__", "bitwise_and")(_logical(_t.logical_and, True))
register("__or__", "bitwise_or")(_logical(_t.logical_or, True))


@register("logical_xor", "__xor__", "bitwise_xor")
def _xor(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], a[1])
    return _t.not_equal(_to_bool(ctx, x), _to_bool(ctx, y))


@register("clamp", "clip")
def _clamp(ctx, a):
    x, lo, hi = a[0], _scalar(a.get(1)), _scalar(a.get(2))
    if _is_scalar(lo) or lo is None:
        if _is_scalar(hi) or hi is None:
            return _t.clip(x, -math.inf if lo is None else lo, math.inf if hi is None else hi) \
                if _is_float(ctx.dtype(x)) else _clamp_int(ctx, x, lo, hi)
    if lo is not None:
        x, lo_e, _ = _binary_operands(ctx, x, lo)
        x = _t.maximum(x, lo_e)
    if hi is not None:
        x, hi_e, _ = _binary_operands(ctx, x, hi)
        x = _t.minimum(x, hi_e)
    return x


def _clamp_int(ctx, x, lo, hi):
    dt = ctx.dtype(x)
    if lo is not None:
        x = _t.maximum(x, ctx.scalar_const(lo, dt))
    if hi is not None:
        x = _t.minimum(x, ctx.scalar_const(hi, dt))
    return x


@register("clamp_min")
def _clamp_min(ctx, a):
    return _clamp(ctx, Args([a[0], a[1], None]))


@register("clamp_max")
def _clamp_max(ctx, a):
    return _clamp(ctx, Args([a[0], None, a[1]]))


@register("where")
def _where(ctx, a):
    if len(a) == 1 or a.get(1) is None:
        raise OpNotImplemented("where(condition) with one argument has a data-dependent shape")
    cond = _to_bool(ctx, ctx.expr(a[0]))
    x, y, _ = _binary_operands(ctx, a[1], a[2])
    return _t.where(cond, x, y)


@register("masked_fill")
def _masked_fill(ctx, a):
    x, mask, value = a[0], a[1], _scalar(a[2])
    dt = ctx.dtype(x)
    return _t.where(_to_bool(ctx, ctx.expr(mask)), ctx.expr(value, dt), ctx.expr(x))


@register("lerp")
def _lerp(ctx, a):
    s, e, w = a[0], a[1], _scalar(a[2])
    s, e, dt = _binary_operands(ctx, s, e)
    return _t.add(s, _t.multiply(ctx.expr(w, dt), _t.subtract(e, s)))


# ------------------------------------------------------------------------------------ reductions

def _dims(ctx, x, dim):
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return None
    nd = ctx.ndim(x)
    return tuple(_norm_axis(d, nd) for d in _ints(dim))


def _reduction(fn):
    def conv(ctx, a):
        x = a[0]
        dtype = a.get("dtype")
        if dtype is not None:
            x = _cast(ctx, x, dtype)
        elif ctx.dtype(x) in ("bool", "int8", "uint8", "int16", "int32") and fn in (_t.sum, _t.prod):
            x = _t.cast(x, "int64")
        elif fn is _t.mean and not _is_float(ctx.dtype(x)):
            x = _t.cast(x, "float32")
        dim = a.get("dim") if a.has("dim") else None
        keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
        axes = _dims(ctx, x, dim)
        if ctx.ndim(x) == 0:
            return x
        return fn(x, axis=axes, keepdims=keep)

    return conv


register("sum")(_reduction(_t.sum))
register("mean")(_reduction(_t.mean))
register("prod")(_reduction(_t.prod))
register("amax")(_reduction(_t.max))
register("amin")(_reduction(_t.min))


def _max_min(reduce_fn, arg_fn, binary_fn):
    def conv(ctx, a):
        if len(a) >= 2 and a.has("other"):
            x, y, _ = _binary_operands(ctx, a[0], a[1])
            return binary_fn(x, y)
        x = a[0]
        if not a.has("dim"):
            return reduce_fn(x)
        axis = _norm_axis(_int(a["dim"]), ctx.ndim(x))
        keep = bool(a.get("keepdim", False))
        return (reduce_fn(x, axis=(axis,), keepdims=keep),
                _t.cast(arg_fn(x, axis=(axis,), keepdims=keep), "int64"))

    return conv


register("max")(_max_min(_t.max, _t.argmax, _t.maximum))
register("min")(_max_min(_t.min, _t.argmin, _t.minimum))


def _arg(fn):
    def conv(ctx, a):
        x = a[0]
        dim = a.get(1)
        keep = bool(a.get(2, False))
        if dim is None:
            return _t.cast(fn(_tf.reshape(x, (-1,)), axis=(0,), keepdims=False), "int64")
        return _t.cast(fn(x, axis=(_norm_axis(_int(dim), ctx.ndim(x)),), keepdims=keep), "int64")

    return conv


register("argmax")(_arg(_t.argmax))
register("argmin")(_arg(_t.argmin))


def _var_std(take_sqrt):
    def conv(ctx, a):
        x = a[0]
        dim = a.get("dim") if a.has("dim") else None
        if a.has("correction"):
            corr = a.get("correction")
            corr = 1 if corr is None else float(_scalar(corr))
        else:
            unb = a.get("unbiased", True)
            corr = 1 if unb is None or unb else 0
        keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
        axes = _dims(ctx, x, dim)
        shape = ctx.shape(x)
        n = _numel(shape) if axes is None else _numel([shape[i] for i in axes])
        dt = ctx.dtype(x)
        mu = _t.mean(x, axis=axes, keepdims=True)
        d = _t.subtract(x, mu)
        v = _t.sum(_t.multiply(d, d), axis=axes, keepdims=keep)
        v = _t.divide(v, ctx.scalar_const(max(n - corr, 0), dt))
        return _t.sqrt(v) if take_sqrt else v

    return conv


register("var")(_var_std(False))
register("std")(_var_std(True))


def _any_all(reduce_fn):
    def conv(ctx, a):
        x = _t.cast(_to_bool(ctx, a[0]), "int32")
        dim = a.get("dim") if a.has("dim") else None
        keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
        out = reduce_fn(x, axis=_dims(ctx, x, dim), keepdims=keep) if ctx.ndim(x) else x
        return _t.not_equal(out, ctx.scalar_const(0, "int32"))

    return conv


register("any")(_any_all(_t.max))
register("all")(_any_all(_t.min))


@register("logsumexp")
def _logsumexp(ctx, a):
    x = a[0]
    axes = _dims(ctx, x, a[1])
    keep = bool(a.get(2, False))
    m = _t.max(x, axis=axes, keepdims=True)
    s = _t.log(_t.sum(_t.exp(_t.subtract(x, m)), axis=axes, keepdims=True))
    out = _t.add(s, m)
    return out if keep else _tf.squeeze(out, axes)


@register("norm", "linalg_vector_norm")
def _norm(ctx, a):
    x = a[0]
    p = _scalar(a.get(1))
    p = 2.0 if p is None else float(p)
    dim = a.get("dim") if a.has("dim") else None
    keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
    axes = _dims(ctx, x, dim)
    if p == 2.0:
        return _t.sqrt(_t.sum(_t.multiply(x, x), axis=axes, keepdims=keep))
    if p == 1.0:
        return _t.sum(_t.abs(x), axis=axes, keepdims=keep)
    if p == math.inf:
        return _t.max(_t.abs(x), axis=axes, keepdims=keep)
    dt = ctx.dtype(x)
    s = _t.sum(_t.power(_t.abs(x), ctx.scalar_const(p, dt)), axis=axes, keepdims=keep)
    return _t.power(s, ctx.scalar_const(1.0 / p, dt))
