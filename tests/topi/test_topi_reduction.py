"""Reductions (topi.reduction) vs numpy over axis None / int / tuple / negative, with keepdims, and
the x86 reduce schedule (row reductions through rfactor, kept inner axes vectorized)."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.topi import broadcast, elemwise
from tilecraft.topi import reduction as R
from tilecraft.topi.x86.reduction import schedule_reduce

RNG = np.random.default_rng(5)


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    outs = [tvm.nd.empty(tuple(int(v.value) for v in t.shape), t.dtype) for t in args[len(inputs):]]
    f(*[tvm.nd.array(a) for a in inputs], *outs)
    return [o.numpy() for o in outs]


NP = {R.sum: np.sum, R.max: np.max, R.min: np.min, R.prod: np.prod, R.mean: np.mean, R.variance: np.var,
      R.std: np.std, R.all: np.all, R.any: np.any}


def _ref(fn, a, axis, keepdims):
    if fn in (R.argmax, R.argmin):
        f = np.argmax if fn is R.argmax else np.argmin
        if axis is None:
            r = f(a)
            return np.reshape(r, (1,) * a.ndim) if keepdims else r
        if isinstance(axis, tuple):  # numpy has no multi-axis argmax: flatten the reduced axes last
            kept = [k for k in range(a.ndim) if k not in axis]
            moved = np.transpose(a, kept + list(axis)).reshape([a.shape[k] for k in kept] + [-1])
            return f(moved, axis=-1)
        return f(a, axis=axis, keepdims=keepdims)
    return NP[fn](a, axis=axis, keepdims=keepdims)


CASES = [(R.sum, None, False), (R.sum, 1, True), (R.max, (0, 2), False), (R.min, -1, True), (R.prod, 0, False),
         (R.mean, (-1, -2), False), (R.variance, 1, True), (R.std, None, False), (R.argmax, 1, False),
         (R.argmin, None, False), (R.argmax, -1, True), (R.all, 2, False), (R.any, (0, 1), True),
         (R.mean, None, True), (R.argmin, (0, 2), False)]


def test_reductions_default_schedule():
    a = RNG.standard_normal((3, 4, 5)).astype("float32")
    a[0, 1, 2] = a[0, 1, 4]  # a tie: argmax/argmin take the first index, as numpy
    b = (RNG.random((3, 4, 5)) > 0.3).astype("float32")
    A = te.placeholder(a.shape, name="A")
    Bt = te.placeholder(b.shape, name="B")
    outs = [fn(Bt if fn in (R.all, R.any) else A, ax, kd) for fn, ax, kd in CASES]
    got = run(te.create_schedule([o.op for o in outs]), [A, Bt] + outs, [a, b])
    for (fn, ax, kd), g in zip(CASES, got):
        r = _ref(fn, b if fn in (R.all, R.any) else a, ax, kd)
        assert g.shape == np.shape(r), (fn.__name__, ax, kd, g.shape, np.shape(r))
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5, err_msg=f"{fn.__name__} axis={ax} keepdims={kd}")


def test_integer_mean_and_errors():
    a = RNG.integers(-5, 5, (4, 6)).astype("int32")
    A = te.placeholder(a.shape, "int32", name="A")
    outs = [R.mean(A, 1), R.sum(A, 0), R.argmax(A, 1)]
    got = run(te.create_schedule([o.op for o in outs]), [A] + outs, [a])
    np.testing.assert_allclose(got[0], a.mean(1), rtol=1e-6)
    np.testing.assert_array_equal(got[1], a.sum(0))
    np.testing.assert_array_equal(got[2], a.argmax(1))
    with pytest.raises(ValueError, match="out of range"):
        R.sum(A, 2)
    with pytest.raises(ValueError, match="twice"):
        R.sum(A, (1, -1))


@pytest.mark.parametrize("fn,shape,axis,keepdims", [
    (R.sum, (32, 768), -1, False),  # row reduction: rfactor into vector partials
    (R.mean, (4, 8, 96), -1, True),  # with the division as the epilogue
    (R.max, (6, 40), 1, False),  # 40 = 8 * 5: partials of 8
    (R.sum, (5, 30), 1, False),  # no vector width divides 30: scalar rows
    (R.sum, (64, 48), 0, False),  # kept inner axis vectorized
    (R.mean, (2, 16, 6, 6), (2, 3), True),  # global average pool
    (R.sum, (2, 8, 3, 32), 1, False),  # reduce a middle axis
    (R.sum, (16, 64), None, False),  # to a scalar
    (R.argmax, (16, 64), 1, False),
    (R.variance, (8, 128), -1, False),
    (R.min, (7, 3), 0, True),
])
def test_schedule_reduce(fn, shape, axis, keepdims):
    a = RNG.standard_normal(shape).astype("float32")
    A = te.placeholder(shape, name="A")
    out = fn(A, axis, keepdims)
    (got,) = run(schedule_reduce(out), [A, out], [a])
    np.testing.assert_allclose(got, _ref(fn, a, axis, keepdims), rtol=2e-5, atol=2e-5)


def test_schedule_reduce_inlines_producers_and_vectorizes_rows():
    a = RNG.standard_normal((64, 256)).astype("float32")
    A = te.placeholder(a.shape, name="A")
    out = R.sum(elemwise.exp(elemwise.negative(A)), axis=-1)
    s = schedule_reduce(out)
    text = str(tvm.lower(s, [A, out], simple_mode=True))
    assert "T.parallel(64)" in text and "T.vectorized(16)" in text and "T.exp" in text
    (got,) = run(s, [A, out], [a])
    np.testing.assert_allclose(got, np.exp(-a.astype("float64")).sum(-1), rtol=1e-5)


def test_schedule_reduce_keepdims_output_and_root_reductions():
    a = RNG.standard_normal((64, 64)).astype("float32")
    A = te.placeholder(a.shape, name="A")
    s1 = R.sum(A, 1, keepdims=True)  # an output whose stage rfactor rebuilds: scheduled once
    (got,) = run(schedule_reduce(s1), [A, s1], [a])
    np.testing.assert_allclose(got, a.sum(1, keepdims=True), rtol=1e-5, atol=1e-5)
    out = broadcast.add(R.max(A, 1, keepdims=True), A)  # a reduction of another shape stays at root
    (got,) = run(schedule_reduce(out), [A, out], [a])
    np.testing.assert_allclose(got, a.max(1, keepdims=True) + a, rtol=1e-6)


def test_argmax_argmin_select_last_index():
    import tilecraft as tvm
    from tilecraft import te, topi

    x = np.array([[3, 1, 3, 0], [0, 2, 2, 0]], dtype="float32")
    A = te.placeholder(x.shape, name="A")
    outs = [topi.argmax(A, 1, select_last_index=True), topi.argmin(A, 1, select_last_index=True),
            topi.argmax(A, 1)]
    s = te.create_schedule([o.op for o in outs])
    f = tvm.build(s, [A, *outs])
    res = [tvm.nd.empty((2,), "int32") for _ in outs]
    f(tvm.nd.array(x), *res)
    assert [r.numpy().tolist() for r in res] == [[2, 2], [3, 3], [0, 1]]
