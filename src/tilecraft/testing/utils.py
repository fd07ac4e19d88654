"""What classic test files use from `tvm.testing`: numerical checks, parametrized fixtures,
targets to run on, and `requires_*` markers that skip with a reason.

pytest is imported only by the helpers that build fixtures or marks, so `assert_allclose` works in
scripts that do not have pytest.  Tests that take `target` / `dev` without a decorator need the
pytest plugin (`tilecraft.testing.plugin`; `main()` loads it, and a conftest.py can star-import
it), as in classic TVM.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import os
import sys

import numpy as np

DEFAULT_TEST_TARGETS = ("llvm", "cuda")
SUPPORTED_TARGET_KINDS = ("llvm", "c", "cuda")


# ----------------------------------------------------------------------------- numerical checks

def assert_allclose(actual, desired, rtol: float = 1e-7, atol: float = 1e-7) -> None:
    """numpy's assert_allclose, accepting NDArrays too; the shapes must match exactly."""
    actual = actual.numpy() if hasattr(actual, "numpy") else np.asanyarray(actual)
    desired = desired.numpy() if hasattr(desired, "numpy") else np.asanyarray(desired)
    if actual.shape != desired.shape:
        raise AssertionError(f"shapes differ: actual {actual.shape}, desired {desired.shape}")
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, verbose=True)


def check_numerical_grads(function, input_values, grad_values, function_value=None, delta=1e-3, atol=1e-2,
                          rtol=0.1):
    """Compare `grad_values` with finite differences of the scalar `function`.

    `input_values` / `grad_values` are both lists (positional arguments) or both dicts (keyword
    arguments).  Each partial derivative is estimated with a forward difference, refined to a
    central one and then to a five-point (Richardson) estimate only where the cheaper one
    disagrees; the check is `distance <= atol * sqrt(n) + rtol * |numerical grad|` per input, as in
    classic TVM.  A mismatch names the input and the first wrong positions.
    """
    if not isinstance(input_values, dict):
        names = [str(i) for i in range(len(input_values))]
        positional, input_values = function, dict(zip(names, input_values))
        grad_values = dict(zip(names, grad_values))

        def function(**kw):
            return positional(*(kw[n] for n in names))

    inputs = {k: np.asarray(v) for k, v in input_values.items()}
    f0 = float(function(**inputs) if function_value is None else function_value)

    def f_at(name, j, step):
        moved = dict(inputs)
        moved[name] = inputs[name].copy()
        moved[name].reshape(-1)[j] += step
        return float(function(**moved))

    for name, grad in grad_values.items():
        grad = np.asarray(grad, dtype="float64")
        if grad.shape != inputs[name].shape:
            raise AssertionError(f"gradient wrt {name!r} has shape {grad.shape}, expected {inputs[name].shape}")
        numeric = np.empty_like(grad)
        wrong = []
        for j in range(grad.size):
            want = grad.reshape(-1)[j]
            close = lambda n: abs(n - want) < atol + rtol * abs(n)  # noqa: B023
            est = (f_at(name, j, delta) - f0) / delta
            if not close(est):
                est = (est + (f0 - f_at(name, j, -delta)) / delta) / 2
                if not close(est):
                    half = (f_at(name, j, delta / 2) - f_at(name, j, -delta / 2)) / delta
                    est = (4 * half - est) / 3
            if not close(est):
                wrong.append(np.unravel_index(j, grad.shape))
            numeric.reshape(-1)[j] = est
        dist = float(np.sqrt(np.sum((numeric - grad) ** 2)))
        norm = float(np.sqrt(np.sum(numeric ** 2)))
        if not (np.isfinite(dist) and np.isfinite(norm)):
            raise ValueError(f"NaN or infinity in the gradient check wrt {name!r}:\n"
                             f"analytical {grad}\nnumerical {numeric}")
        if dist > atol * np.sqrt(grad.size) + rtol * norm:
            raise AssertionError(
                f"analytical and numerical gradients wrt {name!r} differ: distance {dist:.3g} > "
                f"{atol}*sqrt({grad.size}) + {rtol}*{norm:.3g}; {len(wrong)} of {grad.size} elements differ, "
                f"first: {[tuple(int(i) for i in w) for w in wrong[:10]]}\nanalytical {grad}\nnumerical {numeric}")


# ----------------------------------------------------------------------------- targets

def _test_target_names() -> list[str]:
    env = os.environ.get("TVM_TEST_TARGETS", "").strip()
    return [t.strip() for t in env.split(";") if t.strip()] if env else list(DEFAULT_TEST_TARGETS)


def _kind(target) -> str:
    if isinstance(target, str):
        return target.split()[0] if target.strip() else ""
    kind = getattr(target, "kind", None)
    return getattr(kind, "name", kind) or str(target).split()[0]


def _gpu_exists() -> bool:
    from ..runtime.device import cuda

    return cuda(0).exist


def _gpu_check():
    return True if _gpu_exists() else "no CUDA GPU here (tvm.cuda(0).exist is False)"


def _target_runnable(target) -> tuple[bool, str]:
    """(can this target run here, why not)."""
    kind = _kind(target)
    if kind in ("llvm", "c"):
        return True, ""
    if kind == "cuda":
        return (True, "") if _gpu_exists() else (False, f"no CUDA GPU here for target {kind!r}")
    return False, f"tilecraft does not support target kind {kind!r} (it has {', '.join(SUPPORTED_TARGET_KINDS)})"


def _device_of(target):
    from ..runtime.device import device

    return device(_kind(target))


def device_enabled(target) -> bool:
    """Whether tests should run on `target` (a target string): enabled in TVM_TEST_TARGETS (default
    llvm and cuda) and runnable here."""
    if not isinstance(target, str):
        raise TypeError(f"device_enabled takes a target string, got {type(target).__name__}")
    kind = _kind(target)
    return any(_kind(t) == kind and _target_runnable(t)[0] for t in _test_target_names())


def enabled_targets() -> list:
    """[(target string, Device)] for every test target that can run here: llvm always, cuda when a
    GPU is present (TVM_TEST_TARGETS="llvm;cuda" chooses the list)."""
    targets = [(t, _device_of(t)) for t in _test_target_names() if _target_runnable(t)[0]]
    return targets or [("llvm", _device_of("llvm"))]


# ----------------------------------------------------------------------------- features / markers

class Feature:
    """A capability a test needs: `@requires_cuda` marks the test `cuda` and skips it, with the
    reason, where the capability is missing; `@uses_gpu` only marks."""

    _all_features: dict = {}

    def __init__(self, name: str, long_name: str | None = None, check=None, parents=(), compile_check=None):
        self.name, self.long_name = name, long_name or name
        self.check, self.compile_check, self.parents = check, compile_check, tuple(parents)
        Feature._all_features[name] = self

    def _why_not(self, compile_only: bool) -> str:
        for parent in self.parents:
            why = Feature._all_features[parent]._why_not(compile_only)
            if why:
                return why
        check = self.compile_check if compile_only else self.check
        if check is None:
            return ""
        res = check()
        if isinstance(res, str):
            return res
        return "" if res else f"{'compile' if compile_only else 'run'}-time support for {self.long_name} is not present"

    def marks(self, support_required: str = "compile-and-run") -> list:
        import pytest

        if support_required not in ("compile-and-run", "compile-only", "optional"):
            raise ValueError(f"support_required must be compile-and-run, compile-only or optional, "
                             f"got {support_required!r}")
        names = [*self.parents, self.name]
        marks = [getattr(pytest.mark, n) for n in names]
        if support_required != "optional":
            why = self._why_not(support_required == "compile-only")
            marks.append(pytest.mark.skipif(bool(why), reason=why or f"{self.long_name} present"))
        return marks

    def __call__(self, func=None, *, support_required: str = "compile-and-run"):
        def wrap(f):
            for mark in self.marks(support_required):
                f = mark(f)
            return f

        return wrap if func is None else wrap(func)

    @classmethod
    def require(cls, name: str, support_required: str = "compile-and-run"):
        return cls._all_features[name](support_required=support_required)


def _llvm_ok():
    try:
        import llvmlite  # noqa: F401
    except ImportError:
        return "llvmlite is not installed"
    return True


def _unsupported(what):
    return lambda: f"tilecraft has no {what} support"


requires_llvm = Feature("llvm", "LLVM", check=_llvm_ok, compile_check=_llvm_ok)
requires_gpu = Feature("gpu", "GPU", check=_gpu_check, compile_check=lambda: True)
uses_gpu = requires_gpu(support_required="optional")
requires_cuda = Feature("cuda", "CUDA", check=_gpu_check, compile_check=lambda: True, parents=("gpu",))
requires_x86 = Feature("x86", "x86", check=lambda: _cpu_arch() in ("x86_64", "AMD64", "i686"))


def _host_has(*features):
    def check():
        import llvmlite.binding as llvm

        have = llvm.get_host_cpu_features()
        return True if any(have.get(f) for f in features) else f"this CPU has no {' / '.join(features)}"

    return check


requires_x86_vnni = Feature("x86_vnni", "x86 VNNI", check=_host_has("avx512vnni", "avxvnni"), parents=("x86",))
requires_x86_avx512 = Feature("x86_avx512", "x86 AVX-512", check=_host_has("avx512f"), parents=("x86",))
requires_aarch64 = Feature("aarch64", "AArch64", check=lambda: _cpu_arch() in ("aarch64", "arm64") or
                           "this CPU is not AArch64")
requires_multi_gpu = Feature("multi_gpu", "multiple GPUs", check=lambda: _gpu_count() > 1, parents=("gpu",))
uses_multi_gpu = requires_multi_gpu(support_required="optional")
_no_nvptx = lambda: "tilecraft has no NVPTX backend (it generates CUDA C for GPUs: use target 'cuda')"
requires_nvptx = Feature("nvptx", "NVPTX", check=_no_nvptx, compile_check=_no_nvptx)
for _name, _long in (("tensorcore", "Tensor Cores"), ("cudnn", "cuDNN"), ("cublas", "cuBLAS"), ("nccl", "NCCL"),
                     ("cudagraph", "CUDA graphs"), ("cutlass", "CUTLASS"), ("opencl", "OpenCL"), ("rocm", "ROCm"),
                     ("vulkan", "Vulkan"), ("metal", "Metal"), ("hexagon", "Hexagon"), ("micro", "microTVM"),
                     ("rpc", "RPC"), ("ethosn", "Ethos-N"), ("ethosu", "Ethos-U"), ("libtorch", "LibTorch"),
                     ("cmsisnn", "CMSIS-NN"), ("vitis_ai", "Vitis AI"), ("openclml", "OpenCLML"),
                     ("arm_dot", "Arm dot product")):
    _f = Feature(_name, _long, check=_unsupported(_long), compile_check=_unsupported(_long))
    globals()[f"requires_{_name}"] = _f
requires_matrixcore = globals()["requires_rocm"]
del _name, _long, _f


def _cpu_arch():
    import platform

    return platform.machine()


def _gpu_count() -> int:
    from ..runtime.device import cuda_device_count

    return cuda_device_count()


def _cuda_compute_version():
    """(major, minor) of GPU 0, or None without a GPU."""
    import ctypes

    from ..runtime.device import _cuda_driver

    lib = _cuda_driver() if _gpu_exists() else None
    if lib is None:
        return None
    major, minor = ctypes.c_int(0), ctypes.c_int(0)
    lib.cuDeviceGetAttribute(ctypes.byref(major), 75, 0)  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    lib.cuDeviceGetAttribute(ctypes.byref(minor), 76, 0)  # ..._MINOR
    return major.value, minor.value


def requires_cuda_compute_version(major_version, minor_version=0):
    """Skip unless GPU 0 has at least this compute capability (also marks the test cuda / gpu)."""
    import pytest

    have = _cuda_compute_version()
    why = ("no CUDA GPU here (tvm.cuda(0).exist is False)" if have is None else
           f"needs compute capability >= {major_version}.{minor_version}, GPU 0 has {have[0]}.{have[1]}")
    skip = have is None or have < (major_version, minor_version)

    def wrap(func):
        for mark in (pytest.mark.gpu, pytest.mark.cuda, pytest.mark.skipif(skip, reason=why)):
            func = mark(func)
        return func

    return wrap


def requires_nvcc_version(major_version, minor_version=0, release_version=0):
    """Skip unless `nvcc --version` reports at least this version."""
    import re
    import shutil
    import subprocess

    import pytest

    want = (major_version, minor_version, release_version)
    nvcc = shutil.which("nvcc")
    have = None
    if nvcc:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=False).stdout
        m = re.search(r"V(\d+)\.(\d+)\.(\d+)", out)
        have = tuple(int(g) for g in m.groups()) if m else None
    why = "nvcc is not installed" if have is None else f"needs nvcc >= {'.'.join(map(str, want))}, found " \
        f"{'.'.join(map(str, have))}"
    return pytest.mark.skipif(have is None or have < want, reason=why)


IS_IN_CI = os.environ.get("CI", "") not in ("", "0", "false")


def skip_if_wheel_test(func):
    """Classic TVM skips some tests against an installed wheel; tilecraft's tests run anywhere."""
    return func


def assert_prim_expr_equal(lhs, rhs):
    """Raise ValueError unless the arithmetic analyzer proves lhs == rhs."""
    from ..arith import Analyzer

    if not Analyzer().can_prove_equal(lhs, rhs):
        raise ValueError(f"{lhs} and {rhs} are not equal")


def requires_package(*packages):
    """Skip unless every named Python package imports."""
    import importlib.util

    import pytest

    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs the package(s) {', '.join(missing)}")


def skip_if_32bit(reason: str = "32-bit platform"):
    import pytest

    return pytest.mark.skipif(sys.maxsize <= 2**32, reason=reason)


# ----------------------------------------------------------------------------- target parametrization

def target_requirement_marks(target) -> list:
    """The marks a test parametrized over `target` gets (as classic TVM's plugin gives them): the
    target's feature marks (llvm; cuda and gpu; ...) and a skip, with the reason, where it cannot run."""
    import pytest

    kind = _kind(target)
    if kind == "c":
        return []
    feature = Feature._all_features.get(kind)
    if feature is None:
        return [pytest.mark.skip(reason=_target_runnable(target)[1])]
    return feature.marks()


def _target_marks(target, known_failing=()) -> list:
    import pytest

    marks = target_requirement_marks(target)
    if _kind(target) in known_failing:
        marks.append(pytest.mark.xfail(reason=f'known failing test for target "{_kind(target)}"'))
    return marks


def target_params(func, targets=None) -> list:
    """pytest.param for each target a test runs on, with skip/xfail marks; `targets` None means the
    TVM_TEST_TARGETS list (llvm and cuda by default), less the test's excluded targets."""
    import pytest

    excluded = getattr(func, "tvm_excluded_targets", ())
    failing = getattr(func, "tvm_known_failing_targets", ())
    if targets is None:
        targets = [t for t in _test_target_names() if _kind(t) not in excluded]
    return [pytest.param(t, marks=_target_marks(t, failing), id=str(t)) for t in targets]


def _install_dev_fixture(func) -> None:
    """A `dev` fixture (the target's device) in the test's module, so tests taking `target, dev`
    work without the plugin.  It sits under a private name (a module variable `dev` stays as it
    is), and a `dev` fixture the module defines itself sorts after it, so that one wins."""
    import pytest

    module = getattr(func, "__globals__", None)
    if module is None or "_tilecraft_dev_fixture" in module:
        return

    @pytest.fixture(name="dev")
    def _tilecraft_dev_fixture(target):
        return _device_of(target)

    module["_tilecraft_dev_fixture"] = _tilecraft_dev_fixture


def _apply_targets(func):
    import pytest

    old = getattr(func, "_tilecraft_target_mark", None)
    if old is not None and old in getattr(func, "pytestmark", []):
        func.pytestmark.remove(old)
    mark = pytest.mark.parametrize("target", target_params(func, func._tilecraft_targets), scope="session")
    func = mark(func)
    func._tilecraft_target_mark = func.pytestmark[-1]
    _install_dev_fixture(func)
    return func


def parametrize_targets(*args):
    """`@parametrize_targets("llvm", "cuda")`: run the test (`def test_x(target, dev)`) once per
    target; a target that cannot run here is skipped with the reason.  The bare decorator uses the
    enabled targets."""
    if len(args) == 1 and callable(args[0]):
        func = args[0]
        func._tilecraft_targets = None
        return _apply_targets(func)

    def wrap(func):
        func._tilecraft_targets = list(args)
        return _apply_targets(func)

    return wrap


def _target_attr_decorator(attr):
    def decorator(*targets):
        def wrap(func):
            setattr(func, attr, tuple(getattr(func, attr, ())) + targets)
            return _apply_targets(func) if hasattr(func, "_tilecraft_targets") else func

        return wrap

    return decorator


exclude_targets = _target_attr_decorator("tvm_excluded_targets")
exclude_targets.__doc__ = "Do not run the test on these target kinds (`@exclude_targets(\"cuda\")`)."
known_failing_targets = _target_attr_decorator("tvm_known_failing_targets")
known_failing_targets.__doc__ = "Expect the test to fail (xfail) on these target kinds."


# ----------------------------------------------------------------------------- parameters and fixtures

def parameter(*values, ids=None, by_dict=None):
    """A parametrized fixture: `size = tvm.testing.parameter(1, 10, 100)` at module (or class)
    level runs every test taking `size` once per value."""
    import pytest

    if by_dict is not None:
        if values or ids:
            raise ValueError("parameter(by_dict=...) cannot be combined with positional values or ids")
        ids, values = map(list, zip(*by_dict.items()))

    @pytest.fixture(params=list(values), ids=ids)
    def as_fixture(*_cls, request):
        return request.param

    return as_fixture


_groups = itertools.count()


def _id_of(value) -> str:
    return str(value) if isinstance(value, (int, float, str, bool, type(None))) else ""


def parameters(*value_sets, ids=None):
    """Correlated parameters: `size, dtype = tvm.testing.parameters((16, "float32"), (512, "float16"))`
    runs each test once per tuple (not per combination).

    Works without the plugin: a hidden fixture over the tuples is placed in the caller's namespace
    and each returned fixture reads its own column of the chosen tuple."""
    import pytest

    if not value_sets:
        raise ValueError("parameters() needs at least one tuple of values")
    width = len(value_sets[0])
    if any(len(v) != width for v in value_sets):
        raise ValueError(f"parameters(): every tuple must have {width} values, got {[len(v) for v in value_sets]}")
    group = f"_tilecraft_parameters_{next(_groups)}"
    if ids is None:
        ids = ["-".join(_id_of(v) for v in vs) if all(_id_of(v) for v in vs) else f"set{i}"
               for i, vs in enumerate(value_sets)]

    @pytest.fixture(name=group, params=list(value_sets), ids=ids)
    def group_fixture(*_cls, request):
        return request.param

    sys._getframe(1).f_locals[group] = group_fixture

    def column(i):
        def fixture_func(*_cls, **kw):
            return kw[group][i]

        fixture_func.__signature__ = inspect.Signature([
            inspect.Parameter("_cls", inspect.Parameter.VAR_POSITIONAL),
            inspect.Parameter(group, inspect.Parameter.KEYWORD_ONLY)])
        return pytest.fixture(fixture_func)

    return [column(i) for i in range(width)]


def fixture(func=None, *, cache_return_value: bool = False):
    """`@tvm.testing.fixture`: a pytest fixture (it may take parameters).  With
    `cache_return_value=True` the function runs once per distinct argument set and each test gets a
    deep copy of the result (TVM_TEST_DISABLE_CACHE=1 turns caching off)."""
    import pytest

    cache_return_value = cache_return_value and not int(os.environ.get("TVM_TEST_DISABLE_CACHE", "0") or 0)

    def wrap(f):
        if cache_return_value:
            f = _cached(f)
        return pytest.fixture(f)

    return wrap if func is None else wrap(func)


def _cached(func):
    cache: dict = {}
    params = list(inspect.signature(func).parameters)
    bound = 1 if params and params[0] in ("self", "cls") else 0  # a class-level fixture: not per instance

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        key = (args[bound:], tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:
            import pickle

            key = pickle.dumps((args, sorted(kwargs.items())))  # arrays as arguments: by value
        if key not in cache:
            cache[key] = func(*args, **kwargs)
        return copy.deepcopy(cache[key])

    wrapper.cache = cache
    return wrapper


def _mark_parameterizations(*params, action, reason):
    wanted = set(params)

    def decorator(func):
        @functools.wraps(func)
        def wrapper(request, *args, **kwargs):
            name = request.node.name
            if "[" in name and name[len(request.node.originalname) + 1:-1] in wanted:
                action(reason=f"{request.node.nodeid}: {reason}")
            return func(request, *args, **kwargs)

        return wrapper

    return decorator


def xfail_parameterizations(*params, reason):
    import pytest

    return _mark_parameterizations(*params, action=pytest.xfail, reason=reason)


def skip_parameterizations(*params, reason):
    import pytest

    return _mark_parameterizations(*params, action=pytest.skip, reason=reason)


def main():
    """`if __name__ == "__main__": tvm.testing.main()`: run pytest on the calling file (with the
    tilecraft plugin and the script's command-line arguments) and exit with its status."""
    import pytest

    path = inspect.getsourcefile(sys._getframe(1))
    sys.exit(pytest.main(["-p", "tilecraft.testing.plugin", path, *sys.argv[1:]]))


__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and not inspect.ismodule(v) and n != "annotations"]
