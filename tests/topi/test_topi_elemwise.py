"""Element-wise math and activations (topi.elemwise) and the x86 injective schedule, vs numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.topi import broadcast, elemwise
from tilecraft.topi.x86.injective import schedule_injective

RNG = np.random.default_rng(7)
_erf = np.vectorize(math.erf)


def run(s, args, inputs):
    """Build s, run it on numpy inputs, return the outputs (the args after the inputs) as numpy."""
    f = tvm.build(s, args, target="llvm")
    outs = [tvm.nd.empty(tuple(int(v.value) for v in t.shape), t.dtype) for t in args[len(inputs):]]
    f(*[tvm.nd.array(a) for a in inputs], *outs)
    return [o.numpy() for o in outs]


def _gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _softplus(x):
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


UNARY = [
    (elemwise.exp, np.exp), (elemwise.log, lambda x: np.log(np.abs(x) + 0.1)), (elemwise.sqrt, None),
    (elemwise.rsqrt, None), (elemwise.sigmoid, lambda x: 1 / (1 + np.exp(-x))), (elemwise.tanh, np.tanh),
    (elemwise.erf, _erf), (elemwise.sin, np.sin), (elemwise.cos, np.cos), (elemwise.floor, np.floor),
    (elemwise.ceil, np.ceil), (elemwise.round, np.round), (elemwise.trunc, np.trunc), (elemwise.abs, np.abs),
    (elemwise.negative, np.negative), (elemwise.square, np.square), (elemwise.sign, np.sign),
    (elemwise.log1p, lambda x: np.log1p(np.abs(x))), (elemwise.exp2, np.exp2), (elemwise.fast_exp, np.exp),
    (elemwise.fast_tanh, np.tanh), (elemwise.fast_erf, _erf), (elemwise.reciprocal, None),
    (elemwise.relu, lambda x: np.maximum(x, 0)), (lambda t: elemwise.leaky_relu(t, 0.2),
                                                   lambda x: np.where(x > 0, x, 0.2 * x)),
    (elemwise.gelu, _gelu),
    (lambda t: elemwise.gelu(t, "tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (elemwise.silu, lambda x: x / (1 + np.exp(-x))), (elemwise.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    (elemwise.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)), (elemwise.relu6, lambda x: np.clip(x, 0, 6)),
    (elemwise.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    (elemwise.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))),
    (elemwise.softplus, _softplus), (elemwise.mish, lambda x: x * np.tanh(_softplus(x))),
    (lambda t: elemwise.clip(t, -0.5, 1.25), lambda x: np.clip(x, -0.5, 1.25)),
]


def test_unary_ops_against_numpy():
    x = (RNG.standard_normal((3, 17)) * 3).astype("float32")
    x[0, :4] = [2.5, -2.5, 0.5, -0.5]  # round half to even, as numpy
    pos = np.abs(x) + 0.1
    X = te.placeholder(x.shape, name="X")
    outs, refs = [], []
    for op, ref in UNARY:
        if ref is None:  # ops that need positive input: sqrt, rsqrt, reciprocal
            src = te.compute(X.shape, lambda i, j: te.abs(X[i, j]) + 0.1, name="pos")
            outs.append(op(src))
            refs.append({elemwise.sqrt: np.sqrt, elemwise.rsqrt: lambda v: 1 / np.sqrt(v),
                         elemwise.reciprocal: lambda v: 1 / v}[op](pos))
        elif op in (elemwise.log, elemwise.log1p):
            shift = 0.1 if op is elemwise.log else 0.0
            src = te.compute(X.shape, lambda i, j, shift=shift: te.abs(X[i, j]) + shift, name="pos")
            outs.append(op(src))
            refs.append(ref(x))
        else:
            outs.append(op(X))
            refs.append(ref(x.astype("float64")))
    s = te.create_schedule([o.op for o in outs])
    got = run(s, [X] + outs, [x])
    for g, r, o in zip(got, refs, outs):
        assert o.op.tag in ("elemwise", "broadcast"), o.op.name
        np.testing.assert_allclose(g, r, rtol=2e-6, atol=2e-6, err_msg=o.op.name)


def test_fast_exp_precision():
    x = np.linspace(-87, 88, 20001).astype("float32")
    X = te.placeholder(x.shape, name="X")
    Y = elemwise.fast_exp(X)
    (y,) = run(schedule_injective(Y), [X, Y], [x])
    rel = np.abs(y.astype("float64") - np.exp(x.astype("float64"))) / np.exp(x.astype("float64"))
    assert rel.max() < 2e-7, rel.max()


def test_cast_isnan_and_integer_inputs():
    x = np.array([[1.7, -1.7, np.nan, np.inf, 0.0, -np.inf]], "float32")
    X = te.placeholder(x.shape, name="X")
    K = te.placeholder((2, 3), "int32", name="K")
    k = np.array([[1, -2, 3], [0, 5, -7]], "int32")
    outs = [elemwise.isnan(X), elemwise.isinf(X), elemwise.isfinite(X),
            elemwise.cast(K, "float32"), elemwise.cast(K, "bool"), elemwise.exp(K), elemwise.relu(K),
            elemwise.abs(K), elemwise.full((2, 2), "int32", 3), elemwise.ones_like(K),
            elemwise.elemwise_sum([K, K, K])]
    got = run(te.create_schedule([o.op for o in outs]), [X, K] + outs, [x, k])
    refs = [np.isnan(x), np.isinf(x), np.isfinite(x), k.astype("float32"), k != 0,
            np.exp(k.astype("float32")), np.maximum(k, 0), np.abs(k), np.full((2, 2), 3), np.ones_like(k), 3 * k]
    for g, r, o in zip(got, refs, outs):
        np.testing.assert_allclose(g, r, rtol=1e-6, err_msg=o.op.name)
    assert outs[5].dtype == "float32" and outs[4].dtype == "bool"
    f = np.array([[1.7, -1.7, 2.5]], "float32")
    F = te.placeholder(f.shape, name="F")
    c = elemwise.cast(F, "int32")
    (g,) = run(te.create_schedule(c.op), [F, c], [f])
    np.testing.assert_array_equal(g, f.astype("int32"))  # truncation towards zero
    assert elemwise.cast(F, "float32") is F


def test_prelu_and_scalars():
    x = RNG.standard_normal((2, 3, 4)).astype("float32")
    a = RNG.random(3).astype("float32")
    X = te.placeholder(x.shape, name="X")
    A = te.placeholder((3,), name="A")
    Y = elemwise.prelu(X, A, axis=1)
    (y,) = run(te.create_schedule(Y.op), [X, A, Y], [x, a])
    np.testing.assert_allclose(y, np.where(x > 0, x, x * a[None, :, None]), rtol=1e-6)
    e = elemwise.relu(tvm.tir.const(-2.0))  # a scalar maps directly to an expression
    assert isinstance(e, tvm.tir.PrimExpr)


@pytest.mark.parametrize("shape", [(128, 48), (3, 5, 7), (5,), (2, 3, 64, 40)])
def test_schedule_injective_fused_chain(shape):
    x = RNG.standard_normal(shape).astype("float32")
    y = RNG.standard_normal(shape[-1:]).astype("float32")
    X = te.placeholder(shape, name="X")
    Y = te.placeholder(shape[-1:], name="Y")
    out = elemwise.gelu(broadcast.add(broadcast.multiply(X, 2.0), Y))
    s = schedule_injective(out)
    assert sum(1 for st in s.stages if st.attach_type == "inline") == 2  # the chain is one loop nest
    (got,) = run(s, [X, Y, out], [x, y])
    np.testing.assert_allclose(got, _gelu(x.astype("float64") * 2 + y), rtol=1e-5, atol=1e-6)


def test_schedule_injective_vectorizes_and_parallelizes():
    X = te.placeholder((64, 256), name="X")
    out = elemwise.sigmoid(broadcast.add(X, 1.0))
    text = str(tvm.lower(schedule_injective(out), [X, out], simple_mode=True))
    assert "T.parallel" in text and "T.vectorized(16)" in text
    assert text.count("for ") == 2
