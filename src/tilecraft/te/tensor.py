"""Tensors and the operations that define them: what to compute, not how (that is the schedule)."""

from __future__ import annotations

import inspect

from ..ir import dtype as dt
from ..ir.expr import (
    IterType,
    IterVar,
    PrimExpr,
    ProducerLoad,
    Range,
    Reduce,
    SizeVar,
    Var,
    const,
    convert,
)
from ..ir.functor import post_order_visit


class Tensor:
    """One output of an operation; `T[i, j]` reads it inside another compute."""

    __slots__ = ("op", "value_index", "shape", "dtype")

    def __init__(self, op, value_index: int, shape: tuple, dtype: str):
        self.op, self.value_index, self.shape, self.dtype = op, value_index, shape, dtype

    def __getitem__(self, indices):
        if not isinstance(indices, tuple):
            indices = (indices,)
        if any(isinstance(i, slice) for i in indices):  # A[i, 0:16]: a region, for a tensor intrinsic call
            return TensorRegion(self, indices)
        if len(indices) < len(self.shape):  # A[i][j]: collect the indices one by one
            return TensorSlice(self, indices)
        if len(indices) != len(self.shape):
            raise IndexError(f"tensor {self.name} has {len(self.shape)} dimensions, indexed with {len(indices)}")
        idx = tuple(convert(i) for i in indices)
        for i in idx:
            if dt.is_float(i.dtype):
                raise TypeError(f"tensor {self.name} indexed with a float expression `{i}`; indices must be integers")
        return ProducerLoad(self, idx, self.dtype)

    def __call__(self, *indices):
        """`A(i, j)`, the classic call syntax for `A[i, j]`."""
        return self[indices]

    def asobject(self):
        """A 0-d tensor used as a value is its element (`A + 1` for `A[()] + 1`), as in classic TVM."""
        if self.shape:
            raise TypeError(f"tensor {self.name} of shape {tuple(self.shape)} is used as a scalar value; "
                            f"index it (e.g. {self.name}[i, ...]) inside te.compute, or use topi for whole tensors")
        return self[()]

    @property
    def name(self) -> str:
        return self.op.name if self.op.num_outputs == 1 else f"{self.op.name}.v{self.value_index}"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def axis(self):
        return self.op.axis

    def __repr__(self) -> str:
        shape = ", ".join(str(s) for s in self.shape)
        return f"Tensor(shape=({shape}), op.name={self.op.name}, dtype={self.dtype})"

    def __hash__(self):
        return hash((id(self.op), self.value_index))

    def __eq__(self, other):
        if isinstance(other, Tensor):
            return self.op is other.op and self.value_index == other.value_index
        return NotImplemented


class TensorRegion:
    """`A[i, 0:16]`: the part of a tensor a tensor intrinsic call (te/tensor_intrin.py) works on; an
    index fixes a dimension, a slice [begin:end) ranges over it."""

    def __init__(self, tensor: Tensor, indices: tuple):
        if len(indices) != len(tensor.shape):
            raise IndexError(f"region of tensor {tensor.name}: {len(tensor.shape)} dimensions, {len(indices)} given")
        self.tensor = tensor
        self.dims = []  # per dimension: (begin, extent, is_range)
        for d, i in enumerate(indices):
            if isinstance(i, slice):
                if i.step not in (None, 1):
                    raise ValueError(f"region of tensor {tensor.name}: dimension {d} has step {i.step}; only 1")
                begin = convert(0 if i.start is None else i.start)
                end = convert(tensor.shape[d] if i.stop is None else i.stop)
                self.dims.append((begin, end - begin, True))
            else:
                self.dims.append((convert(i), const(1), False))


class TensorSlice:
    """`A[i]` of a tensor with more dimensions: indexing it again gives `A[i, j]` (classic `A[i][j]`)."""

    __slots__ = ("tensor", "indices")

    def __init__(self, tensor: Tensor, indices: tuple):
        self.tensor, self.indices = tensor, indices

    def __getitem__(self, more):
        return self.tensor[self.indices + (more if isinstance(more, tuple) else (more,))]

    def asobject(self):
        """Used as a value before every dimension is indexed: say so, as indexing A[i, j] would."""
        t = self.tensor
        raise IndexError(f"tensor {t.name} has {len(t.shape)} dimensions, indexed with {len(self.indices)}")

    def __repr__(self) -> str:
        return f"{self.tensor.name}[{', '.join(map(str, self.indices))}][...]"


# A[i] + 1 on a 2-d A: the same IndexError as A[i] alone, not "unsupported operand"
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "radd", "rsub", "rmul", "rtruediv", "rfloordiv",
              "rmod", "neg", "lt", "le", "gt", "ge"):
    setattr(TensorSlice, f"__{_name}__", lambda self, *other: self.asobject())


class Operation:
    name: str
    tag: str
    attrs: dict

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def output(self, i: int) -> Tensor:
        return self._outputs[i]

    @property
    def input_tensors(self) -> list:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class PlaceholderOp(Operation):
    def __init__(self, name: str, shape: tuple, dtype: str):
        self.name, self.shape, self.dtype, self.tag, self.attrs = name, shape, dtype, "", {}
        self._outputs = (Tensor(self, 0, shape, dtype),)
        self.axis = ()
        self.reduce_axis = ()


class ComputeOp(Operation):
    """out[axis] = body: one expression per output, all over the same axes."""

    def __init__(self, name, tag, attrs, axis: tuple, reduce_axis: tuple, body: tuple):
        self.name, self.tag, self.attrs = name, tag, dict(attrs or {})
        self.axis, self.reduce_axis, self.body = tuple(axis), tuple(reduce_axis), tuple(body)
        shape = tuple(iv.dom.extent for iv in self.axis)
        self._outputs = tuple(Tensor(self, i, shape, b.dtype) for i, b in enumerate(self.body))

    @property
    def input_tensors(self) -> list:
        return collect_input_tensors(self.body)

    def replace_body(self, body: tuple, name: str | None = None) -> ComputeOp:
        return ComputeOp(name or self.name, self.tag, self.attrs, self.axis, self.reduce_axis, body)


def collect_input_tensors(exprs) -> list:
    seen: dict = {}

    def f(n):
        if isinstance(n, ProducerLoad):
            seen.setdefault(n.producer, None)

    for e in exprs:
        post_order_visit(e, f)
    return list(seen)


def _shape(shape, who: str = "") -> tuple:
    if not isinstance(shape, (tuple, list)):
        shape = (shape,)
    out = []
    for s in shape:
        if isinstance(s, float) and s.is_integer():
            s = int(s)  # classic tutorials write (N / bn, K, bn) with Python's true division
        s = convert(s)
        if not dt.is_int(s.dtype):
            raise TypeError(f"{who}shape entries must be integers, got `{s}` of dtype {s.dtype}")
        if s.__class__.__name__ == "IntImm" and s.value < 0:
            raise ValueError(f"{who}shape entries must be >= 0, got {s.value}")
        out.append(s)
    return tuple(out)


def placeholder(shape, dtype="float32", name: str = "placeholder") -> Tensor:
    """An input tensor."""
    return PlaceholderOp(name, _shape(shape, f"placeholder {name}: "), dt.canonical(dtype)).output(0)


def _arg_names(fcompute, n: int, allow_fewer: bool = False) -> list:
    try:
        params = list(inspect.signature(fcompute).parameters.values())
    except (TypeError, ValueError):
        params = []
    params = [p for p in params if p.default is p.empty]  # defaults bind loop-captured values
    if params and all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params):
        if len(params) != n and not (allow_fewer and len(params) < n):
            raise ValueError(f"the compute function takes {len(params)} index arguments but the shape has {n} "
                             f"dimensions")
        return [p.name for p in params]
    return [f"i{k}" for k in range(n)]


def compute(shape, fcompute, name: str = "compute", tag: str = "", attrs=None):
    """Define a tensor by a function of its indices, e.g. `compute((n,), lambda i: A[i] + B[i])`.

    Returns one Tensor, or a list when fcompute returns several values (e.g. argmax pairs)."""
    shape = _shape(shape, f"compute {name}: ")
    names = _arg_names(fcompute, len(shape), allow_fewer=True)
    if len(names) < len(shape):  # the rest of the shape is what a tensor intrinsic call computes
        from .tensor_intrin import TensorIntrinCall, intrinsic_compute

        outer = tuple(IterVar(Range(const(0, s.dtype), s), Var(nm, s.dtype), IterType.DATA_PAR)
                      for nm, s in zip(names, shape))
        call = fcompute(*[iv.var for iv in outer])
        if not isinstance(call, TensorIntrinCall):
            raise ValueError(f"compute {name}: the compute function takes {len(names)} index arguments but the "
                             f"shape has {len(shape)} dimensions (fewer only when it returns a tensor intrinsic "
                             f"call, intrin(A[i, 0:16], ...))")
        return intrinsic_compute(shape, outer, call, name, tag, attrs)
    axis = tuple(IterVar(Range(const(0, s.dtype), s), Var(nm, s.dtype), IterType.DATA_PAR)
                 for nm, s in zip(names, shape))
    body = fcompute(*[iv.var for iv in axis])
    body = tuple(body) if isinstance(body, (list, tuple)) else (body,)
    body = tuple(convert(b) for b in body)
    reduces = [b for b in body if isinstance(b, Reduce)]
    if reduces and len(reduces) != len(body):
        raise ValueError(f"compute {name}: either every output is a reduction or none is")
    for b in body:
        _check_no_nested_reduce(b, name)
    reduce_axis = reduces[0].axis if reduces else ()
    if any(r.axis != reduce_axis for r in reduces):
        raise ValueError(f"compute {name}: all reductions of one compute must share their axes")
    op = ComputeOp(name, tag, attrs, axis, reduce_axis, body)
    return op.output(0) if op.num_outputs == 1 else list(op._outputs)


def _check_no_nested_reduce(e, name):
    def f(n):
        if isinstance(n, Reduce):
            raise ValueError(f"compute {name}: a reduction (te.sum/max/min) must be the whole body, "
                             f"not part of an expression; compute the reduction as its own tensor first")

    for x in (e.source + (e.condition,)) if isinstance(e, Reduce) else (e,):
        post_order_visit(x, f)


def var(name: str = "tindex", dtype: str = "int32") -> Var:
    return Var(name, dt.canonical(dtype))


def size_var(name: str = "size", dtype: str = "int32") -> SizeVar:
    return SizeVar(name, dt.canonical(dtype))


def reduce_axis(dom, name: str = "rv") -> IterVar:
    """A reduction axis over `dom` = (min, max_exclusive) or a Range."""
    if isinstance(dom, Range):
        rng = dom
    else:
        lo, hi = dom
        lo, hi = convert(lo), convert(hi)
        rng = Range(lo, hi - lo)
    ext = rng.extent
    if ext.__class__.__name__ == "IntImm" and ext.value < 0:  # 0 is an empty reduction: the init value
        raise ValueError(f"reduce_axis {name}: the range {_dom_text(dom)} has extent {ext.value}; give (min, max) "
                         f"with max >= min (max is exclusive)")
    return IterVar(rng, Var(name, rng.extent.dtype), IterType.COMM_REDUCE)


def _dom_text(dom) -> str:
    return f"({dom[0]}, {dom[1]})" if isinstance(dom, (tuple, list)) else f"[{dom.min}, +{dom.extent})"


THREAD_TAGS = ("blockIdx.x", "blockIdx.y", "blockIdx.z", "threadIdx.x", "threadIdx.y", "threadIdx.z",
               "vthread", "cthread", "warp")


def thread_axis(dom=None, tag: str = "", name: str = "") -> IterVar:
    """A GPU thread or block index to bind a loop to: thread_axis("threadIdx.x")."""
    if isinstance(dom, str):
        dom, tag = None, dom
    if tag not in THREAD_TAGS and not tag.startswith("vthread"):
        raise ValueError(f"unknown thread tag {tag!r}; use one of {', '.join(THREAD_TAGS)}")
    rng = None
    if dom is not None:
        rng = dom if isinstance(dom, Range) else Range(convert(dom[0]), convert(dom[1]) - convert(dom[0]))
    return IterVar(rng, Var(name or tag), IterType.THREAD_INDEX, tag)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def as_expr(x) -> PrimExpr:
    return convert(x)
