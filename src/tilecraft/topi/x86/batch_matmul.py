"""CPU schedule for topi.nn.batch_matmul: the GEMM register tile of x86/dense.py per batch,
parallel over batch x row blocks x column blocks."""

from __future__ import annotations

from .. import tag as _tag
from ..utils import get_const_tuple, schedule_anchor
from .dense import _pick, _tile_owner, _tiles, schedule_gemm_nt, schedule_gemm_tile


def schedule_batch_matmul(outs):
    """Schedule batch_matmul (+ element-wise epilogue).  B not transposed ([batch, K, N]): the
    4 x 16 tile reading rows of B; B transposed ([batch, N, K]): the k-vector tile (rfactor)."""
    return schedule_anchor(outs, _tag.BATCH_MATMUL, _schedule_batch_matmul_anchor)


def _schedule_batch_matmul_anchor(s, C, outs):
    O = _tile_owner(s, C, outs)
    _, M, N = get_const_tuple(C.shape)
    ta, tb = C.op.attrs.get("transpose_a", False), C.op.attrs.get("transpose_b", True)
    if not tb and not ta:
        mr, nr, vec = _tiles(M, N)
        schedule_gemm_tile(s, C, O, mr=mr, nr=nr, vec=vec, mb=_pick(M, (64, 32, 16, 8, 4)),
                           nb=_pick(N, (128, 64, 32, 16)), ku=4)
    else:
        schedule_gemm_nt(s, C, O)


__all__ = ["schedule_batch_matmul"]
