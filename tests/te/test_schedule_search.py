"""What a schedule search needs from te: copy a schedule and branch from it, record the primitives
applied (printable as te code, replayable on a fresh schedule), ask for loop ranges without
lowering, and cache_write after a split (classic TVM's re-layout)."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.te import ScheduleError


def matmul(n=32):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def text(s, args):
    return str(tvm.lower(s, args, simple_mode=True))


def run(s, args, n=32):
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), "float32") + 0.5, rng.random((n, n), "float32") + 0.5
    c = tvm.nd.array(np.full((n, n), np.nan, "float32"))
    tvm.build(s, args)(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-5)


def tiled():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    yo, xo, yi, xi = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 8)
    s[CC].compute_at(s[C], xo)
    ko, ki = s[CC].split(s[CC].op.reduce_axis[0], factor=4)
    s[C].vectorize(xi)
    s[C].parallel(yo)
    return s, [A, B, C]


def test_copy_branches_independently():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    io, ii = s[C].split(C.op.axis[0], factor=8)
    before = text(s, [A, B, C])
    branch = s.copy()
    branch[C].vectorize(C.op.axis[1])
    branch[C].parallel(io)
    assert text(s, [A, B, C]) == before  # the original is untouched
    assert "T.parallel" in text(branch, [A, B, C]) and "T.parallel" not in before
    s[C].unroll(ii)  # and the branch does not see later changes of the original
    assert "T.unroll" not in text(branch, [A, B, C])
    assert len(branch.trace()) == 3 and len(s.trace()) == 2
    run(branch, [A, B, C])


def test_trace_prints_te_code_that_rebuilds_the_schedule():
    s, args = tiled()
    code = str(s.trace())
    assert code.splitlines()[0] == "s = te.create_schedule([C.op])"
    assert 's.cache_write(C, "local")' in code and "compute_at(s[C], j_outer)" in code
    ns = {"te": te, "C": args[2]}
    exec(code, ns)
    assert text(ns["s"], args) == text(s, args)


def test_trace_replays_on_a_fresh_schedule_of_the_same_computation():
    s, args = tiled()
    fresh = te.create_schedule(args[2].op)
    s.trace().apply(fresh)
    assert text(fresh, args) == text(s, args)
    assert [st.primitive for st in s.trace()] == [
        "cache_write", "tile", "compute_at", "split", "vectorize", "parallel"]
    run(fresh, args)


def test_trace_replay_on_another_computation_is_refused():
    s, _ = tiled()
    X = te.placeholder((4,), name="X")
    Y = te.compute((4,), lambda i: X[i] + 1, name="Y")
    refused = r"cannot replay a trace recorded on a schedule of \[C\] on a schedule of \[Y\].*same outputs"
    with pytest.raises(ScheduleError, match=refused):
        s.trace().apply(te.create_schedule(Y.op))


def test_infer_bound_gives_a_range_per_loop():
    s, args = tiled()
    bounds = te.infer_bound(s)
    C = args[2]
    stage = s[C]
    extents = {iv.var.name: int(bounds[iv].extent) for iv in stage.leaf_iter_vars}
    assert extents == {"i_outer": 4, "j_outer": 4, "i_inner": 8, "j_inner": 8}
    # the cache computed at j_outer covers one 8x8 tile
    cache = next(st for st in s.stages if st.op.name == "C_local")
    assert [int(bounds[iv].extent) for iv in cache.op.axis] == [8, 8]
    assert te.schedule.InferBound(s.normalize()).keys() == bounds.keys()  # the classic spelling


def test_cache_write_after_split_relayouts_the_cache():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    io, ii = s[C].split(C.op.axis[0], factor=8)
    CL = s.cache_write(C, "local")
    assert [iv.var.name for iv in CL.op.axis] == ["i_outer_c", "i_inner_c", "j_c"]
    assert "T.allocate([4, 8, 32]" in text(s, [A, B, C])
    # the cache's axes are ordinary axes: schedule them further
    s[CL].reorder(CL.op.axis[0], CL.op.axis[2], CL.op.axis[1])
    s[CL].vectorize(CL.op.axis[1])
    run(s, [A, B, C])


def test_cache_write_after_annotation_is_still_refused():
    A, B, C = matmul()
    s = te.create_schedule(C.op)
    s[C].parallel(C.op.axis[0])
    with pytest.raises(ScheduleError, match="stage C.*cache_write"):
        s.cache_write(C, "local")
