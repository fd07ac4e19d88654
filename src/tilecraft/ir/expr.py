"""Scalar expression IR: small immutable nodes shared by te and tir.

Nodes are frozen dataclasses hashed by identity (a Var is its own key in a dict); use
`structural_equal` to compare shapes.  Python operators build nodes and fold constants on the
way, so `i * 1 + 0` is just `i`.  `a == b` builds an EQ node whose truth value is identity, as
in classic TVM, so expressions still work as dict keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from . import dtype as dt


class Node:
    """Base of every IR node."""

    __slots__ = ()
    walked = False  # the visitor/mutator descends into this node's fields (expressions, statements)

    def __repr__(self) -> str:
        from .printer import to_text

        return to_text(self)

    __str__ = __repr__


def node_fields(cls) -> tuple[str, ...]:
    """Names of a node class's fields, cached on the class (passes walk them generically)."""
    names = cls.__dict__.get("_field_names")
    if names is None:
        names = tuple(f.name for f in fields(cls))
        cls._field_names = names
    return names


class PrimExpr(Node):
    """A scalar (or vector) value of type `dtype`."""

    __slots__ = ()
    walked = True
    dtype: str

    __hash__ = object.__hash__

    def __add__(self, o):
        return add(self, o)

    def __radd__(self, o):
        return add(o, self)

    def __sub__(self, o):
        return sub(self, o)

    def __rsub__(self, o):
        return sub(o, self)

    def __mul__(self, o):
        return mul(self, o)

    def __rmul__(self, o):
        return mul(o, self)

    def __truediv__(self, o):
        return div(self, o)

    def __rtruediv__(self, o):
        return div(o, self)

    def __floordiv__(self, o):
        return floordiv(self, o)

    def __rfloordiv__(self, o):
        return floordiv(o, self)

    def __mod__(self, o):
        return floormod(self, o)

    def __rmod__(self, o):
        return floormod(o, self)

    def __neg__(self):
        return sub(const(0, self.dtype), self)

    def __lt__(self, o):
        return _cmp(LT, self, o)

    def __le__(self, o):
        return _cmp(LE, self, o)

    def __gt__(self, o):
        return _cmp(GT, self, o)

    def __ge__(self, o):
        return _cmp(GE, self, o)

    def __eq__(self, o):
        return _cmp(EQ, self, o)

    def __ne__(self, o):
        return _cmp(NE, self, o)

    def __and__(self, o):
        return logical_and(self, o)

    def __rand__(self, o):
        return logical_and(o, self)

    def __or__(self, o):
        return logical_or(self, o)

    def __ror__(self, o):
        return logical_or(o, self)

    def __invert__(self):
        return logical_not(self)

    def __bool__(self):
        raise TypeError(
            f"the symbolic expression `{self}` has no Python truth value; "
            "use te.if_then_else / tir.Select for a data-dependent choice, or tir.all / tir.any")

    def astype(self, dtype: str) -> PrimExpr:
        return cast(self, dtype)

    def equal(self, o) -> PrimExpr:
        return _cmp(EQ, self, o)

    def same_as(self, o) -> bool:
        return self is o


_frozen = dataclass(frozen=True, eq=False, repr=False, slots=True)


# ---------------------------------------------------------------------------- leaves

@_frozen
class Var(PrimExpr):
    name: str
    dtype: str = "int32"


@_frozen
class SizeVar(Var):
    """A variable known to be >= 0 (a symbolic shape)."""


@_frozen
class IntImm(PrimExpr):
    value: int
    dtype: str = "int32"

    def __int__(self) -> int:
        return self.value

    __index__ = __int__


@_frozen
class FloatImm(PrimExpr):
    value: float
    dtype: str = "float32"

    def __float__(self) -> float:
        return self.value


@_frozen
class StringImm(PrimExpr):
    value: str
    dtype: str = "handle"


# ---------------------------------------------------------------------------- operators

@_frozen
class Cast(PrimExpr):
    dtype: str
    value: PrimExpr


@_frozen
class BinaryOp(PrimExpr):
    a: PrimExpr
    b: PrimExpr
    dtype: str


class Add(BinaryOp):
    __slots__ = ()


class Sub(BinaryOp):
    __slots__ = ()


class Mul(BinaryOp):
    __slots__ = ()


class Div(BinaryOp):
    """Float division, or integer division rounding towards zero (C semantics)."""

    __slots__ = ()


class Mod(BinaryOp):
    """Integer remainder with the sign of the dividend (C semantics)."""

    __slots__ = ()


class FloorDiv(BinaryOp):
    __slots__ = ()


class FloorMod(BinaryOp):
    __slots__ = ()


class Min(BinaryOp):
    __slots__ = ()


class Max(BinaryOp):
    __slots__ = ()


class CmpOp(BinaryOp):
    __slots__ = ()


class EQ(CmpOp):
    __slots__ = ()

    def __bool__(self):
        return self.a is self.b


class NE(CmpOp):
    __slots__ = ()

    def __bool__(self):
        return self.a is not self.b


class LT(CmpOp):
    __slots__ = ()


class LE(CmpOp):
    __slots__ = ()


class GT(CmpOp):
    __slots__ = ()


class GE(CmpOp):
    __slots__ = ()


class And(BinaryOp):
    __slots__ = ()


class Or(BinaryOp):
    __slots__ = ()


@_frozen
class Not(PrimExpr):
    a: PrimExpr
    dtype: str = "bool"


@_frozen
class Select(PrimExpr):
    """Both branches are evaluated; use if_then_else (a Call) when one may be out of bounds."""

    condition: PrimExpr
    true_value: PrimExpr
    false_value: PrimExpr
    dtype: str = ""

    def __post_init__(self):
        if not self.dtype:  # `tir.Select(cond, t, f)` as classic TVM code writes it
            t, f = _match(self.true_value, self.false_value)
            object.__setattr__(self, "condition", convert(self.condition, "bool"))
            object.__setattr__(self, "true_value", t)
            object.__setattr__(self, "false_value", f)
            object.__setattr__(self, "dtype", t.dtype)


@_frozen
class Call(PrimExpr):
    """An intrinsic by name: "exp", "sqrt", "if_then_else", "likely", ..."""

    dtype: str
    op: str
    args: tuple


@_frozen
class Let(PrimExpr):
    var: Var
    value: PrimExpr
    body: PrimExpr
    dtype: str


@_frozen
class Ramp(PrimExpr):
    """The vector (base, base + stride, ..., base + (lanes-1) * stride)."""

    base: PrimExpr
    stride: PrimExpr
    lanes: int
    dtype: str


@_frozen
class Broadcast(PrimExpr):
    value: PrimExpr
    lanes: int
    dtype: str


# ---------------------------------------------------------------------------- memory

@_frozen
class Buffer(Node):
    """A named region of memory: `data` is its pointer variable; strides are in elements."""

    data: Var
    name: str
    shape: tuple
    dtype: str
    strides: tuple = ()
    scope: str = "global"
    elem_offset: PrimExpr | None = None

    def __getitem__(self, indices):
        if not isinstance(indices, tuple):
            indices = (indices,)
        return BufferLoad(self, tuple(convert(i) for i in indices), self.dtype)

    def vload(self, indices, dtype=None):
        return self[indices]


def decl_buffer(shape, dtype="float32", name="buf", scope="global", strides=()) -> Buffer:
    shape = tuple(convert(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    return Buffer(Var(name, "handle"), name, shape, dt.canonical(dtype), tuple(strides), scope)


@_frozen
class BufferLoad(PrimExpr):
    buffer: Buffer
    indices: tuple
    dtype: str


@_frozen
class ProducerLoad(PrimExpr):
    """`T[i, j]` for a te.Tensor T, before lowering replaces it with a BufferLoad."""

    producer: object
    indices: tuple
    dtype: str


# ---------------------------------------------------------------------------- iteration

@_frozen
class Range(Node):
    min: PrimExpr
    extent: PrimExpr

    @staticmethod
    def from_min_extent(mn, extent) -> Range:
        return Range(convert(mn), convert(extent))


class IterType:
    DATA_PAR = 0
    THREAD_INDEX = 1
    COMM_REDUCE = 2
    ORDERED = 3
    OPAQUE = 4


@_frozen
class IterVar(Node):
    """A loop variable with its domain: an axis of a compute, a reduction axis or a thread."""

    dom: Range | None
    var: Var
    iter_type: int = IterType.DATA_PAR
    thread_tag: str = ""

    # Arithmetic on an IterVar acts on its variable, as in classic TVM.
    def __add__(self, o):
        return self.var + o

    def __radd__(self, o):
        return o + self.var

    def __sub__(self, o):
        return self.var - o

    def __rsub__(self, o):
        return o - self.var

    def __mul__(self, o):
        return self.var * o

    def __rmul__(self, o):
        return o * self.var

    def __floordiv__(self, o):
        return self.var // o

    def __mod__(self, o):
        return self.var % o

    def __lt__(self, o):
        return self.var < o

    def __le__(self, o):
        return self.var <= o

    def __gt__(self, o):
        return self.var > o

    def __ge__(self, o):
        return self.var >= o

    __hash__ = object.__hash__

    @property
    def name(self) -> str:
        return self.var.name

    @property
    def dtype(self) -> str:
        return self.var.dtype


@_frozen
class CommReducer(Node):
    """A commutative reduction: result(lhs, rhs) with its identity element, per value."""

    lhs: tuple
    rhs: tuple
    result: tuple
    identity_element: tuple
    name: str = ""

    def __call__(self, *args):
        """Combine values directly: `reducer(a, b)` used as a function of two values."""
        from .functor import substitute

        n = len(self.lhs)
        vmap = dict(zip(self.lhs + self.rhs, (convert(a) for a in args)))
        res = tuple(substitute(r, vmap) for r in self.result)
        return res[0] if n == 1 else res


@_frozen
class Reduce(PrimExpr):
    combiner: CommReducer
    source: tuple
    axis: tuple
    condition: PrimExpr
    value_index: int
    init: tuple
    dtype: str


# ---------------------------------------------------------------------------- constructors

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
    if isinstance(x, IntImm | FloatImm) and dt.lanes(dtype) == 1:
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
