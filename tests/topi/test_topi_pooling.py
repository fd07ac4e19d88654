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


# -- element-wise epilogues fused after pooling (relay fuses relu / add / bias into the pool group):
# average pooling is a window sum followed by a division stage, which must be inlined into the
# epilogue that owns the loop nest (relay.build of avg_pool2d + relu used to raise a ScheduleError).

EPILOGUE_SHAPES = [(1, 8, 16, 16), (2, 3, 9, 10), (1, 16, 7, 7)]


def _epilogue(kind, y, other=None):
    if kind != "relu":
        y = y + other
    return y if kind == "add" else np.maximum(y, 0)


@pytest.mark.parametrize("shape", EPILOGUE_SHAPES)
def test_pool_epilogue_topi(shape):
    from tilecraft import topi

    x = RNG.standard_normal(shape).astype("float32")
    X = te.placeholder(shape, name="X")
    k, s, d, pad = (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)
    for kind in ("max", "avg"):
        for cip in (True, False):
            pooled = P.pool2d(X, k, s, d, pad, kind, False, "NCHW", cip)
            ref = pool_ref(x, k, s, d, pad, kind, False, cip)
            out = topi.nn.relu(pooled)
            (got,) = run(schedule_pool(out), [X, out], [x])
            np.testing.assert_allclose(got, np.maximum(ref, 0), rtol=1e-5, atol=1e-6, err_msg=str((kind, cip)))
    for out, ref in [(topi.nn.relu(P.adaptive_avg_pool2d(X, (4, 3))), adaptive_ref(x, 4, 3, "avg")),
                     (topi.nn.relu(P.adaptive_max_pool2d(X, (4, 3))), adaptive_ref(x, 4, 3, "max")),
                     (topi.nn.relu(P.global_avg_pool2d(X)), x.mean((2, 3), keepdims=True))]:
        (got,) = run(schedule_pool(out), [X, out], [x])
        np.testing.assert_allclose(got, np.maximum(ref, 0), rtol=1e-5, atol=1e-6, err_msg=out.op.name)
    # The division stage also an output of the group: it stays a stage of its own.
    avg = P.avg_pool2d(X, 2)
    out = topi.nn.relu(avg)
    f = tvm.build(schedule_pool([out, avg]), [X, out, avg], target="llvm")
    oshape = tuple(int(v.value) for v in avg.shape)
    o1, o2 = tvm.nd.empty(oshape, "float32"), tvm.nd.empty(oshape, "float32")
    f(tvm.nd.array(x), o1, o2)
    ref = pool_ref(x, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), "avg", False, True)
    np.testing.assert_allclose(o2.numpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(o1.numpy(), np.maximum(ref, 0), rtol=1e-5, atol=1e-6)


def test_avg_pool_epilogue_schedule_text():
    """The epilogue owns the loop nest (parallel, vectorized) with the division inlined into it and
    the window sum computed inside its parallel loop, as for plain average pooling."""
    from tilecraft import topi

    X = te.placeholder((1, 64, 56, 56), name="X")
    out = topi.nn.relu(P.pool2d(X, 3, 2, 1, 1, "avg"))
    text = str(tvm.lower(schedule_pool(out), [X, out], simple_mode=True))
    assert "T.parallel" in text and "T.vectorized(4)" in text and "T_pool_avg" not in text


RELAY_POOLS = {
    "max": lambda r, x: r.nn.max_pool2d(x, pool_size=(3, 3), strides=(2, 2), padding=(1, 1)),
    "avg": lambda r, x: r.nn.avg_pool2d(x, pool_size=(2, 2), strides=(2, 2)),
    "avg_pad_cip": lambda r, x: r.nn.avg_pool2d(x, pool_size=(3, 3), strides=(2, 2), padding=(1, 1),
                                                 count_include_pad=True),
    "avg_pad_nocip": lambda r, x: r.nn.avg_pool2d(x, pool_size=(3, 3), strides=(2, 2), padding=(1, 1),
                                                   count_include_pad=False),
    "avg_ceil": lambda r, x: r.nn.avg_pool2d(x, pool_size=(3, 3), strides=(2, 2), padding=(1, 1), ceil_mode=True,
                                              count_include_pad=True),
    "global_avg": lambda r, x: r.nn.global_avg_pool2d(x),
    "global_max": lambda r, x: r.nn.global_max_pool2d(x),
    "adaptive_avg": lambda r, x: r.nn.adaptive_avg_pool2d(x, output_size=(4, 3)),
    "adaptive_max": lambda r, x: r.nn.adaptive_max_pool2d(x, output_size=(4, 3)),
}


def _relay_pool_ref(name, x):
    k3 = ((3, 3), (2, 2), (1, 1), (1, 1, 1, 1))
    return {
        "max": lambda: pool_ref(x, *k3, "max", False, True),
        "avg": lambda: pool_ref(x, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), "avg", False, True),
        "avg_pad_cip": lambda: pool_ref(x, *k3, "avg", False, True),
        "avg_pad_nocip": lambda: pool_ref(x, *k3, "avg", False, False),
        "avg_ceil": lambda: pool_ref(x, *k3, "avg", True, True),
        "global_avg": lambda: x.mean((2, 3), keepdims=True),
        "global_max": lambda: x.max((2, 3), keepdims=True),
        "adaptive_avg": lambda: adaptive_ref(x, 4, 3, "avg"),
        "adaptive_max": lambda: adaptive_ref(x, 4, 3, "max"),
    }[name]()


@pytest.mark.parametrize("shape", EPILOGUE_SHAPES)
@pytest.mark.parametrize("pool", sorted(RELAY_POOLS))
def test_relay_pool_epilogue(pool, shape):
    """relay.build of pooling followed by relu / add (fused into the pool group) vs numpy."""
    from tilecraft import relay
    from tilecraft.contrib import graph_executor

    x = RNG.standard_normal(shape).astype("float32")
    ref = _relay_pool_ref(pool, x)
    b = RNG.standard_normal(ref.shape).astype("float32")
    for epi in ("relu", "add", "add_relu"):
        xv = relay.var("x", shape=shape)
        bv = relay.var("b", shape=ref.shape)
        y = RELAY_POOLS[pool](relay, xv)
        if epi == "relu":
            y, args, inputs = relay.nn.relu(y), [xv], {"x": x}
        else:
            y = relay.add(y, bv)
            y = relay.nn.relu(y) if epi == "add_relu" else y
            args, inputs = [xv, bv], {"x": x, "b": b}
        with tvm.transform.PassContext(opt_level=3):
            lib = relay.build(tvm.IRModule.from_expr(relay.Function(args, y)), target="llvm")
        m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
        for k, v in inputs.items():
            m.set_input(k, v)
        m.run()
        np.testing.assert_allclose(m.get_output(0).numpy(), _epilogue(epi, ref, b), rtol=1e-5, atol=1e-5,
                                   err_msg=f"{pool} + {epi}")
