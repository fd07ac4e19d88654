"""CUDA code generation: structure of the generated kernels, nvcc compilation, and numbers.

Most machines running these tests have no GPU.  Numbers are still checked: the generated
kernels are also printed as C++ for the CPU (`emulation_source`), compiled with the system C++
compiler and launched through the same host-plan interpreter the GPU path uses
(`runtime.cuda_module.EmulatedLauncher`), every thread of a block a real thread when the kernel calls
`__syncthreads()`.  Results are compared with numpy.  On a machine with a GPU the tests at the
end run the same kernels on the device.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.driver.build_module import lower
from tilecraft.runtime.cuda_module import CUDAModule, EmulatedLauncher, evaluate
from tilecraft.runtime.nvcc import CUDACompileError, compile_ptx, find_nvcc
from tilecraft.target.codegen.cuda import codegen_cuda, emulation_source
from tilecraft.tir.stmt import IRModule
from tilecraft.tir.transform import build_pipeline, run_passes

HAS_NVCC = find_nvcc() is not None
HAS_CXX = shutil.which("g++") is not None or shutil.which("c++") is not None
HAS_GPU = tvm.cuda(0).exist
needs_nvcc = pytest.mark.skipif(not HAS_NVCC, reason="nvcc is not installed")
needs_cxx = pytest.mark.skipif(not HAS_CXX, reason="no C++ compiler for the CPU emulation")
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason="no CUDA device")

RNG = np.random.default_rng(0)


def _flat(s, args, name="default_function") -> IRModule:
    return run_passes(lower(s, args, name=name), build_pipeline())


def _source(s, args):
    art = codegen_cuda(_flat(s, args), "cuda", compile=False)
    return art.source, art


def _emulate(s, args, tmp_path):
    """The module for `s` whose kernels run on the CPU (see the module docstring)."""
    mod = _flat(s, args)
    art = codegen_cuda(mod, "cuda", compile=False)
    cpp = tmp_path / "kernels.cpp"
    cpp.write_text(emulation_source(mod, "cuda"))
    so = tmp_path / "kernels.so"
    cxx = shutil.which("g++") or shutil.which("c++")
    proc = subprocess.run([cxx, "-O1", "-std=c++14", "-pthread", "-shared", "-fPIC", "-o", str(so), str(cpp)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + "\n" + cpp.read_text()
    return CUDAModule(art, launcher=EmulatedLauncher(ctypes.CDLL(str(so)))), art


def _rand(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------- schedules

def _elementwise(n=None):
    n = te.var("n") if n is None else n
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i] * 2.0, name="C")
    s = te.create_schedule(C.op)
    bx, tx = s[C].split(C.op.axis[0], factor=64)
    s[C].bind(bx, te.thread_axis("blockIdx.x"))
    s[C].bind(tx, te.thread_axis("threadIdx.x"))
    return s, [A, B, C]


def _matmul_local(M, N, K, tile=8, thread=2):
    """One thread per 2x2 tile of C, reduction serial in the thread, accumulator in registers."""
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    CL = s.cache_write(C, "local")
    i, j = s[C].op.axis
    io, ii = s[C].split(i, factor=tile * thread)
    jo, ji = s[C].split(j, factor=tile * thread)
    ti, iii = s[C].split(ii, factor=thread)
    tj, jii = s[C].split(ji, factor=thread)
    s[C].reorder(io, jo, ti, tj, iii, jii)
    s[C].bind(io, te.thread_axis("blockIdx.y"))
    s[C].bind(jo, te.thread_axis("blockIdx.x"))
    s[C].bind(ti, te.thread_axis("threadIdx.y"))
    s[C].bind(tj, te.thread_axis("threadIdx.x"))
    s[CL].compute_at(s[C], tj)
    return s, [A, B, C]


def _matmul_shared(M=64, N=64, K=32):
    """The seed's "typical GPU schedule": block tiles, thread tiles, shared-memory caches loaded
    cooperatively at the reduction loop, a register accumulator."""
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    AA = s.cache_read(A, "shared", [C])
    BB = s.cache_read(B, "shared", [C])
    CL = s.cache_write(C, "local")
    x, y = s[C].op.axis
    xo, xi = s[C].split(x, factor=16)
    yo, yi = s[C].split(y, factor=16)
    txo, txi = s[C].split(xi, factor=2)
    tyo, tyi = s[C].split(yi, factor=2)
    s[C].reorder(xo, yo, txo, tyo, txi, tyi)
    s[C].bind(xo, te.thread_axis("blockIdx.y"))
    s[C].bind(yo, te.thread_axis("blockIdx.x"))
    s[C].bind(txo, te.thread_axis("threadIdx.y"))
    s[C].bind(tyo, te.thread_axis("threadIdx.x"))
    s[CL].compute_at(s[C], tyo)
    xc, yc = s[CL].op.axis
    ko, ki = s[CL].split(s[CL].op.reduce_axis[0], factor=4)
    s[CL].reorder(ko, ki, xc, yc)
    s[AA].compute_at(s[CL], ko)
    s[BB].compute_at(s[CL], ko)
    for T in (AA, BB):
        f = s[T].fuse(*s[T].op.axis)
        fo, fi = s[T].split(f, factor=8)
        s[T].bind(fi, te.thread_axis("threadIdx.x"))
        _, fo1 = s[T].split(fo, factor=8)
        s[T].bind(fo1, te.thread_axis("threadIdx.y"))
    return s, [A, B, C]


def _row_sum_rfactor(n=37, m=100):
    """Cross-thread reduction: rfactor the row sum, one thread per partial sum in shared memory."""
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    B = te.compute((n,), lambda i: te.sum(A[i, k], axis=k), name="B")
    s = te.create_schedule(B.op)
    _, ki = s[B].split(B.op.reduce_axis[0], factor=32)
    BF = s.rfactor(B, ki)
    s[B].bind(s[B].op.axis[0], te.thread_axis("blockIdx.x"))
    s[BF].compute_at(s[B], s[B].op.axis[0])
    s[BF].bind(s[BF].op.axis[0], te.thread_axis("threadIdx.x"))
    return s, [A, B]


# ---------------------------------------------------------------------------- structure + nvcc

@needs_nvcc
def test_build_elementwise_compiles_and_describes_launch():
    s, args = _elementwise()
    mod = tvm.build(s, args, target="cuda -arch=sm_80")
    src = mod.get_source()
    assert 'extern "C" __global__' in src
    assert "blockIdx.x" in src and "threadIdx.x" in src
    assert "float* __restrict__ A" in src
    assert re.search(r"< n\)", src), src  # the guard of the non-dividing split
    (k,) = mod.artifact.extra["kernels"]
    assert k["grid"] == ["((n + 63) // 64)", "1", "1"] and k["block"] == ["64", "1", "1"]
    assert [p["name"] for p in k["params"]] == ["A", "B", "C", "n"]
    assert evaluate(k["grid"][0], {"n": 100}) == 2
    ptx = mod.get_source("ptx")
    assert ".entry default_function_kernel0" in ptx and ".target sm_80" in ptx
    assert [p.name for p in mod["default_function"].info.params] == ["A", "B", "C"]


@needs_nvcc
def test_seed_gpu_pattern_shared_memory_matmul_structure():
    s, args = _matmul_shared()
    mod = tvm.build(s, args, target="cuda")
    src = mod.get_source()
    assert "__shared__ float A_shared[" in src and "__shared__ float B_shared[" in src
    assert "float C_local[4];" in src  # per-thread accumulator
    assert "blockIdx.y" in src and "threadIdx.y" in src
    # Barriers as TVM's ThreadSync places them in the reduction loop: before the cooperative
    # loads (the previous iteration still reads the tiles) and between the loads and the use.
    body = src[src.index("for (int k_outer"):]
    loop = body[: body.index("for (int i_inner_inner")]
    assert loop.count("__syncthreads();") == 2
    first_sync = loop.index("__syncthreads();")
    assert first_sync < loop.index("A_shared[(") < loop.rindex("__syncthreads();") < loop.index("k_inner")
    assert mod.artifact.extra["kernels"][0]["block"] == ["8", "8", "1"]
    assert ".entry default_function_kernel0" in mod.get_source("ptx")


def test_rfactor_reduction_uses_shared_partials_and_one_barrier():
    s, args = _row_sum_rfactor()
    src, art = _source(s, args)
    assert "__shared__ float B_rf[32];" in src
    assert src.count("__syncthreads();") == 1
    assert "if ((threadIdx.x == 0))" in src  # the serial final sum is done by one thread
    assert art.extra["kernels"][0]["block"] == ["32", "1", "1"]


def test_nvcc_errors_quote_the_source_line():
    if not HAS_NVCC:
        pytest.skip("nvcc is not installed")
    bad = 'extern "C" __global__ void k(float* a) {\n  a[0] = undefined_thing;\n}\n'
    with pytest.raises(CUDACompileError, match=r"line 2: a\[0\] = undefined_thing;"):
        compile_ptx(bad, "sm_80")


# ---------------------------------------------------------------------------- numbers (CPU emulation)

@needs_cxx
def test_elementwise_nondividing_symbolic(tmp_path):
    s, args = _elementwise()
    mod, _ = _emulate(s, args, tmp_path)
    for n in (1, 63, 64, 65, 1000):
        a, b = _rand(n), _rand(n)
        c = tvm.nd.array(np.zeros(n, "float32"))
        mod(a, b, c)
        np.testing.assert_allclose(c.numpy(), a + 2 * b, rtol=1e-6)


@needs_cxx
def test_2d_blocks_and_threads_nondividing(tmp_path):
    A = te.placeholder((50, 70), name="A")
    B = te.compute((50, 70), lambda i, j: A[i, j] * A[i, j] - 1.0, name="B")
    s = te.create_schedule(B.op)
    i, j = B.op.axis
    io, ii = s[B].split(i, factor=16)
    jo, ji = s[B].split(j, factor=8)
    s[B].reorder(io, jo, ii, ji)
    for ax, tag in ((io, "blockIdx.y"), (jo, "blockIdx.x"), (ii, "threadIdx.y"), (ji, "threadIdx.x")):
        s[B].bind(ax, te.thread_axis(tag))
    mod, art = _emulate(s, [A, B], tmp_path)
    k = art.extra["kernels"][0]
    assert k["grid"] == ["9", "4", "1"] and k["block"] == ["8", "16", "1"]
    a = _rand(50, 70)
    b = np.zeros((50, 70), "float32")
    mod(a, b)
    np.testing.assert_allclose(b, a * a - 1, rtol=1e-6)


@needs_cxx
def test_host_loop_around_kernel_launches(tmp_path):
    A = te.placeholder((5, 70), name="A")
    B = te.compute((5, 70), lambda i, j: A[i, j] + i, name="B")
    s = te.create_schedule(B.op)
    jo, ji = s[B].split(B.op.axis[1], factor=32)
    s[B].bind(jo, te.thread_axis("blockIdx.x"))
    s[B].bind(ji, te.thread_axis("threadIdx.x"))
    mod, art = _emulate(s, [A, B], tmp_path)
    (step,) = art.extra["host"]["default_function"]
    assert step["op"] == "for" and step["extent"] == "5"  # the unbound outer loop launches 5 times
    assert art.extra["kernels"][0]["params"][-1] == {"kind": "scalar", "name": "i", "dtype": "int32"}
    a = _rand(5, 70)
    b = np.zeros((5, 70), "float32")
    mod(a, b)
    np.testing.assert_allclose(b, a + np.arange(5)[:, None])


@needs_cxx
def test_matmul_register_tiles_serial_reduction(tmp_path):
    M, N, K = 50, 70, 33  # no tile divides
    s, args = _matmul_local(M, N, K)
    mod, art = _emulate(s, args, tmp_path)
    assert "float C_local[4];" in art.source
    a, b = _rand(M, K), _rand(K, N)
    c = np.zeros((M, N), "float32")
    mod(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


@needs_cxx
def test_shared_cache_loaded_cooperatively_with_barrier(tmp_path):
    n = 200
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 3.0 + 1.0, name="B")
    s = te.create_schedule(B.op)
    AS = s.cache_read(A, "shared", [B])
    bx, tx = s[B].split(B.op.axis[0], factor=64)
    s[B].bind(bx, te.thread_axis("blockIdx.x"))
    s[B].bind(tx, te.thread_axis("threadIdx.x"))
    s[AS].compute_at(s[B], bx)
    s[AS].bind(s[AS].op.axis[0], te.thread_axis("threadIdx.x"))
    mod, art = _emulate(s, [A, B], tmp_path)
    assert "__shared__ float A_shared[64];" in art.source
    assert art.source.count("__syncthreads();") == 1
    a = _rand(n)
    b = np.zeros(n, "float32")
    mod(a, b)
    np.testing.assert_allclose(b, a * 3 + 1, rtol=1e-6)


@needs_cxx
def test_rfactor_reduction_numbers(tmp_path):
    s, args = _row_sum_rfactor()
    mod, _ = _emulate(s, args, tmp_path)
    a = _rand(37, 100)
    b = np.zeros(37, "float32")
    mod(a, b)
    np.testing.assert_allclose(b, a.sum(axis=1), rtol=1e-4, atol=1e-4)


@needs_cxx
def test_seed_gpu_pattern_shared_memory_matmul_numbers(tmp_path):
    s, args = _matmul_shared()
    mod, _ = _emulate(s, args, tmp_path)
    a, b = _rand(64, 32), _rand(32, 64)
    c = np.zeros((64, 64), "float32")
    mod(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


@needs_cxx
def test_softmax_multi_stage_kernels_and_temporaries(tmp_path):
    n, m = 50, 70
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    mx = te.compute((n,), lambda i: te.max(A[i, k], axis=k), name="M")
    ex = te.compute((n, m), lambda i, j: te.exp(A[i, j] - mx[i]), name="Ex")
    k2 = te.reduce_axis((0, m), name="k2")
    sm = te.compute((n,), lambda i: te.sum(ex[i, k2], axis=k2), name="S")
    out = te.compute((n, m), lambda i, j: ex[i, j] / sm[i], name="O")
    s = te.create_schedule(out.op)
    for T in (mx, sm):
        bx, tx = s[T].split(T.op.axis[0], factor=16)
        s[T].bind(bx, te.thread_axis("blockIdx.x"))
        s[T].bind(tx, te.thread_axis("threadIdx.x"))
    for T in (ex, out):
        s[T].bind(T.op.axis[0], te.thread_axis("blockIdx.x"))
        _, ji = s[T].split(T.op.axis[1], factor=32)
        s[T].bind(ji, te.thread_axis("threadIdx.x"))
    mod, art = _emulate(s, [A, out], tmp_path)
    assert len(art.extra["kernels"]) == 4
    assert "expf(" in art.source
    plan = art.extra["host"]["default_function"]
    assert plan[0]["op"] == "alloc" and plan[0]["buffer"] == "M"
    a = _rand(n, m)
    o = np.zeros((n, m), "float32")
    mod(a, o)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    np.testing.assert_allclose(o, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


@needs_cxx
def test_floor_division_and_modulo_of_negative_numbers(tmp_path):
    n = 64
    A = te.placeholder((n,), name="A", dtype="int32")
    D = te.compute((n,), lambda i: tvm.tir.floordiv(A[i], 3) + tvm.tir.floormod(A[i], -4) * 1000
                   + tvm.tir.truncdiv(A[i], 5) * 100000, name="D")
    s = te.create_schedule(D.op)
    s[D].bind(D.op.axis[0], te.thread_axis("threadIdx.x"))
    mod, art = _emulate(s, [A, D], tmp_path)
    assert "tc_floordiv" in art.source and "tc_floormod" in art.source
    a = np.arange(-32, 32, dtype="int32")
    d = np.zeros(n, "int32")
    mod(a, d)
    trunc = np.trunc(a / 5).astype("int32")
    np.testing.assert_array_equal(d, a // 3 + (a % -4) * 1000 + trunc * 100000)


@needs_cxx
def test_math_functions_and_select(tmp_path):
    n = 100
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: te.if_then_else(A[i] > 0, te.sqrt(A[i]), te.exp(A[i]))
                   + te.max(A[i], 0.5) + te.tanh(A[i]) + te.sigmoid(A[i]), name="B")
    s = te.create_schedule(B.op)
    bx, tx = s[B].split(B.op.axis[0], factor=32)
    s[B].bind(bx, te.thread_axis("blockIdx.x"))
    s[B].bind(tx, te.thread_axis("threadIdx.x"))
    mod, art = _emulate(s, [A, B], tmp_path)
    assert "sqrtf(" in art.source and "expf(" in art.source and "fmaxf(" in art.source
    a = _rand(n)
    b = np.zeros(n, "float32")
    mod(a, b)
    want = np.where(a > 0, np.sqrt(np.abs(a)), np.exp(a)) + np.maximum(a, 0.5) + np.tanh(a) + 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(b, want, rtol=1e-5, atol=1e-6)


@needs_cxx
def test_vectorized_loop_inside_a_thread_is_scalarized(tmp_path):
    n = 256
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 2.0, name="B")
    s = te.create_schedule(B.op)
    bx, rest = s[B].split(B.op.axis[0], factor=64)
    tx, vec = s[B].split(rest, factor=4)
    s[B].bind(bx, te.thread_axis("blockIdx.x"))
    s[B].bind(tx, te.thread_axis("threadIdx.x"))
    s[B].vectorize(vec)
    mod, art = _emulate(s, [A, B], tmp_path)
    assert art.extra["kernels"][0]["block"] == ["16", "1", "1"]
    a = _rand(n)
    b = np.zeros(n, "float32")
    mod(a, b)
    np.testing.assert_allclose(b, a * 2)


# ---------------------------------------------------------------------------- errors and no-GPU behaviour

def test_function_without_thread_bindings_is_refused():
    A = te.placeholder((16,), name="A")
    B = te.compute((16,), lambda i: A[i] + 1.0, name="B")
    s = te.create_schedule(B.op)
    with pytest.raises(ValueError, match=r"no loop of default_function is bound to a GPU thread.*"
                                         r"te.thread_axis\('blockIdx.x'\)"):
        tvm.build(s, [A, B], target="cuda")


def test_stage_left_unbound_is_named():
    A = te.placeholder((16,), name="A")
    T = te.compute((16,), lambda i: A[i] + 1.0, name="T")
    B = te.compute((16,), lambda i: T[i] * 2.0, name="B")
    s = te.create_schedule(B.op)
    s[B].bind(B.op.axis[0], te.thread_axis("threadIdx.x"))
    with pytest.raises(ValueError, match=r"computation of T in default_function is not inside any loop bound"):
        codegen_cuda(_flat(s, [A, B]), "cuda", compile=False)


def test_too_many_threads_per_block():
    A = te.placeholder((4096,), name="A")
    B = te.compute((4096,), lambda i: A[i] + 1.0, name="B")
    s = te.create_schedule(B.op)
    bx, tx = s[B].split(B.op.axis[0], factor=2048)
    s[B].bind(bx, te.thread_axis("blockIdx.x"))
    s[B].bind(tx, te.thread_axis("threadIdx.x"))
    with pytest.raises(ValueError, match=r"2048 threads per block .* at most 1024"):
        codegen_cuda(_flat(s, [A, B]), "cuda", compile=False)


def test_without_gpu_the_module_shows_source_and_refuses_to_run():
    if HAS_GPU:
        pytest.skip("a CUDA device is present")
    s, args = _elementwise(n=128)
    art = codegen_cuda(_flat(s, args), "cuda", compile=False)
    mod = tvm.runtime.Module.from_artifact(art)
    assert mod.type_key == "cuda"
    assert mod.get_source("cu") == art.source == mod.get_source()
    with pytest.raises(ValueError, match="no PTX"):
        mod.get_source("ptx")
    a = np.zeros(128, "float32")
    with pytest.raises(RuntimeError, match="no CUDA device is present; the generated source is in"):
        mod(a, a.copy(), a.copy())


def test_plan_expressions_are_evaluated_safely():
    env = {"n": 100, "m": -7}
    assert evaluate("((n + 63) // 64)", env) == 2
    assert evaluate("max(tdiv(m, 2), tmod(m, 2))", env) == -1  # C semantics: -3 and -1
    assert evaluate("(1 if (n > 3) else 2)", env) == 1
    with pytest.raises(ValueError):
        evaluate("__import__('os').getcwd()", env)
    with pytest.raises(ValueError):
        evaluate("n.real", env)


# ---------------------------------------------------------------------------- on a GPU

@needs_gpu
def test_gpu_elementwise_and_matmul():
    s, args = _elementwise()
    mod = tvm.build(s, args, target="cuda")
    for n in (1, 100, 4097):
        a, b = _rand(n), _rand(n)
        c = np.zeros(n, "float32")
        mod(a, b, c)
        np.testing.assert_allclose(c, a + 2 * b, rtol=1e-6)
    s, args = _matmul_local(50, 70, 33)
    mod = tvm.build(s, args, target="cuda")
    a, b = _rand(50, 33), _rand(33, 70)
    c = np.zeros((50, 70), "float32")
    mod(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


@needs_gpu
def test_gpu_shared_memory_and_barriers():
    s, args = _row_sum_rfactor()
    mod = tvm.build(s, args, target="cuda")
    a = _rand(37, 100)
    b = np.zeros(37, "float32")
    mod(a, b)
    np.testing.assert_allclose(b, a.sum(axis=1), rtol=1e-4, atol=1e-4)

