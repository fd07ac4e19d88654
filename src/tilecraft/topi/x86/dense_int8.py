"""8-bit dense on x86 with the CPU's byte dot products (classic `dense_vnni.x86` / `dense_int8.x86`).

    out[m, n] = sum(data[m, k] * weight[n, k])      data uint8 or int8, weight int8, out int32

The weight is packed as [N / 16, K / 4, 16, 4] (zeros past N and K), so the 4 bytes of k that one
dot-product step adds sit next to each other for 16 outputs; the data row's 4 bytes are broadcast.
The register tile is `tile_rows` rows x 16 columns, summed over K in steps of 4 by the tensorized
intrinsic of tensor_intrin.py.  int8 data is shifted to uint8 (+128) and 128 x each column's weight
sum subtracted again, as in conv2d_int8.py.
"""

from __future__ import annotations

from ... import te
from ...tuning.space import FallbackConfigEntity, OtherOptionEntity, SplitEntity
from ...tuning.template import register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..utils import get_const_tuple, guarded_read, schedule_anchor
from .conv2d import _anchor_and_out
from .conv2d_int8 import INT8_DTYPES, as_uint8, weight_sums
from .dense import _schedule_injective_root
from .tensor_intrin import dot_uint8_int8_int32, get_simd_32bit_lanes, has_vnni

DENSE_INT8 = "dense_int8"
_BLOCK = 16  # output columns per packed weight panel


def _space(cfg, M):
    cfg.define_split("tile_y", M, num_outputs=2, policy="candidate",
                     candidate=[[-1, r] for r in range(1, min(M, 8) + 1)])
    cfg.define_knob("unroll_k", [1, 2, 4])
    if cfg.is_fallback:
        cfg["tile_y"] = SplitEntity([-1, min(M, 4)])
        cfg["unroll_k"] = OtherOptionEntity(1)


@register_topi_compute("dense_int8.x86")
def dense_int8(cfg, data, weight, bias=None, out_dtype="int32"):
    M, K = get_const_tuple(data.shape)
    N, KW = get_const_tuple(weight.shape)
    if KW != K or (str(data.dtype), str(weight.dtype)) not in INT8_DTYPES:
        raise ValueError(f"dense_int8: takes uint8/int8 data [M, K] and an int8 weight [N, K], got {data.dtype} "
                         f"{(M, K)} and {weight.dtype} {(N, KW)}")
    _space(cfg, M)
    cfg.add_flop(2 * M * N * K)
    shift = 128 if data.dtype == "int8" else 0
    NP, KP = -(-N // _BLOCK) * _BLOCK, -(-K // 4) * 4

    k_tail = [1] if KP != K else []  # columns past K read as 0: their weights are 0
    data_u8 = te.compute((M, KP), lambda m, k: as_uint8(guarded_read(data, (m, k), 0, k_tail), shift),
                         name="data_u8", tag=_tag.INJECTIVE)
    packed = te.compute((NP // _BLOCK, KP // 4, _BLOCK, 4),
                        lambda nb, ko, ni, ki: guarded_read(weight, (nb * _BLOCK + ni, ko * 4 + ki), 0,
                                                            [0] * (NP != N) + k_tail),
                        name="weight_packed", tag=_tag.LAYOUT_TRANSFORM)
    ko, ki = te.reduce_axis((0, KP // 4), "ko"), te.reduce_axis((0, 4), "ki")
    C = te.compute((M, NP // _BLOCK, _BLOCK), lambda m, nb, ni: te.sum(
        data_u8[m, ko * 4 + ki].astype("int32") * packed[nb, ko, ni, ki].astype("int32"), axis=[ko, ki]),
        name="dense_int8", tag=DENSE_INT8)
    if shift:
        weight_sum = weight_sums(weight)

        def result(m, n):
            return C[m, n // _BLOCK, n % _BLOCK] - weight_sum[n] * shift
    else:
        def result(m, n):
            return C[m, n // _BLOCK, n % _BLOCK]
    out = te.compute((M, N), lambda m, n: (result(m, n) + (bias[n] if bias is not None else 0)).astype(out_dtype),
                     name="dense_int8_out", tag=_tag.INJECTIVE)
    return out


@register_topi_schedule("dense_int8.x86")
def schedule_dense_int8(cfg, outs):
    return schedule_anchor(outs, DENSE_INT8, lambda s, C, outs: _schedule_anchor(s, C, outs, cfg))


def _schedule_anchor(s, C, outs, cfg):
    data_u8, packed = C.op.input_tensors
    for t in (data_u8, packed):
        _schedule_injective_root(s, t)
    if cfg is None:
        cfg = FallbackConfigEntity()
        _space(cfg, get_const_tuple(C.shape)[0])
    mr, ku = cfg["tile_y"].size[-1], cfg["unroll_k"].val
    lanes = get_simd_32bit_lanes()
    out, CC = _anchor_and_out(s, C, outs)  # C [M, N / 16, 16] is never the group's output: a cache tile
    m, nb, ni = s[out].op.axis
    mo, mi = s[out].split(m, factor=mr)
    s[out].reorder(nb, mo, mi, ni)
    tile = s[out].fuse(nb, mo)
    s[out].parallel(tile)
    s[out].vectorize(ni)
    s[CC].compute_at(s[out], tile)
    cm, cnb, cn = s[CC].op.axis
    ko, ki = s[CC].op.reduce_axis
    kuo, kui = s[CC].split(ko, factor=ku)
    cnf, cns = s[CC].split(cn, factor=lanes)
    s[CC].reorder(cnb, kuo, kui, cm, cnf, cns, ki)
    s[CC].unroll(kui)
    s[CC].unroll(cm)
    s[CC].unroll(cnf)
    s[CC].tensorize(cns, dot_uint8_int8_int32(lanes, has_vnni(lanes=lanes)))
    return s


__all__ = ["dense_int8", "schedule_dense_int8"]
