"""The hand-built GEMM micro-kernel: correctness, machine code quality, compile time, and
object files for the host and for a cross target."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from gemm_kernel import bench, gemm_func, pack_b
from jit_harness import JitModule, build

from tilecraft.target.codegen.llvm import codegen_llvm, emit_assembly, emit_object

AVX2 = "llvm -mcpu=znver3 -mattr=+avx2,+fma"


@pytest.mark.parametrize("kw", [{}, {"unroll_in_tir": False}, {"parallel": True}, {"k_block": 4},
                                {"symbolic": True}])
def test_gemm_matches_numpy(kw):
    M, N, K = 64, 96, 80
    f = gemm_func(M, N, K, **kw)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((M, K), dtype=np.float32)
    b = rng.standard_normal((K, N), dtype=np.float32)
    c = np.zeros((M, N), np.float32)
    assert build(f, "llvm -num-cores=2")(a, pack_b(b), c) == 0
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


def test_gemm_compiles_fast_and_uses_fma_on_ymm_registers():
    f = gemm_func(1024, 1024, 1024, parallel=True)
    codegen_llvm(f, AVX2)  # warm caches (target machine)
    t0 = time.perf_counter()
    art = codegen_llvm(f, AVX2)
    elapsed = time.perf_counter() - t0
    print(f"\nGEMM codegen (build IR + O3): {elapsed * 1e3:.1f} ms")
    assert elapsed < 0.5
    asm = emit_assembly(art)
    fma = [line for line in asm.splitlines() if "vfmadd231ps" in line]
    assert fma and all("ymm" in line for line in fma)
    # The 4 x 16 tile is eight ymm accumulators: nothing is spilled to the stack.
    assert not [line for line in asm.splitlines() if "vmovups" in line and "rsp" in line]


def test_gemm_gflops_report():
    """Prints GFLOP/s; asserts only a loose floor so a busy machine does not fail the suite."""
    M = N = K = 512
    rng = np.random.default_rng(2)
    a = rng.standard_normal((M, K), dtype=np.float32)
    b = rng.standard_normal((K, N), dtype=np.float32)
    bp = pack_b(b)
    rates = {}
    for label, kw, tgt in [("1 thread", {}, "llvm -num-cores=1"),
                           ("2 threads", {"parallel": True}, "llvm -num-cores=2")]:
        m = build(gemm_func(M, N, K, **kw), tgt)
        c = np.zeros((M, N), np.float32)
        t = bench(m, a, bp, c, repeat=3)
        np.testing.assert_allclose(c, a @ b, rtol=1e-3, atol=1e-3)
        rates[label] = 2 * M * N * K / t / 1e9
    print("\nGEMM 512^3: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in rates.items()))
    assert rates["1 thread"] > 5


def _elf_machine(obj: bytes) -> int:
    assert obj[:4] == b"\x7fELF"
    return struct.unpack_from("<H", obj, 18)[0]


def test_emit_object_for_host_and_cross_aarch64():
    f = gemm_func(64, 64, 64, parallel=True)
    host = emit_object(codegen_llvm(f, "llvm -mtriple=x86_64-linux-gnu -mcpu=znver3"))
    assert _elf_machine(host) == 62  # EM_X86_64
    art = codegen_llvm(f, "llvm -mtriple=aarch64-linux-gnu")
    assert "aarch64" in art.source
    obj = emit_object(art)
    assert _elf_machine(obj) == 183  # EM_AARCH64
    asm = emit_assembly(art)
    assert "fmla" in asm and "GOMP_parallel" in asm


def test_emit_from_ir_text_with_explicit_target():
    art = codegen_llvm(gemm_func(32, 32, 32), "llvm -mcpu=znver3")
    assert "vfmadd" in emit_assembly(art.source, AVX2)
    with pytest.raises(TypeError):
        emit_object(42)


def test_jit_of_artifact_respects_target_features():
    """An artifact for a baseline x86-64 CPU runs anywhere and uses no AVX."""
    art = codegen_llvm(gemm_func(32, 32, 32), "llvm -mcpu=x86-64")
    assert "ymm" not in emit_assembly(art)
    m = JitModule(art)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((32, 32), dtype=np.float32)
    b = rng.standard_normal((32, 32), dtype=np.float32)
    c = np.zeros((32, 32), np.float32)
    assert m(a, pack_b(b), c) == 0
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
