"""Global functions tilecraft registers itself, for kernels that call them through call_packed.

    tvm.contrib.cblas.matmul(A, B, C, transa, transb)          C = op(A) @ op(B)
    tvm.contrib.cblas.batch_matmul(A, B, C, transa, transb)    per batch; a batch of 1 broadcasts
    tvm.contrib.cblas.batch_matmul_iterative(...)              the same (classic TVM's loop variant)

They run numpy's matrix product (its BLAS for float32/float64) on NDArray views of the kernel's
buffers and write straight into the output, so no data is copied in or out.  The te side is
contrib/cblas.py.
"""

from __future__ import annotations

import numpy as np

from .registry import register_func


def _mat(x, trans: bool, what: str, ndim: int) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != ndim:
        raise ValueError(f"cblas: {what} must have {ndim} dimensions, got shape {a.shape}")
    return a.swapaxes(-1, -2) if trans else a


def _write(out, result: np.ndarray, what: str) -> None:
    c = np.asarray(out)
    if c.shape != result.shape:
        raise ValueError(f"cblas.{what}: the output has shape {c.shape} but the product has shape {result.shape}")
    np.copyto(c, result, casting="unsafe")


@register_func("tvm.contrib.cblas.matmul")
def _matmul(a, b, c, transa=False, transb=False):
    lhs, rhs = _mat(a, transa, "A", 2), _mat(b, transb, "B", 2)
    if lhs.shape[1] != rhs.shape[0]:
        raise ValueError(f"cblas.matmul: inner dimensions differ: {lhs.shape} @ {rhs.shape}")
    out = np.asarray(c)
    if out.shape == (lhs.shape[0], rhs.shape[1]) and out.dtype == lhs.dtype == rhs.dtype \
            and out.flags.c_contiguous:
        np.matmul(lhs, rhs, out=out)
    else:
        _write(c, np.matmul(lhs, rhs), "matmul")


@register_func("tvm.contrib.cblas.batch_matmul")
def _batch_matmul(a, b, c, transa=False, transb=False):
    lhs, rhs = _mat(a, transa, "A", 3), _mat(b, transb, "B", 3)
    if lhs.shape[2] != rhs.shape[1]:
        raise ValueError(f"cblas.batch_matmul: inner dimensions differ: {lhs.shape} @ {rhs.shape}")
    _write(c, np.matmul(lhs, rhs), "batch_matmul")


register_func("tvm.contrib.cblas.batch_matmul_iterative", _batch_matmul)
