"""te.scan (classic ScanOp): recurrences over the first axis, checked against numpy on random inputs."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te

rng = np.random.default_rng(0)


def _run(s, args, inputs, out_shapes):
    f = tvm.build(s, args, "llvm")
    outs = [tvm.nd.array(np.zeros(shape, "float32")) for shape in out_shapes]
    f(*[tvm.nd.array(x) for x in inputs], *outs)
    return [o.numpy() for o in outs]


def _cumsum():
    m, n = te.var("m"), te.var("n")
    X = te.placeholder((m, n), name="X")
    state = te.placeholder((m, n))
    init = te.compute((1, n), lambda _, i: X[0, i])
    update = te.compute((m, n), lambda t, i: state[t - 1, i] + X[t, i])
    return X, update, te.scan(init, update, state, inputs=[X])


def test_cumsum_and_the_scan_axis_bounds():
    X, _, res = _cumsum()
    s = te.create_schedule(res.op)
    bounds = tvm.te.schedule.InferBound(s)
    assert bounds[res.op.scan_axis].min.value == 1
    a = rng.standard_normal((9, 5)).astype("float32")
    (got,) = _run(s, [X, res], [a], [(9, 5)])
    np.testing.assert_allclose(got, np.cumsum(a, axis=0), rtol=1e-5, atol=1e-5)


def test_body_stages_split_and_compute_at_inside_the_step():
    m, n = te.var("m"), te.var("n")
    X = te.placeholder((m, n), name="X")
    state = te.placeholder((m, n))
    init = te.compute((1, n), lambda _, i: X[0, i])
    s1 = te.compute((m, n), lambda t, i: state[t - 1, i] * 2, name="s1")
    s2 = te.compute((m, n), lambda t, i: s1[t, i] + X[t, i], name="s2")
    res = te.scan(init, s2, state, inputs=[X])
    s = te.create_schedule(res.op)
    xo, xi = s[s2].split(s2.op.axis[1], factor=4)
    s[s1].compute_at(s[s2], xo)
    a = rng.standard_normal((6, 10)).astype("float32")
    ref = np.empty_like(a)
    ref[0] = a[0]
    for t in range(1, 6):
        ref[t] = ref[t - 1] * 2 + a[t]
    (got,) = _run(s, [X, res], [a], [(6, 10)])
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("inline", [False, True])
def test_two_states_reading_each_other_and_a_computed_input(inline):
    m, n, k = 7, 5, 3
    Xp = te.placeholder((m, n), name="Xp")
    X = te.compute((m, n), lambda i, j: Xp[i, j] * 0.5, name="X")  # computed at root, before the scan
    st1, st2 = te.placeholder((m, n)), te.placeholder((m, k))
    init1 = te.compute((1, n), lambda _, i: X[0, i])
    init2 = te.compute((1, k), lambda _, i: te.const(0.0, "float32"))
    x1 = te.compute((m, n), lambda t, i: st1[t - 1, i] + X[t, i], name="x1")
    u1 = te.compute((m, n), lambda t, i: x1[t, i], name="u1")
    u2 = te.compute((m, k), lambda t, i: st2[t - 1, i] + st1[t - 1, 0], name="u2")
    r1, r2 = te.scan([init1, init2], [u1, u2], [st1, st2], inputs=[X])
    s = te.create_schedule(r1.op)
    if inline:
        s[x1].compute_inline()
    a = rng.standard_normal((m, n)).astype("float32")
    g1, g2 = _run(s, [Xp, r1, r2], [a], [(m, n), (m, k)])
    x = a * 0.5
    e1, e2 = np.zeros((m, n), "float32"), np.zeros((m, k), "float32")
    e1[0] = x[0]
    for t in range(1, m):
        e1[t] = e1[t - 1] + x[t]
        e2[t] = e2[t - 1] + e1[t - 1, 0]
    np.testing.assert_allclose(g1, e1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g2, e2, rtol=1e-5, atol=1e-5)


def test_gpu_schedule_generates_a_kernel_per_step():
    X, update, res = _cumsum()
    s = te.create_schedule(res.op)
    init = res.op.init[0]
    for stage in (init, update):
        xo, xi = s[stage].split(stage.op.axis[1], factor=64)
        s[stage].bind(xo, te.thread_axis("blockIdx.x"))
        s[stage].bind(xi, te.thread_axis("threadIdx.x"))
    src = tvm.build(s, [X, res], "cuda").imported_modules[0].get_source()
    assert "__global__" in src and "threadIdx.x" in src


def test_bad_scans_are_named():
    m, n = te.var("m"), te.var("n")
    X = te.placeholder((m, n), name="X")
    not_a_state = te.compute((m, n), lambda t, i: X[t, i], name="not_a_state")
    init = te.compute((1, n), lambda _, i: X[0, i])
    with pytest.raises(TypeError, match="must be a te.placeholder"):
        te.scan(init, not_a_state, not_a_state)
    with pytest.raises(ValueError, match="one tensor per state"):
        te.scan([init], [], [te.placeholder((m, n))])
