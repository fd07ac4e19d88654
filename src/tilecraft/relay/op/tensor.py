"""Element-wise, broadcast and reduction operators: declarations and their relay constructors."""

from __future__ import annotations

from ...ir.dtype import parse as parse_dtype
from ..ty import TensorType
from ._rel import broadcast_rel, compare_rel, identity_rel, reduce_rel, tensor_arg
from .registry import OpPattern, make_call, register_op


def _topi(path: str):
    """Resolve `topi.<path>` when first used (relay must import without building topi)."""

    def f(*args, **kw):
        from ... import topi

        obj = topi
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj(*args, **kw)

    f.__name__ = path
    return f


def _unary(name: str, topi_name: str | None = None):
    fn = _topi(topi_name or name)
    register_op(name, identity_rel, lambda attrs, ins, out: fn(ins[0]), OpPattern.ELEMWISE)
    return lambda x: make_call(name, (x,))


def _binary(name: str, rel=broadcast_rel):
    fn = _topi(name)
    register_op(name, rel, lambda attrs, ins, out: fn(ins[0], ins[1]), OpPattern.BROADCAST)
    return lambda lhs, rhs: make_call(name, (lhs, rhs))


exp = _unary("exp")
log = _unary("log")
log1p = _unary("log1p")  # log(1 + x), accurate for small x (softplus of negative inputs)
sqrt = _unary("sqrt")
rsqrt = _unary("rsqrt")
sigmoid = _unary("sigmoid")
tanh = _unary("tanh")
erf = _unary("erf")
sin = _unary("sin")
cos = _unary("cos")
floor = _unary("floor")
ceil = _unary("ceil")
round = _unary("round")  # noqa: A001
trunc = _unary("trunc")
abs = _unary("abs")  # noqa: A001
negative = _unary("negative")
square = _unary("square")
reciprocal = _unary("reciprocal")
sign = _unary("sign")
tan = _unary("tan")
atan = _unary("atan")
asin = _unary("asin")
acos = _unary("acos")
sinh = _unary("sinh")
cosh = _unary("cosh")
asinh = _unary("asinh")
acosh = _unary("acosh")
atanh = _unary("atanh")
bitwise_not = _unary("bitwise_not")


def _predicate(name: str):
    """isnan / isinf / isfinite: element-wise tests whose result is bool."""
    fn = _topi(name)

    def rel(types, attrs):
        return TensorType(tensor_arg(types, 0, "input").shape, "bool")

    register_op(name, rel, lambda attrs, ins, out: fn(ins[0]), OpPattern.ELEMWISE)
    return lambda x: make_call(name, (x,))


isnan = _predicate("isnan")
isinf = _predicate("isinf")
isfinite = _predicate("isfinite")

add = _binary("add")
subtract = _binary("subtract")
multiply = _binary("multiply")
divide = _binary("divide")
floor_divide = _binary("floor_divide")
floor_mod = _binary("floor_mod")
mod = _binary("mod")
power = _binary("power")
maximum = _binary("maximum")
minimum = _binary("minimum")
equal = _binary("equal", compare_rel)
not_equal = _binary("not_equal", compare_rel)
less = _binary("less", compare_rel)
less_equal = _binary("less_equal", compare_rel)
greater = _binary("greater", compare_rel)
greater_equal = _binary("greater_equal", compare_rel)
logical_and = _binary("logical_and", compare_rel)
logical_or = _binary("logical_or", compare_rel)
logical_xor = _binary("logical_xor", compare_rel)
left_shift = _binary("left_shift")
right_shift = _binary("right_shift")
bitwise_and = _binary("bitwise_and")
bitwise_or = _binary("bitwise_or")
bitwise_xor = _binary("bitwise_xor")


def _cast_rel(types, attrs):
    t = tensor_arg(types, 0, "input")
    return TensorType(t.shape, attrs["dtype"])


register_op("cast", _cast_rel, lambda attrs, ins, out: _topi("cast")(ins[0], attrs["dtype"]),
            OpPattern.ELEMWISE, {"dtype": "float32"})


def cast(data, dtype: str):
    parse_dtype(str(dtype))  # names the unknown dtype and the valid ones
    return make_call("cast", (data,), dtype=str(dtype))


def _clip_rel(types, attrs):
    return identity_rel(types, attrs)


register_op("clip", _clip_rel, lambda attrs, ins, out: _topi("clip")(ins[0], attrs["a_min"], attrs["a_max"]),
            OpPattern.ELEMWISE, {"a_min": None, "a_max": None})


def clip(a, a_min, a_max):
    return make_call("clip", (a,), a_min=float(a_min), a_max=float(a_max))


def _where_rel(types, attrs):
    from ._rel import broadcast_shapes

    c, x, y = (tensor_arg(types, i, n) for i, n in enumerate(("condition", "x", "y")))
    if x.dtype != y.dtype:
        raise TypeError(f"where: x is {x.dtype} but y is {y.dtype}")
    return TensorType(broadcast_shapes(broadcast_shapes(c.shape, x.shape), y.shape), x.dtype)


register_op("where", _where_rel, lambda attrs, ins, out: _topi("where")(*ins), OpPattern.BROADCAST)


def where(condition, x, y):
    return make_call("where", (condition, x, y))


_REDUCE_DEFAULTS = {"axis": None, "keepdims": False, "exclude": False}


def _reduce(name: str, topi_name: str | None = None, out_dtype=None):
    fn = _topi(topi_name or name)

    def compute(attrs, ins, out):
        from ._rel import reduce_axes

        axes = reduce_axes(attrs, len(ins[0].shape))
        return fn(ins[0], axis=tuple(axes), keepdims=attrs["keepdims"])

    register_op(name, lambda t, a: reduce_rel(t, a, out_dtype), compute, OpPattern.COMM_REDUCE,
                _REDUCE_DEFAULTS)

    def make(data, axis=None, keepdims=False, exclude=False):
        if isinstance(axis, list):
            axis = tuple(axis)
        return make_call(name, (data,), axis=axis, keepdims=bool(keepdims), exclude=bool(exclude))

    return make


sum = _reduce("sum")  # noqa: A001
mean = _reduce("mean")
max = _reduce("max")  # noqa: A001
min = _reduce("min")  # noqa: A001
prod = _reduce("prod")
argmax = _reduce("argmax", out_dtype="int32")
argmin = _reduce("argmin", out_dtype="int32")
variance = _reduce("variance")
