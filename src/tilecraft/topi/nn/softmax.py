"""softmax and log_softmax along any axis (topi.nn.softmax / topi.nn.log_softmax).

Four stages, as in classic TVM, so a schedule can place each inside the row loop:

    T_softmax_maxelem[r]  = max_k x[r, k]
    T_softmax_exp[r, k]   = exp(x[r, k] - maxelem[r])
    T_softmax_expsum[r]   = sum_k exp[r, k]
    T_softmax_norm[r, k]  = exp[r, k] * (1 / expsum[r])          (the output, tag "softmax_output")

float32 exp uses the vectorizable Cephes polynomial ("fast_exp", relative error < 1e-7, see
tir/transform/lower_intrinsics.py) rather than one libm call per lane.
"""

from __future__ import annotations

from ... import te
from ...ir import dtype as dt
from ...ir.expr import Call, const
from ..reduction import normalize_axes

SOFTMAX_OUTPUT = "softmax_output"
LOG_SOFTMAX_OUTPUT = "log_softmax_output"


def _exp(v):
    return Call(v.dtype, "fast_exp", (v,)) if dt.element_of(v.dtype) == "float32" else te.exp(v)


def _stages(x: te.Tensor, axis: int):
    """(axis, maxelem, exp, expsum, index helpers) shared by softmax and log_softmax."""
    n = len(x.shape)
    axis = normalize_axes(n, axis, "softmax")[0]
    red_shape = tuple(s for k, s in enumerate(x.shape) if k != axis)
    k1 = te.reduce_axis((0, x.shape[axis]), name="k")
    k2 = te.reduce_axis((0, x.shape[axis]), name="k")

    def full(idx, j):
        return tuple(idx[:axis]) + (j,) + tuple(idx[axis:])

    def drop(idx):
        return tuple(idx[:axis]) + tuple(idx[axis + 1:])

    maxelem = te.compute(red_shape, lambda *i: te.max(x[full(i, k1.var)], axis=k1), name="T_softmax_maxelem",
                         tag="softmax_maxelem")
    exp = te.compute(x.shape, lambda *i: _exp(x[i] - maxelem[drop(i)]), name="T_softmax_exp", tag="softmax_exp")
    expsum = te.compute(red_shape, lambda *i: te.sum(exp[full(i, k2.var)], axis=k2), name="T_softmax_expsum",
                        tag="softmax_expsum")
    return axis, maxelem, exp, expsum, drop


def softmax(x: te.Tensor, axis: int = -1):
    """exp(x - max) / sum(exp(x - max)) along axis."""
    axis, _, exp, expsum, drop = _stages(x, axis)
    return te.compute(x.shape, lambda *i: exp[i] * (const(1, x.dtype) / expsum[drop(i)]), name="T_softmax_norm",
                      tag=SOFTMAX_OUTPUT, attrs={"axis": axis})


def log_softmax(x: te.Tensor, axis: int = -1):
    """x - max - log(sum(exp(x - max))) along axis."""
    axis, maxelem, _, expsum, drop = _stages(x, axis)
    return te.compute(x.shape, lambda *i: x[i] - maxelem[drop(i)] - te.log(expsum[drop(i)]),
                      name="T_log_softmax_norm", tag=LOG_SOFTMAX_OUTPUT, attrs={"axis": axis})


fast_softmax = softmax


__all__ = ["SOFTMAX_OUTPUT", "LOG_SOFTMAX_OUTPUT", "softmax", "log_softmax", "fast_softmax"]
