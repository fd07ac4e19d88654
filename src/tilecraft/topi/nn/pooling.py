"""2-D pooling: pool2d (max / avg, padding, stride, dilation, ceil_mode, count_include_pad),
global_pool (avg / max over H and W) and adaptive_pool (PyTorch's adaptive windows), in NCHW or
NHWC layout.

Output sizes and average divisors follow PyTorch: with ceil_mode the last window may overhang the
input but must start inside it (or inside the left padding); with count_include_pad the divisor
counts padded positions but never the ceil_mode overhang beyond the padding.

Max pooling propagates NaN (as PyTorch), through topi.minmax's reducer.

The window reduction is tagged "pool_max" / "pool_sum" (comm_reduce kind); average pooling divides
in a separate element-wise stage tagged "pool_avg" (as classic TVM), which the schedule owns.
"""

from __future__ import annotations

import re

from ... import te
from ...ir.expr import const, logical_and, max_, min_, select
from ..minmax import lowest, max_reduce
from ..utils import get_const_tuple
from .pad import get_pad_tuple, pair


def _hw_axes(layout: str, ndim: int) -> tuple:
    """Positions of H and W in `layout`: "NCHW", "NHWC", or a blocked one ("NCHW16c", whose
    sub-axis c is one more axis: pooling never mixes channels, so blocks pool as they are)."""
    axes = re.sub(r"\d+", "", layout)
    if len(axes) != ndim or "H" not in axes or "W" not in axes:
        raise ValueError(f"pooling: layout {layout!r} does not describe a {ndim}-D tensor with H and W axes")
    return axes.index("H"), axes.index("W")


def _out_size(size: int, k: int, s: int, d: int, lo: int, hi: int, ceil_mode: bool) -> int:
    eff = (k - 1) * d + 1
    span = size + lo + hi - eff
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + lo:
        out -= 1  # the last window would start in the right padding
    return max(out, 0)


def pool2d(data: te.Tensor, kernel, stride, dilation=(1, 1), padding=(0, 0, 0, 0), pool_type: str = "max",
           ceil_mode: bool = False, layout: str = "NCHW", count_include_pad: bool = True):
    """topi.nn.pool2d.  padding: int, (h, w) or (top, left, bottom, right)."""
    shape = get_const_tuple(data.shape)
    ha, wa = _hw_axes(layout, len(shape))
    kh, kw = pair(kernel, "kernel")
    sh, sw = pair(stride, "stride")
    dh, dw = pair(dilation, "dilation")
    pt, pl, pb, pr = get_pad_tuple(padding, ((kh - 1) * dh + 1, (kw - 1) * dw + 1))
    H, W = shape[ha], shape[wa]
    oh = _out_size(H, kh, sh, dh, pt, pb, ceil_mode)
    ow = _out_size(W, kw, sw, dw, pl, pr, ceil_mode)
    if isinstance(oh, int) and isinstance(ow, int) and min(oh, ow) < 1:  # PyTorch refuses it too
        raise ValueError(f"pool2d: the {kh}x{kw} window (dilation {dh}x{dw}) does not fit the {H}x{W} input "
                         f"padded by {(pt, pl, pb, pr)}: the output would be {oh}x{ow}")
    out_shape = list(shape)
    out_shape[ha], out_shape[wa] = oh, ow
    padded = pt or pl or pb or pr or ceil_mode
    # Taps at or past H + top padding land outside the input for every output (a window larger
    # than the input: EfficientNet's head pools a 7x7 map with a 1280x1280 window): not looped over.
    # The average's divisor still counts the window's geometry, as PyTorch's does.
    rh = te.reduce_axis((0, min(kh, -(-(H + pt) // dh)) if padded else kh), name="rv0")
    rw = te.reduce_axis((0, min(kw, -(-(W + pl) // dw)) if padded else kw), name="rv1")

    def window(i):
        h = i[ha] * sh + rh.var * dh - pt
        w = i[wa] * sw + rw.var * dw - pl
        inside = logical_and(logical_and(h >= 0, h < H), logical_and(w >= 0, w < W))
        idx = list(i)
        if padded:  # clamp the read (always in bounds, so it vectorizes), mask the value
            idx[ha] = min_(max_(h, const(0)), const(H - 1))
            idx[wa] = min_(max_(w, const(0)), const(W - 1))
        else:
            idx[ha], idx[wa] = h, w
        return data[tuple(idx)], inside

    if pool_type == "max":
        def fmax(*i):
            v, inside = window(i)
            return max_reduce(select(inside, v, lowest(data.dtype)) if padded else v, axis=[rh, rw])

        return te.compute(tuple(out_shape), fmax, name="T_pool_max", tag="pool_max")
    if pool_type != "avg":
        raise ValueError(f"pool2d: pool_type must be 'max' or 'avg', got {pool_type!r}")

    def fsum(*i):
        v, inside = window(i)
        return te.sum(select(inside, v, const(0, data.dtype)) if padded else v, axis=[rh, rw])

    psum = te.compute(tuple(out_shape), fsum, name="T_pool_sum", tag="pool_sum")

    def divisor(o, k, s, d, lo, size, hi):
        start = o * s - lo
        if count_include_pad:
            end = min_(start + (k - 1) * d + 1, const(size + hi))
            return end - start
        # a window wholly in the padding averages nothing: divide its zero sum by 1, not 0
        return max_(min_(start + (k - 1) * d + 1, const(size)) - max_(start, const(0)), const(1))

    def favg(*i):
        if not padded:  # integers divide (truncating, as numpy's mean(...).astype), floats multiply
            if not data.dtype.startswith(("float", "bfloat")):
                return psum[i] / const(kh * kw, data.dtype)
            return psum[i] * const(1.0 / (kh * kw), data.dtype)
        n = divisor(i[ha], kh, sh, dh, pt, H, pb) * divisor(i[wa], kw, sw, dw, pl, W, pr)
        return psum[i] / n.astype(data.dtype)

    return te.compute(tuple(out_shape), favg, name="T_pool_avg", tag="pool_avg")


def max_pool2d(data, kernel, stride=None, padding=0, dilation=1, ceil_mode=False, layout="NCHW"):
    """torch.nn.functional.max_pool2d's argument order (stride defaults to the kernel)."""
    return pool2d(data, kernel, stride or kernel, dilation, padding, "max", ceil_mode, layout)


def avg_pool2d(data, kernel, stride=None, padding=0, ceil_mode=False, count_include_pad=True, layout="NCHW"):
    """torch.nn.functional.avg_pool2d's argument order (stride defaults to the kernel)."""
    return pool2d(data, kernel, stride or kernel, 1, padding, "avg", ceil_mode, layout, count_include_pad)


def global_pool(data: te.Tensor, pool_type: str = "avg", layout: str = "NCHW"):
    """Pool over all of H and W (keeping them as size-1 axes)."""
    from .. import reduction

    ha, wa = _hw_axes(layout, len(data.shape))
    if pool_type == "avg":
        return reduction.mean(data, (ha, wa), keepdims=True)
    if pool_type == "max":
        return reduction.max(data, (ha, wa), keepdims=True)
    raise ValueError(f"global_pool: pool_type must be 'max' or 'avg', got {pool_type!r}")


def global_avg_pool2d(data, layout="NCHW"):
    return global_pool(data, "avg", layout)


def global_max_pool2d(data, layout="NCHW"):
    return global_pool(data, "max", layout)


def _adaptive_bounds(size: int, out: int):
    """PyTorch's windows: output i covers [floor(i*size/out), ceil((i+1)*size/out))."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-((-(i + 1) * size) // out) for i in range(out)]
    return starts, ends, max(e - s for s, e in zip(starts, ends))


def adaptive_pool(data: te.Tensor, output_size, pool_type: str = "avg", layout: str = "NCHW"):
    """topi.nn.adaptive_pool: output_size (oh, ow) (an int for both; None keeps that size)."""
    shape = get_const_tuple(data.shape)
    ha, wa = _hw_axes(layout, len(shape))
    H, W = shape[ha], shape[wa]
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    oh, ow = (H if output_size[0] is None else int(output_size[0])), (W if output_size[1] is None
                                                                      else int(output_size[1]))
    if (oh, ow) == (1, 1):
        return global_pool(data, pool_type, layout)
    hs, he, kh = _adaptive_bounds(H, oh)
    ws, we, kw = _adaptive_bounds(W, ow)
    rh = te.reduce_axis((0, kh), name="rv0")
    rw = te.reduce_axis((0, kw), name="rv1")
    out_shape = list(shape)
    out_shape[ha], out_shape[wa] = oh, ow

    def start(o, size, out):  # floor(o * size / out)
        return (o * size) // out

    def end(o, size, out):  # ceil((o + 1) * size / out)
        return ((o + 1) * size + out - 1) // out

    def body(reducer, pad_value):
        def f(*i):
            h0, w0 = start(i[ha], H, oh), start(i[wa], W, ow)
            h, w = h0 + rh.var, w0 + rw.var
            inside = logical_and(h < end(i[ha], H, oh), w < end(i[wa], W, ow))
            idx = list(i)
            idx[ha], idx[wa] = min_(h, const(H - 1)), min_(w, const(W - 1))
            return reducer(select(inside, data[tuple(idx)], pad_value), axis=[rh, rw])

        return f

    if pool_type == "max":
        return te.compute(tuple(out_shape), body(max_reduce, lowest(data.dtype)), name="T_adaptive_pool_max",
                          tag="adaptive_pool_max")
    if pool_type != "avg":
        raise ValueError(f"adaptive_pool: pool_type must be 'max' or 'avg', got {pool_type!r}")
    psum = te.compute(tuple(out_shape), body(te.sum, const(0, data.dtype)), name="T_adaptive_pool_sum",
                      tag="adaptive_pool_sum")

    def favg(*i):
        nh = end(i[ha], H, oh) - start(i[ha], H, oh)
        nw = end(i[wa], W, ow) - start(i[wa], W, ow)
        return psum[i] / (nh * nw).astype(data.dtype)

    return te.compute(tuple(out_shape), favg, name="T_adaptive_pool_avg", tag="adaptive_pool_avg")


def adaptive_avg_pool2d(data, output_size, layout="NCHW"):
    return adaptive_pool(data, output_size, "avg", layout)


def adaptive_max_pool2d(data, output_size, layout="NCHW"):
    return adaptive_pool(data, output_size, "max", layout)


__all__ = ["pool2d", "max_pool2d", "avg_pool2d", "global_pool", "global_avg_pool2d", "global_max_pool2d",
           "adaptive_pool", "adaptive_avg_pool2d", "adaptive_max_pool2d"]
