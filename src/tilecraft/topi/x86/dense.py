"""CPU schedules for dense, dense_pack, matmul (and the GEMM register tile batch_matmul shares).

The register tile is the one of topi/x86/matmul.py: an mr x nr block of the output (4 x 16 =
eight ymm accumulators on AVX2) is computed into a local buffer that LLVM keeps in registers,
over the whole reduction, with k unrolled; B is read nr contiguous floats per k (a packed panel,
or a row of a non-transposed B), A is broadcast.  When the fused group ends in an element-wise
epilogue (bias, gelu, relu, ...), the epilogue is the stage that owns the loop nest and the
anchor is computed into the local tile at its innermost tile loop, so the epilogue runs on the
tile while it is still in registers, vectorized.

When B is transposed ([N, K], as in dense and batch_matmul's default), k is split by the vector
width and factored out (rfactor): the tile accumulates vectors along k, and the final sum over
the vector lanes is a vectorized sum over the tile's columns.
"""

from __future__ import annotations

from ... import te
from ...tuning.space import FallbackConfigEntity, SplitEntity, get_factors, get_pow2s
from ...tuning.template import args_to_workload, in_tuning, register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..nn.dense import dense as nn_dense
from ..nn.dense import dense_pack as nn_dense_pack
from ..nn.dense import dense_pack_weight
from ..utils import first_divisor, get_const_tuple, schedule_anchor
from .registers import SPARE_REGISTERS, vector_registers


def dense_pack_nr(N: int) -> int:
    """The panel width for dense_pack_weight: 16 (two ymm vectors) when it divides N."""
    return first_divisor(N, (16, 8, 4, 2), 1)


def _pick(n, options):
    """A cache-block size: the first option that divides n; else the smallest option (or n, if smaller)."""
    return first_divisor(n, options, min(options[-1], n) if isinstance(n, int) else options[0])


def _same_shape(a, b) -> bool:
    return get_const_tuple(a.shape) == get_const_tuple(b.shape)


def _tile_owner(s, C, outs):
    """The stage whose loop nest holds C's register tile: the group output when it is C or an
    element-wise epilogue of C's shape; otherwise C itself, computed at root."""
    O = outs[0]
    if O.op is not C.op and not _same_shape(O, C):
        s[C].compute_root()
        O = C
    return O


def _local_tile(s, C, O):
    """(stage owning the loop nest, local tile): C with a write cache when C is the group output
    O, else the element-wise epilogue O with C itself computed into local memory."""
    if O.op is C.op:
        return C, s.cache_write(C, "local")
    s[C].set_scope("local")
    return O, C


def _schedule_injective_root(s, out):
    """Parallel over the outer axes, vectorized inner axis: for stages left at root."""
    axes = list(s[out].op.axis)
    if not axes:
        return
    inner = axes[-1]
    ext = get_const_tuple(out.shape)[-1]
    if isinstance(ext, int) and ext >= 8:
        outer, inner = s[out].split(inner, factor=8)
        axes = axes[:-1] + [outer]
    else:
        axes = axes[:-1]
    if axes:
        s[out].parallel(s[out].fuse(*axes))
    if isinstance(ext, int) and ext >= 8:
        s[out].vectorize(inner)


def schedule_gemm_tile(s, C, O, mr=4, nr=16, mb=None, nb=None, ku=4, vec=None, panel_order="n"):
    """Register-tile the GEMM-like anchor C (axes [batch..., m, n], one reduction axis, B read
    contiguously along n) inside the group output O (C itself or an element-wise epilogue of
    C's shape).  vec: the width of one vectorized column chunk (nr is split into nr // vec
    unrolled chunks, e.g. to span several packed panels)."""
    out, CC = _local_tile(s, C, O)
    shape = get_const_tuple(out.shape)
    M, N = shape[-2], shape[-1]
    vec = vec or nr
    axes = list(s[out].op.axis)
    batch, m, n = axes[:-2], axes[-2], axes[-1]
    mb = mb or M
    nb = nb or N
    mt, mi = s[out].split(m, factor=mb)
    mo, mi = s[out].split(mi, factor=mr)
    nt, ni = s[out].split(n, factor=nb)
    no, ni = s[out].split(ni, factor=nr)
    inner = [no, mo] if panel_order == "n" else [mo, no]
    s[out].reorder(*batch, nt, mt, *inner, mi, ni)
    s[out].parallel(s[out].fuse(*batch, nt, mt))
    s[out].unroll(mi)
    if vec < nr:
        nio, nii = s[out].split(ni, factor=vec)
        s[out].unroll(nio)
        s[out].vectorize(nii)
    else:
        s[out].vectorize(ni)
    s[CC].compute_at(s[out], inner[-1])
    (k,) = s[CC].op.reduce_axis
    K = get_const_tuple((k.dom.extent,))[0]
    kc = _k_block(K)
    if kc:
        # Blocked summation, as BLAS's K panels: the register tile sums one block of kc terms from
        # zero, then is added to the tile's running total (an mr x nr add per kc FMAs).  One chain
        # over all of K grows the rounding error ~sqrt(K) (2.5x PyTorch's at K = 768 .. 1536).
        kb, kr = s[CC].split(k, factor=kc)
        CF = s.rfactor(CC, kb)  # CF[kb, ..., m, n]
        s[CF].set_scope("local")
        cax = list(s[CC].op.axis)
        (rb,) = s[CC].op.reduce_axis
        s[CC].reorder(rb, cax[-2], cax[-1])
        s[CC].unroll(cax[-2])
        s[CC].vectorize(cax[-1])
        s[CF].compute_at(s[CC], rb)
        CC = CF
    cax = list(s[CC].op.axis)
    mc, nc = cax[-2], cax[-1]
    (k,) = s[CC].op.reduce_axis
    ko, ki = s[CC].split(k, factor=ku)
    if vec < nr:
        nco, nci = s[CC].split(nc, factor=vec)
        s[CC].reorder(ko, ki, mc, nco, nci)
        s[CC].unroll(nco)
        s[CC].vectorize(nci)
    else:
        s[CC].reorder(ko, ki, mc, nc)
        s[CC].vectorize(nc)
    s[CC].unroll(mc)
    s[CC].unroll(ki)
    return s


# K-block of the register tile's blocked summation; reductions shorter than two blocks stay one chain
_KC = (128, 96, 64)


def _k_block(K):
    """The block length kc dividing K (>= 2 kc), or None: one chain."""
    if not isinstance(K, int):
        return None
    for kc in _KC:
        if K % kc == 0 and K >= 2 * kc:
            return kc
    return None


def _tiles(M, N, vec=16):
    """(mr, nr, vec) for an M x N output: tile_rows(vec) x 16 normally; for fewer than 4 rows, more
    columns so the tile still has several accumulators."""
    if isinstance(M, int) and M < 4:
        mr = M
        nr = vec * max(1, 4 // max(M, 1)) if isinstance(N, int) and N >= vec * 4 // max(M, 1) else vec
        return mr, nr, vec
    rows = tile_rows(vec)
    return (min(rows, M) if isinstance(M, int) else rows), vec, vec


def tile_rows(columns: int) -> int:
    """Rows of the GEMM register tile over `columns` floats: as many as the vector registers hold
    beside the B vectors and a broadcast, at most 8 (6 x 16 on AVX2: 12 ymm accumulators, enough to
    cover the FMA latency on both ports; the 4 x 16 tile it replaces ran 8-15 % slower: Whisper's
    1500 x 512 x 512 dense 155 -> 178 GFLOP/s)."""
    lanes, registers = vector_registers()
    per_row = max(1, -(-columns // lanes))
    return max(1, min(8, (registers - SPARE_REGISTERS) // per_row))


def _row_blocks(mr: int) -> tuple:
    """Cache blocks of rows: whole register tiles, largest first."""
    return tuple(mr * k for k in (16, 8, 4, 2, 1))


# ---------------------------------------------------------------------------- configuration spaces
# Knob names follow classic AutoTVM's x86 dense templates where the meaning is the same.

def _columns_filter(N):
    """Register-tile widths worth trying: whole vectors (multiples of 8) up to 64, or all of N."""
    return lambda e: e.size[-1] <= 64 and (e.size[-1] % 8 == 0 or e.size[-1] == N)


def gemm_tile_space(cfg, M, N, K):
    """Knobs of the register-tiled GEMM (dense_pack; batch_matmul with B not transposed):
    tile_y / tile_x the cache blocks of rows / columns, tile_inner the tile's rows, tile_n its
    columns (whole vectors), tile_k the unrolling of k."""
    if isinstance(M, int):  # every row count the registers may hold, and whole tiles of them as blocks,
        # not only M's factors and powers of two: the fallback's 6-row tile on AVX2 is in the space
        cfg.define_split("tile_y", M, num_outputs=2, policy="candidate", candidate=[
            [-1, b] for b in sorted(set(get_factors(M)) | set(get_pow2s(M))
                                    | {r * k for r in range(1, 9) for k in (1, 2, 4, 8, 16) if r * k <= M})])
        cfg.define_split("tile_inner", M, num_outputs=2, policy="candidate",
                         candidate=[[-1, r] for r in range(1, min(M, 8) + 1)])
    else:
        cfg.define_split("tile_y", M, num_outputs=2, policy="verbose")
        cfg.define_split("tile_inner", M, num_outputs=2, policy="verbose", filter=lambda e: e.size[-1] <= 8)
    cfg.define_split("tile_x", N, num_outputs=2, policy="verbose")
    cfg.define_split("tile_n", N, num_outputs=2, policy="verbose", filter=_columns_filter(N))
    cfg.define_split("tile_k", K, num_outputs=2, filter=lambda e: e.size[-1] <= 16)
    cfg.add_flop(2 * M * N * K)


def gemm_tile_fallback(cfg, M, N, nr, mb_options=None, nb_options=(256, 128, 64, 32, 16),
                       mb_above=64, widen=True, min_blocks=1):
    """The hand-chosen register tile (the default schedule) as knob values: nr the panel width;
    rows blocked when there are more than mb_above; widen: a column block narrower than the
    tile becomes all of N; min_blocks: column blocks are narrowed (to whole tiles) until the
    parallel loop has that many blocks, so a few-row product (a batch-1 classifier head, a GEMV
    reading megabytes of weight) is shared by every core instead of run on one."""
    mr, tn, _ = _tiles(M, N, nr)
    mb = _pick(M, mb_options or _row_blocks(mr)) if isinstance(M, int) and M > mb_above else M
    # columns: whole rows when no block divides N, so the vector tail comes once per row rather
    # than in every block (Whisper's 8 x 1500 x 1500 attention scores: 87 -> 140 GFLOP/s)
    nb = first_divisor(N, nb_options, N) if isinstance(N, int) else N
    if widen and nb < tn:
        nb = N
    if isinstance(M, int) and isinstance(N, int) and -(-M // mb) * -(-N // nb) < min_blocks:
        per_row_block = -(-min_blocks // -(-M // mb))
        nb = min(nb, max(tn, -(-N // per_row_block // tn) * tn))
    cfg["tile_y"], cfg["tile_inner"] = SplitEntity([-1, mb]), SplitEntity([-1, mr])
    cfg["tile_x"], cfg["tile_n"] = SplitEntity([-1, nb]), SplitEntity([-1, tn])
    cfg["tile_k"] = SplitEntity([-1, 4])


def gemm_nt_space(cfg, M, N, K):
    """Knobs of the k-vector GEMM (dense; batch_matmul with B transposed): tile_y the tile's rows,
    tile_x its columns, tile_k the vector length along k."""
    cfg.define_split("tile_y", M, num_outputs=2, policy="verbose", filter=lambda e: e.size[-1] <= 8)
    cfg.define_split("tile_x", N, num_outputs=2, policy="verbose", filter=_columns_filter(N))
    cfg.define_split("tile_k", K, num_outputs=2, filter=lambda e: e.size[-1] in (1, 2, 4, 8, 16))
    cfg.add_flop(2 * M * N * K)


def gemm_nt_fallback(cfg, M, N, K):
    kv = 8 if K % 8 == 0 else (4 if K % 4 == 0 else 1)
    cfg["tile_y"], cfg["tile_x"], cfg["tile_k"] = (SplitEntity([-1, min(4, M)]), SplitEntity([-1, 16]),
                                                   SplitEntity([-1, kv]))


def _config(cfg, space, fallback, *dims):
    """cfg with the space defined (a schedule called without one gets the fallback)."""
    cfg = FallbackConfigEntity() if cfg is None else cfg
    space(cfg, *dims)
    if cfg.is_fallback:
        fallback(cfg, *dims)
    return cfg


def dense_pack_panel(cfg, N) -> int:
    """The packed weight's panel width for a configuration: 16 (or 8) floats dividing the tile's
    columns and N, else the tile's columns."""
    tn = cfg["tile_n"].size[-1]
    return first_divisor(N, [p for p in (16, 8) if tn % p == 0], tn)


def _dense_pack_fallback(cfg, M, N, K, nr=None):
    """nr: the packed weight's panel (default: two ymm vectors, or one); 8 blocks keep 2-4 cores
    busy on a batch-1 head."""
    gemm_tile_fallback(cfg, M, N, nr or first_divisor(N, (16, 8), 8), min_blocks=8)


def _dense_pack_workload(args):
    """A dense_pack call on a weight packed at compile time [N/n, K, n] is tuned as the dense on
    [N, K] it replaces (AlterOpLayout packs with the tuned panel)."""
    data, weight = args[0], args[1]
    wshape = get_const_tuple(weight.shape)
    if len(wshape) == 3:
        weight = ("TENSOR", (wshape[0] * wshape[2], wshape[1]), str(weight.dtype))
    return args_to_workload([data, weight] + list(args[2:]), "dense_pack.x86")


@register_topi_compute("dense_pack.x86", workload_of=_dense_pack_workload)
def dense_pack(cfg, data, weight, bias=None, out_dtype=None):
    """dense with the weight in column panels: packed here, or already packed [N/n, K, n]."""
    M, K = get_const_tuple(data.shape)
    wshape = get_const_tuple(weight.shape)
    N = wshape[0] * wshape[2] if len(wshape) == 3 else wshape[0]
    cfg = _config(cfg, gemm_tile_space, _dense_pack_fallback, M, N, K)
    if len(wshape) == 3:
        packed = weight
    elif in_tuning():  # measure the kernel as deployed: a constant weight is packed at compile time
        nr = dense_pack_panel(cfg, N)
        packed = te.placeholder((N // nr, K, nr), weight.dtype, name="packed_weight")
    else:
        packed = dense_pack_weight(weight, dense_pack_panel(cfg, N))
    return nn_dense_pack(data, packed, bias, out_dtype)


@register_topi_schedule("dense_pack.x86")
def schedule_dense_pack(cfg, outs):
    """Schedule for topi.nn.dense_pack (+ element-wise epilogue): the packed GEMM register tile,
    parallel over blocks of rows and panels."""
    return schedule_anchor(outs, _tag.DENSE_PACK, lambda s, C, outs: _schedule_dense_pack_anchor(s, C, outs, cfg))


def _schedule_dense_pack_anchor(s, C, outs, cfg):
    data, packed = C.op.input_tensors
    NB, K, nr = get_const_tuple(packed.shape)
    M, N = get_const_tuple(C.shape)
    cfg = _config(cfg, gemm_tile_space, lambda c, M, N, K: _dense_pack_fallback(c, M, N, K, nr), M, N, K)
    if isinstance(packed.op, te.ComputeOp):
        x, _, xi = s[packed].op.axis
        s[packed].parallel(x)
        s[packed].vectorize(xi)
    O = _tile_owner(s, C, outs)
    tn = cfg["tile_n"].size[-1]
    vec = nr if tn % nr == 0 else tn
    schedule_gemm_tile(s, C, O, mr=cfg["tile_inner"].size[-1], nr=tn, vec=vec, mb=cfg["tile_y"].size[-1],
                       nb=cfg["tile_x"].size[-1], ku=cfg["tile_k"].size[-1])


def schedule_matmul(outs):
    """Schedule for topi.nn.matmul: the register tile when B is [K, N] (not transposed); as
    schedule_dense otherwise."""
    return schedule_dense(outs)


@register_topi_compute("dense_nopack.x86")
def dense_nopack(cfg, data, weight, bias=None, out_dtype=None):
    """dense on the weight as it is ([N, K], read along k)."""
    M, K = get_const_tuple(data.shape)
    _config(cfg, gemm_nt_space, gemm_nt_fallback, M, get_const_tuple(weight.shape)[0], K)
    return nn_dense(data, weight, bias, out_dtype)


@register_topi_schedule("dense_nopack.x86")
def schedule_dense(cfg, outs):
    """Schedule for topi.nn.dense (weight [N, K]) and topi.nn.matmul (+ element-wise epilogue)."""
    return schedule_anchor(outs, (_tag.DENSE, _tag.MATMUL), lambda s, C, outs: _schedule_dense_anchor(s, C, outs, cfg))


def _schedule_dense_anchor(s, C, outs, cfg):
    O = _tile_owner(s, C, outs)
    M, N = get_const_tuple(C.shape)
    ta = C.op.attrs.get("transpose_a", False)
    tb = C.op.attrs.get("transpose_b", True) if C.op.tag == _tag.MATMUL else True
    if C.op.tag == _tag.MATMUL and not tb and not ta:
        mr, nr, vec = _tiles(M, N)
        schedule_gemm_tile(s, C, O, mr=mr, nr=nr, vec=vec, mb=_pick(M, _row_blocks(mr)),
                           nb=_pick(N, (256, 128, 64, 32, 16)))
        return
    (k,) = C.op.reduce_axis
    cfg = _config(cfg, gemm_nt_space, gemm_nt_fallback, M, N, get_const_tuple((k.dom.extent,))[0])
    schedule_gemm_nt(s, C, O, mr=cfg["tile_y"].size[-1], nr=cfg["tile_x"].size[-1], kv=cfg["tile_k"].size[-1])


def schedule_gemm_nt(s, C, O, mr=4, nr=16, kv=8):
    """A and B both read along k (B transposed): factor k's vector lanes out with rfactor, so the
    tile accumulates mr x nr vectors along k; then sum the lanes, vectorized over n."""
    out, CO = _local_tile(s, C, O)  # CO: the lane sum, at the tile
    M = get_const_tuple(out.shape)[-2]
    (k,) = s[CO].op.reduce_axis
    K = get_const_tuple((k.dom.extent,))[0]
    if isinstance(K, int) and K % kv:
        kv = 4 if K % 4 == 0 else 1
    ko, ki = s[CO].split(k, factor=kv)
    CF = s.rfactor(CO, ki, factor_axis=len(s[CO].op.axis))  # CF[..., m, n, ki]
    s[CF].set_scope("local")
    mr = min(mr, M) if isinstance(M, int) else mr
    axes = list(s[out].op.axis)
    batch, m, n = axes[:-2], axes[-2], axes[-1]
    mo, mi = s[out].split(m, factor=mr)
    no, ni = s[out].split(n, factor=nr)
    s[out].reorder(*batch, no, mo, mi, ni)
    s[out].parallel(s[out].fuse(*batch, no))
    s[out].unroll(mi)
    s[out].vectorize(ni)
    s[CO].compute_at(s[out], mo)
    cax = list(s[CO].op.axis)
    (kr,) = s[CO].op.reduce_axis
    cno, cni = s[CO].split(cax[-1], factor=2)
    s[CO].reorder(cno, cax[-2], cni, kr)
    for iv in (cax[-2], cni, kr):
        s[CO].unroll(iv)
    s[CF].compute_at(s[CO], cno)
    fax = list(s[CF].op.axis)
    fm, fn, fk = fax[-3], fax[-2], fax[-1]
    (fko,) = s[CF].op.reduce_axis
    s[CF].reorder(fko, fm, fn, fk)
    s[CF].unroll(fm)
    s[CF].unroll(fn)
    s[CF].vectorize(fk)
    return s


__all__ = ["dense_nopack", "dense_pack", "dense_pack_panel", "schedule_dense", "schedule_dense_pack", "schedule_matmul",
           "schedule_gemm_tile", "schedule_gemm_nt", "dense_pack_nr", "gemm_tile_space", "gemm_nt_space"]
