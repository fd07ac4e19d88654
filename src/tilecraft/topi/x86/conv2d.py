"""CPU schedules for 2-D convolutions.

conv2d_NCHWc is the fast one (TVM's x86 `_schedule_conv_NCHWc`): the output block of reg_n
columns x oc_bn channels (as many accumulators as the CPU's vector registers hold: registers.py)
is computed into a local tile over all input channels and kernel taps (kernel vector loads, input
broadcasts), parallel over (batch, oc_chunk, oh); an element-wise epilogue (bias, relu, ...) runs
on the tile.

conv2d_nchw (and group_conv2d_nchw) without a layout transform: a direct schedule vectorized
along the output width, with a tile of 4 output channels x 2 rows (or 16 columns) x 8 columns,
the kernel broadcast and the input loaded as vectors.  conv2d_nhwc: the output channel is
innermost and contiguous in the HWIO kernel, so it gets the NCHWc-style tile directly.
"""

from __future__ import annotations

from ... import te
from ...tuning.space import FallbackConfigEntity, OtherOptionEntity, SplitEntity
from ...tuning.template import in_tuning, register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..nn.conv2d import _window, conv2d_NCHWc, nchw_to_nchwc, nchwc_to_nchw, pack_conv_kernel
from ..nn.conv2d import conv2d_nchw as topi_conv2d_nchw
from ..utils import first_divisor, get_const_tuple, schedule_anchor
from .dense import _same_shape, _schedule_injective_root
from .registers import MAX_TILE_COLUMNS, tile_columns


def channel_block(n) -> int | None:
    """The channel block of the CPU's blocked layouts (NCHW<b>c, NC<b>n): 16 floats (two ymm
    registers), or 8 when 16 does not divide n; None when neither does."""
    return first_divisor(n, (16, 8))


def _kernel_nchw(kernel) -> tuple:
    """(O, I, KH, KW) of an OIHW kernel or of one packed as OIHW<i>i<o>o."""
    shape = get_const_tuple(kernel.shape)
    if len(shape) == 6:
        return shape[0] * shape[5], shape[1] * shape[4], shape[2], shape[3]
    return shape


def _nchwc_space(cfg, IC, OC, OW, KW):
    """Knobs of conv2d_NCHWc.x86 (classic names): the channel blocks (which decide the layouts
    AlterOpLayout rewrites to), the register tile's output columns, and unrolling over kw."""
    cfg.define_split("tile_ic", IC, num_outputs=2, filter=lambda e: e.size[-1] <= 64)
    cfg.define_split("tile_oc", OC, num_outputs=2, filter=lambda e: e.size[-1] <= 64)
    # every width up to 16: the register file, not OW's factors, bounds the tile (a tail is partitioned off)
    cfg.define_split("tile_ow", OW, num_outputs=2, policy="candidate",
                     candidate=[[-1, w] for w in range(1, min(OW, MAX_TILE_COLUMNS) + 1)])
    cfg.define_knob("unroll_kw", [True, False] if KW > 1 else [True])


def _nchwc_fallback(cfg, IC, OC, OW, KW, ic_bn=None, oc_bn=None):
    ic_bn, oc_bn = ic_bn or channel_block(IC) or IC, oc_bn or channel_block(OC)  # IC: few input channels (RGB)
    cfg["tile_ic"], cfg["tile_oc"] = SplitEntity([-1, ic_bn]), SplitEntity([-1, oc_bn])
    cfg["tile_ow"] = SplitEntity([-1, tile_columns(OW, oc_bn)])
    # kw kept a loop: 5-20 % faster on ResNet-18's layers at every tile width (a 1-wide kernel has only True)
    cfg["unroll_kw"] = OtherOptionEntity(KW == 1)


@register_topi_compute("conv2d_NCHWc.x86")
def conv2d_NCHWc_template(cfg, data, kernel, strides, padding, dilation, layout="NCHW", out_layout="NCHW",
                          out_dtype=None):
    """The blocked convolution.  On NCHW data and an OIHW kernel (as relay's conv2d, and classic
    tasks, call it) both are re-laid out inside with the configuration's blocks; on blocked data
    (after AlterOpLayout) the blocks are the layouts', and the configuration the one AlterOpLayout
    chose the blocks by (it `update`s the dispatch context with it, as classic does)."""
    dshape = get_const_tuple(data.shape)
    OC, IC, KH, KW = _kernel_nchw(kernel)
    *_, OH, OW = _window(dshape[2], dshape[3], KH, KW, strides, padding, dilation, "conv2d_NCHWc")
    blocked = len(dshape) == 5
    _nchwc_space(cfg, IC, OC, OW, KW)
    if cfg.is_fallback:
        _nchwc_fallback(cfg, IC, OC, OW, KW, *((dshape[4], get_const_tuple(kernel.shape)[5]) if blocked else ()))
    cfg.add_flop(2 * dshape[0] * OC * IC * KH * KW * OH * OW)
    if blocked:
        return conv2d_NCHWc(data, kernel, strides, padding, dilation, out_dtype=out_dtype)
    ib, ob = cfg["tile_ic"].size[-1], cfg["tile_oc"].size[-1]
    if in_tuning():  # measure the kernel as deployed: data blocked by its producer, kernel packed at compile time
        data = te.placeholder((dshape[0], IC // ib, dshape[2], dshape[3], ib), data.dtype, name="data_vec")
        kernel = te.placeholder((OC // ob, IC // ib, KH, KW, ib, ob), kernel.dtype, name="kernel_vec")
        return conv2d_NCHWc(data, kernel, strides, padding, dilation, out_dtype=out_dtype)
    return conv2d_nchw_via_NCHWc(data, kernel, strides, padding, dilation, ib, ob, out_dtype)


def conv2d_nchw_via_NCHWc(data, kernel, strides, padding, dilation, ic_bn, oc_bn, out_dtype=None):
    """conv2d on NCHW data and an OIHW kernel, computed by the blocked kernel: both are re-laid out
    (NCHW -> NCHW<ic>c, OIHW -> OIHW<ic>i<oc>o) inside, and the result laid back out to NCHW."""
    out = conv2d_NCHWc(nchw_to_nchwc(data, ic_bn), pack_conv_kernel(kernel, ic_bn, oc_bn), strides, padding,
                       dilation, out_dtype=out_dtype)
    return nchwc_to_nchw(out)


def is_pad(t) -> bool:
    """t is computed by a pad stage (the padded input of a convolution)."""
    return isinstance(t.op, te.ComputeOp) and "pad" in t.op.tag


def inline_injective_inputs(s, t):
    """compute_inline the injective producers of `t` (e.g. a layout transform feeding a pad), so
    they are computed in t's loop nest."""
    for src in t.op.input_tensors:
        if isinstance(src.op, te.ComputeOp) and _tag.is_injective(src.op.tag):
            s[src].compute_inline()


def schedule_pad_root(s, pad, vec_axis=-1):
    """Materialise a pad stage at root: parallel over the outer axes, the inner axis vectorized
    when the padding condition does not depend on it.  Inlines an injective producer (e.g. the
    NCHW -> NCHWc transform) into it, so layout change and padding are one pass."""
    inline_injective_inputs(s, pad)
    axes = list(s[pad].op.axis)
    if len(axes) >= 3:
        s[pad].parallel(s[pad].fuse(*axes[:3]))
    else:
        s[pad].parallel(axes[0])
    if vec_axis is not None and len(axes) == 5:
        s[pad].vectorize(axes[-1])


def _schedule_packed_input(s, t):
    """A layout transform computed inside the group (not pre-packed): parallel + vectorized."""
    if isinstance(t.op, te.ComputeOp) and not t.op.reduce_axis:
        _schedule_injective_root(s, t)


def _anchor_and_out(s, C, outs):
    """(stage owning the loop nest, cache tile): the epilogue output when it has C's shape,
    otherwise C itself with a write cache (the epilogue then gets a plain schedule)."""
    O = outs[0]
    if O.op is not C.op and _same_shape(O, C):
        s[C].set_scope("local")
        return O, C
    if O.op is not C.op:
        _schedule_injective_root(s, O)
    return C, s.cache_write(C, "local")


@register_topi_schedule("conv2d_NCHWc.x86")
def schedule_conv2d_NCHWc(cfg, outs):
    return schedule_anchor(outs, _tag.CONV2D_NCHWC, lambda s, C, outs: _schedule_NCHWc_anchor(s, C, outs, cfg))


def schedule_blocked_inputs(s, C):
    """(data, kernel) of a blocked convolution C, their producers scheduled: the padded (or
    re-laid out) data and a kernel packed inside the kernel at root, parallel and vectorized."""
    data_vec, kernel_vec = C.op.input_tensors
    if is_pad(data_vec):
        schedule_pad_root(s, data_vec)
    else:
        _schedule_packed_input(s, data_vec)
    _schedule_packed_input(s, kernel_vec)
    return data_vec, kernel_vec


def _schedule_NCHWc_anchor(s, C, outs, cfg):
    _, kernel_vec = schedule_blocked_inputs(s, C)
    _, _, _, OW, oc_bn = get_const_tuple(C.shape)
    ic_bn = get_const_tuple(kernel_vec.shape)[4]
    OC, IC, _, KW = _kernel_nchw(kernel_vec)
    if cfg is None:
        cfg = FallbackConfigEntity()
        _nchwc_space(cfg, IC, OC, OW, KW)
        _nchwc_fallback(cfg, IC, OC, OW, KW, ic_bn, oc_bn)
    schedule_conv_NCHWc_tile(s, C, outs, cfg["tile_ow"].size[-1], ic_bn, cfg["unroll_kw"].val)


def schedule_output_tile(s, C, outs, reg_n):
    """The blocked output's loops: parallel over (batch, channel chunk, row), a tile of reg_n columns
    by one channel block (vectorized), and C's cache tile (returned) computed per tile."""
    out, CC = _anchor_and_out(s, C, outs)
    n, oc_chunk, oh, ow, oc_block = s[out].op.axis
    ow_chunk, ow_block = s[out].split(ow, factor=reg_n)
    s[out].reorder(n, oc_chunk, oh, ow_chunk, ow_block, oc_block)
    s[out].parallel(s[out].fuse(n, oc_chunk, oh))
    s[out].unroll(ow_block)
    s[out].vectorize(oc_block)
    s[CC].compute_at(s[out], ow_chunk)
    return CC


def schedule_conv_NCHWc_tile(s, C, outs, reg_n, ic_bn, unroll_kw=True):
    CC = schedule_output_tile(s, C, outs, reg_n)
    _, _, _, cow, coc = s[CC].op.axis
    ic, kh, kw = s[CC].op.reduce_axis
    ic_chunk, ic_block = s[CC].split(ic, factor=ic_bn)
    if unroll_kw:
        s[CC].reorder(ic_chunk, kh, ic_block, kw, cow, coc)
        s[CC].unroll(kw)
    else:
        s[CC].reorder(ic_chunk, kh, kw, ic_block, cow, coc)
    s[CC].unroll(cow)
    s[CC].vectorize(coc)
    return s


def _direct_space(cfg, OC, OH, OW, KW):
    """Knobs of the direct NCHW schedule: output channels, rows and columns of the register tile
    (columns as [-1, vectors, vector width]) and unrolling over kw."""
    cfg.define_split("tile_oc", OC, num_outputs=2, policy="verbose", filter=lambda e: e.size[-1] <= 8)
    cfg.define_split("tile_oh", OH, num_outputs=2, policy="verbose", filter=lambda e: e.size[-1] <= 4)
    cfg.define_split("tile_ow", OW, num_outputs=3, policy="verbose",
                     filter=lambda e: e.size[-2] <= 4 and (e.size[-1] in (4, 8, 16) or e.size[-1] == OW < 8))
    cfg.define_knob("unroll_kw", [True, False] if KW > 1 else [True])


def _direct_fallback(cfg, OC, OH, OW, KW):
    vec = 8 if OW >= 8 else OW
    wv = 2 if OW % 16 == 0 else 1
    hb = 2 if wv == 1 and OH % 2 == 0 else 1
    cfg["tile_oc"] = SplitEntity([-1, first_divisor(OC, (4, 2), default=4)])
    cfg["tile_oh"], cfg["tile_ow"] = SplitEntity([-1, hb]), SplitEntity([-1, wv, vec])
    cfg["unroll_kw"] = OtherOptionEntity(True)


def direct_config(cfg, OC, OH, OW, KW):
    """cfg with the direct schedule's knobs defined (the fallback when cfg is None or a fallback)."""
    cfg = FallbackConfigEntity() if cfg is None else cfg
    _direct_space(cfg, OC, OH, OW, KW)
    if cfg.is_fallback:
        _direct_fallback(cfg, OC, OH, OW, KW)
    return cfg


@register_topi_compute("conv2d_nchw.x86")
def conv2d_nchw(cfg, data, kernel, strides, padding, dilation, out_dtype=None):
    out = topi_conv2d_nchw(data, kernel, strides, padding, dilation, out_dtype)
    N, OC, OH, OW = get_const_tuple(out.shape)
    _, IC, KH, KW = get_const_tuple(kernel.shape)
    direct_config(cfg, OC, OH, OW, KW).add_flop(2 * N * OC * OH * OW * IC * KH * KW)
    return out


@register_topi_schedule("conv2d_nchw.x86")
def schedule_conv2d_nchw(cfg, outs):
    return schedule_anchor(outs, (_tag.CONV2D_NCHW, _tag.GROUP_CONV2D_NCHW),
                           lambda s, C, outs: _schedule_nchw_anchor(s, C, outs, cfg))


def _schedule_nchw_anchor(s, C, outs, cfg):
    data, kernel = C.op.input_tensors
    if is_pad(data):
        schedule_pad_root(s, data)
    _schedule_packed_input(s, kernel)
    schedule_conv_nchw_direct(s, C, outs, cfg)


def schedule_group_conv2d_nchw(outs):
    return schedule_conv2d_nchw(outs)


def schedule_conv_nchw_direct(s, C, outs, cfg=None):
    """Tile (output channels) x (rows) x (vectors of columns), vectorized along the width; by
    default 4 channels x (2 rows or 1) x (8 or 16 columns)."""
    out, CC = _anchor_and_out(s, C, outs)
    _, OC, OH, OW = get_const_tuple(C.shape)
    cfg = direct_config(cfg, OC, OH, OW, get_const_tuple((C.op.reduce_axis[2].dom.extent,))[0])
    ocb, hb = cfg["tile_oc"].size[-1], cfg["tile_oh"].size[-1]
    _, wv, vec = cfg["tile_ow"].size
    n, oc, oh, ow = s[out].op.axis
    oco, oci = s[out].split(oc, factor=ocb)
    oho, ohi = s[out].split(oh, factor=hb)
    owo, owi = s[out].split(ow, factor=vec * wv)
    s[out].reorder(n, oco, oho, owo, oci, ohi, owi)
    s[out].parallel(s[out].fuse(n, oco, oho))
    s[out].unroll(oci)
    s[out].unroll(ohi)
    if wv > 1:
        a, b = s[out].split(owi, factor=vec)
        s[out].unroll(a)
        s[out].vectorize(b)
    else:
        s[out].vectorize(owi)
    s[CC].compute_at(s[out], owo)
    _, coc, coh, cow = s[CC].op.axis
    rc, ry, rx = s[CC].op.reduce_axis
    if wv > 1:
        cwo, cwi = s[CC].split(cow, factor=vec)
        s[CC].reorder(rc, ry, rx, coc, coh, cwo, cwi)
        s[CC].unroll(cwo)
        s[CC].vectorize(cwi)
    else:
        s[CC].reorder(rc, ry, rx, coc, coh, cow)
        s[CC].vectorize(cow)
    if cfg["unroll_kw"].val:
        s[CC].unroll(rx)
    s[CC].unroll(coc)
    s[CC].unroll(coh)
    return s


def schedule_conv2d_nhwc(outs):
    return schedule_anchor(outs, _tag.CONV2D_NHWC, _schedule_nhwc_anchor)


def _schedule_nhwc_anchor(s, C, outs):
    data, kernel = C.op.input_tensors
    if is_pad(data):
        inline_injective_inputs(s, data)
        a = s[data].op.axis
        s[data].parallel(s[data].fuse(a[0], a[1]))
        s[data].vectorize(a[3]) if get_const_tuple(data.shape)[3] >= 8 else None
    _schedule_packed_input(s, kernel)
    out, CC = _anchor_and_out(s, C, outs)
    _, OH, OW, O = get_const_tuple(C.shape)
    ocv = channel_block(O) or O
    reg_n = tile_columns(OW, ocv)
    n, oh, ow, oc = s[out].op.axis
    owo, owi = s[out].split(ow, factor=reg_n)
    oco, oci = s[out].split(oc, factor=ocv)
    s[out].reorder(n, oh, oco, owo, owi, oci)
    s[out].parallel(s[out].fuse(n, oh))
    s[out].unroll(owi)
    s[out].vectorize(oci)
    s[CC].compute_at(s[out], owo)
    _, _, cw, cc = s[CC].op.axis
    ry, rx, rc = s[CC].op.reduce_axis
    s[CC].reorder(ry, rx, rc, cw, cc)
    s[CC].unroll(cw)
    s[CC].vectorize(cc)


__all__ = ["channel_block", "conv2d_NCHWc_template", "conv2d_nchw", "conv2d_nchw_via_NCHWc", "direct_config",
           "schedule_conv2d_NCHWc", "schedule_conv2d_nchw", "schedule_group_conv2d_nchw", "schedule_conv2d_nhwc",
           "schedule_conv_NCHWc_tile", "schedule_conv_nchw_direct", "schedule_output_tile", "schedule_pad_root"]
