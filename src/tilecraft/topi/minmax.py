"""max / min as PyTorch and numpy compute them: a NaN operand wins.

te.max and tir.Max keep classic TVM's meaning, `a > b ? a : b`, which drops a NaN in its first
operand, so a max reduction loses every NaN but one in the last position and relu(NaN) is 0.
The operators a model runs (relu, clip, maximum / minimum, max / min / argmax reductions, max
pooling) must not hide a NaN, so topi builds them from these helpers instead.  They are selects
on ordered compares, which vectorize as Max does (one more compare and an `or` per element).
"""

from __future__ import annotations

from .. import te
from ..ir import dtype as dt
from ..ir.expr import PrimExpr, _match, const, logical_or, max_, min_, select
from ..ir.op import max_value, min_value


def is_nan(v: PrimExpr) -> PrimExpr:
    """v != v (only a NaN differs from itself); always false for integers."""
    return v != v if dt.is_float(v.dtype) else const(False)


def max_nan(a, b) -> PrimExpr:
    """max(a, b), NaN if either is NaN (torch.maximum)."""
    a, b = _match(a, b)
    if not dt.is_float(a.dtype):
        return max_(a, b)
    return select(logical_or(a > b, is_nan(a)), a, b)


def min_nan(a, b) -> PrimExpr:
    """min(a, b), NaN if either is NaN (torch.minimum)."""
    a, b = _match(a, b)
    if not dt.is_float(a.dtype):
        return min_(a, b)
    return select(logical_or(a < b, is_nan(a)), a, b)


def clamp(v: PrimExpr, lo=None, hi=None) -> PrimExpr:
    """v limited to [lo, hi] (either bound None: no limit); NaN stays NaN (torch.clamp).

    With lo > hi every value becomes hi, as torch.clamp's min(max(v, lo), hi)."""
    if lo is not None and hi is not None and lo > hi:
        lo = hi
    out = v
    if lo is not None:
        out = select(v < const(lo, v.dtype), const(lo, v.dtype), out)
    if hi is not None:
        out = select(v > const(hi, v.dtype), const(hi, v.dtype), out)
    return out


def lowest(dtype: str) -> PrimExpr:
    """The identity of max: -inf for floats (so max over -inf values is -inf), else the minimum."""
    return const(float("-inf"), dtype) if dt.is_float(dtype) else min_value(dtype)


def highest(dtype: str) -> PrimExpr:
    """The identity of min: +inf for floats, else the maximum."""
    return const(float("inf"), dtype) if dt.is_float(dtype) else max_value(dtype)


max_reduce = te.comm_reducer(max_nan, lowest, name="max")
min_reduce = te.comm_reducer(min_nan, highest, name="min")


__all__ = []  # helpers for topi's operators, not operators themselves
