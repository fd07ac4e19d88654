"""2-D resize (topi.image.resize2d): nearest neighbour and bilinear, NCHW or NHWC, with the ONNX
coordinate transformation modes:

    half_pixel            x_in = (x_out + 0.5) / scale - 0.5          (PyTorch align_corners=False)
    pytorch_half_pixel    as half_pixel, but 0 when the output size is 1
    align_corners         x_in = x_out * (in - 1) / (out - 1)          (PyTorch align_corners=True)
    asymmetric            x_in = x_out / scale                         (PyTorch "nearest")
    tf_half_pixel_for_nn  x_in = (x_out + 0.5) / scale                 (PyTorch "nearest-exact" with floor)

scale = out / in.  Nearest rounds x_in with rounding_method ("round" = round_prefer_ceil,
"round_prefer_floor", "floor", "ceil"; the default is "round" for align_corners, else "floor"),
then clamps into the input.  Linear interpolates between floor(x_in) and the next pixel, both
clamped into the input, with weight x_in - floor(x_in) (so coordinates outside the input read the
edge pixel, as PyTorch and ONNX do).  Coordinates are computed in float32.
"""

from __future__ import annotations

import itertools

from ... import te
from ...ir.expr import Call, const, max_, min_
from ..tag import INJECTIVE
from ..utils import get_const_tuple

_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn")


def _in_coord(o, in_size: int, out_size: int, mode: str):
    """The input coordinate (float32 expression) of output index o."""
    x = o.astype("float32")
    if mode == "align_corners":
        if out_size == 1:
            return const(0.0)
        return x * const((in_size - 1) / (out_size - 1))
    scale = in_size / out_size
    if mode == "asymmetric":
        return x * const(scale)
    if mode == "tf_half_pixel_for_nn":
        return (x + const(0.5)) * const(scale)
    if mode == "half_pixel" or (mode == "pytorch_half_pixel" and out_size > 1):
        return (x + const(0.5)) * const(scale) - const(0.5)
    if mode == "pytorch_half_pixel":
        return const(0.0)
    raise ValueError(f"resize2d: coordinate_transformation_mode must be one of {', '.join(_MODES)}, got {mode!r}")


def _round(x, method: str):
    f = "float32"
    if method == "floor":
        return Call(f, "floor", (x,))
    if method == "ceil":
        return Call(f, "ceil", (x,))
    if method in ("round", "round_prefer_ceil"):
        return Call(f, "floor", (x + const(0.5),))
    if method == "round_prefer_floor":
        return Call(f, "ceil", (x - const(0.5),))
    raise ValueError(f"resize2d: rounding_method must be round, round_prefer_floor, round_prefer_ceil, floor or "
                     f"ceil, got {method!r}")


def _clamp(i, size: int):
    return min_(max_(i, const(0)), const(size - 1))


def resize2d(data: te.Tensor, roi, size, layout: str = "NCHW", method: str = "linear",
             coordinate_transformation_mode: str = "half_pixel", rounding_method: str = "",
             bicubic_alpha: float = -0.5, bicubic_exclude: int = 0, extrapolation_value: float = 0.0,
             out_dtype=None, output_shape=None):
    """Resize the H and W axes of data to size = (out_h, out_w).  roi is accepted for
    signature compatibility (tf_crop_and_resize is not supported)."""
    shape = get_const_tuple(data.shape)
    if len(layout) != len(shape) or "H" not in layout or "W" not in layout:
        raise ValueError(f"resize2d: layout {layout!r} does not describe a {len(shape)}-D tensor with H and W")
    ha, wa = layout.index("H"), layout.index("W")
    H, W = shape[ha], shape[wa]
    oh, ow = (int(v.value if hasattr(v, "value") else v) for v in size)
    out_shape = list(shape)
    out_shape[ha], out_shape[wa] = oh, ow
    out_dtype = out_dtype or data.dtype
    mode = coordinate_transformation_mode
    if method in ("nearest_neighbor", "nearest"):
        rounding = rounding_method or ("round" if mode == "align_corners" else "floor")

        def fnear(*i):
            y = _clamp(_round(_in_coord(i[ha], H, oh, mode), rounding).astype("int32"), H)
            x = _clamp(_round(_in_coord(i[wa], W, ow, mode), rounding).astype("int32"), W)
            idx = list(i)
            idx[ha], idx[wa] = y, x
            return data[tuple(idx)].astype(out_dtype)

        return te.compute(tuple(out_shape), fnear, name="T_resize", tag=INJECTIVE)
    if method not in ("linear", "bilinear"):
        raise ValueError(f"resize2d: method must be 'nearest_neighbor' or 'linear', got {method!r}")

    def flin(*i):
        yf = _in_coord(i[ha], H, oh, mode)
        xf = _in_coord(i[wa], W, ow, mode)
        y0f, x0f = Call("float32", "floor", (yf,)), Call("float32", "floor", (xf,))
        wy, wx = yf - y0f, xf - x0f
        y0, x0 = y0f.astype("int32"), x0f.astype("int32")
        ys = (_clamp(y0, H), _clamp(y0 + 1, H))
        xs = (_clamp(x0, W), _clamp(x0 + 1, W))

        def px(y, x):
            idx = list(i)
            idx[ha], idx[wa] = y, x
            return data[tuple(idx)].astype("float32")

        top = px(ys[0], xs[0]) * (const(1.0) - wx) + px(ys[0], xs[1]) * wx
        bottom = px(ys[1], xs[0]) * (const(1.0) - wx) + px(ys[1], xs[1]) * wx
        return (top * (const(1.0) - wy) + bottom * wy).astype(out_dtype)

    return te.compute(tuple(out_shape), flin, name="T_resize", tag=INJECTIVE)


def resize3d(data: te.Tensor, size, layout: str = "NCDHW", method: str = "linear",
             coordinate_transformation_mode: str = "half_pixel", rounding_method: str = "", out_dtype=None):
    """Resize the D, H and W axes of data to size = (out_d, out_h, out_w): nearest or trilinear (the eight
    neighbours weighted per axis)."""
    shape = get_const_tuple(data.shape)
    if len(layout) != len(shape) or any(a not in layout for a in "DHW"):
        raise ValueError(f"resize3d: layout {layout!r} does not describe a {len(shape)}-D tensor with D, H and W")
    axes = [layout.index(a) for a in "DHW"]
    ins = [shape[a] for a in axes]
    outs = [int(v.value if hasattr(v, "value") else v) for v in size]
    out_shape = list(shape)
    for a, o in zip(axes, outs):
        out_shape[a] = o
    out_dtype = out_dtype or data.dtype
    mode = coordinate_transformation_mode
    if method in ("nearest_neighbor", "nearest"):
        rounding = rounding_method or ("round" if mode == "align_corners" else "floor")

        def fnear(*i):
            idx = list(i)
            for a, n, o in zip(axes, ins, outs):
                idx[a] = _clamp(_round(_in_coord(i[a], n, o, mode), rounding).astype("int32"), n)
            return data[tuple(idx)].astype(out_dtype)

        return te.compute(tuple(out_shape), fnear, name="T_resize3d", tag=INJECTIVE)
    if method not in ("linear", "trilinear"):
        raise ValueError(f"resize3d: method must be 'nearest_neighbor' or 'linear', got {method!r}")

    def flin(*i):
        taps = []  # per axis: ((index, weight), (index + 1, weight))
        for a, n, o in zip(axes, ins, outs):
            f = _in_coord(i[a], n, o, mode)
            f0 = Call("float32", "floor", (f,))
            w = f - f0
            lo = f0.astype("int32")
            taps.append(((a, _clamp(lo, n), const(1.0) - w), (a, _clamp(lo + 1, n), w)))
        total = None
        for corner in itertools.product(*taps):
            idx = list(i)
            weight = None
            for a, j, w in corner:
                idx[a] = j
                weight = w if weight is None else weight * w
            term = data[tuple(idx)].astype("float32") * weight
            total = term if total is None else total + term
        return total.astype(out_dtype)

    return te.compute(tuple(out_shape), flin, name="T_resize3d", tag=INJECTIVE)


def resize(data, size, layout="NCHW", method="linear", coordinate_transformation_mode="half_pixel", **kw):
    """resize2d without the roi argument."""
    return resize2d(data, None, size, layout, method, coordinate_transformation_mode, **kw)


__all__ = ["resize2d", "resize3d", "resize"]
