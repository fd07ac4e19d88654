"""resize2d (topi.image.resize) vs a numpy reference for every coordinate transformation mode and
rounding method, nearest and bilinear, NCHW and NHWC, plus PyTorch's documented values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.topi.image.resize import resize2d
from tilecraft.topi.x86.injective import schedule_injective

RNG = np.random.default_rng(19)


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    outs = [tvm.nd.empty(tuple(int(v.value) for v in t.shape), t.dtype) for t in args[len(inputs):]]
    f(*[tvm.nd.array(a) for a in inputs], *outs)
    return [o.numpy() for o in outs]


def coord(o, n_in, n_out, mode):
    if mode == "align_corners":
        return 0.0 if n_out == 1 else o * (n_in - 1) / (n_out - 1)
    scale = n_in / n_out
    return {"asymmetric": o * scale, "tf_half_pixel_for_nn": (o + 0.5) * scale,
            "half_pixel": (o + 0.5) * scale - 0.5,
            "pytorch_half_pixel": (o + 0.5) * scale - 0.5 if n_out > 1 else 0.0}[mode]


ROUND = {"floor": math.floor, "ceil": math.ceil, "round": lambda v: math.floor(v + 0.5),
         "round_prefer_ceil": lambda v: math.floor(v + 0.5), "round_prefer_floor": lambda v: math.ceil(v - 0.5)}


def resize_ref(x, oh, ow, method, mode, rounding):
    N, C, H, W = x.shape
    out = np.zeros((N, C, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y, xx = coord(i, H, oh, mode), coord(j, W, ow, mode)
            if method == "nearest_neighbor":
                r = ROUND[rounding or ("round" if mode == "align_corners" else "floor")]
                out[:, :, i, j] = x[:, :, min(max(r(y), 0), H - 1), min(max(r(xx), 0), W - 1)]
            else:
                y0, x0 = math.floor(y), math.floor(xx)
                wy, wx = y - y0, xx - x0
                ya, yb = min(max(y0, 0), H - 1), min(max(y0 + 1, 0), H - 1)
                xa, xb = min(max(x0, 0), W - 1), min(max(x0 + 1, 0), W - 1)
                top = x[:, :, ya, xa] * (1 - wx) + x[:, :, ya, xb] * wx
                bot = x[:, :, yb, xa] * (1 - wx) + x[:, :, yb, xb] * wx
                out[:, :, i, j] = top * (1 - wy) + bot * wy
    return out


MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]


@pytest.mark.parametrize("method", ["linear", "nearest_neighbor"])
def test_resize_modes(method):
    x = RNG.standard_normal((1, 2, 5, 7)).astype("float32")
    X = te.placeholder(x.shape, name="X")
    cases = []
    for mode in MODES:
        for size in ((9, 12), (3, 4), (1, 1)):
            roundings = [""] if method == "linear" else ["", "round_prefer_floor", "round_prefer_ceil", "ceil"]
            for rnd in roundings:
                cases.append((size, mode, rnd))
    outs = [resize2d(X, None, size, "NCHW", method, mode, rnd) for size, mode, rnd in cases]
    got = run(te.create_schedule([o.op for o in outs]), [X] + outs, [x])
    for (size, mode, rnd), g in zip(cases, got):
        ref = resize_ref(x.astype("float64"), *size, method, mode, rnd)
        np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-5, err_msg=str((size, mode, rnd)))


def test_pytorch_documented_values_and_nhwc():
    x = np.array([[[[0.0, 1.0]]]], "float32")  # 1x1x1x2
    X = te.placeholder(x.shape, name="X")
    outs = [resize2d(X, None, (1, 4), method="linear", coordinate_transformation_mode="half_pixel"),
            resize2d(X, None, (1, 3), method="linear", coordinate_transformation_mode="align_corners"),
            resize2d(X, None, (1, 4), method="nearest_neighbor", coordinate_transformation_mode="asymmetric")]
    got = run(te.create_schedule([o.op for o in outs]), [X] + outs, [x])
    np.testing.assert_allclose(got[0].ravel(), [0, 0.25, 0.75, 1])  # F.interpolate(bilinear, align_corners=False)
    np.testing.assert_allclose(got[1].ravel(), [0, 0.5, 1])  # align_corners=True
    np.testing.assert_allclose(got[2].ravel(), [0, 0, 1, 1])  # mode="nearest"
    xn = RNG.standard_normal((2, 4, 6, 3)).astype("float32")  # NHWC
    XN = te.placeholder(xn.shape, name="XN")
    out = resize2d(XN, None, (8, 12), "NHWC", "linear", "half_pixel")
    (got,) = run(schedule_injective(out), [XN, out], [xn])
    ref = resize_ref(xn.transpose(0, 3, 1, 2).astype("float64"), 8, 12, "linear", "half_pixel", "")
    np.testing.assert_allclose(got, ref.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-5)


def test_bad_arguments():
    X = te.placeholder((1, 1, 2, 2), name="X")
    with pytest.raises(ValueError, match="coordinate_transformation_mode"):
        resize2d(X, None, (4, 4), coordinate_transformation_mode="bogus")
    with pytest.raises(ValueError, match="method"):
        resize2d(X, None, (4, 4), method="cubic")
