"""8-bit convolution on x86: the blocked kernel with its inner product done by the CPU's dot
product instructions (tensor_intrin.py), classic TVM's `conv2d_NCHWc_int8.x86`.

On NCHW data and an OIHW kernel (as relay's conv2d calls it) one stage pads, blocks and shifts
the data, another packs the kernel as OIHW<ic/4>i<oc>o4i (zeros past the channels, so any channel
count works), and the result is unblocked to NCHW.  The instructions multiply *unsigned* data by
signed weights; int8 data is shifted to uint8 by adding 128 (padding included, as 0 + 128), and
128 x the sum of each output channel's weights is subtracted again: exact, the classic legalization
done inside the kernel.

The schedule is conv2d_NCHWc's register tile: a row of `tile_ow` output columns by one channel
block, accumulated over the input blocks and kernel taps, the innermost (4 input channels x one
vector of int32 outputs) tensorized.
"""

from __future__ import annotations

from ... import te
from ...tuning.space import OtherOptionEntity, SplitEntity
from ...tuning.template import register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..nn.conv2d import _window, conv2d_NCHWc_int8, pack_int8_conv_kernel
from ..utils import get_const_tuple, guarded_read, schedule_anchor
from .conv2d import schedule_blocked_inputs, schedule_output_tile
from .registers import MAX_TILE_COLUMNS, SPARE_REGISTERS, tile_columns
from .tensor_intrin import dot_uint8_int8_int32, get_simd_32bit_lanes, has_int8_dot, has_vnni

INT8_DTYPES = (("uint8", "int8"), ("int8", "int8"))  # (data, kernel) the instructions take (int8 data shifted)


def is_int8_hw_support(data_dtype: str, kernel_dtype: str, target=None) -> bool:
    """Whether conv2d_NCHWc_int8 computes this pair of dtypes on the target (classic name)."""
    return (str(data_dtype), str(kernel_dtype)) in INT8_DTYPES and has_int8_dot(target)


def _round_up(x: int, m: int) -> int:
    return -(-x // m) * m


def int8_tile_columns(width: int, oc_bn: int) -> int:
    """The register tile's columns: conv2d_NCHWc's rule, less two registers per output vector for the
    pmaddubsw / pmaddwd results (64x64 3x3 on 56x56, AVX2, 2 threads: 4 columns 281 GOP/s, 6 columns
    (the float rule) 187, spilling)."""
    return tile_columns(width, oc_bn, spare=SPARE_REGISTERS + 2 * -(-oc_bn // get_simd_32bit_lanes()))


def _int8_space(cfg, IC, OC, OW):
    lanes = get_simd_32bit_lanes()
    ic_bn = min(_round_up(IC, 4), 16)
    cfg.define_knob("tile_ic", sorted({ic_bn, *(b for b in (4, 8, 16) if b <= _round_up(IC, 4))}))
    cfg.define_knob("tile_oc", [lanes * k for k in (1, 2, 4) if lanes * k <= 32])
    cfg.define_split("tile_ow", OW, num_outputs=2, policy="candidate",
                     candidate=[[-1, w] for w in range(1, min(OW, MAX_TILE_COLUMNS) + 1)])
    if cfg.is_fallback:
        oc_bn = 16  # 4, 2 or 1 vectors of int32 (SSE, AVX2, AVX-512)
        cfg["tile_ic"] = OtherOptionEntity(ic_bn)
        cfg["tile_oc"] = OtherOptionEntity(oc_bn)
        cfg["tile_ow"] = SplitEntity([-1, int8_tile_columns(OW, oc_bn)])


@register_topi_compute("conv2d_NCHWc_int8.x86")
def conv2d_NCHWc_int8_template(cfg, data, kernel, strides, padding, dilation, layout="NCHW", out_layout="NCHW",
                               out_dtype="int32"):
    """NCHW uint8/int8 data, OIHW int8 kernel -> NCHW int32 (see the module docstring)."""
    N, IC, H, W = get_const_tuple(data.shape)
    OC, KIC, KH, KW = get_const_tuple(kernel.shape)
    if KIC != IC:
        raise ValueError(f"conv2d_NCHWc_int8: the data has {IC} channels, kernel {kernel.name} expects {KIC}")
    if (data.dtype, kernel.dtype) not in INT8_DTYPES:
        raise ValueError(f"conv2d_NCHWc_int8: takes uint8 or int8 data and an int8 kernel, got {data.dtype} data "
                         f"and a {kernel.dtype} kernel")
    sh, sw, dh, dw, top, left, bottom, right, OH, OW = _window(H, W, KH, KW, strides, padding, dilation,
                                                               "conv2d_NCHWc_int8")
    _int8_space(cfg, IC, OC, OW)
    cfg.add_flop(2 * N * OC * IC * KH * KW * OH * OW)
    ic_bn, oc_bn = cfg["tile_ic"].val, cfg["tile_oc"].val
    shift = 128 if data.dtype == "int8" else 0
    data_vec = _pad_block_shift(data, ic_bn, (top, left, bottom, right), shift)
    kernel_vec = pack_int8_conv_kernel(kernel, ic_bn, oc_bn)
    conv = conv2d_NCHWc_int8(data_vec, kernel_vec, (sh, sw), 0, (dh, dw), out_dtype="int32")
    if not shift:
        return te.compute((N, OC, OH, OW), lambda n, c, h, w: conv[n, c // oc_bn, h, w, c % oc_bn].astype(out_dtype),
                          name="output_unpack", tag=_tag.LAYOUT_TRANSFORM)
    weight_sum = weight_sums(kernel)
    return te.compute((N, OC, OH, OW), lambda n, c, h, w: (conv[n, c // oc_bn, h, w, c % oc_bn]
                                                            - weight_sum[c] * shift).astype(out_dtype),
                      name="output_unpack", tag=_tag.LAYOUT_TRANSFORM)


def as_uint8(value, shift: int):
    """value + shift as uint8: int8 data moved into the unsigned range the instructions take."""
    return (value.astype("int32") + shift).astype("uint8") if shift else value


def weight_sums(weight):
    """The int32 sum of each output channel's weights (over every axis but the first): what the
    +128 shift of int8 data adds to each output, 128 times."""
    axes = [te.reduce_axis((0, d), f"r{i}") for i, d in enumerate(get_const_tuple(weight.shape)[1:])]
    return te.compute(weight.shape[:1], lambda o: te.sum(weight[(o, *axes)].astype("int32"), axis=axes),
                      name="weight_sum")


def _pad_block_shift(data, ic_bn: int, pads, shift: int):
    """[N, C, H, W] -> uint8 [N, ceil(C / ic_bn), H + pads, W + pads, ic_bn]: data + shift inside,
    shift in the padding (a padded 0) and past the channels (their weights are 0)."""
    N, C, H, W = get_const_tuple(data.shape)
    top, left, bottom, right = pads
    padded = [d for d, pad in ((1, C % ic_bn), (2, top or bottom), (3, left or right)) if pad]

    def body(n, c, h, w, cb):
        return as_uint8(guarded_read(data, (n, c * ic_bn + cb, h - top, w - left), 0, padded), shift)

    return te.compute((N, -(-C // ic_bn), H + top + bottom, W + left + right, ic_bn), body, name="data_vec",
                      tag=_tag.LAYOUT_TRANSFORM)


@register_topi_schedule("conv2d_NCHWc_int8.x86")
def schedule_conv2d_NCHWc_int8(cfg, outs):
    return schedule_anchor(outs, _tag.CONV2D_NCHWC_INT8, lambda s, C, outs: _schedule_int8_anchor(s, C, outs, cfg))


def _schedule_int8_anchor(s, C, outs, cfg):
    schedule_blocked_inputs(s, C)
    _, _, _, OW, oc_bn = get_const_tuple(C.shape)
    reg_n = cfg["tile_ow"].size[-1] if cfg is not None else int8_tile_columns(OW, oc_bn)
    lanes = get_simd_32bit_lanes()
    if oc_bn % lanes:
        raise ValueError(f"conv2d_NCHWc_int8: the output channel block {oc_bn} is not a multiple of the target's "
                         f"{lanes} int32 lanes")
    CC = schedule_output_tile(s, C, outs, reg_n)
    _, _, _, cow, coc = s[CC].op.axis
    kh, kw, ic_outer, ic_f_inner, ic_s_inner = s[CC].op.reduce_axis
    oc_f, oc_s = s[CC].split(coc, factor=lanes)
    s[CC].reorder(ic_outer, kh, kw, ic_f_inner, cow, oc_f, oc_s, ic_s_inner)
    s[CC].unroll(cow)
    s[CC].unroll(oc_f)
    s[CC].tensorize(oc_s, dot_uint8_int8_int32(lanes, has_vnni(lanes=lanes)))
    return s


__all__ = ["INT8_DTYPES", "conv2d_NCHWc_int8_template", "is_int8_hw_support", "schedule_conv2d_NCHWc_int8"]
