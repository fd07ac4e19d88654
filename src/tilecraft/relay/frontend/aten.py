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
"""

from __future__ import annotations

import math

import numpy as np

from ..expr import Call, Constant, Expr, Var
from ..op import image as _image
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


# ------------------------------------------------------------------------------------ identity-like

@register("contiguous", "clone", "detach", "alias", "lift_fresh_copy", "lift_fresh", "lift", "dropout",
          "feature_dropout", "alpha_dropout", "feature_alpha_dropout", "resolve_conj", "resolve_neg",
          "_unsafe_view_copy", "positive", "prim::data")
def _identity(ctx, a):
    return a[0]


@register("native_dropout")
def _native_dropout(ctx, a):
    import torch

    return (a[0], torch.ones(ctx.shape(a[0]), dtype=torch.bool))


@register("_assert_tensor_metadata", "_assert_async", "_assert_scalar", "sym_constrain_range_for_size",
          "sym_constrain_range", "prim::RaiseException_unreachable")
def _noop(ctx, a):
    return None


@register("size", "sym_size")
def _size(ctx, a):
    shape = ctx.shape(a[0])
    if a.get(1) is None:
        return list(shape)
    return shape[_norm_axis(_int(a[1]), len(shape))]


@register("dim")
def _dim(ctx, a):
    return ctx.ndim(a[0])


@register("numel", "sym_numel")
def _numel_op(ctx, a):
    return _numel(ctx.shape(a[0]))


@register("is_floating_point")
def _is_fp(ctx, a):
    return _is_float(ctx.dtype(a[0]))


@register("is_complex")
def _is_cplx(ctx, a):
    return False


# ------------------------------------------------------------------------------------ casts

def _cast(ctx, x, dtype):
    dt = dtype_str(dtype)
    if dt is None or ctx.dtype(x) == dt:
        return x
    return _t.cast(x, dt)


@register("to", "_to_copy")
def _to(ctx, a):
    x = a[0]
    if a.has("other"):
        return _cast(ctx, x, ctx.dtype(a["other"]))
    dtype = a.get("dtype")  # to.dtype / to.device / to.dtype_layout / _to_copy all name it "dtype"
    return _cast(ctx, x, dtype)


@register("type_as")
def _type_as(ctx, a):
    return _cast(ctx, a[0], ctx.dtype(a[1]))


def _cast_to(dtype):
    return lambda ctx, a: _cast(ctx, a[0], dtype)


for _n, _d in (("float", "float32"), ("double", "float32"), ("half", "float16"), ("int", "int32"),
               ("long", "int64"), ("bool", "bool"), ("byte", "uint8"), ("char", "int8"), ("short", "int16")):
    register(_n)(_cast_to(_d))


# ------------------------------------------------------------------------------------ element-wise

def _unary(relay_fn, float_only=True):
    def conv(ctx, a):
        x = a[0]
        if float_only and not _is_float(ctx.dtype(x)):
            x = _t.cast(x, "float32")
        return relay_fn(x)

    return conv


for _name, _fn in (("exp", _t.exp), ("log", _t.log), ("sqrt", _t.sqrt), ("rsqrt", _t.rsqrt),
                   ("sigmoid", _t.sigmoid), ("tanh", _t.tanh), ("erf", _t.erf), ("sin", _t.sin), ("cos", _t.cos),
                   ("reciprocal", _t.reciprocal)):
    register(_name)(_unary(_fn))
for _name, _fn in (("floor", _t.floor), ("ceil", _t.ceil), ("trunc", _t.trunc), ("fix", _t.trunc),
                   ("abs", _t.abs), ("neg", _t.negative), ("negative", _t.negative), ("sign", _t.sign),
                   ("relu", _nn.relu), ("square", _t.square)):
    register(_name)(_unary(_fn, float_only=False))


@register("round")
def _round(ctx, a):
    if a.get("decimals"):
        s = 10.0 ** _int(a["decimals"])
        x = a[0]
        return _t.divide(_t.round(_t.multiply(x, ctx.scalar_const(s, ctx.dtype(x)))), ctx.scalar_const(s, ctx.dtype(x)))
    return _t.round(a[0])


def _log_base(base):
    def conv(ctx, a):
        x = a[0] if _is_float(ctx.dtype(a[0])) else _t.cast(a[0], "float32")
        return _t.multiply(_t.log(x), ctx.scalar_const(1.0 / math.log(base), ctx.dtype(x)))

    return conv


register("log2")(_log_base(2.0))
register("log10")(_log_base(10.0))


@register("log1p")
def _log1p(ctx, a):
    x = a[0]
    return _t.log(_t.add(x, ctx.scalar_const(1.0, ctx.dtype(x))))


@register("expm1")
def _expm1(ctx, a):
    x = a[0]
    return _t.subtract(_t.exp(x), ctx.scalar_const(1.0, ctx.dtype(x)))


@register("gelu")
def _gelu(ctx, a):
    approx = a.get("approximate", "none") or "none"
    return _nn.gelu(a[0], approximate=approx)


@register("silu")
def _silu(ctx, a):
    return _nn.silu(a[0])


@register("hardswish")
def _hardswish(ctx, a):
    return _nn.hardswish(a[0])


@register("hardsigmoid")
def _hardsigmoid(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    return _t.clip(_t.add(_t.multiply(x, ctx.scalar_const(1 / 6, dt)), ctx.scalar_const(0.5, dt)), 0.0, 1.0)


@register("leaky_relu")
def _leaky_relu(ctx, a):
    slope = _scalar(a.get(1))
    return _nn.leaky_relu(a[0], 0.01 if slope is None else float(slope))


@register("hardtanh")
def _hardtanh(ctx, a):
    lo, hi = _scalar(a.get(1)), _scalar(a.get(2))
    return _t.clip(a[0], -1.0 if lo is None else float(lo), 1.0 if hi is None else float(hi))


@register("relu6")
def _relu6(ctx, a):
    return _t.clip(a[0], 0.0, 6.0)


@register("elu", "celu", "selu")
def _elu(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    alpha = float(_scalar(a.get("alpha", 1.0)) if a.has("alpha") else 1.0)
    scale = float(_scalar(a.get("scale", 1.0)) if a.has("scale") else 1.0)
    in_scale = float(_scalar(a.get("input_scale", 1.0)) if a.has("input_scale") else 1.0)
    if len(a) == 1:  # selu
        alpha, scale = 1.6732632423543772, 1.0507009873554805
    zero = ctx.scalar_const(0.0, dt)
    neg = _t.multiply(_t.subtract(_t.exp(_t.multiply(x, ctx.scalar_const(in_scale, dt))), ctx.scalar_const(1.0, dt)),
                      ctx.scalar_const(alpha, dt))
    y = _t.where(_t.greater(x, zero), x, neg)
    return _t.multiply(y, ctx.scalar_const(scale, dt)) if scale != 1.0 else y


@register("softplus")
def _softplus(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    beta = float(_scalar(a.get(1)) if a.get(1) is not None else 1.0)
    threshold = float(_scalar(a.get(2)) if a.get(2) is not None else 20.0)
    bx = _t.multiply(x, ctx.scalar_const(beta, dt)) if beta != 1.0 else x
    soft = _t.log(_t.add(_t.exp(bx), ctx.scalar_const(1.0, dt)))
    if beta != 1.0:
        soft = _t.divide(soft, ctx.scalar_const(beta, dt))
    return _t.where(_t.greater(bx, ctx.scalar_const(threshold, dt)), x, soft)


@register("mish")
def _mish(ctx, a):
    x = a[0]
    dt = ctx.dtype(x)
    sp = _t.log(_t.add(_t.exp(x), ctx.scalar_const(1.0, dt)))
    return _t.multiply(x, _t.tanh(sp))


@register("logical_not", "bitwise_not")
def _logical_not(ctx, a):
    x = a[0]
    if ctx.dtype(x) != "bool":
        if a.opname == "aten::bitwise_not":
            raise OpNotImplemented(f"bitwise_not of a {ctx.dtype(x)} tensor (only bool is supported)")
        x = _t.not_equal(x, ctx.scalar_const(0, ctx.dtype(x)))
    return _t.equal(x, ctx.scalar_const(False, "bool"))


# ------------------------------------------------------------------------------------ binary

def _alpha(ctx, other, alpha):
    alpha = _scalar(alpha)
    if alpha is None or alpha == 1:
        return other
    if isinstance(other, Expr):
        return _t.multiply(other, ctx.scalar_const(alpha, ctx.dtype(other)))
    return other * alpha


@register("add")
def _add(ctx, a):
    x, y = a[0], _alpha(ctx, a[1], a.get("alpha"))
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):  # aten::add.t: list concatenation
        return list(x) + list(y)
    x, y, _ = _binary_operands(ctx, x, y)
    return _t.add(x, y)


@register("sub", "subtract")
def _sub(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], _alpha(ctx, a[1], a.get("alpha")))
    return _t.subtract(x, y)


@register("rsub")
def _rsub(ctx, a):
    x, y, _ = _binary_operands(ctx, a[1], _alpha(ctx, a[0], a.get("alpha")))
    return _t.subtract(x, y)


@register("mul", "multiply")
def _mul(ctx, a):
    x, y, dt = _binary_operands(ctx, a[0], a[1])
    if dt == "bool":
        return _t.logical_and(x, y)
    return _t.multiply(x, y)


@register("div", "divide", "true_divide")
def _div(ctx, a):
    mode = a.get("rounding_mode")
    dt = promote(ctx, a[0], a[1])
    if mode is None and not _is_float(dt):
        dt = "float32"
    x, y, dt = _binary_operands(ctx, a[0], a[1], dt)
    if mode is None:
        return _t.divide(x, y)
    if mode == "floor":
        return _t.floor_divide(x, y) if not _is_float(dt) else _t.floor(_t.divide(x, y))
    if mode == "trunc":
        if _is_float(dt):
            return _t.trunc(_t.divide(x, y))
        return _t.divide(x, y)  # integer division truncates
    raise ValueError(f"div: unknown rounding_mode {mode!r}")


@register("floor_divide")
def _floordiv(ctx, a):
    x, y, dt = _binary_operands(ctx, a[0], a[1])
    return _t.floor_divide(x, y) if not _is_float(dt) else _t.floor(_t.divide(x, y))


@register("remainder")
def _remainder(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], a[1])
    return _t.floor_mod(x, y)


@register("fmod")
def _fmod(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], a[1])
    return _t.mod(x, y)


@register("pow")
def _pow(ctx, a):
    base, exp = a[0], _scalar(a[1])
    if isinstance(base, Expr) and _is_scalar(exp):
        dt = promote(ctx, base, exp)
        x = ctx.expr(base, dt)
        if exp == 1:
            return x
        if exp == 2:
            return _t.multiply(x, x)
        if exp == 3:
            return _t.multiply(_t.multiply(x, x), x)
        if exp == 0.5:
            return _t.sqrt(x)
        if exp == -0.5:
            return _t.rsqrt(x)
        if exp == -1:
            return _t.divide(ctx.scalar_const(1, dt), x)
    x, y, _ = _binary_operands(ctx, base, exp)
    return _t.power(x, y)


def _binary(fn):
    def conv(ctx, a):
        x, y, _ = _binary_operands(ctx, a[0], a[1])
        return fn(x, y)

    return conv


register("maximum", "fmax")(_binary(_t.maximum))
register("minimum", "fmin")(_binary(_t.minimum))
for _name, _fn in (("eq", _t.equal), ("ne", _t.not_equal), ("lt", _t.less), ("le", _t.less_equal),
                   ("gt", _t.greater), ("ge", _t.greater_equal), ("less", _t.less), ("greater", _t.greater),
                   ("less_equal", _t.less_equal), ("greater_equal", _t.greater_equal), ("not_equal", _t.not_equal)):
    register(_name)(_binary(_fn))


def _to_bool(ctx, x):
    return x if ctx.dtype(x) == "bool" else _t.not_equal(x, ctx.scalar_const(0, ctx.dtype(x)))


def _logical(fn, bitwise=False):
    def conv(ctx, a):
        x, y, dt = _binary_operands(ctx, a[0], a[1])
        if bitwise and dt != "bool":
            raise OpNotImplemented(f"bitwise operations on {dt} tensors are not supported (only bool)")
        return fn(_to_bool(ctx, x), _to_bool(ctx, y))

    return conv


register("logical_and")(_logical(_t.logical_and))
register("logical_or")(_logical(_t.logical_or))
register("__and__", "bitwise_and")(_logical(_t.logical_and, True))
register("__or__", "bitwise_or")(_logical(_t.logical_or, True))


@register("logical_xor", "__xor__", "bitwise_xor")
def _xor(ctx, a):
    x, y, _ = _binary_operands(ctx, a[0], a[1])
    return _t.not_equal(_to_bool(ctx, x), _to_bool(ctx, y))


@register("clamp", "clip")
def _clamp(ctx, a):
    x, lo, hi = a[0], _scalar(a.get(1)), _scalar(a.get(2))
    if _is_scalar(lo) or lo is None:
        if _is_scalar(hi) or hi is None:
            return _t.clip(x, -math.inf if lo is None else lo, math.inf if hi is None else hi) \
                if _is_float(ctx.dtype(x)) else _clamp_int(ctx, x, lo, hi)
    if lo is not None:
        x, lo_e, _ = _binary_operands(ctx, x, lo)
        x = _t.maximum(x, lo_e)
    if hi is not None:
        x, hi_e, _ = _binary_operands(ctx, x, hi)
        x = _t.minimum(x, hi_e)
    return x


def _clamp_int(ctx, x, lo, hi):
    dt = ctx.dtype(x)
    if lo is not None:
        x = _t.maximum(x, ctx.scalar_const(lo, dt))
    if hi is not None:
        x = _t.minimum(x, ctx.scalar_const(hi, dt))
    return x


@register("clamp_min")
def _clamp_min(ctx, a):
    return _clamp(ctx, Args([a[0], a[1], None]))


@register("clamp_max")
def _clamp_max(ctx, a):
    return _clamp(ctx, Args([a[0], None, a[1]]))


@register("where")
def _where(ctx, a):
    if len(a) == 1 or a.get(1) is None:
        raise OpNotImplemented("where(condition) with one argument has a data-dependent shape")
    cond = _to_bool(ctx, ctx.expr(a[0]))
    x, y, _ = _binary_operands(ctx, a[1], a[2])
    return _t.where(cond, x, y)


@register("masked_fill")
def _masked_fill(ctx, a):
    x, mask, value = a[0], a[1], _scalar(a[2])
    dt = ctx.dtype(x)
    return _t.where(_to_bool(ctx, ctx.expr(mask)), ctx.expr(value, dt), ctx.expr(x))


@register("lerp")
def _lerp(ctx, a):
    s, e, w = a[0], a[1], _scalar(a[2])
    s, e, dt = _binary_operands(ctx, s, e)
    return _t.add(s, _t.multiply(ctx.expr(w, dt), _t.subtract(e, s)))


# ------------------------------------------------------------------------------------ reductions

def _dims(ctx, x, dim):
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return None
    nd = ctx.ndim(x)
    return tuple(_norm_axis(d, nd) for d in _ints(dim))


def _reduction(fn):
    def conv(ctx, a):
        x = a[0]
        dtype = a.get("dtype")
        if dtype is not None:
            x = _cast(ctx, x, dtype)
        elif ctx.dtype(x) in ("bool", "int8", "uint8", "int16", "int32") and fn in (_t.sum, _t.prod):
            x = _t.cast(x, "int64")
        elif fn is _t.mean and not _is_float(ctx.dtype(x)):
            x = _t.cast(x, "float32")
        dim = a.get("dim") if a.has("dim") else None
        keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
        axes = _dims(ctx, x, dim)
        if ctx.ndim(x) == 0:
            return x
        return fn(x, axis=axes, keepdims=keep)

    return conv


register("sum")(_reduction(_t.sum))
register("mean")(_reduction(_t.mean))
register("prod")(_reduction(_t.prod))
register("amax")(_reduction(_t.max))
register("amin")(_reduction(_t.min))


def _max_min(reduce_fn, arg_fn, binary_fn):
    def conv(ctx, a):
        if len(a) >= 2 and a.has("other"):
            x, y, _ = _binary_operands(ctx, a[0], a[1])
            return binary_fn(x, y)
        x = a[0]
        if not a.has("dim"):
            return reduce_fn(x)
        axis = _norm_axis(_int(a["dim"]), ctx.ndim(x))
        keep = bool(a.get("keepdim", False))
        return (reduce_fn(x, axis=(axis,), keepdims=keep),
                _t.cast(arg_fn(x, axis=(axis,), keepdims=keep), "int64"))

    return conv


register("max")(_max_min(_t.max, _t.argmax, _t.maximum))
register("min")(_max_min(_t.min, _t.argmin, _t.minimum))


def _arg(fn):
    def conv(ctx, a):
        x = a[0]
        dim = a.get(1)
        keep = bool(a.get(2, False))
        if dim is None:
            return _t.cast(fn(_tf.reshape(x, (-1,)), axis=(0,), keepdims=False), "int64")
        return _t.cast(fn(x, axis=(_norm_axis(_int(dim), ctx.ndim(x)),), keepdims=keep), "int64")

    return conv


register("argmax")(_arg(_t.argmax))
register("argmin")(_arg(_t.argmin))


def _var_std(take_sqrt):
    def conv(ctx, a):
        x = a[0]
        dim = a.get("dim") if a.has("dim") else None
        if a.has("correction"):
            corr = a.get("correction")
            corr = 1 if corr is None else float(_scalar(corr))
        else:
            unb = a.get("unbiased", True)
            corr = 1 if unb is None or unb else 0
        keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
        axes = _dims(ctx, x, dim)
        shape = ctx.shape(x)
        n = _numel(shape) if axes is None else _numel([shape[i] for i in axes])
        dt = ctx.dtype(x)
        mu = _t.mean(x, axis=axes, keepdims=True)
        d = _t.subtract(x, mu)
        v = _t.sum(_t.multiply(d, d), axis=axes, keepdims=keep)
        v = _t.divide(v, ctx.scalar_const(max(n - corr, 0), dt))
        return _t.sqrt(v) if take_sqrt else v

    return conv


register("var")(_var_std(False))
register("std")(_var_std(True))


def _any_all(reduce_fn):
    def conv(ctx, a):
        x = _t.cast(_to_bool(ctx, a[0]), "int32")
        dim = a.get("dim") if a.has("dim") else None
        keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
        out = reduce_fn(x, axis=_dims(ctx, x, dim), keepdims=keep) if ctx.ndim(x) else x
        return _t.not_equal(out, ctx.scalar_const(0, "int32"))

    return conv


register("any")(_any_all(_t.max))
register("all")(_any_all(_t.min))


@register("logsumexp")
def _logsumexp(ctx, a):
    x = a[0]
    axes = _dims(ctx, x, a[1])
    keep = bool(a.get(2, False))
    m = _t.max(x, axis=axes, keepdims=True)
    s = _t.log(_t.sum(_t.exp(_t.subtract(x, m)), axis=axes, keepdims=True))
    out = _t.add(s, m)
    return out if keep else _tf.squeeze(out, axes)


@register("norm", "linalg_vector_norm")
def _norm(ctx, a):
    x = a[0]
    p = _scalar(a.get(1))
    p = 2.0 if p is None else float(p)
    dim = a.get("dim") if a.has("dim") else None
    keep = bool(a.get("keepdim", False)) if a.has("keepdim") else False
    axes = _dims(ctx, x, dim)
    if p == 2.0:
        return _t.sqrt(_t.sum(_t.multiply(x, x), axis=axes, keepdims=keep))
    if p == 1.0:
        return _t.sum(_t.abs(x), axis=axes, keepdims=keep)
    if p == math.inf:
        return _t.max(_t.abs(x), axis=axes, keepdims=keep)
    dt = ctx.dtype(x)
    s = _t.sum(_t.power(_t.abs(x), ctx.scalar_const(p, dt)), axis=axes, keepdims=keep)
    return _t.power(s, ctx.scalar_const(1.0 / p, dt))


# ------------------------------------------------------------------------------------ softmax & norms

@register("softmax", "_softmax")
def _softmax(ctx, a):
    x = a[0]
    dtype = a.get("dtype") if a.has("dtype") else None
    if dtype is not None:
        x = _cast(ctx, x, dtype)
    axis = _norm_axis(_int(a[1]), ctx.ndim(x))
    return _nn.softmax(x, axis=axis)


@register("log_softmax", "_log_softmax")
def _log_softmax(ctx, a):
    x = a[0]
    dtype = a.get("dtype") if a.has("dtype") else None
    if dtype is not None:
        x = _cast(ctx, x, dtype)
    return _nn.log_softmax(x, axis=_norm_axis(_int(a[1]), ctx.ndim(x)))


def _ones_or(ctx, v, n, dt, fill):
    return ctx.expr(v) if v is not None else new_const(np.full((n,), fill, dtype=dt))


@register("layer_norm", "native_layer_norm")
def _layer_norm(ctx, a):
    x, normalized_shape, w, b = a[0], _ints(a[1]), a[2], a[3]
    eps = float(_scalar(a[4]) if a[4] is not None else 1e-5)
    dt = ctx.dtype(x)
    shape = ctx.shape(x)
    k = len(normalized_shape)
    n = _numel(normalized_shape)
    gamma = _ones_or(ctx, w, n, dt, 1.0)
    beta = _ones_or(ctx, b, n, dt, 0.0)
    if k == 1:
        out = _nn.layer_norm(x, gamma, beta, axis=-1, epsilon=eps)
    else:
        flat = _reshape(ctx, x, tuple(shape[:-k]) + (n,))
        out = _nn.layer_norm(flat, _reshape(ctx, gamma, (n,)), _reshape(ctx, beta, (n,)), axis=-1, epsilon=eps)
        out = _reshape(ctx, out, shape)
    if a.opname == "aten::native_layer_norm":  # returns (out, mean, rstd)
        import torch

        stat = torch.zeros(tuple(shape[:-k]) + (1,) * k)
        return (out, stat, stat)
    return out


@register("rms_norm")
def _rms_norm(ctx, a):
    x, normalized_shape, w, eps = a[0], _ints(a[1]), a[2], _scalar(a[3])
    dt = ctx.dtype(x)
    eps = float(eps) if eps is not None else float(np.finfo(np.float32).eps)
    axes = tuple(range(ctx.ndim(x) - len(normalized_shape), ctx.ndim(x)))
    ms = _t.mean(_t.multiply(x, x), axis=axes, keepdims=True)
    out = _t.multiply(x, _t.rsqrt(_t.add(ms, ctx.scalar_const(eps, dt))))
    return _t.multiply(out, ctx.expr(w)) if w is not None else out


@register("batch_norm", "_native_batch_norm_legit_no_training", "_native_batch_norm_legit", "native_batch_norm")
def _batch_norm(ctx, a):
    x, w, b, mean, var = a[0], a[1], a[2], a[3], a[4]
    if a.has("training") and a["training"]:
        if a.has("use_input_stats") or mean is None:
            raise OpNotImplemented("batch_norm in training mode (call model.eval() before importing)")
    if mean is None or var is None:
        raise OpNotImplemented("batch_norm without running statistics (call model.eval())")
    eps = float(_scalar(a["eps"]))
    c = ctx.shape(x)[1]
    dt = ctx.dtype(x)
    gamma = _ones_or(ctx, w, c, dt, 1.0)
    beta = _ones_or(ctx, b, c, dt, 0.0)
    out = _nn.batch_norm(x, gamma, beta, ctx.expr(mean), ctx.expr(var), axis=1, epsilon=eps)[0]
    if a.opname == "aten::batch_norm":
        return out
    import torch

    empty = torch.zeros((0,))
    return (out, empty, empty)  # _native_batch_norm_legit_no_training: (out, save_mean, save_rstd)


@register("group_norm")
def _group_norm(ctx, a):
    x, groups, w, b = a[0], _int(a[1]), a[2], a[3]
    eps = float(_scalar(a[4]) if a[4] is not None else 1e-5)
    c = ctx.shape(x)[1]
    dt = ctx.dtype(x)
    gamma = _ones_or(ctx, w, c, dt, 1.0)
    beta = _ones_or(ctx, b, c, dt, 0.0)
    if ctx.ndim(x) == 4 and _has_op("nn.group_norm"):
        return _nn.group_norm(x, gamma, beta, num_groups=groups, axis=1, epsilon=eps)
    shape = ctx.shape(x)
    g = _reshape(ctx, x, (shape[0], groups, _numel(shape[1:]) // groups))
    mu = _t.mean(g, axis=(2,), keepdims=True)
    d = _t.subtract(g, mu)
    v = _t.mean(_t.multiply(d, d), axis=(2,), keepdims=True)
    y = _reshape(ctx, _t.multiply(d, _t.rsqrt(_t.add(v, ctx.scalar_const(eps, dt)))), shape)
    bshape = (1, c) + (1,) * (len(shape) - 2)
    return _t.add(_t.multiply(y, _reshape(ctx, gamma, bshape)), _reshape(ctx, beta, bshape))


@register("instance_norm")
def _instance_norm(ctx, a):
    x, w, b = a[0], a[1], a[2]
    eps = float(_scalar(a["eps"]))
    shape = ctx.shape(x)
    dt = ctx.dtype(x)
    axes = tuple(range(2, len(shape)))
    mu = _t.mean(x, axis=axes, keepdims=True)
    d = _t.subtract(x, mu)
    v = _t.mean(_t.multiply(d, d), axis=axes, keepdims=True)
    y = _t.multiply(d, _t.rsqrt(_t.add(v, ctx.scalar_const(eps, dt))))
    bshape = (1, shape[1]) + (1,) * (len(shape) - 2)
    if w is not None:
        y = _t.multiply(y, _reshape(ctx, ctx.expr(w), bshape))
    if b is not None:
        y = _t.add(y, _reshape(ctx, ctx.expr(b), bshape))
    return y


# ------------------------------------------------------------------------------------ linear algebra

def _bias(ctx, out, b, axis=-1):
    if b is None:
        return out
    b = ctx.expr(b, ctx.dtype(out))
    if ctx.ndim(b) == 1 and ctx.shape(b)[0] == ctx.shape(out)[axis]:
        return _nn.bias_add(out, b, axis=axis)
    return _t.add(out, b)


@register("linear")
def _linear(ctx, a):
    x, w, b = a[0], ctx.expr(a[1]), a[2]
    x = ctx.expr(x, ctx.dtype(w)) if ctx.dtype(x) != ctx.dtype(w) else x
    if ctx.ndim(w) == 1:
        return _bias(ctx, _t.sum(_t.multiply(x, w), axis=(-1,)), b)
    return _bias(ctx, _nn.dense(x, w), b)


def _transposed_last2(ctx, e):
    """If e is transpose(src) swapping its last two axes, return src."""
    if _is_op(e, "transpose"):
        axes = e.attrs.get("axes")
        nd = ctx.ndim(e)
        if axes is not None and nd >= 2:
            want = list(range(nd - 2)) + [nd - 1, nd - 2]
            if [ax % nd for ax in axes] == want:
                return e.args[0]
    return None


def _matmul(ctx, x, y):
    x, y, _ = _binary_operands(ctx, x, y)
    sx, sy = ctx.shape(x), ctx.shape(y)
    if len(sx) == 1 and len(sy) == 1:
        return _t.sum(_t.multiply(x, y))
    if len(sy) == 1:
        return _t.sum(_t.multiply(x, y), axis=(-1,))
    if len(sx) == 1:
        out = _matmul(ctx, _tf.expand_dims(x, 0), y)
        return _tf.squeeze(out, (ctx.ndim(out) - 2,))
    if len(sy) == 2:
        m = _numel(sx[:-1])
        src = _transposed_last2(ctx, y)
        if src is not None:  # x @ w.T  ->  dense(x, w)
            return _nn.dense(x, src)
        if ctx.is_weight_expr(y):
            return _nn.dense(x, _tf.transpose(y, (1, 0)))
        x3 = _reshape(ctx, x, (1, m, sx[-1]))
        out = _nn.batch_matmul(x3, _reshape(ctx, y, (1,) + sy), transpose_b=False)
        return _reshape(ctx, out, tuple(sx[:-1]) + (sy[-1],))
    # batched: broadcast the batch dimensions, fold them into one
    from ..op._rel import broadcast_shapes

    batch = broadcast_shapes(tuple(sx[:-2]), tuple(sy[:-2]))
    nb = _numel(batch)
    ysrc = _transposed_last2(ctx, y)
    trans_b = ysrc is not None
    if trans_b:
        y, sy = ysrc, ctx.shape(ysrc)

    def fold(e, s):
        lead = tuple(s[:-2])
        if _numel(lead) == 1:
            return _reshape(ctx, e, (1,) + tuple(s[-2:]))
        if len(lead) != len(batch) or tuple(lead) != tuple(batch):
            e = _tf.broadcast_to(e, tuple(batch) + tuple(s[-2:]))
        return _reshape(ctx, e, (nb,) + tuple(s[-2:]))

    x3 = fold(x, sx)
    y3 = fold(y, sy)
    out = _nn.batch_matmul(x3, y3, transpose_a=False, transpose_b=trans_b)
    n = sy[-2] if trans_b else sy[-1]
    return _reshape(ctx, out, tuple(batch) + (sx[-2], n))


@register("matmul")
def _matmul_conv(ctx, a):
    return _matmul(ctx, a[0], a[1])


@register("mm")
def _mm(ctx, a):
    return _matmul(ctx, a[0], a[1])


@register("bmm")
def _bmm(ctx, a):
    return _matmul(ctx, a[0], a[1])


@register("mv", "dot")
def _mv(ctx, a):
    return _matmul(ctx, a[0], a[1])


def _scaled(ctx, e, s):
    s = _scalar(s)
    if s is None or s == 1:
        return e
    return _t.multiply(e, ctx.scalar_const(s, ctx.dtype(e)))


@register("addmm", "baddbmm", "addmv")
def _addmm(ctx, a):
    inp, m1, m2 = a[0], a[1], a[2]
    beta, alpha = _scalar(a.get("beta", 1)), _scalar(a.get("alpha", 1))
    if ctx.ndim(m2) == 2 and ctx.ndim(m1) == 2:
        src = _transposed_last2(ctx, ctx.expr(m2)) if isinstance(m2, Expr) else None
        if src is not None:
            prod = _nn.dense(ctx.expr(m1), src)
        else:
            prod = _nn.dense(ctx.expr(m1), _tf.transpose(ctx.expr(m2), (1, 0)))
    else:
        prod = _matmul(ctx, m1, m2)
    prod = _scaled(ctx, prod, alpha)
    if beta == 0:
        return prod
    inp = ctx.expr(inp, ctx.dtype(prod))
    inp = _scaled(ctx, inp, beta)
    if ctx.ndim(inp) == 1 and ctx.ndim(prod) == 2 and ctx.shape(inp)[0] == ctx.shape(prod)[1]:
        return _nn.bias_add(prod, inp, axis=-1)
    return _t.add(prod, inp)


@register("einsum")
def _einsum(ctx, a):
    eq, ops = a[0], list(a[1])
    eq = eq.replace(" ", "")
    lhs, rhs = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) != 2 or rhs is None:
        raise OpNotImplemented(f"einsum {eq!r}: only two-operand equations with '->' are supported")
    ta, tb = terms
    x, y = ops
    batch = [c for c in ta if c in tb and c in rhs]
    contract = [c for c in ta if c in tb and c not in rhs]
    fa = [c for c in ta if c not in tb]
    fb = [c for c in tb if c not in ta]
    if any(c not in ta + tb for c in rhs) or "." in eq:
        raise OpNotImplemented(f"einsum {eq!r}")
    sx, sy = ctx.shape(x), ctx.shape(y)
    size = {c: sx[i] for i, c in enumerate(ta)}
    size.update({c: sy[i] for i, c in enumerate(tb)})
    xp = _tf.transpose(x, tuple(ta.index(c) for c in batch + fa + contract))
    yp = _tf.transpose(y, tuple(tb.index(c) for c in batch + contract + fb))
    nb, nm, nk, nn_ = (_numel([size[c] for c in g]) for g in (batch, fa, contract, fb))
    out = _nn.batch_matmul(_reshape(ctx, xp, (nb, nm, nk)), _reshape(ctx, yp, (nb, nk, nn_)), transpose_b=False)
    order = batch + fa + fb
    out = _reshape(ctx, out, tuple(size[c] for c in order))
    perm = tuple(order.index(c) for c in rhs)
    return out if perm == tuple(range(len(perm))) else _tf.transpose(out, perm)


@register("scaled_dot_product_attention")
def _sdpa(ctx, a):
    q, k, v = ctx.expr(a[0]), ctx.expr(a[1]), ctx.expr(a[2])
    mask, causal, scale = a.get(3), bool(a.get(5, False)), _scalar(a.get(6))
    if a.has("enable_gqa") and a["enable_gqa"]:
        raise OpNotImplemented("scaled_dot_product_attention with enable_gqa=True")
    sq, sk, sv = ctx.shape(q), ctx.shape(k), ctx.shape(v)
    dt = ctx.dtype(q)
    e, L, S = sq[-1], sq[-2], sk[-2]
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    from ..op._rel import broadcast_shapes

    batch = broadcast_shapes(tuple(sq[:-2]), tuple(sk[:-2]))
    nb = _numel(batch)

    def fold(t, s):
        if tuple(s[:-2]) != tuple(batch):
            t = _tf.broadcast_to(t, tuple(batch) + tuple(s[-2:]))
        return _reshape(ctx, t, (nb,) + tuple(s[-2:]))

    scores = _nn.batch_matmul(fold(q, sq), fold(k, sk), transpose_b=True)
    scores = _reshape(ctx, scores, tuple(batch) + (L, S))
    scores = _t.multiply(scores, ctx.scalar_const(scale, dt))
    neg_inf = ctx.scalar_const(-np.inf, dt)
    if causal:
        tri = np.tril(np.ones((L, S), dtype=bool))
        scores = _t.where(new_const(tri), scores, neg_inf)
    if mask is not None:
        m = ctx.expr(mask)
        if ctx.dtype(m) == "bool":
            scores = _t.where(m, scores, neg_inf)
        else:
            scores = _t.add(scores, ctx.expr(m, dt))
    attn = _nn.softmax(scores, axis=-1)
    out = _nn.batch_matmul(fold(attn, ctx.shape(attn)), fold(v, sv), transpose_b=False)
    return _reshape(ctx, out, tuple(batch) + (L, sv[-1]))


# ------------------------------------------------------------------------------------ convolution & pooling

def _conv(ctx, x, w, b, stride, padding, dilation, transposed, output_padding, groups):
    w = ctx.expr(w)
    nd = ctx.ndim(x)
    if nd not in (3, 4):
        raise OpNotImplemented(f"convolution of a {nd}-D input (only conv1d and conv2d are supported)")
    k = nd - 2
    stride, dilation = _ints(stride), _ints(dilation)
    stride = stride * k if len(stride) == 1 else stride
    dilation = dilation * k if len(dilation) == 1 else dilation
    wshape = ctx.shape(w)
    if isinstance(padding, str):
        if padding == "valid":
            padding = [0] * k
        elif padding == "same":
            total = [d * (kk - 1) for d, kk in zip(dilation, wshape[2:])]
            before = [t // 2 for t in total]
            pads = before + [t - bb for t, bb in zip(total, before)]
            padding = pads
        else:
            raise ValueError(f"unknown padding {padding!r}")
    else:
        padding = _ints(padding)
        padding = padding * k if len(padding) == 1 else padding
    if k == 1:  # conv1d as conv2d over (N, C, 1, L)
        x = _tf.expand_dims(x, 2)
        w = _tf.expand_dims(w, 2)
        stride, dilation = [1] + stride, [1] + dilation
        padding = [0, padding[0], 0, padding[1]] if len(padding) == 2 else [0] + padding
        output_padding = [0] + _ints(output_padding) if output_padding is not None else None
    if len(padding) == 2:
        padding = [padding[0], padding[1], padding[0], padding[1]]
    if transposed:
        if groups != 1 or list(dilation) != [1, 1]:
            raise OpNotImplemented("conv_transpose with groups or dilation is not supported")
        op = list(_ints(output_padding)) if output_padding is not None else [0, 0]
        op = op * 2 if len(op) == 1 else op
        out = _nn.conv2d_transpose(x, w, strides=stride, padding=padding, output_padding=op)
    else:
        out = _nn.conv2d(x, w, strides=stride, padding=padding, dilation=dilation, groups=groups,
                         channels=wshape[0], kernel_size=tuple(ctx.shape(w)[2:]))
    out = _bias(ctx, out, b, axis=1)
    if k == 1:
        out = _tf.squeeze(out, (2,))
    return out


@register("_convolution", "convolution")
def _convolution(ctx, a):
    return _conv(ctx, a[0], a[1], a[2], a[3], a[4], a[5], bool(a[6]), a[7], _int(a[8]))


@register("conv2d", "conv1d", "_convolution_mode")
def _conv2d(ctx, a):
    return _conv(ctx, a[0], a[1], a[2], a[3], a[4], a[5], False, None, _int(a[6]))


@register("conv_transpose2d", "conv_transpose1d")
def _conv_t(ctx, a):
    # (input, weight, bias, stride, padding, output_padding, groups, dilation)
    return _conv(ctx, a[0], a[1], a[2], a[3], a[4], a[7], True, a[5], _int(a[6]))


def _pool_args(ctx, x, kernel, stride, padding, dilation=1):
    kernel = _ints(kernel)
    kernel = kernel * 2 if len(kernel) == 1 else kernel
    stride = _ints(stride) if stride is not None and stride != [] else kernel
    stride = stride * 2 if len(stride) == 1 else stride
    padding = _ints(padding)
    padding = padding * 2 if len(padding) == 1 else padding
    dilation = _ints(dilation)
    dilation = dilation * 2 if len(dilation) == 1 else dilation
    return kernel, stride, padding, dilation


def _pool1d(ctx, x, fn):
    out = fn(_tf.expand_dims(x, 2))
    return _tf.squeeze(out, (2,))


@register("max_pool2d", "max_pool2d_with_indices", "max_pool1d")
def _max_pool(ctx, a):
    x = a[0]
    one_d = ctx.ndim(x) == 3
    kernel, stride, padding, dilation = _pool_args(ctx, x, a[1], a[2], a[3], a[4])
    if one_d:
        kernel, stride, padding, dilation = ([1, kernel[0]], [1, stride[0]], [0, padding[0]], [1, dilation[0]])
        x = _tf.expand_dims(x, 2)
    out = _nn.max_pool2d(x, pool_size=kernel, strides=stride, dilation=dilation, padding=padding,
                         ceil_mode=bool(a[5]))
    if one_d:
        out = _tf.squeeze(out, (2,))
    if a.opname == "aten::max_pool2d_with_indices":
        import torch

        return (out, torch.zeros((0,), dtype=torch.int64))  # the indices are not computed
    return out


@register("avg_pool2d", "avg_pool1d")
def _avg_pool(ctx, a):
    x = a[0]
    one_d = ctx.ndim(x) == 3
    kernel, stride, padding, _ = _pool_args(ctx, x, a[1], a[2], a[3])
    ceil_mode = bool(a[4])
    count_include_pad = bool(a[5]) if a.get(5) is not None else True
    if a.get(6) is not None:
        raise OpNotImplemented("avg_pool2d with divisor_override")
    if one_d:
        kernel, stride, padding = [1, kernel[0]], [1, stride[0]], [0, padding[0]]
        x = _tf.expand_dims(x, 2)
    out = _nn.avg_pool2d(x, pool_size=kernel, strides=stride, padding=padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad)
    return _tf.squeeze(out, (2,)) if one_d else out


def _adaptive(kind):
    def conv(ctx, a):
        x = a[0]
        size = _ints(a[1])
        size = size * 2 if len(size) == 1 and ctx.ndim(x) == 4 else size
        one_d = ctx.ndim(x) == 3
        if one_d:
            x = _tf.expand_dims(x, 2)
            size = [1, size[0]]
        h, w = ctx.shape(x)[2:]
        if tuple(size) == (1, 1):
            out = (_nn.global_avg_pool2d if kind == "avg" else _nn.global_max_pool2d)(x)
        else:
            out = (_nn.adaptive_avg_pool2d if kind == "avg" else _nn.adaptive_max_pool2d)(x, output_size=size)
        if one_d:
            out = _tf.squeeze(out, (2,))
        if kind == "max":
            import torch

            return (out, torch.zeros((0,), dtype=torch.int64))  # adaptive_max_pool2d returns (out, indices)
        return out

    return conv


register("adaptive_avg_pool2d", "_adaptive_avg_pool2d", "adaptive_avg_pool1d")(_adaptive("avg"))
register("adaptive_max_pool2d", "adaptive_max_pool1d")(_adaptive("max"))


def _upsample(method):
    def conv(ctx, a):
        x = a[0]
        h, w = ctx.shape(x)[2:]
        size = a.get("output_size")
        if size is None and a.has("scale_factors"):
            sf = a.get("scale_factors")
            size = [int(math.floor(h * sf[0])), int(math.floor(w * sf[-1]))] if sf is not None else None
        if size is None:
            scales = [a.get("scales_h"), a.get("scales_w")]
            if None in scales:
                raise OpNotImplemented("upsample without output size or scales")
            size = [int(math.floor(h * scales[0])), int(math.floor(w * scales[1]))]
        size = _ints(size)
        if method == "nearest":
            return _image.resize2d(x, size, method="nearest_neighbor", coordinate_transformation_mode="asymmetric",
                                   rounding_method="floor")
        align = bool(a.get("align_corners", False))
        return _image.resize2d(x, size, method="linear",
                               coordinate_transformation_mode="align_corners" if align else "half_pixel")

    return conv


register("upsample_nearest2d")(_upsample("nearest"))
register("upsample_bilinear2d")(_upsample("linear"))


# ------------------------------------------------------------------------------------ shape manipulation

@register("view", "reshape", "_unsafe_view", "_reshape_alias", "view_copy")
def _view(ctx, a):
    x = a[0]
    if isinstance(a[1], Expr) or (a.has("dtype") and not a.has("size") and not a.has("shape")):
        raise OpNotImplemented("view(dtype) reinterpretation is not supported")
    shape = _resolve_shape(a[1] if isinstance(a[1], (list, tuple)) else [a[1]], _numel(ctx.shape(x)))
    return _reshape(ctx, x, shape)


@register("view_as", "reshape_as")
def _view_as(ctx, a):
    return _reshape(ctx, a[0], ctx.shape(a[1]))


@register("flatten")
def _flatten(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    nd = len(shape)
    if nd == 0:
        return _reshape(ctx, x, (1,))
    s = _norm_axis(_int(a.get(1, 0) if a.get(1) is not None else 0), nd)
    e = _norm_axis(_int(a.get(2, -1) if a.get(2) is not None else -1), nd)
    new = tuple(shape[:s]) + (_numel(shape[s:e + 1]),) + tuple(shape[e + 1:])
    return _reshape(ctx, x, new)


@register("unflatten")
def _unflatten(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    d = _norm_axis(_int(a[1]), len(shape))
    sizes = _resolve_shape(a[2], shape[d])
    return _reshape(ctx, x, tuple(shape[:d]) + tuple(sizes) + tuple(shape[d + 1:]))


@register("permute")
def _permute(ctx, a):
    x = a[0]
    nd = ctx.ndim(x)
    axes = tuple(_norm_axis(d, nd) for d in _ints(a[1]))
    if axes == tuple(range(nd)):
        return x
    return _tf.transpose(x, axes)


@register("transpose", "swapaxes", "swapdims")
def _transpose(ctx, a):
    x = a[0]
    nd = ctx.ndim(x)
    if nd < 2:
        return x
    d0, d1 = _norm_axis(_int(a[1]), nd), _norm_axis(_int(a[2]), nd)
    if d0 == d1:
        return x
    axes = list(range(nd))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return _tf.transpose(x, tuple(axes))


@register("t", "numpy_T")
def _t_op(ctx, a):
    nd = ctx.ndim(a[0])
    if nd < 2:
        return a[0]
    return _tf.transpose(a[0], tuple(reversed(range(nd))))


@register("mT", "adjoint")
def _mT(ctx, a):
    return _transpose(ctx, Args([a[0], -2, -1]))


@register("unsqueeze")
def _unsqueeze(ctx, a):
    x = a[0]
    nd = ctx.ndim(x)
    d = _int(a[1])
    d = d + nd + 1 if d < 0 else d
    return _tf.expand_dims(x, d)


@register("squeeze")
def _squeeze(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    if len(a) < 2 or a[1] is None:
        axes = [i for i, s in enumerate(shape) if s == 1]
    else:
        axes = [_norm_axis(d, len(shape)) for d in _ints(a[1])]
        axes = [d for d in axes if shape[d] == 1]
    if not axes or not shape:
        return x
    return _tf.squeeze(x, tuple(axes))


@register("expand", "broadcast_to", "expand_copy")
def _expand(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    sizes = _ints(a[1])
    lead = len(sizes) - len(shape)
    out = [s if s != -1 else shape[i - lead] for i, s in enumerate(sizes)]
    if tuple(out) == tuple(shape):
        return x
    return _tf.broadcast_to(x, tuple(out))


@register("expand_as")
def _expand_as(ctx, a):
    out = ctx.shape(a[1])
    if tuple(out) == ctx.shape(a[0]):
        return a[0]
    return _tf.broadcast_to(a[0], tuple(out))


@register("repeat")
def _repeat(ctx, a):
    x = a[0]
    reps = _ints(a[1])
    nd = ctx.ndim(x)
    if len(reps) > nd:
        x = _reshape(ctx, x, (1,) * (len(reps) - nd) + ctx.shape(x))
    if all(r == 1 for r in reps):
        return x
    return _tf.tile(x, tuple(reps))


@register("repeat_interleave")
def _repeat_interleave(ctx, a):
    x, reps, dim = a[0], a[1], a.get(2)
    if not _is_scalar(_scalar(reps)):
        raise OpNotImplemented("repeat_interleave with a tensor of repeats")
    if dim is None:
        x, dim = _reshape(ctx, x, (_numel(ctx.shape(x)),)), 0
    return _tf.repeat(x, _int(reps), _norm_axis(_int(dim), ctx.ndim(x)))


def _tensor_list(ctx, ts):
    ts = [t for t in ts if not (is_torch_tensor(t) and t.dim() == 1 and t.shape[0] == 0)]
    dt = ctx.dtype(ts[0])
    import torch

    for t in ts[1:]:
        dt = dtype_str(torch.promote_types(torch_dtype(dt), torch_dtype(ctx.dtype(t))))
    return [ctx.expr(t, dt) for t in ts]


@register("cat", "concat", "concatenate")
def _cat(ctx, a):
    ts = _tensor_list(ctx, list(a[0]))
    dim = _int(a.get(1, 0) if a.get(1) is not None else 0)
    if len(ts) == 1:
        return ts[0]
    return _tf.concatenate(ts, _norm_axis(dim, ctx.ndim(ts[0])))


@register("stack")
def _stack(ctx, a):
    ts = _tensor_list(ctx, list(a[0]))
    dim = _int(a.get(1, 0) if a.get(1) is not None else 0)
    nd = ctx.ndim(ts[0]) + 1
    dim = dim + nd if dim < 0 else dim
    return _tf.stack(ts, dim)


def _split_at(ctx, x, sizes, dim):
    dim = _norm_axis(dim, ctx.ndim(x))
    if len(sizes) == 1:
        return [x]
    idx, acc = [], 0
    for s in sizes[:-1]:
        acc += s
        idx.append(acc)
    parts = _tf.split(x, idx, dim)
    return [parts[i] for i in range(len(sizes))]


@register("split", "split_with_sizes", "split_copy", "unsafe_split", "split_with_sizes_copy")
def _split(ctx, a):
    x, size, dim = a[0], a[1], _int(a.get(2, 0) if a.get(2) is not None else 0)
    total = ctx.shape(x)[_norm_axis(dim, ctx.ndim(x))]
    if isinstance(size, (list, tuple)):
        sizes = _ints(size)
    else:
        s = _int(size)
        sizes = [s] * (total // s) + ([total % s] if total % s else [])
    return _split_at(ctx, x, sizes, dim)


@register("chunk", "unsafe_chunk")
def _chunk(ctx, a):
    x, chunks, dim = a[0], _int(a[1]), _int(a.get(2, 0) if a.get(2) is not None else 0)
    total = ctx.shape(x)[_norm_axis(dim, ctx.ndim(x))]
    s = -(-total // chunks)
    sizes = [s] * (total // s) + ([total % s] if total % s else [])
    return _split_at(ctx, x, sizes, dim)


@register("tensor_split")
def _tensor_split(ctx, a):
    x, spec, dim = a[0], a[1], _int(a.get(2, 0) if a.get(2) is not None else 0)
    total = ctx.shape(x)[_norm_axis(dim, ctx.ndim(x))]
    if isinstance(spec, (list, tuple)):
        bounds = [0] + _ints(spec) + [total]
        sizes = [max(0, b - a_) for a_, b in zip(bounds[:-1], bounds[1:])]
    else:
        n = _int(spec)
        sizes = [total // n + (1 if i < total % n else 0) for i in range(n)]
    return _split_at(ctx, x, sizes, dim)


@register("unbind")
def _unbind(ctx, a):
    x, dim = a[0], _norm_axis(_int(a.get(1, 0) if a.get(1) is not None else 0), ctx.ndim(a[0]))
    n = ctx.shape(x)[dim]
    return [_tf.take(x, ctx.scalar_const(i, "int32"), axis=dim) for i in range(n)]


@register("slice", "slice_copy")
def _slice(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    nd = len(shape)
    dim = _norm_axis(_int(a.get(1, 0) if a.get(1) is not None else 0), nd)
    n = shape[dim]
    start = a.get(2)
    end = a.get(3)
    step = _int(a.get(4, 1) if a.get(4) is not None else 1)
    start = 0 if start is None else _int(start)
    end = n if end is None else _int(end)
    start = start + n if start < 0 else start
    end = end + n if end < 0 else end
    start, end = min(max(start, 0), n), min(max(end, 0), n)
    if start == 0 and end == n and step == 1:
        return x
    end = max(end, start)
    return _tf.strided_slice(x, [start], [end], [step], axes=[dim])


@register("narrow")
def _narrow(ctx, a):
    start = _int(a[2])
    return _slice(ctx, Args([a[0], a[1], start, start + _int(a[3]) if start >= 0 else start + _int(a[3]), 1]))


@register("select")
def _select(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    dim = _norm_axis(_int(a[1]), len(shape))
    i = _int(a[2])
    i = i + shape[dim] if i < 0 else i
    if not 0 <= i < shape[dim]:
        raise IndexError(f"select: index {a[2]} out of range for dimension {dim} of size {shape[dim]}")
    return _tf.take(x, ctx.scalar_const(i, "int32"), axis=dim)


@register("index_select")
def _index_select(ctx, a):
    x, dim, idx = a[0], _int(a[1]), a[2]
    dim = _norm_axis(dim, ctx.ndim(x))
    return _tf.take(x, _index_expr(ctx, idx, ctx.shape(x)[dim]), axis=dim, mode="wrap")


def _index_expr(ctx, idx, dim_size):
    """An index tensor for take: constants are wrapped and narrowed to int32 at import time."""
    if isinstance(idx, Expr):
        return idx
    arr = _np(idx).astype(np.int64)
    if arr.dtype == np.bool_:
        raise OpNotImplemented("boolean mask indexing has a data-dependent shape")
    arr = np.where(arr < 0, arr + dim_size, arr)
    return new_const(arr.astype("int32"))


@register("embedding")
def _embedding(ctx, a):
    w, idx = ctx.expr(a[0]), a[1]
    return _tf.take(w, _index_expr(ctx, idx, ctx.shape(w)[0]), axis=0)


@register("gather")
def _gather(ctx, a):
    x, dim, idx = a[0], _int(a[1]), a[2]
    dim = _norm_axis(dim, ctx.ndim(x))
    return _tf.gather(x, dim, _index_expr(ctx, idx, ctx.shape(x)[dim]))


@register("index")
def _index(ctx, a):
    """x[i0, i1, ...] with index tensors (None keeps a dimension): advanced indexing."""
    x, indices = a[0], list(a[1])
    shape = ctx.shape(x)
    while indices and indices[-1] is None:
        indices.pop()
    pos = [i for i, t in enumerate(indices) if t is not None]
    if not pos:
        return x
    for i in pos:
        t = indices[i]
        dt = ctx.dtype(t)
        if dt == "bool" or dt == "uint8":
            if isinstance(t, Expr):
                raise OpNotImplemented("indexing with a run-time boolean mask has a data-dependent shape")
            idx = np.nonzero(_np(t))
            if len(idx) != 1:
                raise OpNotImplemented("indexing with a multi-dimensional boolean mask")
            indices[i] = idx[0]
    import torch

    idx_shapes = [ctx.shape(indices[i]) if not isinstance(indices[i], np.ndarray) else indices[i].shape for i in pos]
    from ..op._rel import broadcast_shapes

    bshape = ()
    for s in idx_shapes:
        bshape = broadcast_shapes(bshape, tuple(s))
    adjacent = pos == list(range(pos[0], pos[-1] + 1))
    # move the indexed dimensions to the front, flatten them, take along axis 0
    rest = [d for d in range(len(shape)) if d not in pos]
    perm = pos + rest
    xt = x if perm == list(range(len(shape))) else _tf.transpose(x, tuple(perm))
    flat_n = _numel([shape[d] for d in pos])
    xt = _reshape(ctx, xt, (flat_n,) + tuple(shape[d] for d in rest))
    all_const = all(not isinstance(indices[i], Expr) for i in pos)
    if all_const:
        arrs = [np.broadcast_to(_np(torch.as_tensor(indices[i]) if not isinstance(indices[i], np.ndarray)
                                    else indices[i]).astype(np.int64), bshape) for i in pos]
        arrs = [np.where(v < 0, v + shape[d], v) for v, d in zip(arrs, pos)]
        lin = np.ravel_multi_index(tuple(arrs), tuple(shape[d] for d in pos)) if arrs else np.zeros(bshape, np.int64)
        lin_e = new_const(np.asarray(lin).astype("int32"))
    else:
        lin_e = None
        stride = 1
        for i, d in reversed(list(zip(pos, pos))):
            t = indices[i]
            e = ctx.expr(t, "int64") if isinstance(t, Expr) else new_const(_np(torch.as_tensor(t)).astype("int64"))
            e = _t.where(_t.less(e, ctx.scalar_const(0, "int64")), _t.add(e, ctx.scalar_const(shape[d], "int64")), e)
            term = e if stride == 1 else _t.multiply(e, ctx.scalar_const(stride, "int64"))
            lin_e = term if lin_e is None else _t.add(term, lin_e)
            stride *= shape[d]
        if ctx.shape(lin_e) != tuple(bshape):
            lin_e = _tf.broadcast_to(lin_e, tuple(bshape))
    out = _tf.take(xt, lin_e, axis=0)
    nb = len(bshape)
    if adjacent and pos[0] > 0:
        # result dims go where the indexed dims were
        k = pos[0]
        out_nd = nb + len(rest)
        order = list(range(nb, nb + k)) + list(range(nb)) + list(range(nb + k, out_nd))
        out = _tf.transpose(out, tuple(order))
    return out


@register("flip")
def _flip(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    dims = [_norm_axis(d, len(shape)) for d in _ints(a[1])]
    return _tf.strided_slice(x, [shape[d] - 1 for d in dims], [-shape[d] - 1 for d in dims], [-1] * len(dims),
                             axes=dims)


@register("roll")
def _roll(ctx, a):
    x = a[0]
    shifts, dims = _ints(a[1]), _ints(a[2]) if a.get(2) not in (None, []) else None
    if dims is None:
        n = _numel(ctx.shape(x))
        flat = _reshape(ctx, x, (n,))
        return _reshape(ctx, _roll(ctx, Args([flat, shifts, [0]])), ctx.shape(x))
    for s, d in zip(shifts, dims):
        d = _norm_axis(d, ctx.ndim(x))
        n = ctx.shape(x)[d]
        s %= n
        if s:
            idx = new_const(((np.arange(n) - s) % n).astype("int32"))
            x = _tf.take(x, idx, axis=d)
    return x


@register("constant_pad_nd", "pad")
def _pad(ctx, a):
    x, pad = a[0], _ints(a[1])
    mode = a.get("mode", "constant") if a.has("mode") else "constant"
    if mode not in ("constant", None):
        raise OpNotImplemented(f"pad mode {mode!r} (only constant padding is supported)")
    value = _scalar(a.get("value")) if a.has("value") else _scalar(a.get(2))
    value = 0.0 if value is None else float(value)
    nd = ctx.ndim(x)
    width = [[0, 0] for _ in range(nd)]
    for i in range(len(pad) // 2):
        width[nd - 1 - i] = [pad[2 * i], pad[2 * i + 1]]
    if any(p < 0 for w in width for p in w):
        raise OpNotImplemented("negative padding")
    if all(p == 0 for w in width for p in w):
        return x
    return _tf.pad(x, width, value)


def _tri_conv(lower):
    def conv(ctx, a):
        x, k = a[0], _int(a.get(1, 0) if a.get(1) is not None else 0)
        h, w = ctx.shape(x)[-2:]
        m = np.tril(np.ones((h, w), bool), k) if lower else np.triu(np.ones((h, w), bool), k)
        return _t.where(new_const(m), x, ctx.scalar_const(0, ctx.dtype(x)))

    return conv


register("tril")(_tri_conv(True))
register("triu")(_tri_conv(False))


@register("cumsum")
def _cumsum(ctx, a):
    """cumsum along a (static-length) axis as a matmul with a triangular matrix of ones."""
    x, dim = a[0], _norm_axis(_int(a[1]), ctx.ndim(a[0]))
    dtype = a.get("dtype")
    dt = dtype_str(dtype) or (ctx.dtype(x) if _is_float(ctx.dtype(x)) else "int64")
    if not _is_float(dt):
        raise OpNotImplemented("cumsum of an integer run-time tensor")
    x = ctx.expr(x, dt)
    n = ctx.shape(x)[dim]
    nd = ctx.ndim(x)
    tri = new_const(np.tril(np.ones((n, n), dt)))  # out[i] = sum_{j<=i} x[j]
    if dim != nd - 1:
        perm = list(range(nd))
        perm[dim], perm[-1] = perm[-1], perm[dim]
        return _tf.transpose(_nn.dense(_tf.transpose(x, tuple(perm)), tri), tuple(perm))
    return _nn.dense(x, tri)


# ------------------------------------------------------------------------------------ constants like a tensor

def _const_like(shape, value, dtype):
    import torch

    return torch.full(tuple(shape), value, dtype=torch_dtype(dtype))


@register("ones_like")
def _ones_like(ctx, a):
    return _const_like(ctx.shape(a[0]), 1, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("zeros_like", "empty_like")
def _zeros_like(ctx, a):
    return _const_like(ctx.shape(a[0]), 0, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("full_like")
def _full_like(ctx, a):
    return _const_like(ctx.shape(a[0]), _scalar(a[1]), dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("new_ones")
def _new_ones(ctx, a):
    return _const_like(_ints(a[1]), 1, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("new_zeros", "new_empty")
def _new_zeros(ctx, a):
    return _const_like(_ints(a[1]), 0, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("new_full")
def _new_full(ctx, a):
    return _const_like(_ints(a[1]), _scalar(a[2]), dtype_str(a.get("dtype")) or ctx.dtype(a[0]))

__all__ = ["CONVERTERS", "STATIC_RESULT", "Args", "AtenContext", "register", "lookup", "supported_ops",
           "dtype_str", "is_dynamic", "is_torch_tensor"]


# ------------------------------------------------------------------------------------ fused attention (fast paths)

def _heads(ctx, x, b, n, h):
    """(B, N, H*D) -> (B, H, N, D)."""
    e = ctx.shape(x)[-1]
    return _tf.transpose(_reshape(ctx, x, (b, n, h, e // h)), (0, 2, 1, 3))


def _mha(ctx, q_in, k_in, v_in, num_heads, qkv_w, qkv_b, proj_w, proj_b, mask, mask_type):
    """nn.MultiheadAttention's fused inference path (batch first); returns (out, weights (B, H, L, S))."""
    qkv_w, qkv_b = ctx.expr(qkv_w), ctx.expr(qkv_b)
    b, L, E = ctx.shape(q_in)
    S = ctx.shape(k_in)[1]
    dt = ctx.dtype(q_in)
    if q_in is k_in and k_in is v_in:
        qkv = _bias(ctx, _nn.dense(q_in, qkv_w), qkv_b)
        q, k, v = (qkv_part for qkv_part in _split_at(ctx, qkv, [E, E, E], -1))
    else:
        ws = _split_at(ctx, qkv_w, [E, E, E], 0)
        bs = _split_at(ctx, qkv_b, [E, E, E], 0)
        q, k, v = (_bias(ctx, _nn.dense(x, w), bb) for x, w, bb in zip((q_in, k_in, v_in), ws, bs))
    q, k, v = _heads(ctx, q, b, L, num_heads), _heads(ctx, k, b, S, num_heads), _heads(ctx, v, b, S, num_heads)
    d = E // num_heads
    bh = b * num_heads
    scores = _nn.batch_matmul(_reshape(ctx, q, (bh, L, d)), _reshape(ctx, k, (bh, S, d)), transpose_b=True)
    scores = _t.multiply(_reshape(ctx, scores, (b, num_heads, L, S)), ctx.scalar_const(1.0 / math.sqrt(d), dt))
    if mask is not None:
        m = ctx.expr(mask)
        ms = ctx.shape(m)
        if mask_type == 1 or (len(ms) == 2 and ms == (b, S) and mask_type != 0):  # key padding mask (B, S)
            m = _reshape(ctx, m, (b, 1, 1, S))
        if ctx.dtype(m) == "bool":
            scores = _t.where(m, ctx.scalar_const(-np.inf, dt), scores)
        else:
            scores = _t.add(scores, ctx.expr(m, dt))
    attn = _nn.softmax(scores, axis=-1)
    out = _nn.batch_matmul(_reshape(ctx, attn, (bh, L, S)), _reshape(ctx, v, (bh, S, d)), transpose_b=False)
    out = _reshape(ctx, _tf.transpose(_reshape(ctx, out, (b, num_heads, L, d)), (0, 2, 1, 3)), (b, L, E))
    return _bias(ctx, _nn.dense(out, ctx.expr(proj_w)), proj_b), attn


@register("_native_multi_head_attention")
def _native_mha(ctx, a):
    out, attn = _mha(ctx, a[0], a[1], a[2], _int(a[4]), a[5], a[6], a[7], a[8], a[9], _scalar(a[12]))
    if not a[10]:  # need_weights=False
        import torch

        return (out, torch.zeros((0,)))
    if a[11]:  # average over heads
        attn = _t.mean(attn, axis=(1,), keepdims=False)
    return (out, attn)


@register("_transformer_encoder_layer_fwd")
def _encoder_layer(ctx, a):
    """nn.TransformerEncoderLayer's fused inference path, decomposed."""
    x = a[0]
    heads = _int(a[2])
    use_gelu, norm_first, eps = bool(a[7]), bool(a[8]), float(a[9])
    mask, mask_type = a[18], _scalar(a[19])
    if ctx.ndim(x) != 3:
        raise OpNotImplemented("_transformer_encoder_layer_fwd on a nested or unbatched tensor")

    def ln(y, w, b):
        return _nn.layer_norm(y, ctx.expr(w), ctx.expr(b), axis=-1, epsilon=eps)

    def attn(y):
        return _mha(ctx, y, y, y, heads, a[3], a[4], a[5], a[6], mask, mask_type)[0]

    def ffn(y):
        h = _bias(ctx, _nn.dense(y, ctx.expr(a[14])), a[15])
        h = _nn.gelu(h) if use_gelu else _nn.relu(h)
        return _bias(ctx, _nn.dense(h, ctx.expr(a[16])), a[17])

    if norm_first:
        x = _t.add(x, attn(ln(x, a[10], a[11])))
        return _t.add(x, ffn(ln(x, a[12], a[13])))
    x = ln(_t.add(x, attn(x)), a[10], a[11])
    return ln(_t.add(x, ffn(x)), a[12], a[13])
