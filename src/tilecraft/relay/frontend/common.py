"""Helpers shared by the framework importers (PyTorch TorchScript, torch.export, ONNX).

- `OpNotImplemented`: the one error an importer raises, before converting anything, naming
  every operator it cannot convert with its count and where it is used; `ConversionError`, what a
  PyTorch importer raises when a converter fails, naming the node and its source line.
- `TypeCache`: shapes and dtypes of relay expressions as an importer builds them, one operator
  at a time (each call is typed once, from its arguments' types, with the operator's own type
  relation), so converters can ask "what is the shape of this value?" while they work.
- `infer_shape` / `infer_type`: the classic `relay.frontend.common` names for the same question.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..expr import Call, Constant, Expr, Function, Tuple, TupleGetItem, Var, const
from ..ty import TensorType, TupleType

__all__ = ["ConversionError", "OpNotImplemented", "UnsupportedReport", "TypeCache", "infer_shape", "infer_type",
           "new_const", "cumsum_expr"]


class OpNotImplemented(NotImplementedError):
    """Operators a frontend cannot convert.

    `ops` maps each operator name to the list of places it is used (source locations where the
    model has them, otherwise node names); the message lists every one, with its count, so a
    single import attempt tells the whole story."""

    def __init__(self, message: str, ops: dict | None = None):
        super().__init__(message)
        self.ops = dict(ops or {})


class ConversionError(RuntimeError):
    """A converter failed; the message names the node (TorchScript node or FX node) and its source line."""


class UnsupportedReport:
    """Collects unsupported operators during an importer's scan and raises one OpNotImplemented."""

    MAX_LOCATIONS = 3

    def __init__(self, frontend: str):
        self.frontend = frontend
        self.ops: OrderedDict = OrderedDict()

    def add(self, op: str, location: str | None = None, why: str | None = None) -> None:
        entry = self.ops.setdefault(op, {"where": [], "count": 0, "why": why})
        entry["count"] += 1
        if location and location not in entry["where"]:
            entry["where"].append(location)

    def __bool__(self) -> bool:
        return bool(self.ops)

    def message(self) -> str:
        n = sum(e["count"] for e in self.ops.values())
        lines = [f"The {self.frontend} frontend cannot convert {len(self.ops)} operator(s) "
                 f"({n} use(s)); nothing was converted:"]
        for op, e in self.ops.items():
            line = f"  {op}  x{e['count']}"
            if e["why"]:
                line += f"  ({e['why']})"
            where = e["where"][: self.MAX_LOCATIONS]
            if where:
                more = len(e["where"]) - len(where)
                line += "\n      at " + "\n      at ".join(where) + (f"\n      ... and {more} more" if more else "")
            lines.append(line)
        lines.append("Implement a converter for each (see docs/frontend_ops.md for the supported list), "
                     "or rewrite the model to avoid them.")
        return "\n".join(lines)

    def raise_if_any(self) -> None:
        if self.ops:
            raise OpNotImplemented(self.message(), {k: list(v["where"]) for k, v in self.ops.items()})


class TypeCache:
    """Memoized types of relay expressions built so far (keyed by node identity)."""

    def __init__(self):
        self._types: dict = {}

    def __call__(self, e) -> object:
        hit = self._types.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        ty = self._compute(e)
        self._types[id(e)] = (e, ty)
        return ty

    def _compute(self, e):
        if isinstance(e, Var):
            if e.type_annotation is None:
                raise TypeError(f"input %{e.name_hint} has no type")
            return e.type_annotation
        if isinstance(e, Constant):
            return TensorType(tuple(e.data.shape), str(e.data.dtype))
        if isinstance(e, Tuple):
            return TupleType(tuple(self(f) for f in e.fields))
        if isinstance(e, TupleGetItem):
            return self(e.tuple_value).fields[e.index]
        if isinstance(e, Call):
            arg_types = [self(a) for a in e.args]
            if isinstance(e.op, Function):
                raise TypeError("cannot type a call to a function in an importer")
            try:
                return e.op.type_rel(arg_types, e.attrs)
            except (TypeError, ValueError, IndexError, KeyError) as err:
                shapes = ", ".join(str(t) for t in arg_types)
                raise TypeError(f"{e.op.name}: {err} (inputs: {shapes})") from err
        if hasattr(e, "ty") and e.ty is not None:
            return e.ty
        raise TypeError(f"cannot type {type(e).__name__}")

    def shape(self, e) -> tuple:
        t = self(e)
        if not isinstance(t, TensorType):
            raise TypeError(f"expected a tensor, got {t}")
        return tuple(int(s) for s in t.shape)

    def dtype(self, e) -> str:
        t = self(e)
        if not isinstance(t, TensorType):
            raise TypeError(f"expected a tensor, got {t}")
        return t.dtype


_DEFAULT_CACHE = TypeCache()


def infer_type(e: Expr):
    """The type of a relay expression (classic `relay.frontend.common.infer_type` returns the typed node;
    here the type itself is returned)."""
    return _DEFAULT_CACHE(e)


def infer_shape(e: Expr) -> tuple:
    return _DEFAULT_CACHE.shape(e)


def new_const(value, dtype: str | None = None) -> Constant:
    """A relay constant that keeps the numpy dtype it is given (relay.const narrows Python ints)."""
    arr = np.asarray(value)
    if dtype is not None:
        arr = arr.astype(dtype)
    return const(np.array(arr, order="C"))


def cumsum_expr(x, axis: int, shape: tuple, dtype: str, exclusive: bool = False, reverse: bool = False):
    """Cumulative sum of relay expression x (static `shape`, element type `dtype`) along `axis`.

    out[..., i] = sum_j W[i, j] * x[..., j] with W a triangular matrix of ones (W[i, j] = 1 for
    j <= i; j < i when exclusive; j >= i / j > i when reverse).  Floats go through nn.dense with W
    (a matmul, fast); integers through a broadcast multiply and an integer sum, which is exact
    (a float matmul would round int64 counts above 2**24)."""
    from ..op import nn as _nn
    from ..op import tensor as _t
    from ..op import transform as _tf

    nd = len(shape)
    n = shape[axis]
    w = np.triu(np.ones((n, n)), 1 if exclusive else 0) if reverse else np.tril(np.ones((n, n)), -1 if exclusive else 0)
    perm = None
    if axis != nd - 1:
        perm = list(range(nd))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        x = _tf.transpose(x, tuple(perm))
    if dtype.startswith("float") or dtype == "bfloat16":
        out = _nn.dense(x, new_const(w, dtype))
    else:
        out = _t.sum(_t.multiply(_tf.expand_dims(x, -2, 1), new_const(w, dtype)), axis=(-1,))
    return _tf.transpose(out, tuple(perm)) if perm is not None else out
