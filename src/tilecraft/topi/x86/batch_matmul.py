"""CPU template for topi.nn.batch_matmul: the GEMM register tile of x86/dense.py per batch,
parallel over batch x row blocks x column blocks.  B not transposed ([batch, K, N]): the tile
reading rows of B (dense_pack's knobs); B transposed ([batch, N, K]) is first laid out as rows,
unless it has fewer than 16 columns, which keep the k-vector tile (dense's)."""

from __future__ import annotations

from ... import te
from ...tuning.template import register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..nn.batch_matmul import batch_matmul as nn_batch_matmul
from ..utils import get_const_tuple, schedule_anchor
from .dense import (
    _config,
    _tile_owner,
    gemm_nt_fallback,
    gemm_nt_space,
    gemm_tile_fallback,
    gemm_tile_space,
    schedule_gemm_nt,
    schedule_gemm_tile,
)
from .injective import schedule_injective_from_existing


def _space(transpose_a, transpose_b):
    return (gemm_nt_space, gemm_nt_fallback) if transpose_a or transpose_b else \
        (gemm_tile_space, lambda cfg, M, N, K: gemm_tile_fallback(cfg, M, N, 16, nb_options=(128, 64, 32, 16),
                                                                 mb_above=0, widen=False))


# B is transposed into [batch, K, N] inside the kernel when it has at least this many columns: the
# register tile then reads rows of B (as dense_pack's panels) instead of summing k-vectors lane by
# lane; the transpose is K x N loads per batch against 2 x M x N x K flops (attention's Q.K^T on
# BERT's 12 x 128 x 128 x 64 scores: 55 -> 104 GFLOP/s).
_TRANSPOSE_B_MIN_N = 16
_TRANSPOSE_TAG = "batch_matmul_transpose_b"


def _transposed_b(tensor_b):
    """B [batch, N, K] laid out as [batch, K, N] (a stage of the group, scheduled at root)."""
    BB, N, K = get_const_tuple(tensor_b.shape)
    return te.compute((BB, K, N), lambda b, k, n: tensor_b[b, n, k], name=f"{tensor_b.name}_T",
                      tag=_TRANSPOSE_TAG)


@register_topi_compute("batch_matmul.x86")
def batch_matmul(cfg, tensor_a, tensor_b, out_shape=None, out_dtype=None, transpose_a=False, transpose_b=True):
    b_shape = get_const_tuple(tensor_b.shape)
    if (transpose_b and not transpose_a and all(isinstance(d, int) for d in b_shape)
            and b_shape[1] >= _TRANSPOSE_B_MIN_N):
        tensor_b, transpose_b = _transposed_b(tensor_b), False
    out = nn_batch_matmul(tensor_a, tensor_b, out_shape, out_dtype, transpose_a, transpose_b)
    _, M, N = get_const_tuple(out.shape)
    K = get_const_tuple(tensor_a.shape)[1 if transpose_a else 2]
    _config(cfg, *_space(transpose_a, transpose_b), M, N, K)
    return out


@register_topi_schedule("batch_matmul.x86")
def schedule_batch_matmul(cfg, outs):
    """Schedule batch_matmul (+ element-wise epilogue)."""
    return schedule_anchor(outs, _tag.BATCH_MATMUL, lambda s, C, outs: _schedule_anchor(s, C, outs, cfg))


def _schedule_anchor(s, C, outs, cfg):
    O = _tile_owner(s, C, outs)
    _, M, N = get_const_tuple(C.shape)
    ta, tb = C.op.attrs.get("transpose_a", False), C.op.attrs.get("transpose_b", True)
    (k,) = C.op.reduce_axis
    cfg = _config(cfg, *_space(ta, tb), M, N, get_const_tuple((k.dom.extent,))[0])
    if not tb and not ta:
        b_input = C.op.input_tensors[-1]
        if b_input.op.tag == _TRANSPOSE_TAG:
            schedule_injective_from_existing(s, b_input)  # at root: parallel rows, written as vectors
        tn = cfg["tile_n"].size[-1]
        schedule_gemm_tile(s, C, O, mr=cfg["tile_inner"].size[-1], nr=tn, vec=16 if tn % 16 == 0 else tn,
                           mb=cfg["tile_y"].size[-1], nb=cfg["tile_x"].size[-1], ku=cfg["tile_k"].size[-1])
    else:
        schedule_gemm_nt(s, C, O, mr=cfg["tile_y"].size[-1], nr=cfg["tile_x"].size[-1], kv=cfg["tile_k"].size[-1])


__all__ = ["batch_matmul", "schedule_batch_matmul"]
