"""Binary operators with numpy broadcasting: topi.add, subtract, multiply, ..., where, broadcast_to.

Shapes are aligned on the right; a dimension of size 1 stretches to the other operand's size;
a missing leading dimension counts as 1.  Either operand may be a Python number or a scalar
expression (a rank-0 operand); when both are, the result is the expression itself (as in
classic TVM).  Results are tagged "broadcast" ("elemwise" when no dimension is stretched).
"""

from __future__ import annotations

from .. import te
from ..ir import dtype as dt
from ..ir import expr as E
from ..ir.expr import Call, IntImm, PrimExpr, const, convert, select, truncdiv, truncmod
from .minmax import max_nan, min_nan
from .tag import BROADCAST, ELEMWISE


def _dim(e):
    """A shape entry as an int when it is a constant, else the expression."""
    return e.value if isinstance(e, IntImm) else e


def broadcast_shape(*shapes) -> tuple:
    """The numpy broadcast of the given shapes (entries: ints or expressions)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for k in range(ndim):
        size = 1
        for s in shapes:
            j = k - (ndim - len(s))
            if j < 0:
                continue
            d = _dim(s[j])
            if isinstance(d, int) and d == 1:
                continue
            if isinstance(size, int) and size == 1:
                size = d
            elif isinstance(size, int) and isinstance(d, int) and size != d:
                raise ValueError(f"shapes {' and '.join(str(tuple(_dim(x) for x in sh)) for sh in shapes)} "
                                 f"cannot be broadcast: dimension {k} is {size} in one and {d} in another")
        out.append(size)
    return tuple(out)


def _bindex(t: te.Tensor, out_ndim: int, idx: tuple) -> PrimExpr:
    """t read at the output index idx, with broadcast dimensions pinned to 0."""
    off = out_ndim - len(t.shape)
    sub = []
    for j, s in enumerate(t.shape):
        sub.append(const(0, idx[off + j].dtype) if _dim(s) == 1 else idx[off + j])
    return t[tuple(sub)]


def _is_stretched(t, out_shape) -> bool:
    if not isinstance(t, te.Tensor):
        return bool(out_shape)
    return len(t.shape) != len(out_shape) or any(_dim(a) != b for a, b in zip(t.shape, out_shape))


def _read(x, out_ndim, idx):
    if isinstance(x, te.Tensor):
        return _bindex(x, out_ndim, idx)
    return x


def broadcast_op(f, *operands, name: str = "T_broadcast"):
    """out = f(*operands) element-wise, broadcasting tensors and scalars together."""
    tensors = [x for x in operands if isinstance(x, te.Tensor)]
    if not tensors:
        return f(*[convert(x) for x in operands])
    shape = broadcast_shape(*[t.shape for t in tensors])
    n = len(shape)
    tag = BROADCAST if any(_is_stretched(t, shape) for t in tensors) else ELEMWISE

    def body(*idx):
        return f(*[_read(x, n, idx) for x in operands])

    return te.compute(shape, body, name=name, tag=tag)


def _binary(f, name: str, doc: str):
    def op(lhs, rhs):
        return broadcast_op(f, lhs, rhs, name=f"T_{name}")

    op.__name__ = name
    op.__doc__ = doc
    return op


def _both(a, b):
    """Make a and b expressions of one dtype (numbers take the other side's dtype)."""
    return E._match(a, b)


def _div(a, b):
    a, b = _both(a, b)
    return a / b


def _floor_divide(a, b):
    a, b = _both(a, b)
    if dt.is_float(a.dtype):
        return Call(a.dtype, "floor", (a / b,))
    return E.floordiv(a, b)


def _floor_mod(a, b):
    a, b = _both(a, b)
    if dt.is_float(a.dtype):
        return a - Call(a.dtype, "floor", (a / b,)) * b
    return E.floormod(a, b)


def _power(a, b):
    a, b = _both(a, b)
    if not dt.is_float(a.dtype):
        raise TypeError(f"power of {a.dtype} tensors is not supported; cast to float first")
    return Call(a.dtype, "pow", (a, b))


def _logical(f):
    def g(a, b):
        return f(_to_bool(a), _to_bool(b))

    return g


def _to_bool(v):
    v = convert(v) if not isinstance(v, bool) else const(v)
    if dt.is_bool(v.dtype):
        return v
    return v != const(0, v.dtype)


add = _binary(lambda a, b: a + b, "add", "lhs + rhs with broadcasting (topi.add).")
subtract = _binary(lambda a, b: a - b, "subtract", "lhs - rhs with broadcasting.")
multiply = _binary(lambda a, b: a * b, "multiply", "lhs * rhs with broadcasting.")
divide = _binary(_div, "divide", "lhs / rhs; integer division truncates towards zero (C, topi.divide).")
floor_divide = _binary(_floor_divide, "floor_divide", "floor(lhs / rhs), as numpy's //.")
mod = _binary(lambda a, b: truncmod(*_both(a, b)), "mod",
              "Remainder with the sign of lhs (C fmod, topi.mod); floor_mod for numpy's %.")
floor_mod = _binary(_floor_mod, "floor_mod", "lhs - floor(lhs / rhs) * rhs, as numpy's %.")
truncate_divide = _binary(lambda a, b: truncdiv(*_both(a, b)), "truncate_divide", "C integer division.")
power = _binary(_power, "power", "lhs ** rhs (float).")
maximum = _binary(max_nan, "maximum", "Element-wise max with broadcasting; NaN wins (torch.maximum).")
minimum = _binary(min_nan, "minimum", "Element-wise min with broadcasting; NaN wins (torch.minimum).")
equal = _binary(lambda a, b: _cmp(a, b, "eq"), "equal", "lhs == rhs (bool).")
not_equal = _binary(lambda a, b: _cmp(a, b, "ne"), "not_equal", "lhs != rhs (bool).")
less = _binary(lambda a, b: _cmp_lt(a, b), "less", "lhs < rhs (bool).")
less_equal = _binary(lambda a, b: _cmp_le(a, b), "less_equal", "lhs <= rhs (bool).")
greater = _binary(lambda a, b: _cmp_lt(b, a), "greater", "lhs > rhs (bool).")
greater_equal = _binary(lambda a, b: _cmp_le(b, a), "greater_equal", "lhs >= rhs (bool).")
logical_and = _binary(_logical(E.logical_and), "logical_and", "Both true (bool).")
logical_or = _binary(_logical(E.logical_or), "logical_or", "Either true (bool).")
left_shift = _binary(lambda a, b: te.shift_left(*_both(a, b)), "left_shift", "lhs << rhs (integers).")
right_shift = _binary(lambda a, b: te.shift_right(*_both(a, b)), "right_shift", "lhs >> rhs (integers).")
bitwise_and = _binary(lambda a, b: te.bitwise_and(*_both(a, b)), "bitwise_and", "lhs & rhs (integers).")
bitwise_or = _binary(lambda a, b: te.bitwise_or(*_both(a, b)), "bitwise_or", "lhs | rhs (integers).")
bitwise_xor = _binary(lambda a, b: te.bitwise_xor(*_both(a, b)), "bitwise_xor", "lhs ^ rhs (integers).")
logical_xor = _binary(_logical(lambda a, b: a != b), "logical_xor", "Exactly one true (bool).")


def _cmp(a, b, how):
    a, b = _both(a, b)
    return a == b if how == "eq" else a != b


def _cmp_lt(a, b):
    a, b = _both(a, b)
    return a < b


def _cmp_le(a, b):
    a, b = _both(a, b)
    return a <= b


def logical_not(x):
    if not isinstance(x, te.Tensor):
        return E.logical_not(_to_bool(x))
    return te.compute(x.shape, lambda *i: E.logical_not(_to_bool(x[i])), name="T_logical_not", tag=ELEMWISE)


def where(condition, x, y):
    """x where condition is true (non-zero), else y; all three broadcast together."""
    def f(c, a, b):
        return select(_to_bool(c), *_both(a, b))

    return broadcast_op(f, condition, x, y, name="T_where")


def broadcast_to(data, shape):
    """data stretched to `shape` by numpy's rules."""
    shape = tuple(_dim(convert(s)) for s in shape)
    if not isinstance(data, te.Tensor):
        v = convert(data)
        return te.compute(shape, lambda *i: v, name="T_broadcast_to", tag=BROADCAST)
    try:
        out = broadcast_shape(data.shape, shape)
    except ValueError:
        out = None
    if out is None or tuple(out) != tuple(shape):
        have = tuple(_dim(s) for s in data.shape)
        raise ValueError(f"broadcast_to: cannot broadcast shape {have} to {shape}")
    n = len(shape)
    return te.compute(shape, lambda *i: _bindex(data, n, i), name="T_broadcast_to", tag=BROADCAST)


__all__ = ["add", "subtract", "multiply", "divide", "floor_divide", "mod", "floor_mod", "truncate_divide",
           "power", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "where",
           "broadcast_to", "broadcast_shape", "broadcast_op", "left_shift", "right_shift", "bitwise_and",
           "bitwise_or", "bitwise_xor"]
