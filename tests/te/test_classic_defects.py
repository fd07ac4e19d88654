"""Defects found running classic TVM code unchanged (issue 12), each with its regression test."""

import numpy as np

import tilecraft as tvm
from tilecraft import te


def test_inlined_tensor_in_the_argument_list_is_an_untouched_parameter():
    n = 16
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 2.0, name="B")
    C = te.compute((n,), lambda i: B[i] + 1.0, name="C")
    s = te.create_schedule(C.op)
    s[B].compute_inline()
    f = tvm.build(s, [A, B, C], "llvm")
    a = np.random.default_rng(0).standard_normal(n).astype("float32")
    b = np.full(n, 7.0, "float32")  # nothing writes B: it keeps what the caller put there
    c = np.zeros(n, "float32")
    arrays = [tvm.nd.array(x) for x in (a, b, c)]
    f(*arrays)
    np.testing.assert_allclose(arrays[2].numpy(), a * 2 + 1, rtol=1e-6)
    np.testing.assert_array_equal(arrays[1].numpy(), b)
    assert "B" in str(tvm.lower(s, [A, B, C], simple_mode=True))


def test_schedule_errors_are_tvm_errors_and_runtime_errors():
    import pytest

    from tilecraft.te import ScheduleError

    A = te.placeholder((16,), name="A")
    T = te.compute((16,), lambda i: A[i] + 1.0, name="T")
    s = te.create_schedule(T.op)
    xo, xi = s[T].split(T.op.axis[0], factor=4)
    with pytest.raises(tvm.error.TVMError, match="reorder got an axis twice"):
        s[T].reorder(xi, xo, xi)
    with pytest.raises(tvm.TVMError):
        s[T].reorder(xi, xo, xi)
    with pytest.raises(RuntimeError):
        s[T].vectorize(T.op.axis[0])  # no longer a leaf
    with pytest.raises(ValueError):  # tilecraft's own code and tests catch ValueError
        s[T].reorder(xi, xo, xi)
    assert issubclass(ScheduleError, tvm.TVMError) and tvm.TVMError is tvm.error.TVMError
    s[T].reorder(xi, xo)  # the schedule is still usable after the errors
    f = tvm.build(s, [A, T], "llvm")
    a = np.random.default_rng(1).standard_normal(16).astype("float32")
    t = tvm.nd.array(np.zeros(16, "float32"))
    f(tvm.nd.array(a), t)
    np.testing.assert_allclose(t.numpy(), a + 1, rtol=1e-6)
