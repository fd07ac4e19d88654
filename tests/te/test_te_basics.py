"""Tensor-expression features against numpy: reducers (built-in, user-defined, tuple), `where=`,
several reduction axes, symbolic shapes, dtypes, math intrinsics, if_then_else, casts, floor
division and modulo of negative values, tags."""

import math

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te

RTOL = 1e-5


def rel_err(out, ref) -> float:
    out, ref = np.asarray(out, "float64"), np.asarray(ref, "float64")
    return float(np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-30))


def build_run(outs, ins, inputs, sched=None):
    """Build a default (or `sched`-modified) schedule of `outs` and run it on numpy `inputs`."""
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    s = te.create_schedule([o.op for o in outs])
    if sched is not None:
        sched(s)
    f = tvm.build(s, list(ins) + list(outs), target="llvm")
    dev = tvm.cpu(0)
    res = [tvm.nd.empty(tuple(int(d) for d in _shape(o)), o.dtype, dev) for o in outs]
    f(*[tvm.nd.array(x, dev) for x in inputs], *res)
    return [r.numpy() for r in res]


def _shape(t):
    return [d.value for d in t.shape]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ----------------------------------------------------------------------------- reducers

def test_comm_reducer_sum_of_squares(rng):
    # The combiner squares the new element: a sum of squares in one reduction.
    sumsq = te.comm_reducer(lambda x, y: x + y * y, lambda t: tvm.tir.const(0, dtype=t), name="sumsq")
    n, m = 7, 13
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    B = te.compute((n,), lambda i: sumsq(A[i, k], axis=k), name="B")
    a = rng.standard_normal((n, m)).astype("float32")
    (b,) = build_run(B, [A], [a])
    assert rel_err(b, (a.astype("float64") ** 2).sum(axis=1)) < RTOL


def test_comm_reducer_user_sum_with_split(rng):
    mysum = te.comm_reducer(lambda x, y: x + y, lambda t: tvm.tir.const(0, dtype=t), name="mysum")
    n, m = 5, 29
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    B = te.compute((n,), lambda i: mysum(A[i, k] * 2.0, axis=k), name="B")
    a = (rng.random((n, m)) + 0.5).astype("float32")

    def sched(s):
        ko, ki = s[B].split(k, factor=4)
        s[B].reorder(ko, B.op.axis[0], ki)

    (b,) = build_run(B, [A], [a], sched)
    assert rel_err(b, 2 * a.astype("float64").sum(axis=1)) < RTOL


def argmax_reducer():
    # The classic TVM docs example: fcombine(x, y) gets tuples, fidentity(t0, t1) dtypes.
    def fcombine(x, y):
        lhs = tvm.tir.Select((x[1] >= y[1]), x[0], y[0])
        rhs = tvm.tir.Select((x[1] >= y[1]), x[1], y[1])
        return lhs, rhs

    def fidentity(t0, t1):
        return tvm.tir.const(-1, t0), te.min_value(t1)

    return te.comm_reducer(fcombine, fidentity, name="argmax")


def test_tuple_reducer_argmax(rng):
    argmax = argmax_reducer()
    n, m = 9, 23
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    idx, val = te.compute((n,), lambda i: argmax((k.var, A[i, k]), axis=k), name="T")
    assert idx.dtype == "int32" and val.dtype == "float32"
    assert idx.op is val.op and idx.op.num_outputs == 2
    a = rng.standard_normal((n, m)).astype("float32")
    i_out, v_out = build_run([idx, val], [A], [a])
    np.testing.assert_array_equal(i_out, a.argmax(axis=1))
    np.testing.assert_array_equal(v_out, a.max(axis=1))


def test_tuple_reducer_two_inputs(rng):
    # The docs form: argmax over a pair of tensors (index tensor, value tensor).
    argmax = argmax_reducer()
    n, m = 6, 11
    A0 = te.placeholder((n, m), name="A0", dtype="int32")
    A1 = te.placeholder((n, m), name="A1")
    k = te.reduce_axis((0, m), name="k")
    idx, val = te.compute((n,), lambda i: argmax((A0[i, k], A1[i, k]), axis=k), name="T")
    a0 = rng.integers(0, 100, (n, m)).astype("int32")
    a1 = rng.standard_normal((n, m)).astype("float32")
    i_out, v_out = build_run([idx, val], [A0, A1], [a0, a1])
    np.testing.assert_array_equal(i_out, a0[np.arange(n), a1.argmax(axis=1)])
    np.testing.assert_array_equal(v_out, a1.max(axis=1))


def test_tuple_reducer_unpacked_combiner(rng):
    # fcombine(x0, x1, y0, y1) (values unpacked) is accepted as well.
    def fcombine(i0, v0, i1, v1):
        take = v0 <= v1
        return tvm.tir.Select(take, i0, i1), tvm.tir.Select(take, v0, v1)

    argmin = te.comm_reducer(fcombine, lambda t0, t1: (tvm.tir.const(-1, t0), te.max_value(t1)), name="argmin")
    n, m = 4, 17
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    idx, val = te.compute((n,), lambda i: argmin((k.var, A[i, k]), axis=k), name="T")
    a = rng.standard_normal((n, m)).astype("float32")
    i_out, v_out = build_run([idx, val], [A], [a])
    np.testing.assert_array_equal(i_out, a.argmin(axis=1))
    np.testing.assert_array_equal(v_out, a.min(axis=1))


@pytest.mark.parametrize("red,ref", [(te.max, np.max), (te.min, np.min), (te.sum, np.sum)])
def test_builtin_reducers(rng, red, ref):
    n, m = 8, 31
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    B = te.compute((n,), lambda i: red(A[i, k], axis=k), name="B")
    a = rng.standard_normal((n, m)).astype("float32")  # negative values: max's identity is -inf-like
    (b,) = build_run(B, [A], [a])
    assert rel_err(b, ref(a.astype("float64"), axis=1)) < RTOL


def test_max_of_all_negative_values():
    A = te.placeholder((3, 4), name="A")
    k = te.reduce_axis((0, 4), name="k")
    B = te.compute((3,), lambda i: te.max(A[i, k], axis=k), name="B")
    a = -np.arange(1, 13, dtype="float32").reshape(3, 4) * 1000
    (b,) = build_run(B, [A], [a])
    np.testing.assert_array_equal(b, a.max(axis=1))


def test_max_min_as_elementwise_functions():
    A = te.placeholder((6,), name="A")
    B = te.compute((6,), lambda i: te.max(A[i], 0.5) + te.min(A[i], -0.5), name="B")
    a = np.linspace(-2, 2, 6).astype("float32")
    (b,) = build_run(B, [A], [a])
    np.testing.assert_allclose(b, np.maximum(a, 0.5) + np.minimum(a, -0.5), rtol=1e-6)


def test_reduction_with_where(rng):
    n, m = 7, 12
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    B = te.compute((n,), lambda i: te.sum(A[i, k], axis=k, where=k > i), name="B")
    C = te.compute((n,), lambda i: te.max(A[i, k], axis=k, where=tvm.tir.all(k >= i, k % 2 == 0)), name="C")
    a = (rng.random((n, m)) + 0.5).astype("float32")
    b, c = build_run([B, C], [A], [a])
    ref_b = np.array([a[i, i + 1:].sum() for i in range(n)])
    ref_c = np.array([a[i, [j for j in range(m) if j >= i and j % 2 == 0]].max() for i in range(n)])
    assert rel_err(b, ref_b) < RTOL
    np.testing.assert_array_equal(c, ref_c)


def test_reduction_where_triangular_matmul(rng):
    # Lower-triangular A @ B: only k <= i contributes.
    n = 13
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k, where=k <= i), name="C")
    a, b = (rng.random((n, n)) + 0.5).astype("float32"), (rng.random((n, n)) + 0.5).astype("float32")

    def sched(s):
        ko, ki = s[C].split(k, factor=4)

    (c,) = build_run(C, [A, B], [a, b], sched)
    assert rel_err(c, np.tril(a).astype("float64") @ b) < RTOL


def test_multiple_reduce_axes(rng):
    n, h, w = 5, 7, 3
    A = te.placeholder((n, h, w), name="A")
    kh = te.reduce_axis((0, h), name="kh")
    kw = te.reduce_axis((0, w), name="kw")
    B = te.compute((n,), lambda i: te.sum(A[i, kh, kw] * 2.0, axis=[kh, kw]), name="B")
    assert len(B.op.reduce_axis) == 2
    a = (rng.random((n, h, w)) + 0.5).astype("float32")
    (b,) = build_run(B, [A], [a])
    assert rel_err(b, 2 * a.astype("float64").sum(axis=(1, 2))) < RTOL


def test_reduce_axis_with_nonzero_start(rng):
    n, m = 4, 10
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((3, 8), name="k")
    B = te.compute((n,), lambda i: te.sum(A[i, k], axis=k), name="B")
    a = (rng.random((n, m)) + 0.5).astype("float32")
    (b,) = build_run(B, [A], [a])
    assert rel_err(b, a[:, 3:8].astype("float64").sum(axis=1)) < RTOL


# ----------------------------------------------------------------------------- symbolic shapes

def test_size_var_shapes(rng):
    n, m = te.size_var("n"), te.size_var("m")
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    B = te.compute((n,), lambda i: te.sum(A[i, k] * A[i, k], axis=k), name="B")
    s = te.create_schedule(B.op)
    f = tvm.build(s, [A, B], target="llvm")
    for nn, mm in [(1, 1), (3, 7), (13, 5), (2, 31)]:
        a = (rng.random((nn, mm)) + 0.5).astype("float32")
        b = tvm.nd.empty((nn,))
        f(tvm.nd.array(a), b)
        assert rel_err(b.numpy(), (a.astype("float64") ** 2).sum(axis=1)) < RTOL


def test_symbolic_shape_with_split_and_vectorize(rng):
    n = te.size_var("n")
    A = te.placeholder((n, 8), name="A")
    B = te.compute((n, 8), lambda i, j: A[i, j] * 3.0 + 1.0, name="B")
    s = te.create_schedule(B.op)
    io, ii = s[B].split(B.op.axis[0], factor=4)
    s[B].parallel(io)
    s[B].vectorize(B.op.axis[1])
    f = tvm.build(s, [A, B], target="llvm")
    for nn in (1, 3, 4, 17):
        a = (rng.random((nn, 8)) + 0.5).astype("float32")
        b = tvm.nd.empty((nn, 8))
        f(tvm.nd.array(a), b)
        assert rel_err(b.numpy(), a * 3 + 1) < RTOL


def test_scalar_var_argument(rng):
    n = te.size_var("n")
    alpha = te.var("alpha", "float32")
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * alpha, name="B")
    s = te.create_schedule(B.op)
    f = tvm.build(s, [A, alpha, B], target="llvm")
    a = (rng.random(9) + 0.5).astype("float32")
    b = tvm.nd.empty((9,))
    f(tvm.nd.array(a), 2.5, b)
    assert rel_err(b.numpy(), a * 2.5) < RTOL


# ----------------------------------------------------------------------------- dtypes

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8"]


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_dtypes(rng, dtype):
    n, m = 6, 9
    A = te.placeholder((n, m), dtype=dtype, name="A")
    B = te.compute((n, m), lambda i, j: A[i, j] * 2 + A[i, m - 1 - j], name="B")
    k = te.reduce_axis((0, m), name="k")
    C = te.compute((n,), lambda i: te.sum(A[i, k], axis=k), name="C")
    D = te.compute((n,), lambda i: te.max(A[i, k], axis=k), name="D")
    assert B.dtype == C.dtype == D.dtype == dtype
    a = rng.integers(1, 12, (n, m)).astype(dtype)
    b, c, d = build_run([B, C, D], [A], [a])
    np.testing.assert_array_equal(b, (a * 2 + a[:, ::-1]).astype(dtype))
    np.testing.assert_array_equal(c, a.sum(axis=1, dtype=dtype))
    np.testing.assert_array_equal(d, a.max(axis=1))


def test_int8_wraps_around():
    A = te.placeholder((4,), dtype="int8", name="A")
    B = te.compute((4,), lambda i: A[i] + A[i], name="B")
    a = np.array([100, -100, 127, -128], dtype="int8")
    (b,) = build_run(B, [A], [a])
    np.testing.assert_array_equal(b, a + a)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-5)])
def test_float_dtypes(rng, dtype, tol):
    n, m = 7, 19
    A = te.placeholder((n, m), dtype=dtype, name="A")
    B = te.placeholder((m, n), dtype=dtype, name="B")
    k = te.reduce_axis((0, m), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    assert C.dtype == dtype
    a = (rng.random((n, m)) + 0.5).astype(dtype)
    b = (rng.random((m, n)) + 0.5).astype(dtype)
    (c,) = build_run(C, [A, B], [a, b])
    assert c.dtype == np.dtype(dtype)
    assert rel_err(c, a.astype("float64") @ b.astype("float64")) < tol


def test_float16_elementwise_and_sum(rng):
    n, m = 5, 8
    A = te.placeholder((n, m), dtype="float16", name="A")
    B = te.compute((n, m), lambda i, j: A[i, j] * A[i, j] + 1.0, name="B")
    k = te.reduce_axis((0, m), name="k")
    C = te.compute((n,), lambda i: te.sum(A[i, k], axis=k), name="C")
    a = (rng.random((n, m)) + 0.5).astype("float16")
    b, c = build_run([B, C], [A], [a])
    assert b.dtype == np.float16 and c.dtype == np.float16
    np.testing.assert_array_equal(b, a * a + np.float16(1))
    # Sequential float16 accumulation, as the loop does it.
    ref = np.zeros(n, dtype="float16")
    for j in range(m):
        ref = (ref + a[:, j]).astype("float16")
    np.testing.assert_array_equal(c, ref)


def test_float16_accumulate_in_float32(rng):
    n, m = 4, 64
    A = te.placeholder((n, m), dtype="float16", name="A")
    k = te.reduce_axis((0, m), name="k")
    C = te.compute((n,), lambda i: te.sum(A[i, k].astype("float32"), axis=k), name="C")
    a = (rng.random((n, m)) + 0.5).astype("float16")
    (c,) = build_run(C, [A], [a])
    assert rel_err(c, a.astype("float64").sum(axis=1)) < RTOL


def test_bool_dtype_output(rng):
    A = te.placeholder((10,), name="A")
    B = te.compute((10,), lambda i: A[i] > 0.0, name="B")
    assert B.dtype == "bool"
    a = rng.standard_normal(10).astype("float32")
    (b,) = build_run(B, [A], [a])
    np.testing.assert_array_equal(b, a > 0)


# ----------------------------------------------------------------------------- math intrinsics

def _erf(x):
    return np.vectorize(math.erf)(x)


POS = "positive"
ANY = "signed"
INTRINSICS = [
    ("exp", te.exp, np.exp, ANY),
    ("log", te.log, np.log, POS),
    ("sqrt", te.sqrt, np.sqrt, POS),
    ("rsqrt", te.rsqrt, lambda v: 1 / np.sqrt(v), POS),
    ("tanh", te.tanh, np.tanh, ANY),
    ("sigmoid", te.sigmoid, lambda v: 1 / (1 + np.exp(-v)), ANY),
    ("erf", te.erf, _erf, ANY),
    ("pow", lambda v: te.power(v, 1.7), lambda v: np.power(v, 1.7), POS),
    ("pow_tensor", lambda v: te.pow(v, v * 0.5), lambda v: np.power(v, v * 0.5), POS),
    ("abs", te.abs, np.abs, ANY),
    ("floor", te.floor, np.floor, ANY),
    ("ceil", te.ceil, np.ceil, ANY),
    ("round", te.round, np.round, ANY),
    ("log2", te.log2, np.log2, POS),
    ("log10", te.log10, np.log10, POS),
    ("exp2", te.exp2, np.exp2, ANY),
    ("sin", te.sin, np.sin, ANY),
    ("cos", te.cos, np.cos, ANY),
    ("trunc", te.trunc, np.trunc, ANY),
]


def intrinsic_inputs(rng, n, dtype):
    pos = (rng.random(n) * 4 + 0.05).astype(dtype)
    signed = (rng.standard_normal(n) * 3).astype(dtype)
    signed[:6] = [0.5, -0.5, 1.5, -2.5, 3.0, -0.0]  # rounding ties and an exact integer
    return {POS: pos, ANY: signed}


def check_intrinsics(rng, dtype, table):
    """One kernel computes every intrinsic of `table` (one output each); compare each with numpy."""
    n = 67
    inputs = intrinsic_inputs(rng, n, dtype)
    P = te.placeholder((n,), dtype=dtype, name="P")
    S = te.placeholder((n,), dtype=dtype, name="S")
    outs = []
    for name, tf, _, domain in table:
        src = P if domain == POS else S
        outs.append(te.compute((n,), lambda i, tf=tf, src=src: tf(src[i]), name=name))
        assert outs[-1].dtype == dtype, name
    results = build_run(outs, [P, S], [inputs[POS], inputs[ANY]])
    tol = 2e-6 if dtype == "float32" else 1e-12
    bad = {}
    for (name, _, nf, domain), got in zip(table, results):
        ref = nf(inputs[domain].astype("float64"))
        err = (np.abs(got.astype("float64") - ref) / np.maximum(np.abs(ref), 1.0)).max()
        if not err < tol:
            bad[name] = float(err)
    assert not bad, bad


# float64 tanh and erf once used float32-accurate expansions: checked on their own as well.
F64_APPROX = ("tanh", "erf")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_math_intrinsics(rng, dtype):
    check_intrinsics(rng, dtype, INTRINSICS)


@pytest.mark.parametrize("name", F64_APPROX)
def test_math_intrinsics_float64_precision(rng, name):
    check_intrinsics(rng, "float64", [x for x in INTRINSICS if x[0] == name])


def test_intrinsics_vectorized(rng):
    n = 64
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: te.exp(A[i]) + te.tanh(A[i]) + te.sigmoid(A[i]) + te.sqrt(te.abs(A[i])),
                   name="B")

    def sched(s):
        xo, xi = s[B].split(B.op.axis[0], factor=16)
        s[B].vectorize(xi)

    x = rng.standard_normal(n).astype("float32")
    (b,) = build_run(B, [A], [x], sched)
    x64 = x.astype("float64")
    ref = np.exp(x64) + np.tanh(x64) + 1 / (1 + np.exp(-x64)) + np.sqrt(np.abs(x64))
    assert rel_err(b, ref) < RTOL


def test_intrinsic_of_integer_is_float32():
    A = te.placeholder((4,), dtype="int32", name="A")
    B = te.compute((4,), lambda i: te.sqrt(A[i]), name="B")
    assert B.dtype == "float32"
    (b,) = build_run(B, [A], [np.array([1, 4, 9, 16], dtype="int32")])
    np.testing.assert_array_equal(b, [1, 2, 3, 4])


def test_integer_abs():
    A = te.placeholder((5,), dtype="int32", name="A")
    B = te.compute((5,), lambda i: te.abs(A[i]), name="B")
    a = np.array([-3, 0, 7, -2147483647, 5], dtype="int32")
    (b,) = build_run(B, [A], [a])
    np.testing.assert_array_equal(b, np.abs(a))


# ----------------------------------------------------------------------------- if_then_else, casts

def test_if_then_else_padding(rng):
    n, m, p = 6, 9, 2
    A = te.placeholder((n, m), name="A")
    P = te.compute((n + 2 * p, m + 2 * p), lambda i, j: te.if_then_else(
        tvm.tir.all(i >= p, i < n + p, j >= p, j < m + p), A[i - p, j - p], 0.0), name="P")
    a = (rng.random((n, m)) + 0.5).astype("float32")
    (out,) = build_run(P, [A], [a])
    np.testing.assert_array_equal(out, np.pad(a, p))


def test_padded_stencil_with_inlined_pad(rng):
    n = 11
    A = te.placeholder((n,), name="A")
    P = te.compute((n + 2,), lambda i: te.if_then_else(tvm.tir.all(i >= 1, i <= n), A[i - 1], 0.0), name="P")
    k = te.reduce_axis((0, 3), name="k")
    B = te.compute((n,), lambda i: te.sum(P[i + k], axis=k), name="B")
    a = (rng.random(n) + 0.5).astype("float32")
    (b,) = build_run(B, [A], [a], lambda s: s[P].compute_inline())
    ap = np.pad(a.astype("float64"), 1)
    assert rel_err(b, ap[:-2] + ap[1:-1] + ap[2:]) < RTOL


def test_if_then_else_select_relu(rng):
    A = te.placeholder((20,), name="A")
    B = te.compute((20,), lambda i: te.if_then_else(A[i] > 0, A[i], A[i] * 0.1), name="B")
    C = te.compute((20,), lambda i: tvm.tir.Select(A[i] > 0, A[i], 0.0), name="C")
    a = rng.standard_normal(20).astype("float32")
    b, c = build_run([B, C], [A], [a])
    np.testing.assert_allclose(b, np.where(a > 0, a, a * np.float32(0.1)), rtol=1e-6)
    np.testing.assert_array_equal(c, np.maximum(a, 0))


def test_casts(rng):
    n = 16
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: (A[i] * 10.0).astype("int32"), name="B")
    C = te.compute((n,), lambda i: B[i].astype("float64") / 3.0, name="C")
    D = te.compute((n,), lambda i: tvm.tir.cast(A[i] * 10.0, "int8"), name="D")
    E = te.compute((n,), lambda i: A[i].astype("float16"), name="E")
    F = te.compute((n,), lambda i: (B[i] > 3).astype("float32"), name="F")
    assert (B.dtype, C.dtype, D.dtype, E.dtype, F.dtype) == ("int32", "float64", "int8", "float16", "float32")
    a = np.clip(rng.standard_normal(n) * 5, -12.0, 12.0).astype("float32")  # a * 10 fits int8
    b, c, d, e, f = build_run([B, C, D, E, F], [A], [a])
    b_ref = (a * np.float32(10)).astype("int32")  # truncation toward zero
    np.testing.assert_array_equal(b, b_ref)
    np.testing.assert_allclose(c, b_ref / 3.0, rtol=1e-15)
    np.testing.assert_array_equal(d, (a * np.float32(10)).astype("int8"))
    np.testing.assert_array_equal(e, a.astype("float16"))
    np.testing.assert_array_equal(f, (b_ref > 3).astype("float32"))


def test_mixed_int_float_expression_promotes():
    A = te.placeholder((4,), dtype="int32", name="A")
    B = te.compute((4,), lambda i: A[i] * 0.5 + i, name="B")
    assert B.dtype == "float32"
    (b,) = build_run(B, [A], [np.array([1, 2, 3, 4], dtype="int32")])
    np.testing.assert_allclose(b, np.array([1, 2, 3, 4]) * 0.5 + np.arange(4))


# ----------------------------------------------------------------------------- floordiv / floormod

VALUES = np.array([-17, -13, -9, -8, -7, -1, 0, 1, 3, 4, 7, 8, 15, 16], dtype="int32")


@pytest.mark.parametrize("divisor", [4, -3, 5, 1, -1])
def test_floordiv_floormod_negative_values(divisor):
    n = len(VALUES)
    A = te.placeholder((n,), dtype="int32", name="A")
    fd = te.compute((n,), lambda i: tvm.tir.floordiv(A[i], divisor), name="fd")
    fm = te.compute((n,), lambda i: tvm.tir.floormod(A[i], divisor), name="fm")
    xd = te.compute((n,), lambda i: tvm.tir.indexdiv(A[i], divisor), name="xd")
    xm = te.compute((n,), lambda i: tvm.tir.indexmod(A[i], divisor), name="xm")
    td = te.compute((n,), lambda i: tvm.tir.truncdiv(A[i], divisor), name="td")
    tm = te.compute((n,), lambda i: tvm.tir.truncmod(A[i], divisor), name="tm")
    py = te.compute((n,), lambda i: A[i] // divisor + A[i] % divisor * 100, name="py")
    outs = build_run([fd, fm, xd, xm, td, tm, py], [A], [VALUES])
    v = VALUES.astype("int64")
    np.testing.assert_array_equal(outs[0], v // divisor)
    np.testing.assert_array_equal(outs[1], v % divisor)
    np.testing.assert_array_equal(outs[2], v // divisor)
    np.testing.assert_array_equal(outs[3], v % divisor)
    np.testing.assert_array_equal(outs[4], np.trunc(v / divisor).astype("int64"))
    np.testing.assert_array_equal(outs[5], np.fmod(v, divisor))
    np.testing.assert_array_equal(outs[6], v // divisor + (v % divisor) * 100)


def test_floordiv_floormod_by_tensor_values():
    a = VALUES
    b = np.array([3, -3, 4, -4, 5, 2, -2, 7, -7, 1, 3, -5, 6, -6], dtype="int32")
    n = len(a)
    A = te.placeholder((n,), dtype="int32", name="A")
    B = te.placeholder((n,), dtype="int32", name="B")
    D = te.compute((n,), lambda i: tvm.tir.floordiv(A[i], B[i]), name="D")
    M = te.compute((n,), lambda i: tvm.tir.floormod(A[i], B[i]), name="M")
    d, m = build_run([D, M], [A, B], [a, b])
    np.testing.assert_array_equal(d, a // b)
    np.testing.assert_array_equal(m, a % b)


def test_index_arithmetic_with_negative_offsets():
    # Indices computed with floordiv / floormod of negative numbers (a shifted, wrapped read).
    A = te.placeholder((4,), name="A")
    B = te.compute((12,), lambda i: A[tvm.tir.indexmod(i - 7, 4)]
                   + tvm.tir.indexdiv(i - 7, 4).astype("float32"), name="B")
    a = np.arange(1, 5, dtype="float32")
    (b,) = build_run(B, [A], [a])
    idx = np.arange(12) - 7
    np.testing.assert_array_equal(b, a[idx % 4] + idx // 4)


def test_float_floordiv_floormod():
    A = te.placeholder((6,), name="A")
    D = te.compute((6,), lambda i: tvm.tir.floordiv(A[i], 2.0), name="D")
    M = te.compute((6,), lambda i: tvm.tir.floormod(A[i], 2.0), name="M")
    a = np.array([-3.5, -2.0, -0.5, 0.5, 2.0, 3.5], dtype="float32")
    d, m = build_run([D, M], [A], [a])
    np.testing.assert_array_equal(d, np.floor(a / 2))
    np.testing.assert_array_equal(m, a - np.floor(a / 2) * 2)


# ----------------------------------------------------------------------------- tags and attrs

def test_tag_and_attrs():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: A[i] + 1.0, name="B", tag="elemwise", attrs={"layout": "N"})
    k = te.reduce_axis((0, 4), name="k")
    C = te.compute((1,), lambda i: te.sum(B[k], axis=k), name="C", tag="comm_reduce")
    assert B.op.tag == "elemwise" and B.op.attrs["layout"] == "N"
    assert C.op.tag == "comm_reduce"
    assert A.op.tag == ""
    assert C.op.input_tensors == [B] and B.op.input_tensors == [A]
    # The tag survives schedule rewrites of the op.
    s = te.create_schedule(C.op)
    s.cache_write(B, "local")
    assert s[B].op.tag == "elemwise"


def test_tensor_properties():
    n = te.var("n")
    A = te.placeholder((n, 3), name="A", dtype="float64")
    B = te.compute((n, 3), lambda i, j: A[i, j] * 2.0, name="B")
    assert A.ndim == 2 and A.dtype == "float64" and A.name == "A"
    assert B.dtype == "float64" and B.op.name == "B"
    assert len(B.op.axis) == 2 and B.op.axis[0].var.name == "i"
    assert B.shape[0] is n and B.shape[1].value == 3
    assert isinstance(B.op, te.ComputeOp) and isinstance(A.op, te.PlaceholderOp)


def test_symbolic_shape_with_cache_and_compute_at(rng):
    n = te.size_var("n")
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 8)
    s[CC].compute_at(s[C], yo)
    s[C].parallel(xo)
    # The cache has a constant size although n is unknown.
    assert "T.allocate([8, 8], 'float32', 'local')" in str(tvm.lower(s, [A, B, C], simple_mode=True))
    f = tvm.build(s, [A, B, C], target="llvm")
    for m in (1, 7, 13, 16):
        a, b = (rng.random((m, m)) + 0.5).astype("float32"), (rng.random((m, m)) + 0.5).astype("float32")
        c = tvm.nd.empty((m, m))
        f(tvm.nd.array(a), tvm.nd.array(b), c)
        assert rel_err(c.numpy(), a.astype("float64") @ b) < RTOL


def test_symbolic_stencil_compute_at(rng):
    n = te.size_var("n")
    A = te.placeholder((n + 2,), name="A")
    B = te.compute((n + 2,), lambda i: A[i] * 2.0, name="B")
    C = te.compute((n,), lambda i: B[i] + B[i + 1] + B[i + 2], name="C")
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=4)
    s[B].compute_at(s[C], xo)
    assert "T.allocate([6], 'float32', 'global')" in str(tvm.lower(s, [A, C], simple_mode=True))
    f = tvm.build(s, [A, C], target="llvm")
    for m in (1, 5, 8, 11):
        a = (rng.random(m + 2) + 0.5).astype("float32")
        c = tvm.nd.empty((m,))
        f(tvm.nd.array(a), c)
        assert rel_err(c.numpy(), 2 * (a[:-2].astype("float64") + a[1:-1] + a[2:])) < RTOL


def test_integral_float_shapes_from_true_division():
    """The classic GEMM tutorial declares packedB with shape (N / bn, K, bn): 32.0 is accepted."""
    A = te.placeholder((1024 / 32, 8), name="A")
    assert [int(s) for s in A.shape] == [32, 8]
    with pytest.raises(TypeError, match="shape entries must be integers"):
        te.placeholder((10 / 3,), name="B")
