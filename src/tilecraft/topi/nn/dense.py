"""Fully connected layers and matrix products (classic TVM `topi.nn.dense`, `matmul`).

dense computes data[M, K] x weight[N, K]^T.  dense_pack reads the weight through column panels
packed[N // nr, K, nr] (nr consecutive output columns per k, contiguous), the layout a CPU
register tile wants; dense_pack_weight is that layout transform, a separate stage so the graph
compiler can apply it to constant weights once, at compile time.
"""

from __future__ import annotations

from ... import te
from .. import tag as _tag
from ..utils import get_const_tuple


def _check_k(what, a, ka, b, kb):
    if isinstance(ka, int) and isinstance(kb, int) and ka != kb:
        raise ValueError(f"{what}: the reduction dimensions differ: {a.name} has {ka}, {b.name} has {kb}")


def _add_bias(out, bias, dt):
    if bias is None:
        return out
    (N,) = get_const_tuple(bias.shape)
    ON = get_const_tuple(out.shape)[-1]
    if isinstance(N, int) and isinstance(ON, int) and N != ON:
        raise ValueError(f"bias {bias.name} has {N} entries but the output has {ON} columns")
    return te.compute(out.shape, lambda i, j: out[i, j] + bias[j].astype(dt), name="T_add", tag=_tag.BROADCAST)


def dense(data, weight, bias=None, out_dtype=None):
    """out[i, j] = sum_k data[i, k] * weight[j, k] (+ bias[j]); data [M, K], weight [N, K]."""
    M, K = get_const_tuple(data.shape)
    N, K2 = get_const_tuple(weight.shape)
    _check_k("dense", data, K, weight, K2)
    dt = out_dtype or data.dtype
    k = te.reduce_axis((0, K), "k")
    out = te.compute((M, N), lambda i, j: te.sum(data[i, k].astype(dt) * weight[j, k].astype(dt), axis=k),
                     name="T_dense", tag=_tag.DENSE)
    return _add_bias(out, bias, dt)


def dense_pack_weight(weight, nr: int = 16, name: str = "packed_weight"):
    """weight [N, K] -> [N // nr, K, nr]: packed[x, k, j] = weight[x * nr + j, k]."""
    N, K = get_const_tuple(weight.shape)
    if not isinstance(N, int) or N % nr:
        raise ValueError(f"dense_pack_weight: {weight.name} has {N} rows, not a multiple of the panel width "
                         f"nr={nr}; pick an nr that divides it (topi.x86.dense_pack_nr({N}))")
    return te.compute((N // nr, K, nr), lambda x, kk, j: weight[x * nr + j, kk], name=name,
                      tag=_tag.LAYOUT_TRANSFORM)


def dense_pack(data, packed_weight, bias=None, out_dtype=None):
    """dense with the weight in panels: data [M, K], packed_weight [N // nr, K, nr] -> [M, N]."""
    M, K = get_const_tuple(data.shape)
    NB, K2, nr = get_const_tuple(packed_weight.shape)
    _check_k("dense_pack", data, K, packed_weight, K2)
    dt = out_dtype or data.dtype
    k = te.reduce_axis((0, K), "k")
    out = te.compute(
        (M, NB * nr),
        lambda i, j: te.sum(data[i, k].astype(dt) * packed_weight[j // nr, k, j % nr].astype(dt), axis=k),
        name="T_dense_pack", tag=_tag.DENSE_PACK)
    return _add_bias(out, bias, dt)


def matmul(tensor_a, tensor_b, bias=None, out_dtype=None, transpose_a=False, transpose_b=False):
    """out = op(a) @ op(b) (+ bias), op transposing when asked; a [M, K] (or [K, M]), b [K, N] (or [N, K])."""
    a_shape, b_shape = get_const_tuple(tensor_a.shape), get_const_tuple(tensor_b.shape)
    M, K = (a_shape[1], a_shape[0]) if transpose_a else a_shape
    K2, N = (b_shape[1], b_shape[0]) if transpose_b else b_shape
    _check_k("matmul", tensor_a, K, tensor_b, K2)
    dt = out_dtype or tensor_a.dtype
    k = te.reduce_axis((0, K), "k")
    ra = (lambda i: tensor_a[k, i]) if transpose_a else (lambda i: tensor_a[i, k])
    rb = (lambda j: tensor_b[j, k]) if transpose_b else (lambda j: tensor_b[k, j])
    out = te.compute((M, N), lambda i, j: te.sum(ra(i).astype(dt) * rb(j).astype(dt), axis=k),
                     name="T_matmul", tag=_tag.MATMUL, attrs={"transpose_a": transpose_a,
                                                               "transpose_b": transpose_b})
    return _add_bias(out, bias, dt)


__all__ = ["dense", "dense_pack", "dense_pack_weight", "matmul"]
