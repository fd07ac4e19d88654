"""Reductions over one, several or all axes: topi.sum, mean, max, min, prod, all, any, argmax,
argmin, variance, std.

`axis` is None (every axis), an int or a tuple of ints; negative axes count from the end.  With
keepdims the reduced axes stay as size-1 dimensions.  Reductions are tagged "comm_reduce"; the
division of mean/variance is a separate element-wise stage (tag "elemwise") that
topi.x86.schedule_reduce fuses into the reduction's loop.
"""

from __future__ import annotations

import builtins

from .. import te
from ..ir import dtype as dt
from ..ir.expr import IntImm, const, logical_and, logical_not, logical_or, select
from ..ir.op import max_value
from .minmax import highest, is_nan, lowest, max_reduce, min_reduce
from .tag import COMM_REDUCE, ELEMWISE


def normalize_axes(ndim: int, axis, what: str = "reduction") -> tuple:
    """axis (None, int or sequence, possibly negative) -> sorted tuple of distinct axes in [0, ndim)."""
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        a = int(a.value if isinstance(a, IntImm) else a)
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{what}: axis {a} is out of range for a tensor of rank {ndim}")
        a %= builtins.max(ndim, 1)
        if a in out:
            raise ValueError(f"{what}: axis {a} is given twice")
        out.append(a)
    return tuple(sorted(out))


def _reduce_setup(data: te.Tensor, axis, keepdims: bool, what: str):
    """(axes, reduce axes, output shape, index builder) for reducing `data` over `axis`.

    The index builder maps output indices to (data index with the reduce variables in the reduced
    positions, the same index with 0 there, i.e. a keepdims-shaped reading of the result)."""
    ndim = len(data.shape)
    axes = normalize_axes(ndim, axis, what)
    raxes = [te.reduce_axis((0, data.shape[a]), name=f"k{a}") for a in axes]
    if keepdims:
        shape = tuple(const(1) if a in axes else s for a, s in enumerate(data.shape))
    else:
        shape = tuple(s for a, s in enumerate(data.shape) if a not in axes)

    def index(idx):
        full, kept, it, rt = [], [], iter(idx), iter(raxes)
        for a in range(ndim):
            if a in axes:
                full.append(next(rt).var)
                kept.append(const(0))
                if keepdims:
                    next(it)
            else:
                v = next(it)
                full.append(v)
                kept.append(v)
        return tuple(full), tuple(kept)

    return axes, raxes, shape, index


def _reduce(data: te.Tensor, axis, keepdims: bool, reducer, name: str, source=None):
    """out[kept] = reducer(source(data[idx]), over the axes in `axis`)."""
    _, raxes, shape, index = _reduce_setup(data, axis, keepdims, name)

    def body(*idx):
        v = data[index(idx)[0]]
        return reducer(source(v) if source else v, axis=raxes)

    return te.compute(shape, body, name=name, tag=COMM_REDUCE)


def _count(data: te.Tensor, axis):
    """How many values each output reduces: an int, or an expression of symbolic sizes."""
    n = 1
    for a in normalize_axes(len(data.shape), axis):
        s = data.shape[a]
        n = n * (s.value if isinstance(s, IntImm) else s)
    return n


def sum(data: te.Tensor, axis=None, keepdims: bool = False):  # noqa: A001
    return _reduce(data, axis, keepdims, te.sum, "T_sum")


def max(data: te.Tensor, axis=None, keepdims: bool = False):  # noqa: A001
    """The largest value; NaN where any value is NaN (torch.amax, not te.max's classic meaning)."""
    return _reduce(data, axis, keepdims, max_reduce, "T_max")


def min(data: te.Tensor, axis=None, keepdims: bool = False):  # noqa: A001
    """The smallest value; NaN where any value is NaN (torch.amin)."""
    return _reduce(data, axis, keepdims, min_reduce, "T_min")


def prod(data: te.Tensor, axis=None, keepdims: bool = False):
    return _reduce(data, axis, keepdims, te.prod, "T_prod")


_all = te.comm_reducer(lambda x, y: logical_and(x, y), lambda t: const(True), name="all")
_any = te.comm_reducer(lambda x, y: logical_or(x, y), lambda t: const(False), name="any")


def _as_bool(v):
    return v if dt.is_bool(v.dtype) else v != const(0, v.dtype)


def all(data: te.Tensor, axis=None, keepdims: bool = False):  # noqa: A001
    return _reduce(data, axis, keepdims, _all, "T_all", source=_as_bool)


def any(data: te.Tensor, axis=None, keepdims: bool = False):  # noqa: A001
    return _reduce(data, axis, keepdims, _any, "T_any", source=_as_bool)


def _divide(t: te.Tensor, n, name: str):
    """t / n: a multiply by 1 / n for a constant count, a division by a symbolic one."""
    if isinstance(n, int):
        return te.compute(t.shape, lambda *i: t[i] * const(1.0 / n, t.dtype), name=name, tag=ELEMWISE)
    return te.compute(t.shape, lambda *i: t[i] / n.astype(t.dtype), name=name, tag=ELEMWISE)


def mean(data: te.Tensor, axis=None, keepdims: bool = False):
    """sum / count; integer inputs average in float32."""
    n = _count(data, axis)
    src = None if dt.is_float(data.dtype) else (lambda v: v.astype("float32"))
    s = _reduce(data, axis, keepdims, te.sum, "T_mean_sum", source=src)
    return _divide(s, n, "T_mean")


def variance(data: te.Tensor, axis=None, keepdims: bool = False, unbiased: bool = False, mean_value=None):
    """Mean of squared deviations (two passes, so large means do not cancel); unbiased divides by n - 1."""
    n = _count(data, axis)
    if not dt.is_float(data.dtype):
        data = te.compute(data.shape, lambda *i: data[i].astype("float32"), name="T_var_cast", tag=ELEMWISE)
    m = mean_value if mean_value is not None else mean(data, axis, keepdims=True)
    _, raxes, shape, index = _reduce_setup(data, axis, keepdims, "variance")

    def body(*idx):
        full, kept = index(idx)
        d = data[full] - m[kept]
        return te.sum(d * d, axis=raxes)

    sq = te.compute(shape, body, name="T_var_sum", tag=COMM_REDUCE)
    return _divide(sq, n - 1 if unbiased else n, "T_var")


def std(data: te.Tensor, axis=None, keepdims: bool = False, unbiased: bool = False):
    v = variance(data, axis, keepdims, unbiased)
    return te.compute(v.shape, lambda *i: te.sqrt(v[i]), name="T_std", tag=ELEMWISE)


def _arg_reducer(better, name, last: bool = False):
    """(index, value) reducer; ties go to the smallest index (or the largest, with last=True).

    A NaN beats every number and ties with another NaN, as torch.argmax / argmin rank it."""

    def fcombine(i0, v0, i1, v1):
        tie = i0 > i1 if last else i0 < i1
        n0, n1 = is_nan(v0), is_nan(v1)
        wins = logical_or(better(v0, v1), logical_and(n0, logical_not(n1)))
        same = logical_or(v0 == v1, logical_and(n0, n1))
        take0 = logical_or(wins, logical_and(same, tie))
        return select(take0, i0, i1), select(take0, v0, v1)

    def fidentity(t0, t1):  # the identity's index loses every tie (all values -inf, say)
        return (const(-1, t0) if last else max_value(t0)), (lowest(t1) if name == "argmax" else highest(t1))

    return te.comm_reducer(fcombine, fidentity, name=name)


_ARG_REDUCERS = {(kind, last): _arg_reducer((lambda a, b: a > b) if kind == "argmax" else (lambda a, b: a < b),
                                              kind, last)
                 for kind in ("argmax", "argmin") for last in (False, True)}


def _arg(data: te.Tensor, axis, keepdims: bool, kind: str, name: str, select_last_index: bool = False):
    reducer = _ARG_REDUCERS[(kind, bool(select_last_index))]
    axes, raxes, shape, index = _reduce_setup(data, axis, keepdims, name)

    def body(*idx):
        full = index(idx)[0]
        flat = const(0)  # row-major position among the reduced axes (numpy's flat index for axis=None)
        for a, r in zip(axes, raxes):
            flat = flat * data.shape[a] + r.var
        return reducer((flat, data[full]), axis=raxes)

    idx, _ = te.compute(shape, body, name=name + "_red", tag=COMM_REDUCE)
    # A copy stage, so the (index, value) reduction is never itself an output: lowering does not yet
    # allocate the outputs of a multi-output op that are missing from the argument list.
    return te.compute(shape, lambda *i: idx[i], name=name, tag=ELEMWISE)


def argmax(data: te.Tensor, axis=None, keepdims: bool = False, select_last_index: bool = False):
    """Index of the largest value (the first one on ties, the last with select_last_index), int32."""
    return _arg(data, axis, keepdims, "argmax", "T_argmax", select_last_index)


def argmin(data: te.Tensor, axis=None, keepdims: bool = False, select_last_index: bool = False):
    return _arg(data, axis, keepdims, "argmin", "T_argmin", select_last_index)


__all__ = ["normalize_axes", "sum", "max", "min", "prod", "all", "any", "mean", "variance", "std", "argmax",
           "argmin"]
