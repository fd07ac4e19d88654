"""Graph IR: operator calls on tensors, as in Relay.

Nodes are immutable and compared by identity; `ty` is filled in by InferType (a new tree is
built, the input is never changed).  Attributes of a call are a plain dict of Python values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..ir.module import GlobalVar as _IRGlobalVar
from .ty import IncompleteType, TensorType, TupleType

_node = dataclass(frozen=True, eq=False, repr=False)


class Expr:
    ty: object

    def __repr__(self) -> str:
        return self.astext()

    __str__ = __repr__

    def astext(self, name: str = "main") -> str:
        """The text form; a Function prints as `def @name(...)` (IRModule passes its own names)."""
        from .printer import astext

        return astext(self, name)

    def as_function(self) -> Function:
        """This expression as a Function over its free variables: what IRModule.from_expr stores."""
        from .visitor import post_order

        return Function(tuple(n for n in post_order(self) if isinstance(n, Var)), self)

    @property
    def checked_type(self):
        if self.ty is None:
            raise ValueError("type not inferred yet: run relay.transform.InferType() first")
        return self.ty

    def with_type(self, ty) -> Expr:
        return replace(self, ty=ty)

    # Arithmetic sugar, as relay.Expr has it.
    def __add__(self, o):
        from .op import tensor

        return tensor.add(self, _lift(o))

    def __sub__(self, o):
        from .op import tensor

        return tensor.subtract(self, _lift(o))

    def __mul__(self, o):
        from .op import tensor

        return tensor.multiply(self, _lift(o))

    def __truediv__(self, o):
        from .op import tensor

        return tensor.divide(self, _lift(o))

    def __neg__(self):
        from .op import tensor

        return tensor.negative(self)

    def astype(self, dtype):
        from .op import tensor

        return tensor.cast(self, dtype)


def _lift(x):
    return x if isinstance(x, Expr) else const(x)


@_node
class Var(Expr):
    name_hint: str
    type_annotation: object = None
    ty: object = None

    is_variable = True  # structural equality matches variables, not values


class ConstantData(np.ndarray):
    """A constant's value: a numpy array that also answers classic NDArray's `.numpy()`
    (`mod["main"].body.data.numpy()`)."""

    def numpy(self) -> np.ndarray:
        return self.view(np.ndarray)

    asnumpy = numpy


@_node
class Constant(Expr):
    data: np.ndarray
    ty: object = None

    def __post_init__(self):
        if type(self.data) is not ConstantData:
            object.__setattr__(self, "data", np.asarray(self.data).view(ConstantData))


class GlobalVar(_IRGlobalVar):
    """relay.GlobalVar: the name of a module function; `gv(x, y)` is the call relay.Call(gv, (x, y))."""

    __slots__ = ()

    def __call__(self, *args):
        return Call(self, tuple(args))


@_node
class Call(Expr):
    op: object  # an Op, or a Function (a fused group after FuseOps)
    args: tuple
    attrs: dict = field(default_factory=dict)
    ty: object = None

    @property
    def type_args(self) -> tuple:
        """The types the call was checked at (classic Call.type_args): its arguments' types."""
        return tuple(a.ty for a in self.args)


@_node
class Tuple(Expr):
    fields: tuple
    ty: object = None

    def __getitem__(self, i):
        return self.fields[i]

    def __len__(self):
        return len(self.fields)


@_node
class TupleGetItem(Expr):
    tuple_value: Expr
    index: int
    ty: object = None


@_node
class Let(Expr):
    var: Var
    value: Expr
    body: Expr
    ty: object = None

    binding_fields = ("var",)


@_node
class Function(Expr):
    params: tuple
    body: Expr
    ret_type: object = None

    binding_fields = ("params",)
    attrs: dict = field(default_factory=dict)
    ty: object = None

    def as_function(self) -> Function:
        return self

    def with_attr(self, key, value=None) -> Function:
        """A copy with attribute `key` set (or several, given a dict), as classic `Function.with_attr`."""
        more = dict(key) if isinstance(key, dict) else {key: value}
        return Function(self.params, self.body, self.ret_type, {**self.attrs, **more}, self.ty)


def var(name_hint: str, type_annotation=None, shape=None, dtype: str = "float32") -> Var:
    """relay.var("x", shape=(1, 3), dtype="float32") or relay.var("x", relay.TensorType(...))."""
    if type_annotation is None and shape is not None:
        type_annotation = TensorType(tuple(shape), dtype)
    elif isinstance(type_annotation, str):
        type_annotation = TensorType(tuple(shape or ()), type_annotation)
    elif isinstance(type_annotation, IncompleteType):
        type_annotation = None  # inference finds it from the variable's uses
    return Var(name_hint, type_annotation)


def const(value, dtype: str | None = None) -> Constant:
    """A constant tensor (numpy array, NDArray, torch tensor or Python scalar)."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"relay.const takes numbers (a numpy array, NDArray, tensor or scalar), got {value!r:.80} "
                        f"of numpy dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype)
    elif arr.dtype == np.float64 and not isinstance(value, np.ndarray):
        arr = arr.astype("float32")
    elif arr.dtype == np.int64 and not isinstance(value, np.ndarray):
        arr = arr.astype("int32")
    arr = np.array(arr, order="C")  # keeps 0-d arrays 0-d (ascontiguousarray would not)
    return Constant(arr, TensorType(arr.shape, str(arr.dtype)))


def tuple_type_fields(ty) -> tuple:
    return ty.fields if isinstance(ty, TupleType) else (ty,)
