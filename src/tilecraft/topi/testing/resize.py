"""numpy references for resizing (classic `topi.testing.resize2d_python`, `upsampling_python`)."""

from __future__ import annotations

import numpy as np


def _source_coord(out_idx, in_size, out_size, mode):
    scale = in_size / out_size
    if mode == "half_pixel":
        return (out_idx + 0.5) * scale - 0.5
    if mode == "pytorch_half_pixel":
        return (out_idx + 0.5) * scale - 0.5 if out_size > 1 else np.zeros_like(out_idx, dtype="float64")
    if mode == "align_corners":
        return out_idx * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    if mode == "asymmetric":
        return out_idx * scale
    raise ValueError(f"coordinate_transformation_mode {mode!r}: use half_pixel, pytorch_half_pixel, "
                     "align_corners or asymmetric")


def _resize_axis(x, axis, out_size, method, mode, rounding_method):
    in_size = x.shape[axis]
    src = _source_coord(np.arange(out_size, dtype="float64"), in_size, out_size, mode)
    if method in ("nearest_neighbor", "nearest"):
        rounding = rounding_method or ("round" if mode == "align_corners" else "floor")
        pick = {"round": lambda v: np.floor(v + 0.5), "floor": np.floor, "ceil": np.ceil,
                "round_prefer_floor": lambda v: np.ceil(v - 0.5), "round_prefer_ceil": lambda v: np.floor(v + 0.5)}
        idx = np.clip(pick[rounding](src).astype(int), 0, in_size - 1)
        return np.take(x, idx, axis=axis)
    if method in ("linear", "bilinear"):
        lo = np.floor(src)
        frac = src - lo
        i0 = np.clip(lo.astype(int), 0, in_size - 1)
        i1 = np.clip(lo.astype(int) + 1, 0, in_size - 1)
        shape = [1] * x.ndim
        shape[axis] = out_size
        frac = frac.reshape(shape)
        return np.take(x, i0, axis=axis) * (1 - frac) + np.take(x, i1, axis=axis) * frac
    raise ValueError(f"method {method!r}: the reference knows nearest_neighbor and linear")


def resize2d_python(data, scale, layout="NCHW", method="nearest_neighbor",
                    coordinate_transformation_mode="align_corners", rounding_method="", out_size=None):
    """Resize H and W by `scale` = (scale_h, scale_w) (or to `out_size`), separably per axis."""
    ha, wa = layout.index("H"), layout.index("W")
    if out_size is None:
        out_size = (int(round(data.shape[ha] * scale[0])), int(round(data.shape[wa] * scale[1])))
    out = data.astype("float64")
    out = _resize_axis(out, ha, out_size[0], method, coordinate_transformation_mode, rounding_method)
    out = _resize_axis(out, wa, out_size[1], method, coordinate_transformation_mode, rounding_method)
    return out.astype(data.dtype)


def resize3d_python(data, scale, layout="NCDHW", method="nearest_neighbor",
                    coordinate_transformation_mode="align_corners", rounding_method="", out_size=None):
    """Resize D, H and W by `scale` = (scale_d, scale_h, scale_w) (or to `out_size`), separably per axis."""
    axes = [layout.index(a) for a in "DHW"]
    if out_size is None:
        out_size = [int(round(data.shape[a] * s)) for a, s in zip(axes, scale)]
    out = data.astype("float64")
    for a, o in zip(axes, out_size):
        out = _resize_axis(out, a, o, method, coordinate_transformation_mode, rounding_method)
    return out.astype(data.dtype)


def upsampling_python(data, scale, layout="NCHW"):
    """Nearest-neighbour upsampling by integer factors scale = (scale_h, scale_w)."""
    ha, wa = layout.index("H"), layout.index("W")
    sh, sw = (scale, scale) if np.isscalar(scale) else scale
    return np.repeat(np.repeat(data, int(sh), axis=ha), int(sw), axis=wa)
