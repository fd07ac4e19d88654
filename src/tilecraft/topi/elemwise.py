"""Element-wise operators: unary math (topi.exp, topi.sqrt, ...) and activations (topi.nn.relu, gelu, ...).

Every compute is tagged "elemwise" so fusion and the injective schedule recognise it.  Unary
math on an integer tensor computes in float32, as te.exp does.
"""

from __future__ import annotations

import math

from .. import te
from ..ir import dtype as dt
from ..ir.expr import Call, PrimExpr, const, convert, select
from ..ir.expr import cast as _cast_expr
from .minmax import clamp, is_nan
from .tag import BROADCAST, ELEMWISE


def _map(x: te.Tensor, f, name: str, tag: str = ELEMWISE) -> te.Tensor:
    """out[i...] = f(x[i...]); a Python number or expression is mapped directly."""
    if not isinstance(x, te.Tensor):
        return f(convert(x))
    return te.compute(x.shape, lambda *i: f(x[i]), name=name, tag=tag)


def _c(v, like: PrimExpr) -> PrimExpr:
    return const(v, like.dtype)


def _unary(intrin, name: str):
    def op(x):
        return _map(x, intrin, name)

    op.__name__ = name
    op.__doc__ = f"Element-wise {name} (topi.{name})."
    return op


exp = _unary(te.exp, "exp")
exp2 = _unary(te.exp2, "exp2")
log = _unary(te.log, "log")
log2 = _unary(te.log2, "log2")
log10 = _unary(te.log10, "log10")
log1p = _unary(te.log1p, "log1p")
sqrt = _unary(te.sqrt, "sqrt")
rsqrt = _unary(te.rsqrt, "rsqrt")
sigmoid = _unary(te.sigmoid, "sigmoid")
tanh = _unary(te.tanh, "tanh")
erf = _unary(te.erf, "erf")
sin = _unary(te.sin, "sin")
cos = _unary(te.cos, "cos")
floor = _unary(te.floor, "floor")
ceil = _unary(te.ceil, "ceil")
round = _unary(te.round, "round")  # noqa: A001  round half to even, as numpy
trunc = _unary(te.trunc, "trunc")
abs = _unary(te.abs, "abs")  # noqa: A001
tan = _unary(te.tan, "tan")
atan = _unary(te.atan, "atan")
asin = _unary(te.asin, "asin")
acos = _unary(te.acos, "acos")
sinh = _unary(te.sinh, "sinh")
cosh = _unary(te.cosh, "cosh")
asinh = _unary(te.asinh, "asinh")
acosh = _unary(te.acosh, "acosh")
atanh = _unary(te.atanh, "atanh")
bitwise_not = _unary(te.bitwise_not, "bitwise_not")


def _float_call(op: str):
    def f(v):
        v = convert(v)
        if not dt.is_float(v.dtype):
            v = _cast_expr(v, "float32")
        return Call(v.dtype, op, (v,))

    return f


def fast_exp_expr(v) -> PrimExpr:
    """The vectorizable Cephes exp (relative error < 1e-7 in float32) as an expression."""
    return _float_call("fast_exp")(v)


fast_exp = _unary(fast_exp_expr, "fast_exp")
fast_tanh = _unary(_float_call("fast_tanh"), "fast_tanh")
fast_erf = _unary(_float_call("fast_erf"), "fast_erf")


def negative(x):
    return _map(x, lambda v: -v, "negative")


def identity(x):
    return _map(x, lambda v: v, "identity")


def square(x):
    return _map(x, lambda v: v * v, "square")


def reciprocal(x):
    return _map(x, lambda v: _c(1, v) / v, "reciprocal")


def sign(x):
    def f(v):
        zero = _c(0, v)
        return select(v > zero, _c(1, v), select(v < zero, _c(-1, v), zero))

    return _map(x, f, "sign")


def isnan(x):
    return _map(x, is_nan, "isnan")


def isinf(x):
    def f(v):
        if not dt.is_float(v.dtype):
            return const(False)
        return Call(v.dtype, "fabs", (v,)) == const(float("inf"), v.dtype)

    return _map(x, f, "isinf")


def isfinite(x):
    def f(v):
        if not dt.is_float(v.dtype):
            return const(True)
        return Call(v.dtype, "fabs", (v,)) < const(float("inf"), v.dtype)

    return _map(x, f, "isfinite")


def clip(x, a_min, a_max):
    """x limited to [a_min, a_max] (bounds in x's dtype); NaN stays NaN, as torch.clamp."""
    return _map(x, lambda v: clamp(v, a_min, a_max), "clip")


def cast(x, dtype: str):
    """Convert to `dtype` (float -> int truncates towards zero, as C and numpy do)."""
    dtype = dt.canonical(dtype)
    if isinstance(x, te.Tensor) and x.dtype == dtype:
        return x

    def f(v):
        if dt.is_bool(dtype) and not dt.is_bool(v.dtype):
            return v != _c(0, v)
        return _cast_expr(v, dtype)

    return _map(x, f, "cast")


def full(shape, dtype: str, fill_value):
    return te.compute(shape, lambda *i: const(fill_value, dtype), name="full", tag=ELEMWISE)


def full_like(x: te.Tensor, fill_value):
    return te.compute(x.shape, lambda *i: const(fill_value, x.dtype), name="full_like", tag=ELEMWISE)


def zeros_like(x: te.Tensor):
    return full_like(x, 0)


def ones_like(x: te.Tensor):
    return full_like(x, 1)


def elemwise_sum(xs):
    """The element-wise sum of a list of same-shape tensors."""
    if not xs:
        raise ValueError("elemwise_sum needs at least one tensor")

    def f(*i):
        acc = xs[0][i]
        for t in xs[1:]:
            acc = acc + t[i]
        return acc

    return te.compute(xs[0].shape, f, name="elemwise_sum", tag=ELEMWISE)


# ----------------------------------------------------------------------------- activations

def relu(x):
    """max(x, 0) (topi.nn.relu); relu(NaN) is NaN, as in PyTorch."""
    return _map(x, lambda v: clamp(v, lo=0), "relu")


def leaky_relu(x, alpha: float = 0.01):
    return _map(x, lambda v: select(v > _c(0, v), v, v * _c(alpha, v)), "leaky_relu")


def prelu(x: te.Tensor, slope: te.Tensor, axis: int = 1):
    """x where x > 0, else x * slope[c] with c the index along `axis` (slope is 1-D)."""
    axis = axis % len(x.shape)
    if len(slope.shape) != 1:
        raise ValueError(f"prelu: slope must be 1-D, got shape {tuple(slope.shape)}")

    def f(*i):
        v = x[i]
        return select(v > _c(0, v), v, v * slope[i[axis]])

    return te.compute(x.shape, f, name="prelu", tag=BROADCAST)


def elu(x, alpha: float = 1.0):
    return _map(x, lambda v: select(v > _c(0, v), v, _c(alpha, v) * (te.exp(v) - _c(1, v))), "elu")


def selu(x):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return _map(x, lambda v: _c(scale, v) * select(v > _c(0, v), v, _c(alpha, v) * (te.exp(v) - _c(1, v))),
                "selu")


_SQRT1_2 = 1 / math.sqrt(2)
_GELU_TANH_C = math.sqrt(2 / math.pi)


def gelu(x, approximate: str = "none"):
    """x * Phi(x): with approximate="none" through erf (PyTorch's default), with "tanh" through
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "tanh":
        def f(v):
            inner = _c(_GELU_TANH_C, v) * (v + _c(0.044715, v) * v * v * v)
            return _c(0.5, v) * v * (_c(1, v) + te.tanh(inner))
    elif approximate in ("none", None, "erf"):
        def f(v):
            return _c(0.5, v) * v * (_c(1, v) + te.erf(v * _c(_SQRT1_2, v)))
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _map(x, f, "gelu")


def gelu_tanh(x):
    return gelu(x, "tanh")


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return _map(x, lambda v: v * te.sigmoid(v), "silu")


swish = silu


def hardsigmoid(x):
    """clip(x / 6 + 1/2, 0, 1), as PyTorch."""
    return _map(x, lambda v: clamp(v * _c(1 / 6, v) + _c(0.5, v), 0, 1), "hardsigmoid")


def hardswish(x):
    """x * clip(x + 3, 0, 6) / 6, as PyTorch."""
    return _map(x, lambda v: v * clamp(v + _c(3, v), 0, 6) * _c(1 / 6, v), "hardswish")


def relu6(x):
    return clip(x, 0, 6)


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, linear above `threshold` (PyTorch's definition)."""
    def f(v):
        bx = v * _c(beta, v)
        return select(bx > _c(threshold, v), v, te.log1p(te.exp(bx)) * _c(1 / beta, v))

    return _map(x, f, "softplus")


def mish(x):
    """x * tanh(softplus(x))."""
    def f(v):
        sp = select(v > _c(20, v), v, te.log1p(te.exp(v)))
        return v * te.tanh(sp)

    return _map(x, f, "mish")


__all__ = ["exp", "exp2", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sigmoid", "tanh", "erf", "sin",
           "cos", "floor", "ceil", "round", "trunc", "abs", "fast_exp_expr", "fast_exp", "fast_tanh",
           "fast_erf", "negative", "identity", "square", "reciprocal", "sign", "isnan", "isinf", "isfinite",
           "clip", "cast", "full", "full_like", "zeros_like", "ones_like", "elemwise_sum", "relu",
           "leaky_relu", "prelu", "elu", "selu", "gelu", "gelu_tanh", "silu", "swish", "hardsigmoid",
           "hardswish", "relu6", "softplus", "mish", "tan", "atan", "asin", "acos", "sinh", "cosh", "asinh",
           "acosh", "atanh", "bitwise_not"]
