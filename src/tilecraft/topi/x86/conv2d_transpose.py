"""CPU schedule for conv2d_transpose_nchw: the dilated, padded input and the flipped kernel are
materialised (parallel), then the direct NCHW convolution schedule of x86/conv2d.py."""

from __future__ import annotations

from .. import tag as _tag
from ..utils import schedule_anchor
from .conv2d import _schedule_packed_input, schedule_conv_nchw_direct, schedule_pad_root


def schedule_conv2d_transpose_nchw(outs):
    return schedule_anchor(outs, _tag.CONV2D_TRANSPOSE_NCHW, _schedule_transpose_anchor)


def _schedule_transpose_anchor(s, C, outs):
    data_pad, kernel = C.op.input_tensors
    schedule_pad_root(s, data_pad)
    _schedule_packed_input(s, kernel)
    schedule_conv_nchw_direct(s, C, outs)


__all__ = ["schedule_conv2d_transpose_nchw"]
