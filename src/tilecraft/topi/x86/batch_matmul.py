"""CPU schedule for topi.nn.batch_matmul: the GEMM register tile of x86/dense.py per batch,
parallel over batch x row blocks x column blocks."""

from __future__ import annotations

from ... import te
from .. import tag as _tag
from ..utils import as_list, get_const_tuple, traverse_inline
from .dense import _pick, _same_shape, _tiles, schedule_gemm_nt, schedule_gemm_tile


def schedule_batch_matmul(outs):
    """Schedule batch_matmul (+ element-wise epilogue).  B not transposed ([batch, K, N]): the
    4 x 16 tile reading rows of B; B transposed ([batch, N, K]): the k-vector tile (rfactor)."""
    outs = as_list(outs)
    s = te.create_schedule([o.op for o in outs])

    def callback(op):
        if op.tag != _tag.BATCH_MATMUL:
            return
        C = op.output(0)
        O = outs[0]
        if O.op is not C.op and not _same_shape(O, C):
            s[C].compute_root()
            O = C
        _, M, N = get_const_tuple(C.shape)
        ta, tb = op.attrs.get("transpose_a", False), op.attrs.get("transpose_b", True)
        if not tb and not ta:
            mr, nr, vec = _tiles(M, N)
            schedule_gemm_tile(s, C, O, mr=mr, nr=nr, vec=vec, mb=_pick(M, (64, 32, 16, 8, 4)),
                               nb=_pick(N, (128, 64, 32, 16)), ku=4)
        else:
            schedule_gemm_nt(s, C, O)

    traverse_inline(s, outs[0].op, callback)
    return s


__all__ = ["schedule_batch_matmul"]
