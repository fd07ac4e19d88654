"""Reads outside a tensor: refused at lowering when proven, checked at run time when not."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.tir.transform import OutOfBoundsError


def test_provable_out_of_bounds_read_is_refused_naming_compute_tensor_and_index():
    A = te.placeholder((16,), name="A")
    B = te.compute((16,), lambda i: A[i + 100000], name="B")
    with pytest.raises(OutOfBoundsError, match=r"compute 'B' reads A\[i \+ 100000\] outside A \(shape \(16,\)\)"):
        tvm.build(te.create_schedule(B.op), [A, B])


def test_guarded_reads_and_empty_domains_are_accepted():
    A = te.placeholder((16,), name="A")
    P = te.compute((18,), lambda i: te.if_then_else(te.all(i >= 1, i < 17), A[i - 1], 0.0), name="P")
    E = te.compute((0, 4), lambda i, j: A[i + 100], name="E")  # reads nothing
    s = te.create_schedule([P.op, E.op])
    f = tvm.build(s, [A, P, E])
    assert "index out of bounds" not in str(tvm.lower(s, [A, P, E]))
    a = np.random.rand(16).astype("float32")
    p = tvm.nd.empty((18,))
    f(tvm.nd.array(a), p, tvm.nd.empty((0, 4)))
    np.testing.assert_allclose(p.numpy(), np.pad(a, 1))


@pytest.mark.parametrize("vectorize", [False, True])
def test_data_dependent_index_is_checked_at_run_time(vectorize):
    A = te.placeholder((16, 8), name="A")
    idx = te.placeholder((5,), name="idx", dtype="int32")
    B = te.compute((5, 8), lambda i, j: A[idx[i], j] * 2.0, name="B")
    s = te.create_schedule(B.op)
    if vectorize:
        s[B].vectorize(B.op.axis[1])
    f = tvm.build(s, [A, idx, B])
    a = np.random.rand(16, 8).astype("float32")
    b = tvm.nd.empty((5, 8))
    good = np.array([0, 15, 3, 3, 7], "int32")
    f(tvm.nd.array(a), tvm.nd.array(good), b)
    np.testing.assert_allclose(b.numpy(), a[good] * 2.0)
    for bad in (16, -1, 1 << 30):
        with pytest.raises(RuntimeError, match=r"index out of bounds: compute 'B' reads A\[idx\[i\], j\]"):
            f(tvm.nd.array(a), tvm.nd.array(np.array([0, 1, bad, 2, 3], "int32")), b)


def test_clamped_data_dependent_index_needs_no_check():
    A = te.placeholder((16,), name="A")
    idx = te.placeholder((5,), name="idx", dtype="int32")
    B = te.compute((5,), lambda i: A[te.max(te.min(idx[i], 15), 0)], name="B")
    assert "index out of bounds" not in tvm.build(te.create_schedule(B.op), [A, idx, B]).get_source()


def test_partly_outside_user_index_is_checked_when_reached():
    """A[i * i] is inside for i < 4 only: the check fires at run time, not at build."""
    A = te.placeholder((16,), name="A")
    B = te.compute((8,), lambda i: A[i * i], name="B")
    f = tvm.build(te.create_schedule(B.op), [A, B])
    with pytest.raises(RuntimeError, match=r"index out of bounds: compute 'B' reads A\[i \* i\]"):
        f(tvm.nd.array(np.random.rand(16).astype("float32")), tvm.nd.empty((8,)))


def test_hand_written_loop_outside_its_buffer_is_refused():
    from tilecraft import tir

    ib = tir.ir_builder.create()
    a = tir.decl_buffer((8,), "float32", "a")
    with ib.for_range(0, 8, name="i") as i:
        ib.emit(tir.BufferStore(a, tir.const(1.0, "float32"), (i + 8,)))
    f = tir.PrimFunc((a,), ib.get(), "fill")
    with pytest.raises(OutOfBoundsError, match=r"a\[i \+ 8\] writes outside a"):
        tvm.build(f)
