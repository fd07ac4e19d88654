"""Per-store features of lowered programs (auto_scheduler.feature).

Expected values are worked out by hand from the loop nests (extents, strides in elements,
log2(1 + x) scaling), not taken from earlier output of the code.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.auto_scheduler.feature import (
    feature_length,
    feature_names,
    get_per_store_features_from_measure_pairs,
    get_per_store_features_from_states,
    per_store_features,
    store_buffer_names,
)

N = 64


def slog(x):
    return math.log2(1 + x)


def matmul(n=N):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def features(s, args, **kw):
    func = tvm.lower(s, args)["main"]
    return per_store_features(func, **kw), func


def row_dict(row, max_n_bufs=None):
    return dict(zip(feature_names(max_n_bufs), row.tolist()))


def update_row(F):
    """The row of the accumulating store (the one with float multiply-adds)."""
    names = feature_names()
    i = names.index("float_mul")
    rows = [r for r in F if r[i] > 0]
    assert len(rows) == 1
    return row_dict(rows[0])


def slot_of(func, store_row, name):
    return store_buffer_names(func)[store_row].index(name)


def test_length_and_names():
    names = feature_names()
    assert len(names) == feature_length() == 57 + 5 * 19 + 17 == 169
    assert len(set(names)) == len(names)
    assert feature_length(3) == len(feature_names(3)) == 57 + 3 * 19 + 17
    assert names[:2] == ["float_mad", "float_addsub"] and names[-1] == "auto_unroll_max_step"
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    F, _ = features(s, [A, B, C])
    assert F.dtype == np.float32
    assert F.shape == (2, 169)  # init store C = 0 and the update store
    F3, _ = features(s, [A, B, C], max_n_bufs=3)
    assert F3.shape == (2, feature_length(3))


def test_arithmetic_counts_scaled_by_loop_extents():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    F, _ = features(s, [A, B, C])
    r = update_row(F)
    # C[i, j] = C[i, j] + A[i, k] * B[k, j] runs N^3 times: one add, one mul, one mad each
    assert r["float_mul"] == pytest.approx(slog(N ** 3))
    assert r["float_addsub"] == pytest.approx(slog(N ** 3))
    assert r["float_mad"] == pytest.approx(slog(N ** 3))
    assert r["float_divmod"] == 0 and r["float_math_func"] == 0
    assert r["outer_prod"] == pytest.approx(slog(N ** 3))
    assert r["num_loops"] == pytest.approx(slog(3))

    X = te.placeholder((N, 32), name="X")
    Y = te.compute((N, 32), lambda i, j: te.exp(X[i, j]) / 2.0, name="Y")
    F, _ = features(te.create_schedule(Y.op), [X, Y])
    r = row_dict(F[0])
    assert r["float_math_func"] == pytest.approx(slog(N * 32))
    assert r["float_divmod"] + r["float_mul"] > 0  # x / 2 (or x * 0.5 after simplification)


def test_vectorize_features():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    F, _ = features(s, [A, B, C])
    r = update_row(F)
    assert r["vec_num"] == 0 and r["vec_len"] == 0 and r["vec_type.none"] == 1

    s = te.create_schedule(C.op)
    i, j = s[C].op.axis
    (k,) = s[C].op.reduce_axis
    jo, ji = s[C].split(j, factor=8)
    s[C].reorder(i, jo, k, ji)
    s[C].vectorize(ji)
    F, _ = features(s, [A, B, C])
    r = update_row(F)
    assert r["vec_num"] == pytest.approx(slog(1))
    assert r["vec_len"] == pytest.approx(slog(8)) and r["vec_prod"] == pytest.approx(slog(8))
    assert r["vec_type.inner_spatial"] == 1 and r["vec_type.none"] == 0
    assert r["parallel_num"] == 0 and r["parallel_type.none"] == 1


def test_parallel_and_unroll_features():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    i, j = s[C].op.axis
    (k,) = s[C].op.reduce_axis
    ko, ki = s[C].split(k, factor=4)
    s[C].reorder(i, j, ko, ki)
    s[C].parallel(i)
    s[C].unroll(ki)
    s[C].pragma(i, "auto_unroll_max_step", 16)
    F, _ = features(s, [A, B, C])
    r = update_row(F)
    assert r["parallel_num"] == pytest.approx(1) and r["parallel_len"] == pytest.approx(slog(N))
    assert r["parallel_type.outer_spatial"] == 1
    assert r["unroll_num"] == pytest.approx(1) and r["unroll_len"] == pytest.approx(slog(4))
    assert r["unroll_type.inner_reduce"] == 1
    assert r["auto_unroll_max_step"] == pytest.approx(slog(16))
    assert r["vec_num"] == 0


def test_matmul_strides_and_reuse():
    A, B, C = matmul()
    s = te.create_schedule(C.op)  # loops i, j, k (k innermost)
    F, func = features(s, [A, B, C])
    row = [n for n, r in enumerate(F) if update_row(F)["float_mul"] == r[feature_names().index("float_mul")]][0]
    r = row_dict(F[row])
    a, b, c = (slot_of(func, row, x) for x in ("A", "B", "C"))
    # A[i, k]: k moves it by 1 element, contiguous; B[k, j]: k moves it by a row (N elements)
    assert r[f"B{a}.stride"] == pytest.approx(slog(1)) and r[f"B{a}.is_contiguous"] == 1
    assert r[f"B{b}.stride"] == pytest.approx(slog(N)) and r[f"B{b}.is_contiguous"] == 0
    assert r[f"B{a}.acc_type.read"] == 1 and r[f"B{b}.acc_type.read"] == 1
    assert r[f"B{c}.acc_type.read_write"] == 1
    # every element of A and B is read N times: bytes = N^3 * 4, unique bytes = N^2 * 4
    assert r[f"B{a}.bytes"] == pytest.approx(slog(N ** 3 * 4), rel=1e-6)
    assert r[f"B{a}.unique_bytes"] == pytest.approx(slog(N ** 2 * 4), rel=1e-6)
    # B walks a column: one cache line per access; A walks a row: 4 bytes of a 64-byte line
    assert r[f"B{b}.lines"] == pytest.approx(slog(N ** 3), rel=1e-6)
    assert r[f"B{a}.lines"] == pytest.approx(slog(N ** 3 / 16), rel=1e-6)
    # C[i, j] does not move with k (innermost, extent N): reuse by that loop, distance 1 iteration
    assert r[f"B{c}.reuse_type.loop_multiple_read"] == 1
    assert r[f"B{c}.reuse_ct"] == pytest.approx(slog(N)) and r[f"B{c}.reuse_dis_iter"] == pytest.approx(slog(1))
    # A[i, k] does not move with j: reused across j, N iterations of k apart
    assert r[f"B{a}.reuse_ct"] == pytest.approx(slog(N)) and r[f"B{a}.reuse_dis_iter"] == pytest.approx(slog(N))

    s = te.create_schedule(C.op)  # loops i, k, j: now B is contiguous and A is not
    i, j = s[C].op.axis
    (k,) = s[C].op.reduce_axis
    s[C].reorder(i, k, j)
    F, func = features(s, [A, B, C])
    r = update_row(F)
    row = [n for n in range(len(F)) if F[n][feature_names().index("float_mul")] > 0][0]
    a, b = slot_of(func, row, "A"), slot_of(func, row, "B")
    assert r[f"B{b}.stride"] == pytest.approx(slog(1)) and r[f"B{b}.is_contiguous"] == 1
    assert r[f"B{a}.stride"] == pytest.approx(slog(1)) and r[f"B{a}.is_contiguous"] == 0  # moved by k, not j


def test_allocation_features():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "global")
    i, j = s[C].op.axis
    io, ii = s[C].split(i, 16)
    jo, ji = s[C].split(j, 16)
    s[C].reorder(io, jo, ii, ji)
    s[CC].compute_at(s[C], jo)
    F, func = features(s, [A, B, C])
    r = update_row(F)
    # C.global is a 16x16 float tile allocated inside the (N/16)^2 outer loops
    assert r["alloc_size"] == pytest.approx(slog(16 * 16 * 4), rel=1e-6)
    assert r["alloc_outer_prod"] == pytest.approx(slog((N // 16) ** 2), rel=1e-6)
    assert r["alloc_prod"] == pytest.approx(slog(16 * 16 * 4 * (N // 16) ** 2), rel=1e-6)


def test_deterministic():
    def build():
        A, B, C = matmul()
        s = te.create_schedule(C.op)
        i, j = s[C].op.axis
        jo, ji = s[C].split(j, 8)
        s[C].vectorize(ji)
        s[C].parallel(i)
        return features(s, [A, B, C])[0]

    f1, f2 = build(), build()
    assert np.array_equal(f1, f2)
    assert np.isfinite(f1).all()


class _DAG:
    """Stand-in for ComputeDAG: a state is a dict of tile sizes; a state without them fails."""

    def __init__(self):
        self.tensors = matmul()

    def apply_steps_from_state(self, state):
        A, B, C = self.tensors
        s = te.create_schedule(C.op)
        i, j = s[C].op.axis
        jo, ji = s[C].split(j, state["tj"])
        s[C].vectorize(ji)
        return s, [A, B, C]


def test_states_and_measure_pairs():
    task = SimpleNamespace(compute_dag=_DAG(), workload_key="mm", target="llvm")
    feats = get_per_store_features_from_states([{"tj": 8}, {}, {"tj": 16}], task)
    assert len(feats) == 3
    assert feats[0].shape == (2, feature_length()) and feats[1].shape == (0, feature_length())
    assert not np.array_equal(feats[0], feats[2])

    other = SimpleNamespace(compute_dag=_DAG(), workload_key="mm2", target="llvm")
    inputs = [SimpleNamespace(task=t, state={"tj": tj}) for t, tj in
              ((task, 4), (task, 8), (other, 8), (task, 16), (other, 4))]
    results = [SimpleNamespace(costs=c, error_no=e) for c, e in
               (([2.0, 2.0], 0), ([1.0], 0), ([3.0], 0), ([0.5], 4), ([6.0], 0))]
    feats, thr, ids = get_per_store_features_from_measure_pairs(inputs, results)
    assert list(ids) == [0, 0, 1, 0, 1]
    # best valid cost per task / cost; the failed measurement (error_no 4) scores 0
    np.testing.assert_allclose(thr, [0.5, 1.0, 1.0, 0.0, 0.5])
    assert all(f.shape[1] == feature_length() for f in feats)
    feats, _, _ = get_per_store_features_from_measure_pairs(inputs, results, skip_first_n_feature_extraction=2)
    assert len(feats[0]) == 0 and len(feats[2]) == 2


def test_states_of_the_real_compute_dag():
    """The same matmul as loop states of the auto-scheduler, replayed by ComputeDAG."""
    from tilecraft.auto_scheduler.compute_dag import ComputeDAG

    A, B, C = matmul()
    dag = ComputeDAG([A, B, C])
    task = SimpleNamespace(compute_dag=dag, workload_key="mm", target="llvm")
    s = dag.get_init_state()
    i, j, k = s[C].iters
    i0, i1 = s.split(C, i, [8])
    j0, j1 = s.split(C, j, [16])
    s.reorder(C, [i0, j0, k, i1, j1])
    s.parallel(C, s[C].iters[0])
    s.vectorize(C, s[C].iters[-1])
    (F,) = get_per_store_features_from_states([s], task)
    r = update_row(F)
    assert r["parallel_len"] == pytest.approx(slog(N // 8)) and r["parallel_type.outer_spatial"] == 1
    assert r["vec_len"] == pytest.approx(slog(16)) and r["vec_type.inner_spatial"] == 1
    assert r["float_mul"] == pytest.approx(slog(N ** 3))
