"""CPU schedule for conv2d_transpose_nchw: the dilated, padded input and the flipped kernel are
materialised (parallel), then the direct NCHW convolution schedule of x86/conv2d.py."""

from __future__ import annotations

from ... import te
from .. import tag as _tag
from ..utils import as_list, traverse_inline
from .conv2d import _schedule_packed_input, schedule_conv_nchw_direct, schedule_pad_root


def schedule_conv2d_transpose_nchw(outs):
    outs = as_list(outs)
    s = te.create_schedule([o.op for o in outs])

    def callback(op):
        if op.tag != _tag.CONV2D_TRANSPOSE_NCHW:
            return
        data_pad, kernel = op.input_tensors
        schedule_pad_root(s, data_pad)
        _schedule_packed_input(s, kernel)
        schedule_conv_nchw_direct(s, op.output(0), outs)

    traverse_inline(s, outs[0].op, callback)
    return s


__all__ = ["schedule_conv2d_transpose_nchw"]
