"""A tensor intrinsic called inside te.compute (classic TensorComputeOp):
`te.compute((m, 16), lambda i: vadd(A[i, 0:16], B[i, 0:16]))` is the intrinsic's computation over the
inner axes, tensorized at the first of them when the schedule is created."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te, tir


@pytest.fixture(scope="module", autouse=True)
def _packed_functions():
    def vadd(a, b, c):
        np.asarray(c)[...] = np.asarray(a) + np.asarray(b)

    def scaled_copy(a, c, scale, shift):
        np.asarray(c)[...] = np.asarray(a) * scale + shift

    tvm.register_func("tc_test.vadd", vadd, override=True)
    tvm.register_func("tc_test.scaled_copy", scaled_copy, override=True)
    yield
    tvm.runtime.remove_global_func("tc_test.vadd")
    tvm.runtime.remove_global_func("tc_test.scaled_copy")


def _vadd(n):
    x, y = te.placeholder((n,), name="x"), te.placeholder((n,), name="y")
    z = te.compute(x.shape, lambda i: x[i] + y[i], name="z")
    return te.decl_tensor_intrin(z.op, lambda ins, outs: tir.call_packed("tc_test.vadd", ins[0], ins[1], outs[0]),
                                 default_buffer_params={"offset_factor": 1})


def _build_and_run(s, args, inputs, out_shape):
    f = tvm.build(s, args)
    out = tvm.nd.array(np.zeros(out_shape, "float32"))
    f(*[tvm.nd.array(x) for x in inputs], out)
    return out.numpy()


def test_call_on_rows_is_tensorized_and_computes_the_sum():
    vadd = _vadd(16)
    A, B = te.placeholder((8, 16), name="A"), te.placeholder((8, 16), name="B")
    C = te.compute((8, 16), lambda i: vadd(A[i, 0:16], B[i, 0:16]), name="C")
    s = te.create_schedule(C.op)
    assert s.trace() is not None and not list(s.trace())  # the set-up is not the user's trace
    body = tvm.lower(s, [A, B, C])["main"].body
    assert isinstance(body.body, tir.Evaluate)  # one intrinsic call per row
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((8, 16)).astype("float32"), rng.standard_normal((8, 16)).astype("float32")
    np.testing.assert_allclose(_build_and_run(s, [A, B, C], [a, b], (8, 16)), a + b)


def test_scalar_params_take_the_values_given_in_the_call():
    n = te.size_var("n")
    x = te.placeholder((n,), name="x")
    v, w = te.size_var("v"), te.size_var("w")
    z = te.compute((n,), lambda i: x[i] * v + w, name="z")
    intrin = te.decl_tensor_intrin(
        z.op, lambda ins, outs, sp: tir.call_packed("tc_test.scaled_copy", ins[0], outs[0], sp[0], sp[1]),
        scalar_params=[v, w], default_buffer_params={"offset_factor": 1})
    assert tuple(intrin.scalar_params) == (v, w)
    A = te.placeholder((6, 4), name="A")
    C = te.compute((6, 4), lambda i: intrin(A[i, 0:4], i + 1, 2 * i), name="C")
    s = te.create_schedule(C.op)
    a = np.random.default_rng(1).standard_normal((6, 4)).astype("float32")
    ref = a * (np.arange(6) + 1)[:, None] + (2 * np.arange(6))[:, None]
    np.testing.assert_allclose(_build_and_run(s, [A, C], [a], (6, 4)), ref, rtol=1e-6)


def test_bad_calls_are_named():
    vadd = _vadd(16)
    A = te.placeholder((8, 16), name="A")
    with pytest.raises(ValueError, match="takes 2 tensor region"):
        te.compute((8, 16), lambda i: vadd(A[i, 0:16]), name="C")
    with pytest.raises(ValueError, match="dimension 1 has extent 8, intrinsic 'tensor_intrin' computes 16"):
        te.compute((8, 8), lambda i: vadd(A[i, 0:8], A[i, 0:8]), name="C")
    with pytest.raises(ValueError, match="fewer only when it returns a tensor intrinsic call"):
        te.compute((8, 16), lambda i: A[i, 0], name="C")
