"""Batched matrix products (classic TVM `topi.nn.batch_matmul`)."""

from __future__ import annotations

from ... import te
from .. import tag as _tag
from ..utils import get_const_tuple


def batch_matmul(tensor_a, tensor_b, oshape=None, out_dtype=None, transpose_a=False, transpose_b=True):
    """out[b] = op(a[b]) @ op(b[b]); with the defaults a is [B, M, K] and b is [B, N, K]
    (transpose_b=True, classic TVM).  A batch of 1 on either side is broadcast."""
    a_shape, b_shape = get_const_tuple(tensor_a.shape), get_const_tuple(tensor_b.shape)
    if len(a_shape) != 3 or len(b_shape) != 3:
        raise ValueError(f"batch_matmul: expects 3-D tensors, got {tensor_a.name} {a_shape} and "
                         f"{tensor_b.name} {b_shape}")
    BA, M, K = (a_shape[0], a_shape[2], a_shape[1]) if transpose_a else a_shape
    BB, N, K2 = (b_shape[0], b_shape[1], b_shape[2]) if transpose_b else (b_shape[0], b_shape[2], b_shape[1])
    if isinstance(K, int) and isinstance(K2, int) and K != K2:
        raise ValueError(f"batch_matmul: the reduction dimensions differ: {tensor_a.name} {a_shape} has {K}, "
                         f"{tensor_b.name} {b_shape} has {K2} (transpose_a={transpose_a}, "
                         f"transpose_b={transpose_b})")
    if BA != BB and 1 not in (BA, BB):
        raise ValueError(f"batch_matmul: batch sizes {BA} and {BB} differ and neither is 1")
    B = BB if BA == 1 else BA
    if oshape is None:
        oshape = (B, M, N)
    dt = out_dtype or tensor_a.dtype
    k = te.reduce_axis((0, K), "k")

    def a(b, i):
        b = 0 if BA == 1 else b
        return tensor_a[b, k, i] if transpose_a else tensor_a[b, i, k]

    def bb(b, j):
        b = 0 if BB == 1 else b
        return tensor_b[b, j, k] if transpose_b else tensor_b[b, k, j]

    return te.compute(oshape, lambda b, i, j: te.sum(a(b, i).astype(dt) * bb(b, j).astype(dt), axis=k),
                      name="T_batch_matmul", tag=_tag.BATCH_MATMUL,
                      attrs={"transpose_a": transpose_a, "transpose_b": transpose_b})


__all__ = ["batch_matmul"]
