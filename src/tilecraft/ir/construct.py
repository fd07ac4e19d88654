"""Building expressions: literals take the other operand's type, ints widen, and constants fold on
the way, so `i * 1 + 0` is just `i` and every pass can rely on that.

The node classes are in expr.py, whose Python operators call these functions; import either
module's names from expr.py (it re-exports these), which must be loaded first.
"""

from __future__ import annotations

import math

from . import dtype as dt
from .expr import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    Add,
    And,
    Broadcast,
    Call,
    Cast,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    IterVar,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    Or,
    PrimExpr,
    Select,
    Sub,
)


def const(value, dtype: str | None = None) -> PrimExpr:
    """A constant; int -> int32, float -> float32, bool -> bool unless dtype says otherwise."""
    if dtype is None:
        dtype = "bool" if isinstance(value, bool) else "int32" if isinstance(value, int) else "float32"
    d = dt.parse(dtype)
    if d.lanes > 1:
        return Broadcast(const(value, d.scalar), d.lanes, dtype)
    if d.code == "float":
        return FloatImm(float(value), dtype)
    if d.code == "bool":
        return IntImm(int(bool(value)), "bool")
    return IntImm(int(value), dtype)


def convert(value, dtype: str | None = None) -> PrimExpr:
    """Turn Python numbers (and IterVars) into expressions; leave expressions alone."""
    if isinstance(value, PrimExpr):
        return value
    if isinstance(value, IterVar):
        return value.var
    if isinstance(value, (bool, int, float)):
        return const(value, dtype)
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return const(value.item(), dtype or str(value.dtype))
    except ImportError:  # pragma: no cover
        pass
    if hasattr(value, "asobject"):  # a te.TensorSlice (A[i][j]): its element, or why it has none
        return convert(value.asobject(), dtype)
    raise TypeError(f"cannot use {value!r} (a {type(value).__name__}) as an expression")


def _is_const(x, v=None) -> bool:
    return isinstance(x, (IntImm, FloatImm)) and (v is None or x.value == v)


def _match(a, b):
    """Make two operands agree in type, as TVM does: literals take the other side's type,
    ints widen, and an int meeting a float becomes that float."""
    if not isinstance(a, PrimExpr) and isinstance(b, PrimExpr):
        a = convert(a, _literal_type(a, b.dtype))
    elif not isinstance(b, PrimExpr) and isinstance(a, PrimExpr):
        b = convert(b, _literal_type(b, a.dtype))
    else:
        a, b = convert(a), convert(b)
    if a.dtype == b.dtype:
        return a, b
    da, db = dt.parse(a.dtype), dt.parse(b.dtype)
    if da.lanes != db.lanes:
        if da.lanes == 1:
            return broadcast(a, db.lanes), b
        if db.lanes == 1:
            return a, broadcast(b, da.lanes)
        raise TypeError(f"vector lanes differ: {a.dtype} vs {b.dtype}")
    if da.code == "float" and db.code != "float":
        return a, cast(b, a.dtype)
    if db.code == "float" and da.code != "float":
        return cast(a, b.dtype), b
    if da.bits >= db.bits:
        return a, cast(b, a.dtype)
    return cast(a, b.dtype), b


def _literal_type(lit, other: str) -> str:
    d = dt.parse(other)
    if isinstance(lit, float) and d.code != "float":
        return "float32"
    if isinstance(lit, bool):
        return other if d.code != "bool" else "bool"
    return d.scalar


def broadcast(x, lanes: int) -> PrimExpr:
    x = convert(x)
    if lanes == 1:
        return x
    return Broadcast(x, lanes, dt.with_lanes(x.dtype, lanes))


def cast(x, dtype: str) -> PrimExpr:
    x = convert(x)
    dtype = dt.canonical(dtype)
    if x.dtype == dtype:
        return x
    lanes = dt.lanes(dtype)
    if lanes > 1 and dt.lanes(x.dtype) == 1:  # a scalar cast to a vector type: cast, then broadcast (classic)
        return Broadcast(cast(x, dt.element_of(dtype)), lanes, dtype)
    if isinstance(x, IntImm | FloatImm) and lanes == 1:
        v = x.value
        if dt.is_float(dtype):
            return FloatImm(float(v), dtype)
        if dt.is_bool(dtype):
            return IntImm(int(bool(v)), "bool")
        if isinstance(v, float) and not math.isfinite(v):
            return Cast(dtype, x)
        return IntImm(_wrap(int(v), dtype), dtype)
    return Cast(dtype, x)


def _wrap(v: int, dtype: str) -> int:
    d = dt.parse(dtype)
    m = 1 << d.bits
    v &= m - 1
    if d.code == "int" and v >= m >> 1:
        v -= m
    return v


def _fold(cls, a, b):
    x, y = a.value, b.value
    if cls is Add:
        r = x + y
    elif cls is Sub:
        r = x - y
    elif cls is Mul:
        r = x * y
    elif cls is Min:
        r = min(x, y)
    elif cls is Max:
        r = max(x, y)
    elif y == 0:
        return None
    elif cls is FloorDiv:
        r = x // y if isinstance(a, IntImm) else math.floor(x / y)
    elif cls is FloorMod:
        r = x % y if isinstance(a, IntImm) else x - math.floor(x / y) * y
    elif cls is Div:
        r = x / y if isinstance(a, FloatImm) else int(x / y) if abs(x) < 2**52 else _tdiv(x, y)
    elif cls is Mod:
        r = x - _tdiv(x, y) * y
    else:
        return None
    return const(r, a.dtype) if isinstance(a, FloatImm) else IntImm(_wrap(r, a.dtype), a.dtype)


def _tdiv(x: int, y: int) -> int:
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def binary(cls, a, b) -> PrimExpr:
    """Build `a <op> b` with type matching and the folds every pass relies on."""
    a, b = _match(a, b)
    if _is_const(a) and _is_const(b):
        r = _fold(cls, a, b)
        if r is not None:
            return r
    is_int = not dt.is_float(a.dtype)
    if cls is Add:
        if _is_const(b, 0):
            return a
        if _is_const(a, 0):
            return b
    elif cls is Sub:
        if _is_const(b, 0):
            return a
        if a is b and is_int:
            return const(0, a.dtype)
    elif cls is Mul:
        if _is_const(b, 1):
            return a
        if _is_const(a, 1):
            return b
        if is_int and (_is_const(a, 0) or _is_const(b, 0)):
            return const(0, a.dtype)
    elif cls in (FloorDiv, Div):
        if _is_const(b, 1):
            return a
    elif cls in (FloorMod, Mod):
        if _is_const(b, 1) and is_int:
            return const(0, a.dtype)
    return cls(a, b, a.dtype)


def add(a, b):
    return binary(Add, a, b)


def sub(a, b):
    return binary(Sub, a, b)


def mul(a, b):
    return binary(Mul, a, b)


def div(a, b):
    return binary(Div, a, b)


def truncdiv(a, b):
    return binary(Div, a, b)


def truncmod(a, b):
    return binary(Mod, a, b)


def floordiv(a, b):
    return binary(FloorDiv, a, b)


def floormod(a, b):
    return binary(FloorMod, a, b)


indexdiv = floordiv
indexmod = floormod


def min_(a, b):
    return binary(Min, a, b)


def max_(a, b):
    return binary(Max, a, b)


def _cmp(cls, a, b):
    a, b = _match(a, b)
    if _is_const(a) and _is_const(b):
        x, y = a.value, b.value
        r = {EQ: x == y, NE: x != y, LT: x < y, LE: x <= y, GT: x > y, GE: x >= y}[cls]
        return IntImm(int(r), "bool")
    return cls(a, b, dt.with_lanes("bool", dt.lanes(a.dtype)))


def logical_and(a, b):
    a, b = convert(a, "bool"), convert(b, "bool")
    if _is_const(a):
        return b if a.value else a
    if _is_const(b):
        return a if b.value else b
    return And(a, b, a.dtype)


def logical_or(a, b):
    a, b = convert(a, "bool"), convert(b, "bool")
    if _is_const(a):
        return a if a.value else b
    if _is_const(b):
        return b if b.value else a
    return Or(a, b, a.dtype)


def logical_not(a):
    a = convert(a, "bool")
    if _is_const(a):
        return IntImm(int(not a.value), "bool")
    return Not(a, a.dtype)


def select(cond, t, f) -> PrimExpr:
    t, f = _match(t, f)
    cond = convert(cond, "bool")
    if _is_const(cond):
        return t if cond.value else f
    return Select(cond, t, f, t.dtype)


def call(op: str, dtype: str, *args) -> PrimExpr:
    return Call(dtype, op, tuple(convert(a) for a in args))
