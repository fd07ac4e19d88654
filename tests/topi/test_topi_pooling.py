"""Pooling (topi.nn.pooling) and its x86 schedule vs a numpy reference that follows PyTorch's
rules: padding, stride, dilation, ceil_mode (a window must start inside the input or the left
padding), count_include_pad (padding counts, the ceil_mode overhang does not), global and adaptive
pooling, NCHW and NHWC."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.topi.nn import pooling as P
from tilecraft.topi.x86.pooling import schedule_pool

RNG = np.random.default_rng(17)


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    outs = [tvm.nd.empty(tuple(int(v.value) for v in t.shape), t.dtype) for t in args[len(inputs):]]
    f(*[tvm.nd.array(a) for a in inputs], *outs)
    return [o.numpy() for o in outs]


def _out(size, k, s, d, lo, hi, ceil_mode):
    eff = (k - 1) * d + 1
    n = (size + lo + hi - eff + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (n - 1) * s >= size + lo:
        n -= 1
    return n


def pool_ref(x, k, s, d, pad, kind, ceil_mode, count_include_pad):
    """NCHW pooling, one window at a time."""
    (kh, kw), (sh, sw), (dh, dw), (pt, pl, pb, pr) = k, s, d, pad
    N, C, H, W = x.shape
    oh, ow = _out(H, kh, sh, dh, pt, pb, ceil_mode), _out(W, kw, sw, dw, pl, pr, ceil_mode)
    out = np.zeros((N, C, oh, ow), "float64")
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * sh - pt, j * sw - pl
            hh = [hs + a * dh for a in range(kh) if 0 <= hs + a * dh < H]
            ww = [ws + b * dw for b in range(kw) if 0 <= ws + b * dw < W]
            win = x[:, :, hh][:, :, :, ww]
            if kind == "max":
                out[:, :, i, j] = win.max((2, 3))
            else:
                if count_include_pad:
                    n = (min(hs + kh, H + pb) - hs) * (min(ws + kw, W + pr) - ws)
                else:
                    n = len(hh) * len(ww)
                out[:, :, i, j] = win.sum((2, 3)) / n
    return out


CASES = [  # kernel, stride, dilation, padding (t, l, b, r), ceil_mode, count_include_pad
    ((3, 3), (2, 2), (1, 1), (1, 1, 1, 1), True, True),
    ((3, 3), (2, 2), (1, 1), (1, 1, 1, 1), True, False),
    ((3, 2), (2, 1), (2, 1), (1, 0, 1, 0), False, True),
    ((2, 2), (2, 2), (1, 1), (0, 0, 0, 0), False, True),
    ((3, 3), (1, 1), (1, 1), (0, 1, 2, 1), False, False),
    ((2, 2), (3, 3), (1, 1), (0, 0, 0, 0), True, True),
]


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d(kind):
    x = RNG.standard_normal((2, 3, 9, 10)).astype("float32")
    X = te.placeholder(x.shape, name="X")
    for k, s, d, pad, ceil_mode, cip in CASES:
        if kind == "avg" and d != (1, 1):
            continue
        out = P.pool2d(X, k, s, d, pad, kind, ceil_mode, "NCHW", cip)
        ref = pool_ref(x, k, s, d, pad, kind, ceil_mode, cip)
        (got,) = run(schedule_pool(out), [X, out], [x])
        assert got.shape == ref.shape, (k, s, pad, ceil_mode, got.shape, ref.shape)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6, err_msg=str((k, s, d, pad, ceil_mode, cip)))


def test_pool2d_nhwc_and_torch_style_helpers():
    x = RNG.standard_normal((2, 3, 8, 8)).astype("float32")
    xl = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    X = te.placeholder(x.shape, name="X")
    XL = te.placeholder(xl.shape, name="XL")
    outs = [P.pool2d(XL, 3, 2, 1, 1, "avg", False, "NHWC", False), P.pool2d(XL, 2, 2, 1, 0, "max", layout="NHWC")]
    refs = [pool_ref(x, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), "avg", False, False).transpose(0, 2, 3, 1),
            pool_ref(x, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), "max", False, True).transpose(0, 2, 3, 1)]
    for out, ref in zip(outs, refs):
        (got,) = run(schedule_pool(out, "NHWC"), [XL, out], [xl])
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    out = P.max_pool2d(X, 3, 2, 1, ceil_mode=True)
    (got,) = run(schedule_pool(out), [X, out], [x])
    np.testing.assert_allclose(got, pool_ref(x, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), "max", True, True))
    out = P.avg_pool2d(X, 2)
    (got,) = run(schedule_pool(out), [X, out], [x])
    np.testing.assert_allclose(got, x.reshape(2, 3, 4, 2, 4, 2).mean((3, 5)), rtol=1e-5, atol=1e-6)


def adaptive_ref(x, oh, ow, kind):
    N, C, H, W = x.shape
    out = np.zeros((N, C, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, he = (i * H) // oh, -((-(i + 1) * H) // oh)
            ws, we = (j * W) // ow, -((-(j + 1) * W) // ow)
            win = x[:, :, hs:he, ws:we]
            out[:, :, i, j] = win.max((2, 3)) if kind == "max" else win.mean((2, 3))
    return out


def test_global_and_adaptive_pool():
    x = RNG.standard_normal((2, 16, 9, 10)).astype("float32")
    X = te.placeholder(x.shape, name="X")
    cases = [(P.global_avg_pool2d(X), x.mean((2, 3), keepdims=True)),
             (P.global_max_pool2d(X), x.max((2, 3), keepdims=True)),
             (P.adaptive_avg_pool2d(X, (4, 3)), adaptive_ref(x, 4, 3, "avg")),
             (P.adaptive_max_pool2d(X, (5, 7)), adaptive_ref(x, 5, 7, "max")),
             (P.adaptive_avg_pool2d(X, 1), x.mean((2, 3), keepdims=True)),
             (P.adaptive_avg_pool2d(X, (9, 10)), x)]
    for out, ref in cases:
        (got,) = run(schedule_pool(out), [X, out], [x])
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6, err_msg=out.op.name)


def test_pool_schedule_text():
    X = te.placeholder((1, 64, 56, 56), name="X")
    out = P.pool2d(X, 3, 2, 1, 1, "avg")
    text = str(tvm.lower(schedule_pool(out), [X, out], simple_mode=True))
    assert "T.parallel" in text and "T.vectorized(4)" in text
