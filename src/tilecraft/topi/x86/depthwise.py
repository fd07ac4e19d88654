"""CPU templates for depthwise convolution.

depthwise_conv2d_NCHWc.x86 (the default where the channels block): the blocked layout of the
convolutions around it, so a MobileNet block needs no layout transforms; vectors along the
channel block, a register tile of output columns.  depthwise_conv2d_nchw.x86: parallel over
channels, each output row computed into registers as vectors along the width, the padded input of
one channel built next to its use (it stays in L1); knobs: the row's vectors ([-1, vectors, vector
width]) and unrolling over kw."""

from __future__ import annotations

from ... import te
from ...tuning.space import FallbackConfigEntity, OtherOptionEntity, SplitEntity
from ...tuning.template import args_to_workload, in_tuning, register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..nn.conv2d import _window, depthwise_conv2d_NCHWc, nchw_to_nchwc, nchwc_to_nchw, pack_conv_kernel
from ..nn.conv2d import depthwise_conv2d_nchw as topi_depthwise_conv2d_nchw
from ..utils import get_const_tuple, schedule_anchor
from .conv2d import (
    _anchor_and_out,
    _schedule_packed_input,
    channel_block,
    inline_injective_inputs,
    is_pad,
    schedule_blocked_inputs,
)
from .registers import tile_columns


def _space(cfg, OW, KW):
    cfg.define_split("tile_ow", OW, num_outputs=3, policy="verbose",
                     filter=lambda e: e.size[-2] <= 8 and (e.size[-1] in (4, 8, 16) or e.size[-1] == OW < 4))
    cfg.define_knob("unroll_kw", [True, False] if KW > 1 else [True])


def _fallback(cfg, OW):
    vec = 8 if OW % 8 == 0 or OW > 8 else (4 if OW >= 4 else OW)
    nvec = -(-OW // vec)
    nv = nvec if nvec <= 8 else 4
    cfg["tile_ow"], cfg["unroll_kw"] = SplitEntity([-1, nv, vec]), OtherOptionEntity(True)


def _config(cfg, OW, KW):
    cfg = FallbackConfigEntity() if cfg is None else cfg
    _space(cfg, OW, KW)
    if cfg.is_fallback:
        _fallback(cfg, OW)
    return cfg


@register_topi_compute("depthwise_conv2d_nchw.x86")
def depthwise_conv2d_nchw(cfg, data, kernel, strides, padding, dilation, out_dtype=None):
    out = topi_depthwise_conv2d_nchw(data, kernel, strides, padding, dilation, out_dtype)
    N, C, OH, OW = get_const_tuple(out.shape)
    KH, KW = get_const_tuple(kernel.shape)[2:]
    _config(cfg, OW, KW).add_flop(2 * N * C * OH * OW * KH * KW)
    return out


@register_topi_schedule("depthwise_conv2d_nchw.x86")
def schedule_depthwise_conv2d_nchw(cfg, outs):
    return schedule_anchor(outs, _tag.DEPTHWISE_CONV2D_NCHW, lambda s, C, outs: _schedule_anchor(s, C, outs, cfg))


def _schedule_anchor(s, C, outs, cfg):
    data, kernel = C.op.input_tensors
    _schedule_packed_input(s, kernel)
    out, CC = _anchor_and_out(s, C, outs)
    OW = get_const_tuple(C.shape)[3]
    cfg = _config(cfg, OW, get_const_tuple(kernel.shape)[3])
    _, nv, vec = cfg["tile_ow"].size
    n, c, oh, ow = s[out].op.axis
    owo, owi = s[out].split(ow, factor=vec * nv)
    nc = s[out].fuse(n, c)
    s[out].parallel(nc)
    wa, wb = s[out].split(owi, factor=vec)
    s[out].unroll(wa)
    s[out].vectorize(wb)
    s[CC].compute_at(s[out], owo)
    _, _, coh, cow = s[CC].op.axis
    di, dj = s[CC].op.reduce_axis
    ca, cb = s[CC].split(cow, factor=vec)
    s[CC].reorder(coh, di, dj, ca, cb)
    if cfg["unroll_kw"].val:
        s[CC].unroll(dj)
    s[CC].unroll(ca)
    s[CC].vectorize(cb)
    if is_pad(data):
        inline_injective_inputs(s, data)
        s[data].compute_at(s[out], nc)


# ---------------------------------------------------------------------------- NCHW[x]c

def _nchwc_space(cfg, OW, KW):
    """Knobs of depthwise_conv2d_NCHWc.x86: the register tile's output columns and unrolling over
    kw.  The channel block is not a knob: a depthwise convolution takes the layout of the
    convolutions around it (AlterOpLayout, the graph tuner), and alone the default block."""
    cfg.define_split("tile_ow", OW, num_outputs=2, policy="verbose", filter=lambda e: e.size[-1] <= 16)
    cfg.define_knob("unroll_kw", [True, False] if KW > 1 else [True])


def _nchwc_fallback(cfg, OW, cb):
    cfg["tile_ow"], cfg["unroll_kw"] = SplitEntity([-1, tile_columns(OW, cb)]), OtherOptionEntity(True)


def _nchwc_workload(args):
    """A call on blocked data is tuned as the NCHW depthwise convolution it replaces."""
    data, kernel = args[0], args[1]
    shape = get_const_tuple(data.shape)
    if len(shape) == 5:
        k = get_const_tuple(kernel.shape)
        data = ("TENSOR", (shape[0], shape[1] * shape[4], shape[2], shape[3]), str(data.dtype))
        kernel = ("TENSOR", (k[0] * k[5], 1, k[2], k[3]), str(kernel.dtype))
        args = [data, kernel] + list(args[2:5]) + ["NCHW", "NCHW"] + list(args[7:])
    return args_to_workload(args, "depthwise_conv2d_NCHWc.x86")


@register_topi_compute("depthwise_conv2d_NCHWc.x86", workload_of=_nchwc_workload)
def depthwise_conv2d_NCHWc_template(cfg, data, kernel, strides, padding, dilation, layout="NCHW", out_layout="NCHW",
                                    out_dtype=None):
    """Depthwise convolution in the blocked layout.  On NCHW data and a [C, 1, KH, KW] kernel both are
    re-laid out inside with the default block; on blocked data the block is the layout's."""
    dshape, kshape = get_const_tuple(data.shape), get_const_tuple(kernel.shape)
    blocked = len(dshape) == 5
    C = dshape[1] * dshape[4] if blocked else dshape[1]
    cb = dshape[4] if blocked else channel_block(C)
    KH, KW = kshape[2], kshape[3]
    *_, OH, OW = _window(dshape[2], dshape[3], KH, KW, strides, padding, dilation, "depthwise_conv2d_NCHWc")
    _nchwc_space(cfg, OW, KW)
    if cfg.is_fallback:
        _nchwc_fallback(cfg, OW, cb)
    cfg.add_flop(2 * dshape[0] * C * OH * OW * KH * KW)
    if blocked:
        return depthwise_conv2d_NCHWc(data, kernel, strides, padding, dilation, out_dtype=out_dtype)
    if in_tuning():  # measure the kernel as deployed (see tuning.template.tuning_scope)
        data = te.placeholder((dshape[0], C // cb, dshape[2], dshape[3], cb), data.dtype, name="data_vec")
        kernel = te.placeholder((C // cb, 1, KH, KW, 1, cb), kernel.dtype, name="kernel_vec")
        return depthwise_conv2d_NCHWc(data, kernel, strides, padding, dilation, out_dtype=out_dtype)
    out = depthwise_conv2d_NCHWc(nchw_to_nchwc(data, cb), pack_conv_kernel(kernel, 1, cb), strides, padding,
                                 dilation, out_dtype=out_dtype)
    return nchwc_to_nchw(out)


@register_topi_schedule("depthwise_conv2d_NCHWc.x86")
def schedule_depthwise_conv2d_NCHWc(cfg, outs):
    return schedule_anchor(outs, _tag.DEPTHWISE_CONV2D_NCHWC, lambda s, C, outs: _schedule_nchwc(s, C, outs, cfg))


def _schedule_nchwc(s, C, outs, cfg):
    """Parallel over (batch, channel block, output row); a register tile of tile_ow columns x one
    channel block (vectorized) accumulates the kh x kw taps."""
    _, kernel_vec = schedule_blocked_inputs(s, C)
    _, CC, _, OW, cb = get_const_tuple(C.shape)
    if cfg is None:
        cfg = FallbackConfigEntity()
        _nchwc_space(cfg, OW, get_const_tuple(kernel_vec.shape)[3])
        _nchwc_fallback(cfg, OW, cb)
    out, CCL = _anchor_and_out(s, C, outs)
    n, c, oh, ow, b = s[out].op.axis
    owo, owi = s[out].split(ow, factor=cfg["tile_ow"].size[-1])
    s[out].reorder(n, c, oh, owo, owi, b)
    s[out].parallel(s[out].fuse(n, c, oh))
    s[out].unroll(owi)
    s[out].vectorize(b)
    s[CCL].compute_at(s[out], owo)
    _, _, _, cow, cb_axis = s[CCL].op.axis
    kh, kw = s[CCL].op.reduce_axis
    s[CCL].reorder(kh, kw, cow, cb_axis)
    if cfg["unroll_kw"].val:
        s[CCL].unroll(kw)
    s[CCL].unroll(cow)
    s[CCL].vectorize(cb_axis)


__all__ = ["depthwise_conv2d_nchw", "schedule_depthwise_conv2d_nchw", "depthwise_conv2d_NCHWc_template",
           "schedule_depthwise_conv2d_NCHWc"]
