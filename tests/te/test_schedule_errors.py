"""Illegal uses of tensor expressions and schedule primitives fail at the call, with a message
that names the stage (or tensor) and the axis, and says why."""

import re

import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.te import ScheduleError

M = N = K = 16


def matmul():
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def raises(exc, *words):
    """pytest.raises whose message must contain every word (case-insensitive)."""
    pattern = "".join(f"(?=.*{re.escape(w)})" for w in words)
    return pytest.raises(exc, match=re.compile(pattern, re.IGNORECASE | re.DOTALL))


def chain():
    """X -> Y, X -> Z, (Y, Z) -> W"""
    X = te.placeholder((M,), name="X")
    Y = te.compute((M,), lambda i: X[i] * 2.0, name="Y")
    Z = te.compute((M,), lambda i: X[i] + 1.0, name="Z")
    W = te.compute((M,), lambda i: Y[i] + Z[i], name="W")
    return X, Y, Z, W


def test_schedule_error_is_a_value_error():
    assert issubclass(ScheduleError, ValueError)


# ----------------------------------------------------------------------------- split

def test_split_non_leaf_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    i = C.op.axis[0]
    s[C].split(i, factor=4)
    with raises(ScheduleError, "stage C", "axis i", "no longer a leaf", "i_outer", "i_inner"):
        s[C].split(i, factor=2)


def test_split_axis_of_another_stage():
    A, B, C = matmul()
    D = te.compute((M, N), lambda a, b: C[a, b] + 1.0, name="D")
    s = te.create_schedule(D.op)
    with raises(ScheduleError, "stage D", "axis i", "not an axis of this stage", "stage C"):
        s[D].split(C.op.axis[0], factor=2)


def test_split_axis_of_another_computation():
    A, B, C = matmul()
    A2, B2, C2 = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "axis i", "not an axis of this stage"):
        s[C].split(C2.op.axis[0], factor=2)


def test_split_both_factor_and_nparts():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "j", "exactly one of factor= or nparts="):
        s[C].split(C.op.axis[1], factor=2, nparts=2)


def test_split_neither_factor_nor_nparts():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "j", "exactly one of factor= or nparts="):
        s[C].split(C.op.axis[1])


@pytest.mark.parametrize("kw,value", [("factor", 0), ("factor", -3), ("nparts", 0), ("nparts", -1)])
def test_split_nonpositive(kw, value):
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "j", kw, "positive", str(value)):
        s[C].split(C.op.axis[1], **{kw: value})


def test_split_float_factor():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(TypeError, "stage C", "j", "integer"):
        s[C].split(C.op.axis[1], factor=2.5)


def test_split_of_placeholder():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "A", "placeholder"):
        s[A].split(C.op.axis[0], factor=2)


def test_split_not_an_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "expected an axis"):
        s[C].split(3, factor=2)


# ----------------------------------------------------------------------------- fuse / reorder

def test_fuse_non_adjacent():
    A = te.placeholder((4, 5, 6), name="A")
    C = te.compute((4, 5, 6), lambda i, j, l: A[i, j, l] * 2.0, name="C")
    s = te.create_schedule(C.op)
    i, j, l = C.op.axis
    with raises(ScheduleError, "stage C", "fuse", "i", "l", "adjacent", "reorder first"):
        s[C].fuse(i, l)


def test_fuse_inner_before_outer():
    A = te.placeholder((4, 5), name="A")
    C = te.compute((4, 5), lambda i, j: A[i, j] * 2.0, name="C")
    s = te.create_schedule(C.op)
    i, j = C.op.axis
    with raises(ScheduleError, "stage C", "fuse", "adjacent"):
        s[C].fuse(j, i)


def test_fuse_reduce_with_data_parallel():
    A = te.placeholder((4, 5, 6), name="A")
    k = te.reduce_axis((0, 6), name="k")
    C = te.compute((4, 5), lambda i, j: te.sum(A[i, j, k], axis=k), name="C")
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "fuse", "j", "k", "reduction"):
        s[C].fuse(C.op.axis[1], k)


def test_reorder_with_duplicates():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    i, j = C.op.axis
    with raises(ScheduleError, "stage C", "reorder", "twice", "i"):
        s[C].reorder(i, j, i)


def test_reorder_non_leaf():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    i, j = C.op.axis
    s[C].split(i, factor=4)
    with raises(ScheduleError, "stage C", "reorder", "axis i", "no longer a leaf"):
        s[C].reorder(j, i)


# ----------------------------------------------------------------------------- annotations

def test_vectorize_reduction_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "vectorize", "k", "reduction axis"):
        s[C].vectorize(C.op.reduce_axis[0])


def test_vectorize_split_reduction_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    ko, ki = s[C].split(C.op.reduce_axis[0], factor=4)
    with raises(ScheduleError, "stage C", "vectorize", "k_inner", "reduction axis"):
        s[C].vectorize(ki)


def test_parallel_reduction_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "parallel", "k", "reduction axis", "rfactor"):
        s[C].parallel(C.op.reduce_axis[0])


def test_conflicting_annotations():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    j = C.op.axis[1]
    s[C].vectorize(j)
    with raises(ScheduleError, "stage C", "unroll", "j", "already marked vectorized"):
        s[C].unroll(j)


def test_split_after_annotation():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    i = C.op.axis[0]
    s[C].parallel(i)
    with raises(ScheduleError, "stage C", "split", "i", "parallel"):
        s[C].split(i, factor=4)


def test_bind_with_non_thread_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    i = C.op.axis[0]
    with raises(ScheduleError, "stage C", "bind", "i", "te.thread_axis"):
        s[C].bind(i, te.reduce_axis((0, 4), name="r"))
    with raises(ScheduleError, "stage C", "bind", "i", "te.thread_axis"):
        s[C].bind(i, te.var("x"))


def test_bind_reduction_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "k", "reduction", "rfactor"):
        s[C].bind(C.op.reduce_axis[0], te.thread_axis("threadIdx.x"))


def test_bind_same_thread_twice():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    i, j = C.op.axis
    s[C].bind(i, te.thread_axis("blockIdx.x"))
    with raises(ScheduleError, "stage C", "blockIdx.x", "already bound", "axis i"):
        s[C].bind(j, te.thread_axis("blockIdx.x"))


def test_unknown_thread_tag():
    with raises(ValueError, "threadIdx.w", "threadIdx.x"):
        te.thread_axis("threadIdx.w")


# ----------------------------------------------------------------------------- placement

def test_compute_at_stage_that_does_not_consume():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "stage Y", "Z", "does not consume"):
        s[Y].compute_at(s[Z], Z.op.axis[0])


def test_compute_at_axis_not_in_parent():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "stage Y", "compute_at axis i", "not a leaf axis of stage W", "stage Z"):
        s[Y].compute_at(s[W], Z.op.axis[0])


def test_compute_at_split_away_axis():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    i = W.op.axis[0]
    s[W].split(i, factor=4)
    with raises(ScheduleError, "stage Y", "compute_at axis i", "stage W", "i_outer"):
        s[Y].compute_at(s[W], i)


def test_compute_at_of_output():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "stage W", "compute_at", "output"):
        s[W].compute_at(s[Y], Y.op.axis[0])


def test_compute_at_of_placeholder():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "X", "placeholder"):
        s[X].compute_at(s[W], W.op.axis[0])


def test_compute_at_not_a_stage():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "stage Y", "expects a stage"):
        s[Y].compute_at(W, W.op.axis[0])


def test_compute_at_itself():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "stage Y", "itself"):
        s[Y].compute_at(s[Y], Y.op.axis[0])


def test_compute_at_cycle():
    P = te.placeholder((M,), name="P")
    Q = te.compute((M,), lambda i: P[i] * 2.0, name="Q")
    R = te.compute((M,), lambda i: Q[i] * 3.0, name="R")
    S = te.compute((M,), lambda i: R[i] + 1.0, name="S")
    s = te.create_schedule(S.op)
    s[Q].compute_at(s[R], R.op.axis[0])
    with raises(ScheduleError, "stage R", "Q", "cycle"):
        s[R].compute_at(s[Q], Q.op.axis[0])


def test_compute_at_through_reader_left_outside():
    # X -> Y -> Z: X may be computed at Z's loop (Z consumes it through Y) ...
    P = te.placeholder((M,), name="P")
    X = te.compute((M,), lambda i: P[i] * 2.0, name="X")
    Y = te.compute((M,), lambda i: X[i] * 3.0, name="Y")
    Z = te.compute((M,), lambda i: Y[i] + 1.0, name="Z")
    s = te.create_schedule(Z.op)
    s[X].compute_at(s[Z], Z.op.axis[0])
    # ... but only if Y ends up inside that loop too (or inlined); lowering says so.
    with raises(ScheduleError, "stage X", "computed at Z.i", "reader Y", "outside that loop",
                "compute_at Y inside it too, or attach X further out"):
        tvm.lower(s, [P, Z])
    s[Y].compute_at(s[Z], Z.op.axis[0])
    tvm.lower(s, [P, Z])


def test_compute_inline_of_reduction():
    A, B, C = matmul()
    D = te.compute((M, N), lambda a, b: C[a, b] + 1.0, name="D")
    s = te.create_schedule(D.op)
    with raises(ScheduleError, "stage C", "compute_inline", "reduction"):
        s[C].compute_inline()


def test_compute_inline_of_output():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "stage W", "compute_inline", "output"):
        s[W].compute_inline()


def test_compute_inline_of_placeholder():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "X", "placeholder"):
        s[X].compute_inline()


def test_stage_of_unknown_tensor():
    X, Y, Z, W = chain()
    s = te.create_schedule(Y.op)
    with raises(ScheduleError, "W", "not part of this schedule"):
        s[W]


# ----------------------------------------------------------------------------- dataflow rewrites

def test_cache_write_after_annotation():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    s[C].parallel(C.op.axis[0])
    with raises(ScheduleError, "stage C", "cache_write", "before"):
        s.cache_write(C, "local")


def test_cache_write_of_placeholder():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "A", "placeholder"):
        s.cache_write(A, "local")


def test_cache_read_with_reader_that_does_not_read():
    A, B, C = matmul()
    E = te.compute((M, N), lambda a, b: C[a, b] * 2.0, name="E")
    s = te.create_schedule(E.op)
    with raises(ScheduleError, "cache_read of A", "E does not read A"):
        s.cache_read(A, "shared", [E])


def test_rfactor_of_non_reduce_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "rfactor", "axis i", "not", "reduction"):
        s.rfactor(C, C.op.axis[0])


def test_rfactor_of_non_reduction_stage():
    X, Y, Z, W = chain()
    s = te.create_schedule(W.op)
    with raises(ScheduleError, "stage Y", "rfactor", "reduction"):
        s.rfactor(Y, Y.op.axis[0])


def test_rfactor_of_non_leaf():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    k = C.op.reduce_axis[0]
    s[C].split(k, factor=4)
    with raises(ScheduleError, "stage C", "rfactor", "axis k", "no longer a leaf"):
        s.rfactor(C, k)


def test_storage_align_innermost_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "storage_align", "innermost"):
        s[C].storage_align(C.op.axis[1], 8, 1)


@pytest.mark.parametrize("factor,offset", [(0, 0), (-4, 1), (4, 4), (4, -1)])
def test_storage_align_bad_factor_or_offset(factor, offset):
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "storage_align", "factor > 0", "offset < factor"):
        s[C].storage_align(C.op.axis[0], factor, offset)


def test_storage_align_reduce_axis():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "stage C", "storage_align", "axis k", "i, j"):
        s[C].storage_align(C.op.reduce_axis[0], 8, 1)


# ----------------------------------------------------------------------------- lowering args

def test_placeholder_missing_from_build_args():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(ScheduleError, "input B", "read by C", "missing from the argument list"):
        tvm.lower(s, [A, C])
    with raises(ScheduleError, "input A", "missing"):
        tvm.build(s, [B, C], target="llvm")


def test_lower_without_args():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    with raises(TypeError, "argument"):
        tvm.lower(s)


# ----------------------------------------------------------------------------- expressions

def test_index_with_wrong_number_of_indices():
    A, B, C = matmul()
    with raises(IndexError, "tensor A", "2 dimensions", "1"):
        te.compute((M,), lambda i: A[i], name="bad")
    with raises(IndexError, "tensor A", "2 dimensions", "3"):
        te.compute((M,), lambda i: A[i, i, i], name="bad")


def test_index_with_float_expression():
    A, B, C = matmul()
    with raises(TypeError, "tensor A", "float", "integer"):
        te.compute((M,), lambda i: A[i * 1.5, 0], name="bad")


def test_compute_function_arity():
    A, B, C = matmul()
    with raises(ValueError, "1 index arguments", "2 dimensions"):
        te.compute((M, N), lambda i: A[i, 0])


@pytest.mark.parametrize("use", [
    lambda n: 1 if n > 3 else 0,
    lambda n: 1 if n else 0,
    lambda n: not n,
    lambda n: (n > 1) and (n < 3),
    lambda n: [x for x in (1, 2) if n >= x],
])
def test_var_in_python_if(use):
    n = te.var("n")
    with raises(TypeError, "no Python truth value", "te.if_then_else"):
        use(n)


def test_var_in_python_if_inside_compute():
    A = te.placeholder((M,), name="A")
    with raises(TypeError, "no Python truth value", "if_then_else"):
        te.compute((M,), lambda i: A[i] if i < 4 else 0.0)


@pytest.mark.parametrize("make", [
    lambda A, k: te.sum(A[0, k], axis=k) + 1.0,
    lambda A, k: 2.0 * te.sum(A[0, k], axis=k),
    lambda A, k: te.exp(te.max(A[0, k], axis=k)),
])
def test_compute_reading_reduction_inside_larger_expression(make):
    A, B, C = matmul()
    k = te.reduce_axis((0, K), name="k2")
    with raises(ValueError, "compute bad", "reduction", "whole body", "own tensor"):
        te.compute((M,), lambda i: make(A, k), name="bad")


def test_sum_without_axis():
    A, B, C = matmul()
    with raises(TypeError, "sum", "axis"):
        te.sum(A[0, 0])


def test_reducer_over_data_parallel_axis():
    A = te.placeholder((M, N), name="A")
    dp = te.var("i")
    with pytest.raises(TypeError):
        te.sum(A[0, dp], axis=[dp])


@pytest.mark.parametrize("shape,exc", [((3.5,), TypeError), ((-3,), ValueError)])
def test_placeholder_bad_shape(shape, exc):
    with pytest.raises(exc, match="shape"):
        te.placeholder(shape, name="P")
