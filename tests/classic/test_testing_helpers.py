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
seen_pairs = []


def test_parameter_values(size):
    assert size in (1, 7, 64)
    x = RNG.standard_normal(size)
    tvm.testing.assert_allclose(np.sort(x), np.sort(x[::-1]))


def test_parameter_by_dict(request, shape):
    assert request.node.callspec.id in ("small", "large")
    assert shape == {"small": (2, 3), "large": (16, 9)}[request.node.callspec.id]


def test_parameters_are_correlated(length, dtype):
    seen_pairs.append((length, dtype))
    assert (length, dtype) in ((5, "float32"), (9, "float64"))
    x = RNG.standard_normal(length).astype(dtype)
    assert x.dtype == np.dtype(dtype) and x.shape == (length,)


def test_parameters_ran_once_per_tuple():
    # Runs after the parametrized test above (file order): two pairs, never the cross product.
    assert sorted(seen_pairs) == [(5, "float32"), (9, "float64")]


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

        @tvm.testing.parametrize_targets("llvm")
        def test_llvm(target, dev):
            assert target == "llvm" and dev == tvm.cpu(0)
        """, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert res.returncode == 0 and "1 passed" in res.stdout, res.stdout + res.stderr


def test_import_does_not_load_pytest_or_torch():
    code = ("import sys, tilecraft, tilecraft.testing as t; t.assert_allclose([1.0], [1.0]); "
            "print('pytest' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


if __name__ == "__main__":
    tvm.testing.main()
