"""CPU template for conv2d_transpose_nchw: the dilated, padded input and the flipped kernel are
materialised (parallel), then the direct NCHW convolution schedule of x86/conv2d.py, with its
knobs."""

from __future__ import annotations

from ...tuning.template import register_topi_compute, register_topi_schedule
from .. import tag as _tag
from ..nn.conv2d_transpose import conv2d_transpose_nchw as topi_conv2d_transpose_nchw
from ..utils import get_const_tuple, schedule_anchor
from .conv2d import _schedule_packed_input, direct_config, schedule_conv_nchw_direct, schedule_pad_root


@register_topi_compute("conv2d_transpose_nchw.x86")
def conv2d_transpose_nchw(cfg, data, kernel, strides, padding, out_dtype=None, output_padding=(0, 0)):
    out = topi_conv2d_transpose_nchw(data, kernel, strides, padding, out_dtype, output_padding)
    N, OC, OH, OW = get_const_tuple(out.shape)
    IC, _, KH, KW = get_const_tuple(kernel.shape)
    direct_config(cfg, OC, OH, OW, KW).add_flop(2 * N * OC * OH * OW * IC * KH * KW)
    return out


@register_topi_schedule("conv2d_transpose_nchw.x86")
def schedule_conv2d_transpose_nchw(cfg, outs):
    return schedule_anchor(outs, _tag.CONV2D_TRANSPOSE_NCHW, lambda s, C, outs: _schedule_anchor(s, C, outs, cfg))


def _schedule_anchor(s, C, outs, cfg):
    data_pad, kernel = C.op.input_tensors
    schedule_pad_root(s, data_pad)
    _schedule_packed_input(s, kernel)
    schedule_conv_nchw_direct(s, C, outs, cfg)


__all__ = ["conv2d_transpose_nchw", "schedule_conv2d_transpose_nchw"]
