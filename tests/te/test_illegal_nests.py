"""Issue 11: a parallel or vectorized loop inside a vectorized one used to lower with the
vectorize silently dropped.  The primitive that makes such a nest now fails at its call, naming
the stage and both loops; the legal orders still lower to vector code."""

import re

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.te import ScheduleError


def split_stage():
    A = te.placeholder((64,), name="A")
    B = te.compute((64,), lambda i: A[i] * 2.0, name="B")
    s = te.create_schedule(B.op)
    xo, xi = s[B].split(B.op.axis[0], factor=8)
    return s, A, B, xo, xi


def raises(*words):
    pattern = "".join(f"(?=.*{re.escape(w)})" for w in words)
    return pytest.raises(ScheduleError, match=re.compile(pattern, re.DOTALL))


def test_parallel_inside_vectorized_is_refused_at_parallel():
    s, A, B, xo, xi = split_stage()
    s[B].vectorize(xo)
    with raises("stage B", "parallel loop i_inner", "vectorized loop i_outer"):
        s[B].parallel(xi)
    assert s[B].iter_var_attrs.get(xi) is None or s[B].iter_var_attrs[xi].kind == "serial"  # nothing half-done


def test_vectorize_around_parallel_is_refused_at_vectorize():
    s, A, B, xo, xi = split_stage()
    s[B].parallel(xi)
    with raises("stage B", "parallel loop i_inner", "vectorized loop i_outer"):
        s[B].vectorize(xo)


def test_vectorized_inside_vectorized_is_refused():
    s, A, B, xo, xi = split_stage()
    s[B].vectorize(xo)
    with raises("vectorized loop i_inner", "vectorized loop i_outer"):
        s[B].vectorize(xi)


def test_reorder_that_puts_parallel_inside_vectorized_is_refused():
    s, A, B, xo, xi = split_stage()
    s[B].parallel(xo)
    s[B].vectorize(xi)
    order = list(s[B].leaf_iter_vars)
    with raises("parallel loop i_outer", "vectorized loop i_inner"):
        s[B].reorder(xi, xo)
    assert s[B].leaf_iter_vars == order  # the refused reorder left the nest as it was


def test_reorder_can_repair_the_order_before_marking():
    s, A, B, xo, xi = split_stage()
    s[B].reorder(xi, xo)
    s[B].vectorize(xo)  # xo is innermost now
    s[B].parallel(xi)


def test_compute_at_into_vectorized_loop_with_parallel_is_refused():
    A = te.placeholder((64,), name="A")
    C = te.compute((64,), lambda i: A[i] + 1.0, name="C")
    D = te.compute((64,), lambda i: C[i] * 2.0, name="D")
    s = te.create_schedule(D.op)
    do, di = s[D].split(D.op.axis[0], factor=8)
    s[D].vectorize(do)
    s[C].parallel(C.op.axis[0])
    with raises("stage C", "parallel loop i", "vectorized loop D.i_outer", "computed at D.i_outer"):
        s[C].compute_at(s[D], do)


def test_vectorize_around_an_attached_parallel_stage_is_refused():
    A = te.placeholder((64,), name="A")
    C = te.compute((64,), lambda i: A[i] + 1.0, name="C")
    D = te.compute((64,), lambda i: C[i] * 2.0, name="D")
    s = te.create_schedule(D.op)
    do, di = s[D].split(D.op.axis[0], factor=8)
    s[C].compute_at(s[D], di)
    s[C].parallel(C.op.axis[0])
    with raises("stage D", "parallel loop C.i", "vectorized loop i_outer"):
        s[D].vectorize(do)


def test_legal_nests_still_vectorize():
    """parallel outside, vectorized innermost; and a serial loop inside a vectorized one (classic
    TVM allows it: the inner loop stays a loop around vector statements)."""
    s, A, B, xo, xi = split_stage()
    s[B].parallel(xo)
    s[B].vectorize(xi)
    f = tvm.build(s, [A, B], "llvm")
    assert "<8 x float>" in f.get_source("ll")
    a = tvm.nd.array(np.arange(64, dtype="float32"))
    b = tvm.nd.array(np.zeros(64, "float32"))
    f(a, b)
    np.testing.assert_allclose(b.numpy(), a.numpy() * 2)

    s, A, B, xo, xi = split_stage()
    s[B].vectorize(xo)  # i_inner (serial) inside: allowed
    tvm.lower(s, [A, B])


def test_vectorized_stage_computed_at_a_vectorized_loop_is_allowed():
    """A stage computed inside another stage's vectorized loop may vectorize its own loop (that
    inner one is kept); only a parallel loop there is refused."""
    A = te.placeholder((4, 8), name="A")
    C = te.compute((4, 8), lambda i, j: A[i, j] + 1.0, name="C")
    D = te.compute((4, 8), lambda i, j: C[i, j] * 2.0, name="D")
    s = te.create_schedule(D.op)
    s[D].vectorize(D.op.axis[0])
    s[C].compute_at(s[D], D.op.axis[0])
    s[C].vectorize(C.op.axis[1])
    f = tvm.build(s, [A, D], "llvm")
    a = tvm.nd.array(np.arange(32, dtype="float32").reshape(4, 8))
    d = tvm.nd.array(np.zeros((4, 8), "float32"))
    f(a, d)
    np.testing.assert_allclose(d.numpy(), (a.numpy() + 1) * 2)
