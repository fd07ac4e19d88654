"""Scalar expression IR: small immutable nodes shared by te and tir.

Nodes are frozen dataclasses hashed by identity (a Var is its own key in a dict); use
`structural_equal` to compare shapes.  Python operators build nodes and fold constants on the
way, so `i * 1 + 0` is just `i`.  `a == b` builds an EQ node whose truth value is identity, as
in classic TVM, so expressions still work as dict keys.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .op_attr import OpName


class Node:
    """Base of every IR node."""

    __slots__ = ()
    walked = False  # the visitor/mutator descends into this node's fields (expressions, statements)

    def __repr__(self) -> str:
        from .printer import to_text

        return to_text(self)

    __str__ = __repr__

    def astext(self, show_meta_data: bool = True) -> str:
        """The node as text (classic `Expr.astext()`), the same as print shows."""
        return repr(self)


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

    is_variable = True  # structural equality matches variables, not values


@_frozen
class SizeVar(Var):
    """A variable known to be >= 0 (a symbolic shape)."""


@_frozen
class Any(PrimExpr):
    """A dimension known only at run time (classic `relay.Any()`): type relations carry it; builds refuse it."""

    dtype: str = "int32"

    def __repr__(self) -> str:
        return "?"

    __str__ = __repr__


def _classic_argument_order(imm) -> None:
    """Classic code writes `tir.IntImm("int32", 1)` (dtype first): accept that order too."""
    if isinstance(imm.value, str) and not isinstance(imm.dtype, str):
        value, dtype = imm.dtype, imm.value
        object.__setattr__(imm, "value", value)
        object.__setattr__(imm, "dtype", dtype)


@_frozen
class IntImm(PrimExpr):
    value: int
    dtype: str = "int32"

    def __post_init__(self):
        _classic_argument_order(self)

    def __int__(self) -> int:
        return self.value

    __index__ = __int__


@_frozen
class FloatImm(PrimExpr):
    value: float
    dtype: str = "float32"

    def __post_init__(self):
        _classic_argument_order(self)

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

    def __post_init__(self):  # the op's classic qualified name is call.op.name ("tir.exp")
        if type(self.op) is str:
            object.__setattr__(self, "op", OpName(self.op))


@_frozen
class Let(PrimExpr):
    var: Var
    value: PrimExpr
    body: PrimExpr
    dtype: str

    binding_fields = ("var",)


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


# ---------------------------------------------------------------------------- memory (Buffer: buffer.py)

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

    # Classic kind constants (`tvm.tir.IterVar.CommReduce`); the first five are IterType's.
    DataPar, ThreadIndex, CommReduce, Ordered, DimInfo = 0, 1, 2, 3, 4
    Unrolled, Vectorized, Parallelized, Tensorized = 5, 6, 7, 8

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


# Constructors (type matching and constant folding) live in construct.py; the operators above
# call them, and most callers import them from here.
from .buffer import Buffer, decl_buffer  # noqa: E402,F401  (buffer.py builds on the nodes above)
from .construct import (  # noqa: E402,F401
    _cmp,
    _match,
    add,
    binary,
    broadcast,
    call,
    cast,
    const,
    convert,
    div,
    floordiv,
    floormod,
    indexdiv,
    indexmod,
    logical_and,
    logical_not,
    logical_or,
    max_,
    min_,
    mul,
    select,
    sub,
    truncdiv,
    truncmod,
)
