"""dense, dense_pack (+ its weight packing) and matmul: computes and x86 schedules against
numpy, with fused bias + gelu / relu epilogues and shapes the tiles do not divide."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import tilecraft as tvm
import tilecraft.topi.nn.dense  # noqa: F401
import tilecraft.topi.x86.dense  # noqa: F401
from tilecraft import te
from tilecraft.topi import tag

nn = sys.modules["tilecraft.topi.nn.dense"]
x86 = sys.modules["tilecraft.topi.x86.dense"]
RNG = np.random.default_rng(1)
_erf = np.vectorize(math.erf)


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    nd = [tvm.nd.array(a) for a in inputs] + [tvm.nd.empty(tuple(int(v.value) for v in args[-1].shape))]
    f(*nd)
    return nd[-1].numpy()


def gelu(t):
    return te.compute(t.shape, lambda i, j: 0.5 * t[i, j] * (1.0 + te.erf(t[i, j] * 0.7071067811865476)),
                      name="gelu", tag=tag.ELEMWISE)


def relu(t):
    return te.compute(t.shape, lambda i, j: te.max(t[i, j], te.const(0.0, "float32")), name="relu", tag=tag.ELEMWISE)


def ref_gelu(y):
    return 0.5 * y * (1 + _erf(y / np.sqrt(2)))


def pack(w, nr):
    N, K = w.shape
    return w.reshape(N // nr, nr, K).transpose(0, 2, 1).copy()


@pytest.mark.parametrize("M,N,K", [(5, 7, 3), (16, 32, 24)])
def test_dense_compute(M, N, K):
    x, w, b = rand(M, K), rand(N, K), rand(N)
    X, W, B = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W"), te.placeholder((N,), name="B")
    out = nn.dense(X, W, B)
    assert out.op.tag == tag.BROADCAST and out.op.input_tensors[0].op.tag == "dense"
    got = run(te.create_schedule(out.op), [X, W, B, out], [x, w, b])
    np.testing.assert_allclose(got, x @ w.T + b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("M,N,K", [(8, 32, 64), (13, 40, 30), (2, 16, 16), (32, 48, 8)])
@pytest.mark.parametrize("epilogue", ["none", "bias_gelu"])
def test_schedule_dense(M, N, K, epilogue):
    x, w, b = rand(M, K), rand(N, K), rand(N)
    X, W, B = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W"), te.placeholder((N,), name="B")
    if epilogue == "none":
        out = nn.dense(X, W)
        got = run(x86.schedule_dense([out]), [X, W, out], [x, w])
        ref = x @ w.T
    else:
        out = gelu(nn.dense(X, W, B))
        got = run(x86.schedule_dense([out]), [X, W, B, out], [x, w, b])
        ref = ref_gelu(x @ w.T + b)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("M,N,K,nr", [(128, 64, 48, 16), (7, 48, 33, 16), (1, 64, 16, 16), (3, 24, 10, 8),
                                      (200, 32, 20, 16)])
@pytest.mark.parametrize("epilogue", ["none", "bias_gelu", "bias_relu"])
def test_schedule_dense_pack(M, N, K, nr, epilogue):
    x, w, b = rand(M, K), rand(N, K), rand(N)
    X, B = te.placeholder(x.shape, name="X"), te.placeholder((N,), name="B")
    PW = te.placeholder((N // nr, K, nr), name="PW")
    ref = x @ w.T
    if epilogue == "none":
        out = nn.dense_pack(X, PW)
        assert out.op.tag == "dense_pack"
        got = run(x86.schedule_dense_pack([out]), [X, PW, out], [x, pack(w, nr)])
    else:
        act, ref_act = (gelu, ref_gelu) if epilogue == "bias_gelu" else (relu, lambda y: np.maximum(y, 0))
        out = act(nn.dense_pack(X, PW, B))
        got = run(x86.schedule_dense_pack([out]), [X, PW, B, out], [x, pack(w, nr), b])
        ref = ref_act(ref + b)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_dense_pack_weight_inside_the_group():
    M, N, K = 9, 48, 20
    x, w, b = rand(M, K), rand(N, K), rand(N)
    X, W, B = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W"), te.placeholder((N,), name="B")
    pw = nn.dense_pack_weight(W, x86.dense_pack_nr(N))
    np.testing.assert_array_equal(run(te.create_schedule(pw.op), [W, pw], [w]), pack(w, 16))
    out = relu(nn.dense_pack(X, pw, B))
    got = run(x86.schedule_dense_pack([out]), [X, W, B, out], [x, w, b])
    np.testing.assert_allclose(got, np.maximum(x @ w.T + b, 0), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="nr=16"):
        nn.dense_pack_weight(te.placeholder((20, 4), name="W2"), 16)
    assert [x86.dense_pack_nr(n) for n in (3072, 40, 12, 7)] == [16, 8, 4, 1]


@pytest.mark.parametrize("ta,tb", [(False, False), (False, True), (True, False), (True, True)])
def test_matmul(ta, tb):
    M, N, K = 12, 40, 20
    a, b = rand(M, K), rand(K, N)
    A = te.placeholder((K, M) if ta else (M, K), name="A")
    B = te.placeholder((N, K) if tb else (K, N), name="B")
    out = relu(nn.matmul(A, B, transpose_a=ta, transpose_b=tb))
    got = run(x86.schedule_matmul([out]), [A, B, out], [a.T.copy() if ta else a, b.T.copy() if tb else b])
    np.testing.assert_allclose(got, np.maximum(a @ b, 0), rtol=1e-4, atol=1e-4)


def test_dense_shape_errors():
    with pytest.raises(ValueError, match="reduction"):
        nn.dense(te.placeholder((4, 8), name="X"), te.placeholder((3, 7), name="W"))
    with pytest.raises(ValueError, match="bias"):
        nn.dense(te.placeholder((4, 8), name="X"), te.placeholder((3, 8), name="W"), te.placeholder((4,), name="b"))
