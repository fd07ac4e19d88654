"""tilecraft.testing used the way classic TVM test files use tvm.testing."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tilecraft as tvm
import tilecraft.testing
from tilecraft import te

RNG = np.random.default_rng(12)
_fixture_calls = []


def _add_one(target, dev, n=33):
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 2.0 + 1.0, name="B")
    s = te.create_schedule(B.op)
    f = tvm.build(s, [A, B], target=target)
    a = RNG.standard_normal(n).astype("float32")
    b = tvm.nd.empty((n,), "float32", dev)
    f(tvm.nd.array(a, dev), b)
    tvm.testing.assert_allclose(b.numpy(), a * 2 + 1, rtol=1e-6)


# ---- parameter / parameters / fixture

size = tvm.testing.parameter(1, 7, 64)
shape = tvm.testing.parameter(by_dict={"small": (2, 3), "large": (16, 9)})
length, dtype = tvm.testing.parameters((5, "float32"), (9, "float64"))


def test_parameter_values(size):
    assert size in (1, 7, 64)
    x = RNG.standard_normal(size)
    tvm.testing.assert_allclose(np.sort(x), np.sort(x[::-1]))


def test_parameter_by_dict(request, shape):
    assert request.node.callspec.id in ("small", "large")
    assert shape == {"small": (2, 3), "large": (16, 9)}[request.node.callspec.id]


def test_parameters_are_correlated(length, dtype):
    assert (length, dtype) in ((5, "float32"), (9, "float64"))
    x = RNG.standard_normal(length).astype(dtype)
    assert x.dtype == np.dtype(dtype) and x.shape == (length,)


def test_parameters_ran_once_per_tuple(request):
    """Two tuples make two tests, not the cross product (four)."""
    ids = sorted(item.callspec.id for item in request.node.parent.collect()
                 if getattr(item, "originalname", "") == "test_parameters_are_correlated")
    assert ids == ["5-float32", "9-float64"]


@tvm.testing.fixture
def scaled(size):
    return np.arange(size) * 3


@tvm.testing.fixture(cache_return_value=True)
def expensive_reference(size):
    _fixture_calls.append(size)
    return RNG.standard_normal(size)


def test_fixture_uses_parameter(size, scaled):
    np.testing.assert_array_equal(scaled, np.arange(size) * 3)


def test_cached_fixture_is_copied(size, expensive_reference):
    expensive_reference[...] = -1.0  # must not leak into the next test
    assert expensive_reference.shape == (size,)


def test_cached_fixture_runs_once_per_argument(size, expensive_reference):
    assert (expensive_reference != -1.0).all()
    assert _fixture_calls.count(size) == 1


class TestInClass:
    width = tvm.testing.parameter(2, 3)
    rows, cols = tvm.testing.parameters((1, 4), (5, 6))

    def test_class_parameter(self, width):
        assert width in (2, 3)

    def test_class_parameters(self, rows, cols):
        assert (rows, cols) in ((1, 4), (5, 6))


# ---- targets

@tvm.testing.parametrize_targets("llvm")
def test_parametrize_targets_llvm(target, dev):
    assert target == "llvm" and dev == tvm.cpu(0)
    _add_one(target, dev)


@tvm.testing.parametrize_targets("llvm", "cuda")
def test_parametrize_targets_skips_missing_gpu(request, target, dev):
    if target == "cuda":
        assert tvm.cuda(0).exist  # otherwise this case is skipped with a reason
    _add_one(target, dev)


def test_target_without_decorator(target, dev):
    """The plugin parametrizes over the enabled targets."""
    assert tvm.testing.device_enabled(target)
    assert (target, dev) in tvm.testing.enabled_targets()
    _add_one(target, dev)


@pytest.mark.parametrize("target", ["llvm", "cuda", "vulkan"])
def test_explicit_parametrize_gets_target_marks(request, target, dev):
    """The plugin marks plain pytest parametrizations over targets: cuda skips without a GPU,
    vulkan always (tilecraft has no Vulkan), llvm runs and is marked `llvm`."""
    assert target != "vulkan" and (target != "cuda" or tvm.cuda(0).exist)
    assert target in {m.name for m in request.node.iter_markers()}
    _add_one(target, dev)


@tvm.testing.known_failing_targets("llvm")
def test_known_failing_target_is_xfail(target):
    if target == "llvm":
        raise AssertionError("expected: llvm is listed as known failing")


@tvm.testing.exclude_targets("llvm")
def test_excluded_target_does_not_run(target):
    assert target != "llvm"


def test_enabled_targets_and_device_enabled():
    targets = dict(tvm.testing.enabled_targets())
    assert targets["llvm"] == tvm.cpu(0)
    assert ("cuda" in targets) == tvm.cuda(0).exist
    assert tvm.testing.device_enabled("llvm") and tvm.testing.device_enabled("llvm -mcpu=generic")
    assert tvm.testing.device_enabled("cuda") == tvm.cuda(0).exist
    assert not tvm.testing.device_enabled("vulkan")


def test_enabled_targets_follow_env(monkeypatch):
    monkeypatch.setenv("TVM_TEST_TARGETS", "llvm -mcpu=generic")
    assert [t for t, _ in tvm.testing.enabled_targets()] == ["llvm -mcpu=generic"]
    assert not tvm.testing.device_enabled("cuda")


# ---- markers

def _skip_reason(func):
    marks = [m for m in getattr(func, "pytestmark", []) if m.name == "skipif"]
    return [(m.args[0], m.kwargs["reason"]) for m in marks]


def test_requires_markers_skip_with_reason():
    @tvm.testing.requires_cuda
    def needs_cuda():
        pass

    @tvm.testing.requires_llvm
    def needs_llvm():
        pass

    @tvm.testing.uses_gpu
    def maybe_gpu():
        pass

    (skip, reason), = _skip_reason(needs_cuda)
    assert skip == (not tvm.cuda(0).exist)
    assert ("GPU" in reason) if skip else reason == "CUDA present"
    assert {m.name for m in needs_cuda.pytestmark} >= {"cuda", "gpu", "skipif"}
    assert _skip_reason(needs_llvm) == [(False, "LLVM present")]
    assert _skip_reason(maybe_gpu) == [] and [m.name for m in maybe_gpu.pytestmark] == ["gpu"]
    @tvm.testing.requires_vulkan
    def needs_vulkan():
        pass

    (skip, reason), = _skip_reason(needs_vulkan)
    assert skip and "no Vulkan support" in reason


@tvm.testing.requires_gpu
def test_requires_gpu_runs_only_with_gpu():
    assert tvm.cuda(0).exist
    _add_one("cuda", tvm.cuda(0))


@tvm.testing.requires_llvm
def test_requires_llvm_runs():
    _add_one("llvm", tvm.cpu(0))


# ---- numerical gradients

def test_check_numerical_grads():
    x, w = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    f = lambda x, w: float(np.sum(np.tanh(x @ w)))
    t = 1 - np.tanh(x @ w) ** 2
    tvm.testing.check_numerical_grads(f, [x, w], [t[:, None] * w[None, :], x.T @ t])
    tvm.testing.check_numerical_grads(f, {"x": x, "w": w}, {"x": t[:, None] * w[None, :], "w": x.T @ t})
    with pytest.raises(AssertionError, match="wrt '1'"):
        tvm.testing.check_numerical_grads(f, [x, w], [t[:, None] * w[None, :], 2 * x.T @ t])


def test_assert_allclose_checks_shape_and_values():
    a = RNG.standard_normal((2, 3))
    tvm.testing.assert_allclose(tvm.nd.array(a.astype("float32")), a, rtol=1e-6)
    with pytest.raises(AssertionError, match="shape"):
        tvm.testing.assert_allclose(a, a.reshape(3, 2))
    with pytest.raises(AssertionError):
        tvm.testing.assert_allclose(a, a + 1e-3)


# ---- main(), and running without the plugin, in a fresh process

def _run(tmp_path, body, *args):
    path = tmp_path / "test_classic_file.py"
    path.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, *args, str(path)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_main_runs_the_calling_file(tmp_path):
    res = _run(tmp_path, """
        import numpy as np
        import tilecraft as tvm
        import tilecraft.testing

        n = tvm.testing.parameter(3, 4)

        def test_auto_target(target, dev, n):
            assert dev == tvm.device(target)
            assert np.arange(n).sum() == n * (n - 1) // 2

        if __name__ == "__main__":
            tvm.testing.main()
        """)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 passed" in res.stdout, res.stdout


def test_parametrize_targets_without_plugin(tmp_path):
    res = _run(tmp_path, """
        import tilecraft as tvm
        import tilecraft.testing

        dev = "a module variable that must survive"

        @tvm.testing.parametrize_targets("llvm")
        def test_llvm(target, dev):
            assert target == "llvm" and dev == tvm.cpu(0)

        def test_module_variable_kept():
            assert globals()["dev"] == "a module variable that must survive"
        """, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert res.returncode == 0 and "2 passed" in res.stdout, res.stdout + res.stderr


def test_import_does_not_load_pytest_or_torch():
    code = ("import sys, tilecraft, tilecraft.testing as t; t.assert_allclose([1.0], [1.0]); "
            "print('pytest' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr



# ---- topi.testing references against tilecraft's topi operators, on fresh random inputs

def _rand(*shape):
    return RNG.uniform(-1.0, 1.0, size=shape).astype("float32")


def _topi_run(make_out, *arrays):
    """Build the operator make_out(*placeholders) on llvm and run it on `arrays`."""
    from tilecraft import topi

    ph = [te.placeholder(a.shape, name=f"in{i}", dtype=str(a.dtype)) for i, a in enumerate(arrays)]
    out = make_out(*ph)
    f = tvm.build(topi.generic.default_schedule([out]), [*ph, out], target="llvm")
    dev = tvm.cpu(0)
    res = tvm.nd.empty(tuple(int(d) for d in out.shape), out.dtype, dev)
    f(*[tvm.nd.array(a, dev) for a in arrays], res)
    return res.numpy()


conv_case = tvm.testing.parameter(
    # (N, C, H, W), (O, KH, KW), stride, padding, dilation
    ((1, 3, 9, 9), (4, 3, 3), 1, 1, 1),
    ((2, 4, 10, 7), (5, 3, 2), (2, 1), (1, 0, 2, 1), 1),
    ((1, 2, 11, 11), (3, 3, 3), 2, "SAME", 2),
    ids=["3x3", "strided-asym-pad", "same-dilated"])


def test_conv2d_nchw_python(conv_case):
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    (n, c, h, w), (o, kh, kw), stride, pad, dil = conv_case
    a, k = _rand(n, c, h, w), _rand(o, c, kh, kw)
    got = _topi_run(lambda A, K: topi.nn.conv2d_nchw(A, K, stride, pad, dil), a, k)
    k_dil = ref.dilate_python(k, (1, 1, dil, dil))
    tvm.testing.assert_allclose(got, ref.conv2d_nchw_python(a, k_dil, stride, pad), rtol=1e-4, atol=1e-5)


def test_conv2d_nhwc_and_group_python():
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a, k = _rand(2, 8, 7, 3), _rand(3, 3, 3, 5)
    got = _topi_run(lambda A, K: topi.nn.conv2d_nhwc(A, K, (1, 2), (1, 1), 1), a, k)
    tvm.testing.assert_allclose(got, ref.conv2d_nhwc_python(a, k, (1, 2), (1, 1)), rtol=1e-4, atol=1e-5)
    a, k = _rand(1, 6, 8, 8), _rand(4, 3, 3, 3)
    got = _topi_run(lambda A, K: topi.nn.group_conv2d_nchw(A, K, 1, 1, 1, 2), a, k)
    tvm.testing.assert_allclose(got, ref.conv2d_nchw_python(a, k, 1, 1, groups=2), rtol=1e-4, atol=1e-5)
    # groups == channels is the depthwise case
    a, k = _rand(1, 4, 6, 6), _rand(4, 1, 3, 3)
    tvm.testing.assert_allclose(ref.conv2d_nchw_python(a, k, 1, 1, groups=4),
                                ref.depthwise_conv2d_python_nchw(a, k, 1, 1), rtol=1e-5, atol=1e-6)


def test_depthwise_conv2d_python():
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a, k = _rand(2, 3, 9, 8), _rand(3, 2, 3, 3)
    got = _topi_run(lambda A, K: topi.nn.depthwise_conv2d_nchw(A, K, (2, 1), "SAME", 1), a, k)
    tvm.testing.assert_allclose(got, ref.depthwise_conv2d_python_nchw(a, k, (2, 1), "SAME"), rtol=1e-4, atol=1e-5)
    nhwc = ref.depthwise_conv2d_python_nhwc(a.transpose(0, 2, 3, 1), k.transpose(2, 3, 0, 1), (2, 1), "SAME")
    tvm.testing.assert_allclose(nhwc.transpose(0, 3, 1, 2), got, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride,pad,opad", [(1, 0, 0), (2, 1, 1), ((2, 3), (1, 0, 0, 2), (1, 2))])
def test_conv2d_transpose_nchw_python(stride, pad, opad):
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a, k = _rand(2, 3, 5, 4), _rand(3, 4, 3, 4)
    got = _topi_run(lambda A, K: topi.nn.conv2d_transpose_nchw(A, K, stride, pad, "float32", opad), a, k)
    tvm.testing.assert_allclose(got, ref.conv2d_transpose_nchw_python(a, k, stride, pad, opad), rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_is_the_gradient_of_conv2d():
    """<conv(x, w), y> == <x, conv_transpose(y, w)>: checks the reference without topi."""
    import tilecraft.topi.testing as ref

    x, w = RNG.standard_normal((1, 3, 9, 9)), RNG.standard_normal((5, 3, 3, 3))
    y = RNG.standard_normal(ref.conv2d_nchw_python(x, w, 2, 1).shape)
    lhs = np.sum(ref.conv2d_nchw_python(x, w, 2, 1) * y)
    rhs = np.sum(x * ref.conv2d_transpose_nchw_python(y, w, 2, 1, 0))
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


def test_dilate_python():
    import tilecraft.topi.testing as ref

    a = _rand(2, 3, 4)
    d = ref.dilate_python(a, (1, 2, 3), dilation_value=-5.0)
    assert d.shape == (2, 5, 10)
    np.testing.assert_array_equal(d[:, ::2, ::3], a)
    assert np.count_nonzero(d == -5.0) == d.size - a.size


@pytest.mark.parametrize("trans_x,trans_y,bx", [(False, True, 3), (True, False, 3), (False, False, 1)])
def test_dense_and_batch_matmul(trans_x, trans_y, bx):
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    x, w, b = _rand(4, 6), _rand(5, 6), _rand(5)
    got = _topi_run(lambda X, W, B: topi.nn.dense(X, W, B), x, w, b)
    tvm.testing.assert_allclose(got, ref.dense(x, w, b, use_bias=True), rtol=1e-5, atol=1e-6)
    assert (ref.dense(x, w, b, use_bias=True, use_relu=True) >= 0).all()
    xa = _rand(bx, 6, 4) if trans_x else _rand(bx, 4, 6)
    ya = _rand(3, 5, 6) if trans_y else _rand(3, 6, 5)
    got = _topi_run(lambda X, Y: topi.nn.batch_matmul(X, Y, transpose_a=trans_x, transpose_b=trans_y), xa, ya)
    want = ref.batch_matmul(xa, ya, trans_x=trans_x, trans_y=trans_y)
    assert want.shape == (3, 4, 5)
    tvm.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [1, -1])
def test_softmax_python(axis):
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a = _rand(3, 7, 5) * 4
    tvm.testing.assert_allclose(_topi_run(lambda A: topi.nn.softmax(A, axis), a), ref.softmax_python(a, axis),
                                rtol=1e-5, atol=1e-6)
    tvm.testing.assert_allclose(_topi_run(lambda A: topi.nn.log_softmax(A, axis), a),
                                ref.log_softmax_python(a, axis), rtol=1e-5, atol=1e-5)
    tvm.testing.assert_allclose(np.exp(ref.log_softmax_python(a, axis)).sum(axis=axis), np.ones((3, 5)) if axis == 1
                                else np.ones((3, 7)), rtol=1e-5)


@pytest.mark.parametrize("pool_type,kernel,stride,pad,ceil,include", [
    ("max", (3, 3), (2, 2), (1, 1, 1, 1), False, True),
    ("avg", (3, 2), (1, 2), (1, 0, 1, 1), False, True),
    ("avg", (3, 3), (2, 2), (1, 1, 1, 1), False, False),
    ("max", (2, 2), (2, 2), (0, 0, 0, 0), True, True),
])
def test_pool_python(pool_type, kernel, stride, pad, ceil, include):
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a = _rand(2, 3, 9, 10)
    got = _topi_run(lambda A: topi.nn.pool2d(A, kernel, stride, (1, 1), pad, pool_type, ceil,
                                             count_include_pad=include), a)
    want = ref.poolnd_python(a, kernel, stride, (1, 1), pad[:2], pad[2:], pool_type, include, ceil, "float32", "NCHW")
    tvm.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    nhwc = ref.pool2d_python(a.transpose(0, 2, 3, 1), kernel, stride, pad, pool_type, ceil, include, layout="NHWC")
    tvm.testing.assert_allclose(nhwc.transpose(0, 3, 1, 2), want, rtol=1e-6)


@pytest.mark.parametrize("pool_type", ["avg", "max"])
def test_adaptive_pool(pool_type):
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a = _rand(1, 4, 10, 7)
    got = _topi_run(lambda A: topi.nn.adaptive_pool(A, (3, 4), pool_type), a)
    tvm.testing.assert_allclose(got, ref.adaptive_pool(a, (3, 4), pool_type, "NCHW"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method,mode", [("nearest_neighbor", "asymmetric"), ("linear", "half_pixel"),
                                         ("linear", "align_corners")])
def test_resize2d_and_upsampling_python(method, mode):
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a = _rand(1, 2, 5, 6)
    got = _topi_run(lambda A: topi.image.resize2d(A, None, (10, 12), "NCHW", method, mode), a)
    tvm.testing.assert_allclose(got, ref.resize2d_python(a, (2, 2), "NCHW", method, mode), rtol=1e-5, atol=1e-6)
    if method == "nearest_neighbor":
        tvm.testing.assert_allclose(got, ref.upsampling_python(a, (2, 2)))


def test_norm_references():
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    x, g, b = _rand(2, 6, 4, 3), _rand(6), _rand(6)
    mean, var = _rand(6), RNG.uniform(0.5, 2.0, 6).astype("float32")
    got = _topi_run(lambda X, G, B, M, V: topi.nn.batch_norm(X, G, B, M, V, axis=1, epsilon=1e-3),
                    x, g, b, mean, var)
    tvm.testing.assert_allclose(got, ref.batch_norm(x, g, b, mean, var, 1, 1e-3)[0], rtol=1e-5, atol=1e-5)
    g3, b3 = _rand(4, 3), _rand(4, 3)
    got = _topi_run(lambda X, G, B: topi.nn.layer_norm(X, G, B, axis=(2, 3)), x, g3, b3)
    tvm.testing.assert_allclose(got, ref.layer_norm_python(x, g3, b3, (2, 3)), rtol=1e-4, atol=1e-5)
    got = _topi_run(lambda X, G, B: topi.nn.group_norm(X, G, B, 3, 1, (2, 3)), x, g, b)
    tvm.testing.assert_allclose(got, ref.group_norm_python(x, g, b, 3, 1, (2, 3)), rtol=1e-4, atol=1e-5)



def test_small_references_against_direct_formulas():
    import tilecraft.topi.testing as ref

    idx = RNG.integers(0, 4, size=(3, 2))
    oh = ref.one_hot(idx, 1.0, 0.0, 4, -1, "float32")
    np.testing.assert_array_equal(oh, np.eye(4, dtype="float32")[idx])
    np.testing.assert_array_equal(ref.one_hot(idx, 1.0, 0.0, 4, 0, "float32"), np.moveaxis(oh, -1, 0))
    x = _rand(2, 5, 3)
    gi = RNG.integers(0, 5, size=(2, 4, 3))
    got = ref.gather_python(x, 1, gi)
    assert got[1, 2, 0] == x[1, gi[1, 2, 0], 0]
    nd = RNG.integers(0, 2, size=(2, 6))
    np.testing.assert_array_equal(ref.gather_nd_python(x, nd), [x[i, j] for i, j in nd.T])
    l2 = ref.l2_normalize_python(x, 1e-12, axis=(1,))
    tvm.testing.assert_allclose(np.sqrt((l2 ** 2).sum(axis=1)), np.ones((2, 3)), rtol=1e-5)
    a = _rand(1, 5, 2, 2)
    lrn = ref.lrn_python(a, 3, 1, 2.0, 1e-2, 0.75)
    c = 2
    want = a[0, c] / (2.0 + 1e-2 / 3 * (a[0, c - 1:c + 2] ** 2).sum(axis=0)) ** 0.75
    tvm.testing.assert_allclose(lrn[0, c], want, rtol=1e-5)
    inorm = ref.instance_norm_python(a, 1.0, 0.0, (2, 3))
    tvm.testing.assert_allclose(inorm.mean(axis=(2, 3)), np.zeros((1, 5)), atol=1e-5)



def test_dispatch_and_compare_numpy_tvm():
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    assert ref.get_injective_schedule("llvm") is topi.x86.schedule_injective
    assert ref.get_injective_schedule("cuda") is topi.cuda.schedule_injective
    assert ref.dispatch("llvm", {"generic": 1, "gpu": 2}) == 1
    a = _rand(4, 9)
    ref.compare_numpy_tvm([a], np.exp(a), "llvm", tvm.cpu(0), topi.exp, ref.get_injective_schedule("llvm"))
    ref.compare_numpy_tvm([a], a.sum(axis=1), "llvm", tvm.cpu(0), lambda x: topi.sum(x, axis=1),
                          ref.get_reduce_schedule("llvm"))
    with pytest.raises(AssertionError):
        ref.compare_numpy_tvm([a], np.exp(a) + 1e-2, "llvm", tvm.cpu(0), topi.exp, ref.get_injective_schedule("llvm"))
    compute, schedule = ref.get_conv2d_nchw_implement("llvm")
    x, w = _rand(1, 3, 8, 8), _rand(4, 3, 3, 3)
    ref.compare_numpy_tvm([x, w], ref.conv2d_nchw_python(x, w, 1, 1), "llvm", tvm.cpu(0),
                          lambda X, W: compute(X, W, 1, 1, 1, "float32"), schedule)



def test_more_classic_markers_and_helpers():
    @tvm.testing.requires_cuda_compute_version(7)
    def needs_volta():
        pass

    @tvm.testing.requires_nvcc_version(9)
    def needs_nvcc():
        pass

    (skip, reason), = _skip_reason(needs_volta)
    assert skip or tvm.cuda(0).exist
    assert ("GPU" in reason) if not tvm.cuda(0).exist else "compute capability" in reason
    (skip, reason), = _skip_reason(needs_nvcc)
    assert "nvcc" in reason
    assert tvm.testing.skip_if_wheel_test(needs_nvcc) is needs_nvcc
    x = te.var("x")
    tvm.testing.assert_prim_expr_equal(x * 2 + x, x * 3)
    with pytest.raises(ValueError, match="not equal"):
        tvm.testing.assert_prim_expr_equal(x * 2, x + 3)
    assert tvm.testing.utils.parameter is tvm.testing.parameter



def test_slicing_and_gather_references_against_topi():
    import tilecraft.topi.testing as ref
    from tilecraft import topi

    a = _rand(5, 6, 7)
    for begin, end, strides, axes in [((1, 0, 6), (4, 6, 0), (1, 2, -2), None), ((2,), (-1,), None, (2,)),
                                      ((-4, 1), (5, 3), (2, 1), (0, 1))]:
        got = _topi_run(lambda A, b=begin, e=end, s=strides, x=axes: topi.strided_slice(A, b, e, s, axes=x), a)
        tvm.testing.assert_allclose(got, ref.strided_slice_python(a, begin, end, strides, axes=axes))
    got = _topi_run(lambda A: topi.strided_slice(A, (1, 2), (3, -1), slice_mode="size"), a)
    want = ref.strided_slice_python(a, (1, 2), (3, -1), None, slice_mode="size")
    assert want.shape == (3, 4, 7)
    tvm.testing.assert_allclose(got, want)
    tvm.testing.assert_allclose(ref.slice_axis_python(a, 1, 2, 5), a[:, 2:5])
    idx = RNG.integers(0, 6, size=(5, 3, 7)).astype("int32")
    tvm.testing.assert_allclose(_topi_run(lambda A, I: topi.gather(A, 1, I), a, idx), ref.gather_python(a, 1, idx))
    nd = np.stack([RNG.integers(0, 5, size=(4,)), RNG.integers(0, 6, size=(4,))]).astype("int32")
    tvm.testing.assert_allclose(_topi_run(lambda A, I: topi.gather_nd(A, I), a, nd), ref.gather_nd_python(a, nd))
    x, g, b = _rand(2, 3, 5, 4), _rand(3), _rand(3)
    got = _topi_run(lambda X, G, B: topi.nn.instance_norm(X, G, B, 1, (2, 3)), x, g, b)
    tvm.testing.assert_allclose(got, ref.instance_norm_python(x, g.reshape(3, 1, 1), b.reshape(3, 1, 1), (2, 3)),
                                rtol=1e-4, atol=1e-5)


if __name__ == "__main__":
    tvm.testing.main()


def test_cpu_feature_markers_follow_the_host():
    import llvmlite.binding as llvm

    have = llvm.get_host_cpu_features()

    @tvm.testing.requires_x86_avx512
    def needs_avx512():
        pass

    @tvm.testing.requires_x86_vnni
    def needs_vnni():
        pass

    for f, present in ((needs_avx512, bool(have.get("avx512f"))),
                       (needs_vnni, bool(have.get("avx512vnni") or have.get("avxvnni")))):
        reasons = [r for skip, r in _skip_reason(f) if skip]
        assert (not reasons) == present, reasons
