"""Scalar expression IR: small immutable nodes shared by te and tir.

Nodes are frozen dataclasses hashed by identity (a Var is its own key in a dict); use
`structural_equal` to compare shapes.  Python operators build nodes and fold constants on the
way, so `i * 1 + 0` is just `i`.  `a == b` builds an EQ node whose truth value is identity, as
in classic TVM, so expressions still work as dict keys.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from . import dtype as dt
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


# ---------------------------------------------------------------------------- memory

@_frozen
class Buffer(Node):
    """A named region of memory: `data` is its pointer variable; strides are in elements.

    `elem_offset` (elements from `data` to element 0) and symbolic strides are what a buffer
    bound to part of a tensor (a tensorize intrinsic's argument) gets its values through."""

    data: Var
    name: str
    shape: tuple
    dtype: str
    strides: tuple = ()
    scope: str = "global"
    elem_offset: PrimExpr | None = None
    offset_factor: int = 0  # elem_offset is a multiple of this (0: no promise)
    data_alignment: int = -1

    def __getitem__(self, indices):
        if not isinstance(indices, tuple):
            indices = (indices,)
        return BufferLoad(self, tuple(convert(i) for i in indices), self.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def vload(self, begin, dtype=None):
        """The element at index `begin` (a tuple, list or single index)."""
        idx = tuple(begin) if isinstance(begin, (tuple, list)) else (begin,)
        load = self[idx]
        if dtype is not None and dt.canonical(dtype) != self.dtype:
            raise ValueError(f"buffer {self.name!r} holds {self.dtype}; vload of {dtype} is not supported")
        return load

    def access_ptr(self, access_mask, ptr_type="handle", content_lanes=1, offset=0, extent=None):
        """A pointer to element `offset` of the buffer (after its elem_offset), to hand to an external
        function: `access_mask` is "r", "w", "rw" (or 1 read, 2 write, 3 both)."""
        if isinstance(access_mask, str):
            bad = set(access_mask) - set("rw")
            if bad or not access_mask:
                raise ValueError(f"access_ptr of buffer {self.name!r}: access mask {access_mask!r} must be "
                                 '"r", "w" or "rw"')
            access_mask = ("r" in access_mask) * 1 + ("w" in access_mask) * 2
        base = self.elem_offset if self.elem_offset is not None else const(0)
        if extent is None:
            extent = self.shape[0] * self.strides[0] if self.strides and self.shape else const(1)
            for d in ([] if self.strides else self.shape):
                extent = extent * d
        return Call(ptr_type, "tvm_access_ptr",
                    (Call(self.dtype, "type_annotation", ()), self.data, add(base, convert(offset)),
                     convert(extent), const(int(access_mask))))


def decl_buffer(shape, dtype=None, name="buffer", data=None, strides=None, elem_offset=None, scope="",
                data_alignment=-1, offset_factor=0, buffer_type="", axis_separators=None, span=None) -> Buffer:
    """Declare a buffer (classic `tvm.tir.decl_buffer`).  Strides may be symbolic (`te.var("s1")`):
    binding the buffer to a tensor region gives them values.  With `offset_factor` and no
    `elem_offset`, the offset is a fresh variable `<name>_elem_offset`, bound the same way."""
    shape = tuple(convert(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if buffer_type not in ("", "default", "auto_broadcast"):
        raise ValueError(f"decl_buffer {name!r}: buffer_type must be '' or 'auto_broadcast', got {buffer_type!r}")
    if axis_separators:
        raise ValueError(f"decl_buffer {name!r}: axis_separators are not supported (buffers are flat)")
    index_dtype = shape[0].dtype if shape else "int32"
    if elem_offset is None:
        elem_offset = Var(f"{name}_elem_offset", index_dtype) if offset_factor else const(0, index_dtype)
    if data is None:
        data = Var(name, "handle")
    return Buffer(data, name, shape, dt.canonical(dtype or "float32"),
                  tuple(convert(s) for s in strides) if strides else (), scope or "global",
                  convert(elem_offset), int(offset_factor),
                  int(data_alignment))


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
