"""CPU schedule for depthwise convolution (NCHW): parallel over channels, each output row
computed into registers as vectors along the width, the padded input of one channel built next
to its use (it stays in L1)."""

from __future__ import annotations

from .. import tag as _tag
from ..utils import get_const_tuple, schedule_anchor
from .conv2d import _anchor_and_out, _schedule_packed_input, inline_injective_inputs, is_pad


def schedule_depthwise_conv2d_nchw(outs):
    return schedule_anchor(outs, _tag.DEPTHWISE_CONV2D_NCHW, _schedule_depthwise_anchor)


def _schedule_depthwise_anchor(s, C, outs):
    data, kernel = C.op.input_tensors
    _schedule_packed_input(s, kernel)
    out, CC = _anchor_and_out(s, C, outs)
    _, _, OH, OW = get_const_tuple(C.shape)
    vec = 8 if not isinstance(OW, int) or OW % 8 == 0 or OW > 8 else (4 if OW >= 4 else OW)
    nvec = -(-OW // vec) if isinstance(OW, int) else 4
    nv = nvec if nvec <= 8 else next(v for v in (4, 5, 6, 7, 8, 3, 2, 1) if nvec % v == 0 or v == 4)
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
    s[CC].unroll(dj)
    s[CC].unroll(ca)
    s[CC].vectorize(cb)
    if is_pad(data):
        inline_injective_inputs(s, data)
        s[data].compute_at(s[out], nc)


__all__ = ["schedule_depthwise_conv2d_nchw"]
