"""Math intrinsics and logical helpers, shared by te.* and tir.* (te.exp, tir.if_then_else, ...)."""

from __future__ import annotations

from functools import reduce as _reduce

from . import dtype as dt
from .expr import (
    Call,
    PrimExpr,
    _match,
    binary,
    cast,
    const,
    convert,
    logical_and,
    logical_or,
    max_,
    min_,
    select,
)


def _float_unary(op: str):
    def f(x) -> PrimExpr:
        x = convert(x)
        if not dt.is_float(x.dtype):
            x = cast(x, dt.with_lanes("float32", dt.lanes(x.dtype)))
        return Call(x.dtype, op, (x,))

    f.__name__ = op
    f.__doc__ = f"Elementwise {op}; integer inputs are converted to float32."
    return f


exp = _float_unary("exp")
exp2 = _float_unary("exp2")
log = _float_unary("log")
log2 = _float_unary("log2")
log10 = _float_unary("log10")
log1p = _float_unary("log1p")
sqrt = _float_unary("sqrt")
rsqrt = _float_unary("rsqrt")
tanh = _float_unary("tanh")
sigmoid = _float_unary("sigmoid")
erf = _float_unary("erf")
sin = _float_unary("sin")
cos = _float_unary("cos")
floor = _float_unary("floor")
ceil = _float_unary("ceil")
round = _float_unary("round")  # noqa: A001  (classic TVM name)
trunc = _float_unary("trunc")
# Computed through libm by the LLVM code generator (and the CUDA math library on GPUs).
tan = _float_unary("tan")
atan = _float_unary("atan")
asin = _float_unary("asin")
acos = _float_unary("acos")
sinh = _float_unary("sinh")
cosh = _float_unary("cosh")
asinh = _float_unary("asinh")
acosh = _float_unary("acosh")
atanh = _float_unary("atanh")
expm1 = _float_unary("expm1")
erfc = _float_unary("erfc")


def _bitwise(op: str):
    def f(a, b) -> PrimExpr:
        a, b = convert(a), convert(b)
        if not (dt.is_int(a.dtype) or dt.is_uint(a.dtype)):
            raise TypeError(f"{op} takes integers, got {a.dtype} in `{a}`")
        return Call(a.dtype, op, (a, cast(b, a.dtype) if b.dtype != a.dtype else b))

    f.__name__ = op
    f.__doc__ = f"Integer {op} (as C)."
    return f


shift_left = _bitwise("shift_left")
shift_right = _bitwise("shift_right")
bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def bitwise_not(x) -> PrimExpr:
    x = convert(x)
    return Call(x.dtype, "bitwise_not", (x,))


def abs(x) -> PrimExpr:  # noqa: A001
    x = convert(x)
    if dt.is_float(x.dtype):
        return Call(x.dtype, "fabs", (x,))
    if dt.is_uint(x.dtype) or dt.is_bool(x.dtype):
        return x
    return select(x < 0, -x, x)


def pow(x, y) -> PrimExpr:  # noqa: A001
    x, y = _match(x, y)
    if not dt.is_float(x.dtype):
        x, y = cast(x, "float32"), cast(y, "float32")
    return Call(x.dtype, "pow", (x, y))


power = pow


def fma(a, b, c) -> PrimExpr:
    a, b = _match(a, b)
    a, c = _match(a, c)
    return Call(a.dtype, "fma", (a, b, c))


def if_then_else(cond, t, f) -> PrimExpr:
    """Evaluates only the taken branch, so a branch may read out of bounds when not taken."""
    t, f = _match(t, f)
    cond = convert(cond, "bool")
    if isinstance(cond, PrimExpr) and cond.__class__.__name__ == "IntImm":
        return t if cond.value else f
    return Call(t.dtype, "if_then_else", (cond, t, f))


def likely(cond) -> PrimExpr:
    cond = convert(cond, "bool")
    return Call(cond.dtype, "likely", (cond,))


def max(a, b, *rest):  # noqa: A001
    """The larger of two or more values (te.max is the reducer; it also accepts values)."""
    return _reduce(max_, (a, b, *rest))


def min(a, b, *rest):  # noqa: A001
    return _reduce(min_, (a, b, *rest))


def all(*conds) -> PrimExpr:  # noqa: A001
    return _reduce(logical_and, conds, const(True))


def any(*conds) -> PrimExpr:  # noqa: A001
    return _reduce(logical_or, conds, const(False))


def max_value(dtype: str) -> PrimExpr:
    d = dt.parse(dtype)
    if d.code == "float":
        return const({16: 65504.0, 32: 3.4028234663852886e38, 64: 1.7976931348623157e308}[d.bits], dtype)
    if d.code == "uint":
        return const((1 << d.bits) - 1, dtype)
    if d.code == "bool":
        return const(True)
    return const((1 << (d.bits - 1)) - 1, dtype)


def min_value(dtype: str) -> PrimExpr:
    d = dt.parse(dtype)
    if d.code == "float":
        return const(-max_value(dtype).value, dtype)
    if d.code in ("uint", "bool"):
        return const(0, dtype)
    return const(-(1 << (d.bits - 1)), dtype)


def infinity(dtype: str) -> PrimExpr:
    return const(float("inf"), dtype)


def ceildiv(a, b) -> PrimExpr:
    from .expr import FloorDiv

    return binary(FloorDiv, convert(a) + (convert(b) - 1), b)
