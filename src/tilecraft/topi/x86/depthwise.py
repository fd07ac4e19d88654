"""CPU template for depthwise convolution (NCHW): parallel over channels, each output row
computed into registers as vectors along the width, the padded input of one channel built next
to its use (it stays in L1).  Knobs: the row's vectors ([-1, vectors, vector width]) and
unrolling over kw."""

from __future__ import annotations

from ...tuning.space import FallbackConfigEntity, OtherOptionEntity, SplitEntity
from ...tuning.template import register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..nn.conv2d import depthwise_conv2d_nchw as topi_depthwise_conv2d_nchw
from ..utils import get_const_tuple, schedule_anchor
from .conv2d import _anchor_and_out, _schedule_packed_input, inline_injective_inputs, is_pad


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


__all__ = ["depthwise_conv2d_nchw", "schedule_depthwise_conv2d_nchw"]
