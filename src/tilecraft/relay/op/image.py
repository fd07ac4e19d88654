"""relay.image: resize2d (nearest, bilinear) with ONNX/PyTorch coordinate modes; nn.upsampling and
nn.upsampling3d (resizes by scale factors)."""

from __future__ import annotations

from .registry import OpPattern, make_call, register_op
from .tensor import _topi
from .transform import te_rel


def _resize_compute(a, ins, o):
    return _topi("image.resize2d")(ins[0], a["roi"], a["size"], a["layout"], a["method"],
                                   a["coordinate_transformation_mode"], a["rounding_method"])


register_op("image.resize2d", te_rel(_resize_compute), _resize_compute, OpPattern.INJECTIVE,
            {"size": None, "roi": None, "layout": "NCHW", "method": "linear",
             "coordinate_transformation_mode": "half_pixel", "rounding_method": "", "cubic_alpha": -0.5,
             "cubic_exclude": 0, "extrapolation_value": 0.0, "out_dtype": None})


def resize2d(data, size, roi=None, layout="NCHW", method="linear", coordinate_transformation_mode="half_pixel",
             rounding_method="", cubic_alpha=-0.5, cubic_exclude=0, extrapolation_value=0.0, out_dtype=None):
    return make_call("image.resize2d", (data,), size=tuple(int(s) for s in size), roi=roi, layout=layout,
                     method=method, coordinate_transformation_mode=coordinate_transformation_mode,
                     rounding_method=rounding_method, cubic_alpha=cubic_alpha, cubic_exclude=cubic_exclude,
                     extrapolation_value=extrapolation_value, out_dtype=out_dtype)


def _scaled(size, scale: float):
    """round(size * scale): an int, or for a symbolic size classic Relay's int32(round(float64(size) * scale))."""
    from ...ir.expr import cast, const
    from ...ir.op import round as round_

    if isinstance(size, int):
        return int(round(size * scale))
    return cast(round_(size * const(float(scale), "float64")), "int32")


def _scaled_rel(axes: str, scale_keys: tuple, layouts: tuple):
    def rel(types, attrs):
        from ..ty import TensorType
        from ._rel import tensor_arg

        d = tensor_arg(types, 0, "data")
        layout = attrs["layout"]
        if layout not in layouts or d.ndim != len(layout):
            raise ValueError(f"takes {len(layouts[0])}-D data in {' or '.join(layouts)}, got {d.shape} in {layout}")
        shape = list(d.shape)
        for axis, key in zip(axes, scale_keys):
            shape[layout.index(axis)] = _scaled(shape[layout.index(axis)], attrs[key])
        return TensorType(tuple(shape), d.dtype)

    return rel


# nn.upsampling (classic relay.nn.upsampling): a resize by scale factors, in relay.nn's namespace.
_UPSAMPLING_METHOD = {"nearest_neighbor": "nearest_neighbor", "bilinear": "linear", "bicubic": "cubic"}


def _upsampling_compute(a, ins, o):
    x, layout = ins[0], a["layout"]
    h, w = (int(x.shape[layout.index(d)]) for d in "HW")
    size = (int(round(h * a["scale_h"])), int(round(w * a["scale_w"])))
    mode = "align_corners" if a["align_corners"] else "asymmetric"
    return _topi("image.resize2d")(x, None, size, layout, _UPSAMPLING_METHOD[a["method"]], mode, "")


register_op("nn.upsampling", _scaled_rel("HW", ("scale_h", "scale_w"), ("NCHW", "NHWC")), _upsampling_compute,
            OpPattern.INJECTIVE,
            {"scale_h": 1.0, "scale_w": 1.0, "layout": "NCHW", "method": "nearest_neighbor", "align_corners": False})


def upsampling(data, scale_h=1, scale_w=1, layout="NCHW", method="nearest_neighbor", align_corners=False):
    if method not in _UPSAMPLING_METHOD:
        raise ValueError(f"upsampling: method {method!r} is not one of {sorted(_UPSAMPLING_METHOD)}")
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"upsampling: layout {layout!r} is not NCHW or NHWC")
    return make_call("nn.upsampling", (data,), scale_h=float(scale_h), scale_w=float(scale_w), layout=layout,
                     method=method, align_corners=bool(align_corners))


# nn.upsampling3d (classic relay.nn.upsampling3d): a resize of D, H and W by scale factors.
def _upsampling3d_compute(a, ins, o):
    x, layout = ins[0], a["layout"]
    size = [int(round(int(x.shape[layout.index(ax)]) * s)) for ax, s in zip("DHW", (a["scale_d"], a["scale_h"],
                                                                                     a["scale_w"]))]
    method = "nearest_neighbor" if a["method"] == "nearest_neighbor" else "linear"
    return _topi("image.resize3d")(x, size, layout, method, a["coordinate_transformation_mode"])


register_op("nn.upsampling3d", _scaled_rel("DHW", ("scale_d", "scale_h", "scale_w"), ("NCDHW", "NDHWC")),
            _upsampling3d_compute, OpPattern.INJECTIVE,
            {"scale_d": 1.0, "scale_h": 1.0, "scale_w": 1.0, "layout": "NCDHW", "method": "nearest_neighbor",
             "coordinate_transformation_mode": "half_pixel"})


def upsampling3d(data, scale_d, scale_h, scale_w, layout="NCDHW", method="nearest_neighbor",
                 coordinate_transformation_mode="half_pixel"):
    if method not in ("nearest_neighbor", "trilinear"):
        raise ValueError(f"upsampling3d: method {method!r} is not nearest_neighbor or trilinear")
    return make_call("nn.upsampling3d", (data,), scale_d=float(scale_d), scale_h=float(scale_h),
                     scale_w=float(scale_w), layout=layout, method=method,
                     coordinate_transformation_mode=coordinate_transformation_mode)
