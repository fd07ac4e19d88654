"""te.extern stages: opaque statements (usually tir.call_packed) scheduled and built with other stages.

Every result is compared with numpy on fresh random inputs.
"""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te, tir
from tilecraft.contrib import cblas
from tilecraft.te import ScheduleError


@pytest.fixture
def rng():
    return np.random.default_rng()


def test_cblas_is_registered():
    assert tvm.get_global_func("tvm.contrib.cblas.matmul", allow_missing=True)


def test_call_packed_cblas_then_compute_with_scalar(rng):
    """The tutorial: an extern matmul through call_packed, then a schedulable bias stage."""
    n, l, m = 64, 32, 47
    bias = te.var("bias", dtype="float32")
    A = te.placeholder((n, l), name="A")
    B = te.placeholder((l, m), name="B")
    C = te.extern((n, m), [A, B],
                  lambda ins, outs: tvm.tir.call_packed("tvm.contrib.cblas.matmul", ins[0], ins[1], outs[0],
                                                        False, False), name="C")
    D = te.compute(C.shape, lambda i, j: C[i, j] + bias, name="D")
    s = te.create_schedule(D.op)
    text = str(tvm.lower(s, [A, B, D, bias], simple_mode=True))
    assert 'tvm_call_packed("tvm.contrib.cblas.matmul"' in text
    f = tvm.build(s, [A, B, D, bias], "llvm")
    a = rng.uniform(size=(n, l)).astype("float32")
    b = rng.uniform(size=(l, m)).astype("float32")
    d = tvm.nd.array(np.zeros((n, m), "float32"))
    f(tvm.nd.array(a), tvm.nd.array(b), d, 10.0)
    np.testing.assert_allclose(d.numpy(), a @ b + 10, rtol=1e-5)


@pytest.mark.parametrize("transa,transb", [(False, False), (True, False), (False, True), (True, True)])
def test_cblas_matmul_wrapper(rng, transa, transb):
    n, l, m = 9, 5, 7
    A = te.placeholder((l, n) if transa else (n, l), name="A")
    B = te.placeholder((m, l) if transb else (l, m), name="B")
    C = cblas.matmul(A, B, transa, transb)
    assert tuple(int(d) for d in C.shape) == (n, m)
    D = te.compute(C.shape, lambda i, j: C[i, j] * 2.0, name="D")
    s = te.create_schedule(D.op)
    f = tvm.build(s, [A, B, D])
    a = rng.standard_normal([int(d) for d in A.shape]).astype("float32")
    b = rng.standard_normal([int(d) for d in B.shape]).astype("float32")
    d = np.zeros((n, m), "float32")
    f(a, b, d)
    want = (a.T if transa else a) @ (b.T if transb else b) * 2
    np.testing.assert_allclose(d, want, rtol=1e-5, atol=1e-5)


def test_cblas_batch_matmul(rng):
    A = te.placeholder((3, 4, 5), name="A", dtype="float64")
    B = te.placeholder((3, 6, 5), name="B", dtype="float64")
    C = cblas.batch_matmul(A, B, transb=True)
    s = te.create_schedule(C.op)
    f = tvm.build(s, [A, B, C])
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 6, 5))
    c = np.zeros((3, 4, 6))
    f(a, b, c)
    np.testing.assert_allclose(c, a @ b.transpose(0, 2, 1), rtol=1e-12)


def test_python_function_as_extern_output_argument(rng, registered):
    """The tutorial's my_tvm_addone: the function gets NDArrays viewing the kernel's buffers."""
    seen = []

    def addone(x, y):
        seen.append((type(x), x.shape, x.dtype))
        tvm.nd.array(x.numpy() + 1).copyto(y)

    registered("test.extern.addone", addone)
    n = 1024
    A = te.placeholder((n,), name="A")
    B = te.extern(A.shape, [A], lambda ins, outs: tvm.tir.call_packed("test.extern.addone", ins[0], outs[0]),
                  name="C")
    s = te.create_schedule(B.op)
    f = tvm.build(s, [A, B], "llvm")
    a = tvm.nd.array(rng.uniform(size=(n,)).astype("float32"))
    b = tvm.nd.array(rng.uniform(size=(n,)).astype("float32"))
    f(a, b)
    np.testing.assert_allclose(b.numpy(), a.numpy() + 1, rtol=1e-6)
    assert seen == [(tvm.nd.NDArray, (n,), "float32")]


def test_extern_reads_computed_stage_multiple_outputs_and_scalars(rng, registered):
    got = {}

    def split(x, lo, hi, k, fl, flag, text):
        got.update(k=k, fl=fl, flag=flag, text=text)
        xs = x.numpy()
        lo.copyfrom(xs[:lo.shape[0]] * k)
        hi.copyfrom(xs[lo.shape[0]:] + np.float32(fl))

    registered("test.extern.split", split)
    X = te.placeholder((10,), name="X")
    X2 = te.compute((10,), lambda i: X[i] * 3.0, name="X2")
    k = te.var("k")
    L, H = te.extern([(4,), (6,)], [X2],
                     lambda ins, outs: tir.call_packed("test.extern.split", ins[0], outs[0], outs[1], k, 0.5,
                                                       True, "hey"), name="LH")
    S = te.compute((6,), lambda i: H[i] - L[i % 4], name="S")
    s = te.create_schedule(S.op)
    s[X2].compute_root()
    f = tvm.build(s, [X, S, k])
    x = rng.standard_normal(10).astype("float32")
    out = np.zeros(6, "float32")
    f(x, out, 3)
    assert got == {"k": 3, "fl": 0.5, "flag": True, "text": "hey"}
    assert type(got["k"]) is int and type(got["flag"]) is bool
    lo, hi = x[:4] * 3 * 3, x[4:] * 3 + 0.5
    np.testing.assert_allclose(out, hi - lo[np.arange(6) % 4], rtol=1e-5)


def test_extern_with_symbolic_shape_and_tir_body(rng, registered):
    """A body built from tir statements (no call) over symbolic buffers, and shapes seen by a callee."""
    n = te.var("n")
    A = te.placeholder((n,), name="A")

    def body(ins, outs):
        i = te.var("i")
        return tir.For(i, 0, ins[0].shape[0], "serial", tir.BufferStore(outs[0], ins[0][i] * 2.0, (i,)))

    B = te.extern((n,), [A], body, name="B")
    shapes = []
    registered("test.extern.shape", lambda x: shapes.append(x.shape))
    C = te.extern((n,), [B], lambda ins, outs: tir.call_packed("test.extern.shape", ins[0]), name="C")
    D = te.compute((n,), lambda i: B[i] + 1.0, name="D")
    s = te.create_schedule([D.op, C.op])
    f = tvm.build(s, [A, D, C])
    for size in (7, 3):
        a = rng.standard_normal(size).astype("float32")
        d, c = np.zeros(size, "float32"), np.zeros(size, "float32")
        f(a, d, c)
        np.testing.assert_allclose(d, a * 2 + 1, rtol=1e-6)
    assert shapes == [(7,), (3,)]


def test_call_packed_return_value_and_parallel_loop(registered):
    registered("test.extern.seven", lambda i: 7 * i)
    E = te.compute((64,), lambda i: tir.call_packed("test.extern.seven", i) + 1, name="E")
    s = te.create_schedule(E.op)
    s[E].parallel(E.op.axis[0])
    f = tvm.build(s, [E])
    e = np.zeros(64, "int32")
    f(e)
    np.testing.assert_array_equal(e, 7 * np.arange(64) + 1)


def test_extern_schedule_errors():
    A = te.placeholder((8,), name="A")
    A2 = te.compute((8,), lambda i: A[i] + 1.0, name="A2")
    B = te.extern((8,), [A2], lambda ins, outs: tir.call_packed("x", ins[0], outs[0]), name="B")
    C = te.compute((8,), lambda i: B[i] * 2.0, name="C")
    s = te.create_schedule(C.op)
    with pytest.raises(ScheduleError, match="extern"):
        s[B].compute_inline()
    s[A2].compute_inline()
    with pytest.raises(ScheduleError, match="cannot be inlined"):
        tvm.lower(s, [A, C])
    s = te.create_schedule(C.op)
    with pytest.raises(ScheduleError, match="not an axis"):
        s[B].split(C.op.axis[0], 2)


def test_extern_dtype_rules():
    A = te.placeholder((4,), name="A")
    I = te.placeholder((4,), name="I", dtype="int32")
    with pytest.raises(ValueError, match="dtype"):
        te.extern((4,), [A, I], lambda ins, outs: tir.call_packed("x", ins[0]))
    B = te.extern((4,), [A, I], lambda ins, outs: tir.call_packed("x", ins[0]), dtype="int64")
    assert B.dtype == "int64" and isinstance(B.op, te.ExternOp)
    with pytest.raises(TypeError, match="statement or an expression"):
        te.extern((4,), [A], lambda ins, outs: None)


def test_extern_input_attached_elsewhere_is_refused():
    A = te.placeholder((8,), name="A")
    A2 = te.compute((8,), lambda i: A[i] + 1.0, name="A2")
    B = te.extern((8,), [A2], lambda ins, outs: tir.call_packed("x", ins[0], outs[0]), name="B")
    C = te.compute((8,), lambda i: B[i] * A2[i], name="C")
    s = te.create_schedule(C.op)
    s[A2].compute_at(s[C], C.op.axis[0])
    with pytest.raises(ScheduleError, match="reads all of A2.*compute_root"):
        tvm.lower(s, [A, C])
