"""Defects found running classic TVM code unchanged (issue 12), each with its regression test."""

import numpy as np
import pytest

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


def test_rfactor_of_a_symbolic_reduction_extent():
    n, m = te.size_var("n"), te.size_var("m")
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), "k")
    B = te.compute((n,), lambda i: te.sum(A[i, k], axis=k), name="B")
    s = te.create_schedule(B.op)
    ko, ki = s[B].split(B.op.reduce_axis[0], factor=16)
    BF = s.rfactor(B, ki)
    assert BF.shape[0].value == 16 and BF.shape[1] == n
    assert BF.op.reduce_axis[0].var is ko.var  # classic: the other leaves keep their variables
    s[BF].parallel(BF.op.axis[0])
    f = tvm.build(s, [A, B], "llvm")
    rng = np.random.default_rng(2)
    for rows, cols in ((3, 100), (5, 37), (2, 16)):  # 100 and 37 are not multiples of 16
        a = rng.standard_normal((rows, cols)).astype("float32")
        b = tvm.nd.array(np.zeros(rows, "float32"))
        f(tvm.nd.array(a), b)
        np.testing.assert_allclose(b.numpy(), a.sum(axis=1), rtol=1e-5, atol=1e-5)


def test_rfactor_keeps_untouched_reduce_axes_as_in_classic_tvm():
    n = te.size_var("n")
    k1, k2 = te.reduce_axis((0, n), name="k1"), te.reduce_axis((0, n), name="k2")
    A = te.placeholder((n, n, n), name="A")
    B = te.compute((n,), lambda i: te.sum(A[i, k1, k2], axis=[k1, k2]), name="B")
    s = te.create_schedule(B.op)
    ko, ki = s[B].split(k1, factor=4)
    BF = s.rfactor(B, ki, 1)
    assert BF.shape[0] == n and BF.shape[1].value == 4
    assert BF.op.body[0].axis[0] is k2 and BF.op.body[0].axis[1].var is ko.var
    assert s[B].op.body[0].axis[0].dom.extent.value == 4
    f = tvm.build(s, [A, B], "llvm")
    a = np.random.default_rng(3).standard_normal((7, 7, 7)).astype("float32")
    b = tvm.nd.array(np.zeros(7, "float32"))
    f(tvm.nd.array(a), b)
    np.testing.assert_allclose(b.numpy(), a.sum(axis=(1, 2)), rtol=1e-5, atol=1e-5)


def test_two_vthreads_on_one_stage_run_as_serial_loops_on_the_cpu():
    n = 64
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    vx = te.thread_axis((0, 2), "vthread", name="vx")
    vy = te.thread_axis((0, 2), "vthread", name="vy")
    by, yi = s[C].split(C.op.axis[0], factor=16)
    bx, xi = s[C].split(C.op.axis[1], factor=16)
    tyz, yi = s[C].split(yi, nparts=2)
    txz, xi = s[C].split(xi, nparts=2)
    s[C].reorder(by, bx, tyz, txz, yi, xi)
    s[C].bind(tyz, vy)
    s[C].bind(txz, vx)
    s[CC].compute_at(s[C], txz)
    with pytest.raises(tvm.TVMError, match="already bound"):
        s[C].bind(yi, vx)  # one vthread IterVar, one loop
    assert "vthread" in str(tvm.lower(s, [A, B, C], simple_mode=True))
    f = tvm.build(s, [A, B, C], "llvm")
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal((n, n)).astype("float32") for _ in range(2))
    c = tvm.nd.array(np.zeros((n, n), "float32"))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)


def test_a_thread_index_is_still_bound_to_one_loop_only():
    A = te.placeholder((64,), name="A")
    B = te.compute((64,), lambda i: A[i] + 1.0, name="B")
    s = te.create_schedule(B.op)
    xo, xi = s[B].split(B.op.axis[0], factor=8)
    s[B].bind(xo, te.thread_axis("threadIdx.x"))
    with pytest.raises(tvm.TVMError, match="threadIdx.x is already bound"):
        s[B].bind(xi, te.thread_axis("threadIdx.x"))


def _matmul(n, m, l):
    A = te.placeholder((n, l), name="A")
    B = te.placeholder((l, m), name="B")
    k = te.reduce_axis((0, l), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C, k


def _run_matmul(s, A, B, C, shape_a, shape_b, seed=5):
    f = tvm.build(s, [A, B, C], "llvm")
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_a).astype("float32")
    b = rng.standard_normal(shape_b).astype("float32")
    c = tvm.nd.array(np.zeros((shape_a[0], shape_b[1]), "float32"))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)


def test_cache_write_keeps_the_users_reduce_axis_handles():
    A, B, C, k = _matmul(32, 24, 20)
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")  # the classic opt_gemm flow
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 8)
    s[CC].compute_at(s[C], yo)
    (kaxis,) = s[CC].op.reduce_axis
    assert kaxis is k and CC.op.reduce_axis[0] is k and k in s[CC].leaf_iter_vars
    xc, yc = s[CC].op.axis
    ko, ki = s[CC].split(k, factor=3)  # the handle from te.reduce_axis, 20 % 3 != 0
    s[CC].reorder(ko, xc, ki, yc)
    s[CC].unroll(ki)
    s[CC].vectorize(yc)
    _run_matmul(s, A, B, C, (32, 20), (20, 24))


def test_cache_write_of_a_loop_dependent_reduction():
    X = te.placeholder((10,), name="x")

    def f(n):  # the reduction's extent, combiner and identity use the output index n
        rv = te.reduce_axis((0, n), name="rv")
        init = lambda dtype: tvm.tir.Select(n > 1, tvm.tir.const(0, dtype), n.astype(dtype))  # noqa: E731
        acc = te.comm_reducer(lambda x, y: te.max(x + y, n.astype("float32")), init, name="acc")
        return acc(X[rv], axis=rv)

    Y = te.compute(X.shape, f, name="y")
    s = te.create_schedule(Y.op)
    YL = s.cache_write(Y, "local")
    assert YL.op.reduce_axis[0].var is Y.op.reduce_axis[0].var  # a new domain, the same variable
    fn = tvm.build(s, [X, Y], "llvm")
    x = np.random.default_rng(6).standard_normal(10).astype("float32")
    y = tvm.nd.array(np.zeros(10, "float32"))
    fn(tvm.nd.array(x), y)
    ref = np.zeros(10, "float32")
    for i in range(10):
        acc = np.float32(0 if i > 1 else i)
        for r in range(i):
            acc = max(acc + x[r], np.float32(i))
        ref[i] = acc
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5)


def test_cache_write_after_a_split_relayouts_the_cache_as_in_classic_tvm():
    n, m = te.var("n"), te.var("m")
    A = te.placeholder((n, m), name="A")
    B = te.placeholder((n, m), name="B")
    k = te.reduce_axis((0, m), "k")
    C = te.compute((n,), lambda i: te.sum(A[i, k] * B[i, k], axis=k), name="C")
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=4)  # classic test_schedule_cache_relayout3
    CC = s.cache_write(C, "global")
    assert [iv.var.name for iv in CC.op.axis] == ["i_outer_c", "i_inner_c"] and CC.op.reduce_axis[0] is k
    with pytest.raises(tvm.TVMError, match="no longer an axis|cache_write"):
        s[C].vectorize(xi)  # the stage got fresh loops
    s[CC].split(k, factor=3)
    f = tvm.build(s, [A, B, C, n, m], "llvm")
    rng = np.random.default_rng(7)
    for rows, cols in ((10, 7), (8, 9)):  # 10 rows: a padded, guarded cache
        a, b = (rng.standard_normal((rows, cols)).astype("float32") for _ in range(2))
        c = tvm.nd.array(np.zeros(rows, "float32"))
        f(tvm.nd.array(a), tvm.nd.array(b), c, rows, cols)
        np.testing.assert_allclose(c.numpy(), (a * b).sum(axis=1), rtol=1e-5, atol=1e-5)

    s = te.create_schedule(C.op)
    ko, ki = s[C].split(k, factor=4)
    with pytest.raises(tvm.TVMError, match="cannot cache_write after splitting or fusing a reduction axis"):
        s.cache_write(C, "global")  # classic refuses too ("relayout with data parallel dimensions" only)


def test_cache_write_of_all_outputs_of_a_multi_output_stage():
    shape = (10, 64)
    A, B = te.placeholder(shape, name="A"), te.placeholder(shape, name="B")
    C = te.compute(shape, lambda *i: A(*i) + B(*i), name="C")
    F, E = te.compute(shape, lambda *i: (C(*i), C(*i) * B(*i)), name="F")
    s = te.create_schedule([F.op, E.op])
    with pytest.raises(tvm.TVMError, match=r"pass the list of its outputs"):
        s.cache_write(F, "local")
    CL = s.cache_write(C, "local")
    s[F].split(F.op.axis[1], factor=5)
    FL, EL = s.cache_write([F, E], "local")  # classic test_schedule_compute_inline
    assert FL.op is EL.op and (FL.value_index, EL.value_index) == (0, 1)
    s[C].compute_inline()
    s[CL].compute_at(s[FL], FL.op.axis[0])
    f = tvm.build(s, [A, B, F, E], "llvm")
    rng = np.random.default_rng(8)
    a, b = (rng.standard_normal(shape).astype("float32") for _ in range(2))
    fo, eo = (tvm.nd.array(np.zeros(shape, "float32")) for _ in range(2))
    f(tvm.nd.array(a), tvm.nd.array(b), fo, eo)
    np.testing.assert_allclose(fo.numpy(), a + b, rtol=1e-6)
    np.testing.assert_allclose(eo.numpy(), (a + b) * b, rtol=1e-6)


def test_fuse_of_no_axes_makes_an_outermost_loop_of_extent_one():
    from tilecraft.te.schedule import Singleton

    A = te.placeholder((), name="A")
    T = te.compute((), lambda: A() + 1.0, name="T")  # classic test_singleton
    s = te.create_schedule(T.op)
    fused = s[T].fuse()
    assert any(isinstance(r, Singleton) for r in s[T].relations)
    assert tuple(s[T].leaf_iter_vars) == (fused,)
    assert tvm.te.infer_bound(s)[fused].extent.value == 1
    f = tvm.build(s, [A, T], "llvm")
    a = np.asarray(np.random.default_rng(9).standard_normal(), "float32")
    t = tvm.nd.array(np.zeros((), "float32"))
    f(tvm.nd.array(a), t)
    np.testing.assert_allclose(t.numpy(), a + 1, rtol=1e-6)

    n = 12
    X = te.placeholder((n, n), name="X")
    k = te.reduce_axis((0, n), name="k")
    Y = te.compute((n,), lambda i: X[i, i] * 2.0, name="Y")
    Z = te.compute((n,), lambda i: te.sum(Y[k] * X[i, k], axis=k), name="Z")
    s = te.create_schedule(Z.op)
    outer = s[Z].fuse()  # a loop to attach a producer to, around the whole nest
    assert s[Z].leaf_iter_vars[0] is outer
    s[Y].compute_at(s[Z], outer)
    s[Z].parallel(Z.op.axis[0])
    replayed = te.create_schedule(Z.op)
    s.trace().apply(replayed)  # recorded and replayable like any primitive
    x = np.random.default_rng(10).standard_normal((n, n)).astype("float32")
    for sch in (s, replayed, s.copy()):
        f = tvm.build(sch, [X, Z], "llvm")
        z = tvm.nd.array(np.zeros(n, "float32"))
        f(tvm.nd.array(x), z)
        np.testing.assert_allclose(z.numpy(), x @ (2.0 * np.diag(x)), rtol=1e-4, atol=1e-4)


def test_set_store_predicate_stores_only_where_it_holds():
    n = 10
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 2.0, name="B")
    s = te.create_schedule(B.op)
    xo, xi = s[B].split(B.op.axis[0], factor=4)
    s[B].set_store_predicate(tvm.tir.all(B.op.axis[0] % 3 != 0, xi < 3))  # a root axis and a loop
    replayed = te.create_schedule(B.op)
    s.trace().apply(replayed)
    rng = np.random.default_rng(11)
    a = rng.standard_normal(n).astype("float32")
    before = rng.standard_normal(n).astype("float32")
    i = np.arange(n)
    keep = (i % 3 != 0) & (i % 4 < 3)
    for sch in (s, replayed):
        b = tvm.nd.array(before)
        tvm.build(sch, [A, B], "llvm")(tvm.nd.array(a), b)
        np.testing.assert_allclose(b.numpy(), np.where(keep, a * 2, before), rtol=1e-6)


def test_set_store_predicate_on_a_reduction_and_on_a_vthread():
    n = 8
    A = te.placeholder((n, n), name="A")
    k = te.reduce_axis((0, n), name="k")
    B = te.compute((n,), lambda i: te.sum(A[i, k], axis=k), name="B")
    s = te.create_schedule(B.op)
    vx = te.thread_axis("vthread", name="vx")
    xo, xi = s[B].split(B.op.axis[0], nparts=2)
    s[B].bind(xo, vx)
    s[B].set_store_predicate(vx.var.equal(1))  # a bound thread axis stands for its loop
    a = np.random.default_rng(12).standard_normal((n, n)).astype("float32")
    before = np.full(n, 5.0, "float32")
    b = tvm.nd.array(before)
    tvm.build(s, [A, B], "llvm")(tvm.nd.array(a), b)
    np.testing.assert_allclose(b.numpy(), np.where(np.arange(n) >= 4, a.sum(axis=1), before), rtol=1e-5)


def test_itervar_kind_constants_and_astext():
    k = te.reduce_axis((0, 4), "k")
    i = te.thread_axis("threadIdx.x")
    assert k.iter_type == tvm.tir.IterVar.CommReduce and i.iter_type == tvm.tir.IterVar.ThreadIndex
    assert te.compute((4,), lambda j: j).op.axis[0].iter_type == tvm.tir.IterVar.DataPar
    assert (tvm.tir.IterVar.Unrolled, tvm.tir.IterVar.Vectorized, tvm.tir.IterVar.Tensorized) == (5, 6, 8)
    x = te.var("x")
    assert (x * 2 + 1).astext() == str(x * 2 + 1) == "x * 2 + 1"


def test_a_0d_tensor_is_its_value_in_expressions():
    A = te.placeholder((), name="A")
    B = te.placeholder((4,), name="B")
    C = te.compute((4,), lambda i: B[i] * A + 1.0, name="C")
    f = tvm.build(te.create_schedule(C.op), [A, B, C], "llvm")
    b = np.random.default_rng(5).standard_normal(4).astype("float32")
    c = tvm.nd.empty((4,))
    f(tvm.nd.array(np.array(3.0, "float32")), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), b * 3 + 1, rtol=1e-6)
    with pytest.raises(TypeError, match=r"tensor B of shape \(4,\) is used as a scalar"):
        te.compute((4,), lambda i: B[i] * B)


def test_classic_te_schedule_names():
    A = te.placeholder((8, 8), name="A")
    B = te.compute((8, 8), lambda i, j: A[i, j] + 1, name="B")
    C = te.compute((8, 8), lambda i, j: B[i, j] * 2, name="C")
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], 4)
    s[B].compute_at(s[C], xo)
    bounds = tvm.te.schedule.InferBound(s)
    assert bounds[xi].extent.value == 4 and bounds[B.op.axis[0]].extent.value == 4
    loops = []
    tvm.tir.stmt_functor.post_order_visit(tvm.te.schedule.ScheduleOps(s, bounds),
                                          lambda n: loops.append(n) if isinstance(n, tvm.tir.For) else None)
    assert sorted(int(lp.extent.value) for lp in loops) == [2, 4, 4, 8, 8]
    assert tvm.te.schedule.IterVar.Vectorized == 6 and tvm.te.schedule.Buffer is tvm.tir.Buffer


def test_container_names_for_isinstance_checks():
    A = te.placeholder((4,), name="A")
    s = te.create_schedule(te.compute((4,), lambda i: A[i], name="B").op)
    assert isinstance(tvm.te.schedule.InferBound(s), tvm.container.Map)
    assert isinstance(s.outputs, tvm.ir.container.Array)


def test_split_beyond_the_extent_is_the_extent():
    A = te.placeholder((8,), name="A")
    B = te.compute((8,), lambda i: A[i] + 1.0, name="B")
    s = te.create_schedule(B.op)
    xo, xi = s[B].split(B.op.axis[0], factor=32)
    bounds = tvm.te.schedule.InferBound(s)
    assert (bounds[xo].extent.value, bounds[xi].extent.value) == (1, 8)
    s2 = te.create_schedule(B.op)
    yo, yi = s2[B].split(B.op.axis[0], nparts=32)
    bounds = tvm.te.schedule.InferBound(s2)
    assert (bounds[yo].extent.value, bounds[yi].extent.value) == (8, 1)
    f = tvm.build(s2, [A, B], "llvm")
    a = np.random.default_rng(6).standard_normal(8).astype("float32")
    b = tvm.nd.empty((8,))
    f(tvm.nd.array(a), b)
    np.testing.assert_allclose(b.numpy(), a + 1, rtol=1e-6)
