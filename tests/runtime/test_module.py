"""Module and Function: JIT from an Artifact, calling, argument checks, sources."""

import numpy as np
import pytest
from runtime_ir import FAIL_INFO, FAIL_IR, artifact

from tilecraft import runtime as rt
from tilecraft.runtime import ndarray as nd
from tilecraft.runtime.artifact import Artifact

rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("n", [1, 17, 1024])
def test_add_matches_numpy(add_module, dtype, n):
    a = (rng.standard_normal(n) * 100).astype(dtype)
    b = (rng.standard_normal(n) * 100).astype(dtype)
    A, B, C = nd.array(a), nd.array(b), nd.empty((n,), dtype)
    add_module[f"add_{dtype}"](A, B, C)
    np.testing.assert_array_equal(C.numpy(), a + b)


def test_entry_call_and_numpy_arguments_are_written(add_module):
    a, b = rng.standard_normal(33).astype("float32"), rng.standard_normal(33).astype("float32")
    c = np.zeros(33, "float32")
    assert add_module.entry_name == "add_float32"
    add_module(a, b, c)
    np.testing.assert_array_equal(c, a + b)


def test_empty_arrays_are_fine(add_module):
    e = [nd.empty((0,), "float32") for _ in range(3)]
    add_module(*e)


def test_scalars_and_static_shapes(add_module):
    a = rng.standard_normal((4, 8)).astype("float32")
    b = nd.empty((4, 8), "float32")
    add_module["scale"](nd.array(a), b, 2.5, 3)
    np.testing.assert_allclose(b.numpy(), a * np.float32(2.5) + 3, rtol=1e-6)
    add_module["scale"](a, b, np.float32(0.5), np.int64(-1))
    np.testing.assert_allclose(b.numpy(), a * 0.5 - 1, rtol=1e-6)


def test_two_shape_variables(add_module):
    a = rng.standard_normal((5, 3)).astype("float32")
    b = nd.empty((3, 5), "float32")
    add_module["transpose"](a, b)
    np.testing.assert_array_equal(b.numpy(), a.T)


def test_module_surface(add_module):
    assert add_module.type_key == "llvm"
    assert add_module.imported_modules == []
    assert "add_float64" in add_module and "nope" not in add_module
    f = add_module.get_function("add_float32")
    assert f is add_module["add_float32"] and f.name == "add_float32"
    assert "A: float32['n']" in repr(f)
    with pytest.raises(AttributeError, match="no function 'nope'.*add_float32"):
        add_module["nope"]


def test_get_source_ll_and_asm(add_module):
    assert "define i32 @add_float32" in add_module.get_source()
    assert add_module.get_source("ll") == add_module.get_source()
    asm = add_module.get_source("asm")
    assert "add_float32:" in asm and "ret" in asm
    with pytest.raises(ValueError, match="'ptx'"):
        add_module.get_source("ptx")


def test_nonzero_return_raises_naming_the_function():
    mod = rt.Module.from_artifact(artifact(FAIL_IR, FAIL_INFO))
    with pytest.raises(RuntimeError, match="fail failed.*error code 7"):
        mod(np.zeros(1, "float32"))


def test_module_with_many_functions_and_no_entry():
    ir = FAIL_IR + FAIL_IR.replace("@fail", "@fail2")
    info2 = FAIL_INFO.__class__("fail2", FAIL_INFO.params)
    mod = rt.Module.from_artifact(artifact(ir, FAIL_INFO, info2))
    with pytest.raises(TypeError, match="call one by name"):
        mod(np.zeros(1, "float32"))


# --- argument checks: every error names the function and the argument ------------------------

def _f32(*shape):
    return nd.empty(shape, "float32")


def test_wrong_argument_count(add_module):
    with pytest.raises(TypeError, match=r"add_float32 takes 3 arguments \(A, B, C\) but 2"):
        add_module(_f32(4), _f32(4))


def test_wrong_dtype(add_module):
    with pytest.raises(TypeError, match=r"add_float32: argument 1 \('B'\) must have dtype float32 but has "
                                        r"float64.*astype"):
        add_module(_f32(4), nd.empty((4,), "float64"), _f32(4))


def test_wrong_rank(add_module):
    with pytest.raises(ValueError, match=r"argument 2 \('C'\) must have rank 1 .* rank 2"):
        add_module(_f32(4), _f32(4), _f32(2, 2))


def test_wrong_static_shape(add_module):
    with pytest.raises(ValueError, match=r"scale: argument 1 \('B'\) must have shape \(4, 8\) but has "
                                        r"shape \(8, 4\)"):
        add_module["scale"](_f32(4, 8), _f32(8, 4), 1.0, 0)


def test_inconsistent_symbolic_dims(add_module):
    with pytest.raises(ValueError, match=r"inconsistent size n: argument 0 \('A'\) axis 0 sets n = 1024 "
                                        r"but argument 1 \('B'\) axis 0 has 512"):
        add_module(_f32(1024), _f32(512), _f32(1024))
    with pytest.raises(ValueError, match=r"inconsistent size m.*argument 1 \('B'\) axis 0 has 4"):
        add_module["transpose"](_f32(2, 3), _f32(4, 2))


def test_non_contiguous_numpy(add_module):
    a = np.zeros((8,), "float32")[::2]
    with pytest.raises(ValueError, match=r"argument 0 \('A'\) is not C-contiguous.*ascontiguousarray"):
        add_module(a, _f32(4), _f32(4))


def test_read_only_numpy(add_module):
    a = np.zeros(4, "float32")
    a.flags.writeable = False
    with pytest.raises(ValueError, match=r"argument 0 \('A'\) is a read-only array"):
        add_module(a, _f32(4), _f32(4))


def test_not_an_array(add_module):
    with pytest.raises(TypeError, match=r"argument 2 \('C'\) must be an array.*got list"):
        add_module(_f32(2), _f32(2), [0.0, 0.0])


def test_array_on_another_device(add_module):
    foreign = nd.NDArray(np.zeros(4, "float32"), rt.cuda(0))  # a stand-in: no GPU memory is touched
    with pytest.raises(ValueError, match=r"argument 1 \('B'\) is on cuda\(0\) but add_float32 runs on "
                                        r"cpu\(0\).*copyto"):
        add_module(_f32(4), foreign, _f32(4))


def test_overlapping_buffers(add_module):
    a = _f32(8)
    with pytest.raises(ValueError, match=r"argument 0 \('A'\) and argument 2 \('C'\) share memory"):
        add_module(a, _f32(8), a)
    base = np.zeros(12, "float32")
    with pytest.raises(ValueError, match=r"argument 1 \('B'\) and argument 2 \('C'\) share memory"):
        add_module(np.zeros(8, "float32"), base[:8], base[4:])
    big = np.zeros((2, 8), "float32")
    with pytest.raises(ValueError, match="share memory"):  # A spans both B and C's neighbour
        add_module["transpose"](big, big.reshape(8, 2))
    # adjacent but disjoint slices are fine
    add_module(np.ones(4, "float32"), base[:4], base[4:8])
    np.testing.assert_array_equal(base[4:8], np.ones(4))


@pytest.mark.parametrize("alpha, offset, err, pattern", [
    ("x", 0, TypeError, r"argument 2 \('alpha'\) must be a number"),
    (1.0, 1.5, TypeError, r"argument 3 \('offset'\) must be an integer"),
    (1.0, 2**31, ValueError, r"argument 3 \('offset'\) = 2147483648 does not fit in int32"),
    (1.0, True, TypeError, r"argument 3 \('offset'\) must be an integer"),
])
def test_bad_scalars(add_module, alpha, offset, err, pattern):
    with pytest.raises(err, match=pattern):
        add_module["scale"](_f32(4, 8), _f32(4, 8), alpha, offset)


def test_unsupported_signature_is_reported_at_lookup():
    from tilecraft.runtime.artifact import FuncInfo, ParamInfo

    ir = "define i32 @h(ptr %a, half %x) {\n  ret i32 0\n}\n"
    info = FuncInfo("h", (ParamInfo("buffer", "A", "float32", (1,)), ParamInfo("scalar", "x", "float16")))
    mod = rt.Module.from_artifact(artifact(ir, info))
    with pytest.raises(TypeError, match="h: scalar parameter 'x' has dtype float16"):
        mod["h"]
    ir = "define i32 @k(ptr %a, i32 %n) {\n  ret i32 0\n}\n"
    info = FuncInfo("k", (ParamInfo("buffer", "A", "float32", (4,)),), (("n", "int32"),))
    with pytest.raises(ValueError, match="shape variable 'n' is not the size of any buffer"):
        rt.Module.from_artifact(artifact(ir, info))["k"]


def test_foreign_target_cannot_run_here(tmp_path):
    mod = rt.Module.from_artifact(artifact(FAIL_IR, FAIL_INFO, target="llvm -mtriple=aarch64-linux-gnu"))
    with pytest.raises(ValueError, match="cannot run code built for target"):
        mod[FAIL_INFO.name]
    mod.export_library(tmp_path / "cross.o")  # but it can be exported, for the machine it belongs to
    assert (tmp_path / "cross.o").read_bytes()[:4] == b"\x7fELF"
    with pytest.raises(ValueError, match="export a .o"):
        mod.export_library(tmp_path / "cross.so")


def test_source_only_cuda_module():
    src = "extern \"C\" __global__ void k(float* a) { a[threadIdx.x] = 0; }"
    mod = rt.Module.from_artifact(Artifact("cuda", src, (FAIL_INFO.__class__("k", FAIL_INFO.params),),
                                           "cuda"))
    assert mod.type_key == "cuda" and mod.get_source() == src
    if not rt.cuda(0).exist:
        with pytest.raises(RuntimeError, match="no CUDA device is present"):
            mod["k"]
    with pytest.raises(TypeError, match="'cuda' module has no compiled code"):
        mod.export_library("/tmp/never.so")


def test_unknown_artifact_kind():
    with pytest.raises(ValueError, match="'spirv'"):
        rt.Module.from_artifact(Artifact("spirv", "", (), "vulkan"))


def test_call_overhead_is_small(add_module):
    import time

    A, B, C = _f32(16), _f32(16), _f32(16)
    f = add_module["add_float32"]
    f(A, B, C)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(2000):
            f(A, B, C)
        best = min(best, (time.perf_counter() - start) / 2000)
    assert best < 50e-6, f"per-call overhead {best * 1e6:.1f} us"


def test_target_with_missing_cpu_features_is_refused():
    import llvmlite.binding as llvm

    if llvm.get_host_cpu_features().get("avx512f", False):
        pytest.skip("this CPU has AVX-512")
    mod = rt.Module.from_artifact(artifact(FAIL_IR, FAIL_INFO, target="llvm -mcpu=skylake-avx512"))
    with pytest.raises(ValueError, match="avx512f.*lacks"):
        mod[FAIL_INFO.name]


def test_failed_assertion_is_explained():
    ir = "define i32 @check(ptr %a) {\n  ret i32 -1\n}\n"
    info = FAIL_INFO.__class__("check", FAIL_INFO.params)
    art = Artifact("llvm", ir, (info,), "llvm", extra={"asserts": ["n must be a multiple of 8"]})
    with pytest.raises(RuntimeError, match="check failed.*assertion failed: n must be a multiple of 8"):
        rt.Module.from_artifact(art)(np.zeros(1, "float32"))


def test_dlpack_tensor_arguments(add_module):
    class Producer:
        def __init__(self, arr, dev=(1, 0)):
            self.arr, self.dev = arr, dev

        def __dlpack__(self, **kwargs):
            return self.arr.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return self.dev

    a, b, c = np.ones(4, "float32"), np.full(4, 2, "float32"), np.zeros(4, "float32")
    add_module(Producer(a), Producer(b), Producer(c))
    np.testing.assert_array_equal(c, np.full(4, 3.0))
    with pytest.raises(RuntimeError, match=r"argument 1 \('B'\): the tensor lives on cuda\(0\)"):
        add_module(a, Producer(b, (2, 0)), c)
