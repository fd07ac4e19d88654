"""relay.image: resize2d (nearest, bilinear) with ONNX/PyTorch coordinate modes."""

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
