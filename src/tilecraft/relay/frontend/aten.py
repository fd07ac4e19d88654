"""ATen operators -> relay: the one converter table both PyTorch importers use.

TorchScript (`from_pytorch`) and torch.export (`from_exported_program`) graphs are both made of
ATen operators with the same schemas ("aten::linear(Tensor input, Tensor weight, Tensor? bias)").
Each importer hands a converter the operator's arguments in schema order (`Args`: by position or
by schema name) and a context (`AtenContext`) that types relay values as they are built.

Values a converter sees:
  relay Expr          a tensor computed at run time (depends on a graph input or a weight)
  torch.Tensor        a tensor known at import time (constants, integer buffers, folded results)
  Python values       int, float, bool, None, str, lists, torch.dtype, torch.device ...

The importers never call a converter when no argument is a relay Expr: such a node is evaluated
with torch itself at import time (shape arithmetic, `arange` / `ones` / causal masks, position
ids), so the relay graph only holds work that depends on the inputs.  A converter may return a
torch.Tensor too (`ones_like(x)` of a run-time x is a constant) and the folding goes on from there.

This module does not import torch at import time; converters that need it import it lazily.

This module holds the table (`register`, `lookup`, `supported_ops`), `Args`, `AtenContext` and
the helpers converters share; the converters themselves live in aten_math.py (element-wise,
comparisons, reductions, casts), aten_nn.py (activations, norms, convolution, pooling,
embedding), aten_linalg.py (linear algebra, attention) and aten_shape.py (views, indexing, joins
and splits, creation),
which this module imports at its end so that importing it registers every converter.
"""

from __future__ import annotations

import numpy as np

from ..expr import Call, Constant, Expr, Tuple, Var
from ..op import nn as _nn
from ..op import tensor as _t
from ..op import transform as _tf
from ..op.registry import get as _get_op
from .common import OpNotImplemented, TypeCache, new_const

CONVERTERS: dict = {}

# Operators whose result is known at import time even when an argument is a run-time tensor
# (shapes are static): the importers' scans treat their outputs as constants.
STATIC_RESULT = {
    "aten::size", "aten::dim", "aten::numel", "aten::is_floating_point", "aten::is_complex",
    "aten::ones_like", "aten::zeros_like", "aten::full_like", "aten::empty_like",
    "aten::new_ones", "aten::new_zeros", "aten::new_full", "aten::new_empty", "aten::sym_size",
    "aten::sym_numel", "aten::_assert_tensor_metadata", "aten::_assert_async",
    "aten::_assert_scalar", "aten::sym_constrain_range_for_size", "aten::sym_constrain_range",
}

# Operators that are constant-folded when all arguments are known at import time, listed for the
# docs (any ATen operator folds; these are the ones models commonly use that way).
FOLDED_EXAMPLES = (
    "aten::arange", "aten::ones", "aten::zeros", "aten::full", "aten::empty", "aten::tensor",
    "aten::scalar_tensor", "aten::tril", "aten::triu", "aten::cumsum", "aten::diff", "aten::eye",
    "aten::linspace", "aten::Int", "aten::Float", "aten::ScalarImplicit", "prim::NumToTensor",
)


def register(*names):
    def deco(fn):
        for n in names:
            CONVERTERS[n if "::" in n else f"aten::{n}"] = fn
        return fn

    return deco


def lookup(name: str):
    """The converter for an operator name ("aten::relu_" falls back to "aten::relu")."""
    fn = CONVERTERS.get(name)
    if fn is None and name.endswith("_") and not name.endswith("__"):
        fn = CONVERTERS.get(name[:-1])
    return fn


def is_inplace(name: str) -> bool:
    base = name.split("::")[-1]
    return base.endswith("_") and not base.endswith("__") and not base.startswith("_")


VIEW_OPS = {"aten::slice", "aten::select", "aten::view", "aten::narrow", "aten::transpose", "aten::permute",
            "aten::expand", "aten::unsqueeze", "aten::squeeze", "aten::t", "aten::diagonal", "aten::as_strided",
            "aten::unfold", "aten::view_as", "aten::expand_as", "aten::alias", "aten::detach"}


def inplace_on_view(kind: str, where: str, view_kind: str) -> OpNotImplemented:
    """The refusal of an in-place operator writing through a view: that also changes the tensor it views,
    an aliasing the importers do not model, so refuse rather than return other numbers than PyTorch."""
    return OpNotImplemented(f"{kind} at {where} writes in place into a view made by {view_kind}; in-place updates "
                            "of views are not supported (use the out-of-place form, e.g. x = x + y instead of "
                            "x[...].add_(y))", {f"{kind} on a view": [where]})


def supported_ops() -> list:
    return sorted(CONVERTERS)


# ------------------------------------------------------------------------------------ arguments

class Args:
    """A node's arguments in schema order: a[0], a["dim"], a.get("dtype")."""

    def __init__(self, values, names=(), overload: str = "", opname: str = ""):
        self.values = list(values)
        self.names = list(names)
        self.overload = overload or ""
        self.opname = opname

    def __len__(self):
        return len(self.values)

    def __getitem__(self, k):
        if isinstance(k, str):
            try:
                return self.values[self.names.index(k)]
            except ValueError:
                raise KeyError(f"no argument named {k!r}; arguments: {self.names}") from None
        return self.values[k] if k < len(self.values) else None

    def has(self, name: str) -> bool:
        return name in self.names

    def get(self, k, default=None):
        if isinstance(k, str):
            return self.values[self.names.index(k)] if k in self.names else default
        return self.values[k] if k < len(self.values) else default


# ------------------------------------------------------------------------------------ dtypes

# c10::ScalarType codes (TorchScript carries dtypes as ints).
SCALAR_TYPES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16", 6: "float32",
                7: "float64", 11: "bool", 15: "bfloat16"}


def dtype_str(d, demote: bool = True) -> str | None:
    """torch.dtype / ScalarType code / numpy dtype / string -> relay dtype string; float64 becomes float32."""
    if d is None:
        return None
    if isinstance(d, int) and not isinstance(d, bool):
        if d not in SCALAR_TYPES:
            raise TypeError(f"unsupported ScalarType code {d}")
        d = SCALAR_TYPES[d]
    s = str(d).replace("torch.", "")
    s = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
         "short": "int16", "uint8": "uint8", "bool": "bool"}.get(s, s)
    if demote and s == "float64":
        s = "float32"
    if s in ("complex64", "complex128", "bfloat16", "complex32"):
        raise TypeError(f"dtype {s} is not supported by tilecraft")
    return s


def torch_dtype(s: str):
    import torch

    return getattr(torch, s)


def _is_float(dt: str) -> bool:
    return dt.startswith("float")


def _np(t) -> np.ndarray:
    """torch tensor -> numpy (float64 -> float32)."""
    import torch

    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        if t.dtype == torch.float64:
            t = t.float()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.numpy()
    arr = np.asarray(t)
    return arr.astype("float32") if arr.dtype == np.float64 else arr


def is_torch_tensor(v) -> bool:
    return type(v).__module__.startswith("torch") and hasattr(v, "detach") and hasattr(v, "dtype")


def is_dynamic(v) -> bool:
    if isinstance(v, Expr):
        return True
    if isinstance(v, (list, tuple)):
        return any(is_dynamic(x) for x in v)
    return False


# ------------------------------------------------------------------------------------ context

class AtenContext:
    """What converters use: typing of relay values and conversion of values to relay."""

    def output(self, v):
        """The function's result: tensors (and constants) in a nested output, as one value or a Tuple."""
        flat = []

        def walk(x):
            if isinstance(x, (list, tuple)):
                for y in x:
                    walk(y)
            elif x is None:
                return
            elif isinstance(x, Expr):
                flat.append(x)
            elif is_torch_tensor(x) or isinstance(x, (np.ndarray, int, float, bool)):
                flat.append(self.expr(x))
            else:
                raise TypeError(f"cannot return a {type(x).__name__} from the relay function")

        walk(v)
        if not flat:
            raise ValueError("the model returns no tensor")
        return flat[0] if len(flat) == 1 else Tuple(tuple(flat))

    def __init__(self):
        self.types = TypeCache()
        self.weights: set = set()  # ids of the relay Vars that stand for weights

    def is_weight_expr(self, e) -> bool:
        """Does e depend only on weights and constants (so FoldConstant folds it once params are bound)?"""
        from ..visitor import post_order

        for n in post_order(e):
            if isinstance(n, Var) and id(n) not in self.weights:
                return False
        return True

    # -- typing
    def shape(self, e) -> tuple:
        if is_torch_tensor(e):
            return tuple(int(s) for s in e.shape)
        return self.types.shape(e)

    def dtype(self, e) -> str:
        if is_torch_tensor(e):
            return dtype_str(e.dtype)
        if isinstance(e, bool):
            return "bool"
        if isinstance(e, int):
            return "int64"
        if isinstance(e, float):
            return "float32"
        return self.types.dtype(e)

    def ndim(self, e) -> int:
        return len(self.shape(e))

    # -- conversion
    def expr(self, v, dtype: str | None = None) -> Expr:
        """A relay expression for v (cast to dtype when given)."""
        if isinstance(v, Expr):
            if dtype is not None and self.dtype(v) != dtype:
                return _t.cast(v, dtype)
            return v
        if v is None:
            raise TypeError("expected a tensor, got None")
        if is_torch_tensor(v) or isinstance(v, np.ndarray):
            arr = _np(v)
            return new_const(arr if dtype is None else arr.astype(dtype))
        if isinstance(v, (bool, int, float)):
            if dtype is None:
                dtype = "bool" if isinstance(v, bool) else "int64" if isinstance(v, int) else "float32"
            return new_const(np.array(v, dtype=dtype))
        if isinstance(v, (list, tuple)) and all(isinstance(x, (bool, int, float)) for x in v):
            arr = np.array(v)
            return new_const(arr.astype(dtype) if dtype else _np(arr))
        raise TypeError(f"cannot make a tensor from {type(v).__name__} {v!r}")

    def scalar_const(self, value, dtype: str) -> Constant:
        return new_const(np.array(value, dtype=dtype))


# ------------------------------------------------------------------------------------ helpers

def _dummy(ctx, v):
    import torch

    if isinstance(v, Expr) or is_torch_tensor(v):
        nd = ctx.ndim(v)
        return torch.empty(() if nd == 0 else (1,) * 1, dtype=torch_dtype(ctx.dtype(v)))
    return v


def promote(ctx, a, b) -> str:
    """PyTorch's result dtype of a binary operation (float64 demoted to float32)."""
    import torch

    return dtype_str(torch.result_type(_dummy(ctx, a), _dummy(ctx, b)))


def _binary_operands(ctx, a, b, dtype=None):
    dt = dtype or promote(ctx, a, b)
    return ctx.expr(a, dt), ctx.expr(b, dt), dt


def _norm_axis(axis: int, ndim: int) -> int:
    if ndim == 0:
        return 0
    if not -ndim <= axis < ndim:
        raise IndexError(f"dimension {axis} is out of range for a tensor of rank {ndim}")
    return axis % ndim


def _ints(v) -> list:
    if isinstance(v, (list, tuple)):
        return [_int(x) for x in v]
    return [_int(v)]


def _int(v) -> int:
    if isinstance(v, Expr):
        raise TypeError("a size or index that depends on tensor data is not supported (shapes must be static)")
    if is_torch_tensor(v):
        return int(v.item())
    return int(v)


def _scalar(v):
    if is_torch_tensor(v) and v.dim() == 0:
        return v.item()
    return v


def _is_scalar(v) -> bool:
    return isinstance(v, (bool, int, float))


def _is_op(e, name: str) -> bool:
    return isinstance(e, Call) and getattr(e.op, "name", None) == name


def _has_op(name: str) -> bool:
    try:
        _get_op(name)
        return True
    except KeyError:
        return False


def _reshape(ctx, x, shape):
    shape = tuple(int(s) for s in shape)
    if ctx.shape(x) == shape:
        return x
    # reshape of a reshape: reshape the source once
    if _is_op(x, "reshape"):
        x = x.args[0]
        if ctx.shape(x) == shape:
            return x
    return _tf.reshape(x, shape)


def _resolve_shape(shape, numel: int) -> list:
    shape = [_int(s) for s in shape]
    if -1 in shape:
        i = shape.index(-1)
        known = 1
        for j, s in enumerate(shape):
            if j != i:
                known *= s
        shape[i] = numel // known if known else 0
    return shape


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _bias(ctx, out, b, axis=-1):
    if b is None:
        return out
    b = ctx.expr(b, ctx.dtype(out))
    if ctx.ndim(b) == 1 and ctx.shape(b)[0] == ctx.shape(out)[axis]:
        return _nn.bias_add(out, b, axis=axis)
    return _t.add(out, b)


__all__ = ["CONVERTERS", "STATIC_RESULT", "Args", "AtenContext", "register", "lookup", "supported_ops",
           "dtype_str", "is_dynamic", "is_torch_tensor"]


# The converters live in the family modules below; importing them registers every converter in
# CONVERTERS.  They import the helpers above from this module, so they are imported last.
from . import aten_linalg, aten_math, aten_nn, aten_shape, selective_scan  # noqa: E402, F401
