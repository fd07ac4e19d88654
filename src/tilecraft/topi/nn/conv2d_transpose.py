"""Transposed 2-D convolution (classic TVM `topi.nn.conv2d_transpose_nchw`): the gradient of
conv2d with respect to its input, computed as a convolution of the stride-dilated, padded input
with the flipped kernel."""

from __future__ import annotations

from ... import te
from ...ir.expr import floordiv, floormod, logical_and
from ...ir.op import if_then_else
from .. import tag as _tag
from ..utils import get_const_tuple
from .pad import get_pad_tuple, pair


def conv2d_transpose_nchw(Input, Filter, strides, padding, out_dtype=None, output_padding=(0, 0)):
    """Input [N, I, H, W], Filter [I, O, KH, KW] -> [N, O, OH, OW] with
    OH = (H - 1) * stride - pad_top - pad_bottom + KH + output_padding."""
    N, I, H, W = get_const_tuple(Input.shape)
    FI, O, KH, KW = get_const_tuple(Filter.shape)
    if FI != I:
        raise ValueError(f"conv2d_transpose_nchw: the input has {I} channels but Filter {Filter.name} "
                         f"[I, O, KH, KW] has {FI}")
    sh, sw = pair(strides, "strides")
    oph, opw = pair(output_padding, "output_padding")
    if oph >= sh or opw >= sw:
        raise ValueError(f"conv2d_transpose_nchw: output_padding {(oph, opw)} must be smaller than the stride "
                         f"{(sh, sw)}")
    top, left, bottom, right = get_pad_tuple(padding, (KH, KW))
    OH = (H - 1) * sh - top - bottom + KH + oph
    OW = (W - 1) * sw - left - right + KW + opw
    if OH <= 0 or OW <= 0:
        raise ValueError(f"conv2d_transpose_nchw: padding {padding} leaves an empty output ({OH}x{OW})")
    bt, bl = KH - 1 - top, KW - 1 - left
    dt = out_dtype or Input.dtype

    def dilated_pad(n, c, y, x):
        yy, xx = y - bt, x - bl
        cond = logical_and(logical_and(yy >= 0, xx >= 0),
                           logical_and(logical_and(floormod(yy, sh) == 0, floormod(xx, sw) == 0),
                                       logical_and(floordiv(yy, sh) < H, floordiv(xx, sw) < W)))
        return if_then_else(cond, Input[n, c, floordiv(yy, sh), floordiv(xx, sw)], te.const(0, Input.dtype))

    data_pad = te.compute((N, I, OH + KH - 1, OW + KW - 1), dilated_pad, name="data_pad", tag=_tag.PAD)
    kernel = te.compute((O, I, KH, KW), lambda o, i, h, w: Filter[i, o, KH - 1 - h, KW - 1 - w],
                        name="kernel_transform", tag=_tag.LAYOUT_TRANSFORM)
    dc = te.reduce_axis((0, I), "dc")
    dh = te.reduce_axis((0, KH), "dh")
    dw = te.reduce_axis((0, KW), "dw")
    return te.compute(
        (N, O, OH, OW),
        lambda b, c, h, w: te.sum(data_pad[b, dc, h + dh, w + dw].astype(dt) * kernel[c, dc, dh, dw].astype(dt),
                                  axis=[dc, dh, dw]),
        name="conv2d_transpose_nchw", tag=_tag.CONV2D_TRANSPOSE_NCHW)


__all__ = ["conv2d_transpose_nchw"]
