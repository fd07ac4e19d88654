"""CPU schedules for 2-D convolutions.

conv2d_NCHWc is the fast one (TVM's x86 `_schedule_conv_NCHWc`): the output block of reg_n
columns x oc_bn channels (4 x 16 = eight ymm accumulators) is computed into a local tile over
all input channels and kernel taps (kernel vector loads, input broadcasts), parallel over
(batch, oc_chunk, oh); an element-wise epilogue (bias, relu, ...) runs on the tile.

conv2d_nchw (and group_conv2d_nchw) without a layout transform: a direct schedule vectorized
along the output width, with a tile of 4 output channels x 2 rows (or 16 columns) x 8 columns,
the kernel broadcast and the input loaded as vectors.  conv2d_nhwc: the output channel is
innermost and contiguous in the HWIO kernel, so it gets the NCHWc-style tile directly.
"""

from __future__ import annotations

from ... import te
from .. import tag as _tag
from ..nn.conv2d import conv2d_NCHWc, nchw_to_nchwc, nchwc_to_nchw, pack_conv_kernel
from ..utils import first_divisor, get_const_tuple, schedule_anchor
from .dense import _same_shape, _schedule_injective_root


def channel_block(n) -> int | None:
    """The channel block of the CPU's blocked layouts (NCHW<b>c, NC<b>n): 16 floats (two ymm
    registers), or 8 when 16 does not divide n; None when neither does."""
    return first_divisor(n, (16, 8))


def conv2d_NCHWc_config(in_channels: int, out_channels: int) -> dict | None:
    """The default configuration of conv2d_NCHWc.x86: its input and output channel blocks (which
    decide the layouts AlterOpLayout rewrites to), or None when the channels do not block."""
    ic, oc = channel_block(in_channels), channel_block(out_channels)
    if ic is None or oc is None:
        return None
    return {"tile_ic": ic, "tile_oc": oc}


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


def schedule_conv2d_NCHWc(outs):
    return schedule_anchor(outs, _tag.CONV2D_NCHWC, _schedule_NCHWc_anchor)


def _schedule_NCHWc_anchor(s, C, outs):
    data_vec, kernel_vec = C.op.input_tensors
    if is_pad(data_vec):
        schedule_pad_root(s, data_vec)
    else:
        _schedule_packed_input(s, data_vec)
    _schedule_packed_input(s, kernel_vec)
    _, _, _, OW, oc_bn = get_const_tuple(C.shape)
    ic_bn = get_const_tuple(kernel_vec.shape)[4]
    vregs = max(1, oc_bn // 8)
    reg_n = first_divisor(OW, [r for r in (8, 7, 6, 5, 4, 3, 2) if r * vregs <= 12], default=4)
    schedule_conv_NCHWc_tile(s, C, outs, reg_n, ic_bn)


def schedule_conv_NCHWc_tile(s, C, outs, reg_n, ic_bn, unroll_kw=True):
    out, CC = _anchor_and_out(s, C, outs)
    n, oc_chunk, oh, ow, oc_block = s[out].op.axis
    ow_chunk, ow_block = s[out].split(ow, factor=reg_n)
    s[out].reorder(n, oc_chunk, oh, ow_chunk, ow_block, oc_block)
    s[out].parallel(s[out].fuse(n, oc_chunk, oh))
    s[out].unroll(ow_block)
    s[out].vectorize(oc_block)
    s[CC].compute_at(s[out], ow_chunk)
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


def schedule_conv2d_nchw(outs):
    return schedule_anchor(outs, (_tag.CONV2D_NCHW, _tag.GROUP_CONV2D_NCHW), _schedule_nchw_anchor)


def _schedule_nchw_anchor(s, C, outs):
    data, kernel = C.op.input_tensors
    if is_pad(data):
        schedule_pad_root(s, data)
    _schedule_packed_input(s, kernel)
    schedule_conv_nchw_direct(s, C, outs)


schedule_group_conv2d_nchw = schedule_conv2d_nchw


def schedule_conv_nchw_direct(s, C, outs):
    """Tile (4 output channels) x (2 rows or 1) x (8 or 16 columns), vectorized along the width."""
    out, CC = _anchor_and_out(s, C, outs)
    _, OC, OH, OW = get_const_tuple(C.shape)
    vec = 8 if not isinstance(OW, int) or OW >= 8 else OW
    wv = 2 if isinstance(OW, int) and OW % 16 == 0 else 1
    hb = 2 if wv == 1 and isinstance(OH, int) and OH % 2 == 0 else 1
    ocb = first_divisor(OC, (4, 2), default=4)
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
    ocv = 16 if isinstance(O, int) and O % 16 == 0 else (8 if isinstance(O, int) and O % 8 == 0 else O)
    reg_n = first_divisor(OW, [r for r in (6, 4, 8, 7, 5, 3, 2) if r * max(1, ocv // 8) <= 12], default=4)
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


__all__ = ["channel_block", "conv2d_NCHWc_config", "conv2d_nchw_via_NCHWc",
           "schedule_conv2d_NCHWc", "schedule_conv2d_nchw", "schedule_group_conv2d_nchw", "schedule_conv2d_nhwc",
           "schedule_conv_NCHWc_tile", "schedule_conv_nchw_direct", "schedule_pad_root"]
