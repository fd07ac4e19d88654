"""softmax / log_softmax and the normalizations (layer, group, instance, batch) vs numpy, under
the default and the x86 schedules."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.topi import elemwise
from tilecraft.topi.nn import norm
from tilecraft.topi.nn.softmax import log_softmax, softmax
from tilecraft.topi.x86.norm import schedule_batch_norm, schedule_layer_norm
from tilecraft.topi.x86.softmax import schedule_softmax

RNG = np.random.default_rng(13)


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    outs = [tvm.nd.empty(tuple(int(v.value) for v in t.shape), t.dtype) for t in args[len(inputs):]]
    f(*[tvm.nd.array(a) for a in inputs], *outs)
    return [o.numpy() for o in outs]


def softmax_ref(x, axis):
    x = x.astype("float64")
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def norm_ref(x, axes, eps=1e-5):
    x = x.astype("float64")
    m = x.mean(axes, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(axes, keepdims=True) + eps)


@pytest.mark.parametrize("shape,axis", [((12, 16, 128), -1), ((4, 32), 1), ((3, 5), -1), ((2, 8, 4, 16), 1),
                                        ((6, 3, 5), -3), ((8, 5), 0)])
def test_softmax_and_log_softmax_x86(shape, axis):
    x = (RNG.standard_normal(shape) * 4).astype("float32")
    X = te.placeholder(shape, name="X")
    ref = softmax_ref(x, axis)
    for fn, r in ((softmax, ref), (log_softmax, np.log(ref))):
        out = fn(X, axis)
        (got,) = run(schedule_softmax(out), [X, out], [x])
        np.testing.assert_allclose(got, r, rtol=3e-6, atol=1e-6, err_msg=fn.__name__)


def test_softmax_default_schedule_and_epilogue():
    x = (RNG.standard_normal((4, 64)) * 10).astype("float32")
    X = te.placeholder(x.shape, name="X")
    out = softmax(X)
    (got,) = run(te.create_schedule(out.op), [X, out], [x])
    np.testing.assert_allclose(got, softmax_ref(x, -1), rtol=3e-6, atol=1e-7)
    scaled = elemwise.sqrt(out)  # an element-wise stage fused after the softmax
    (got,) = run(schedule_softmax(scaled), [X, scaled], [x])
    np.testing.assert_allclose(got, np.sqrt(softmax_ref(x, -1)), rtol=3e-6, atol=1e-7)


def test_softmax_row_schedule_is_one_parallel_vectorized_loop():
    X = te.placeholder((12, 128, 128), name="X")
    out = softmax(X)
    text = str(tvm.lower(schedule_softmax(out), [X, out], simple_mode=True))
    assert text.count("T.parallel(1536)") == 1 and "T.fast_exp" in text and "T.vectorized(16)" in text


@pytest.mark.parametrize("shape,axis", [((16, 768), -1), ((4, 6, 8), (-2, -1)), ((3, 20), 1), ((5, 7), -1)])
def test_layer_norm(shape, axis):
    x = (RNG.standard_normal(shape) * 2 + 10).astype("float32")  # a large mean: two-pass variance
    axes = tuple(a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,)))
    pshape = tuple(shape[a] for a in axes)
    g = RNG.standard_normal(pshape).astype("float32")
    b = RNG.standard_normal(pshape).astype("float32")
    X, G, B = (te.placeholder(v.shape, name=n) for v, n in ((x, "X"), (g, "G"), (b, "B")))
    out = norm.layer_norm(X, G, B, axis, 1e-5)
    plain = norm.layer_norm(X, None, None, axis, 1e-3)
    ref = norm_ref(x, axes)
    (got,) = run(schedule_layer_norm(out), [X, G, B, out], [x, g, b])
    np.testing.assert_allclose(got, ref * g + b, rtol=1e-4, atol=1e-4)
    (got,) = run(te.create_schedule(plain.op), [X, plain], [x])
    np.testing.assert_allclose(got, norm_ref(x, axes, 1e-3), rtol=1e-4, atol=1e-4)


def test_layer_norm_schedule_text():
    X = te.placeholder((128, 768), name="X")
    G = te.placeholder((768,), name="G")
    B = te.placeholder((768,), name="B")
    out = norm.layer_norm(X, G, B, -1)
    text = str(tvm.lower(schedule_layer_norm(out), [X, G, B, out], simple_mode=True))
    assert text.count("T.parallel(128)") == 1 and text.count("T.vectorized(16)") >= 4


def test_group_instance_batch_norm():
    x = RNG.standard_normal((2, 8, 4, 6)).astype("float32")
    g = RNG.standard_normal(8).astype("float32")
    b = RNG.standard_normal(8).astype("float32")
    mean = RNG.standard_normal(8).astype("float32")
    var = (RNG.random(8) + 0.5).astype("float32")
    X, G, B, M, V = (te.placeholder(v.shape, name=n) for v, n in ((x, "X"), (g, "G"), (b, "B"), (mean, "M"),
                                                                  (var, "V")))
    c = (slice(None), None, None)
    gn = norm_ref(x.reshape(2, 2, 4, 4, 6), (2, 3, 4)).reshape(x.shape) * g[c] + b[c]
    inn = norm_ref(x, (2, 3)) * g[c] + b[c]
    bn = (x - mean[c]) / np.sqrt(var[c] + 1e-5) * g[c] + b[c]
    for out, ref, sched in ((norm.group_norm(X, G, B, 2, 1, None, 1e-5), gn, schedule_layer_norm),
                            (norm.instance_norm(X, G, B), inn, schedule_layer_norm)):
        (got,) = run(sched(out), [X, G, B, out], [x, g, b])
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4, err_msg=out.op.name)
    out = norm.batch_norm(X, G, B, M, V, 1, 1e-5)
    (got,) = run(schedule_batch_norm(out), [X, G, B, M, V, out], [x, g, b, mean, var])
    np.testing.assert_allclose(got, bn, rtol=1e-4, atol=1e-4)
    xl = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # channels last, no scale / shift
    XL = te.placeholder(xl.shape, name="XL")
    out = norm.batch_norm(XL, None, None, M, V, axis=-1, epsilon=1e-3, center=False, scale=False)
    (got,) = run(te.create_schedule(out.op), [XL, M, V, out], [xl, mean, var])
    np.testing.assert_allclose(got, (xl - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-5)
