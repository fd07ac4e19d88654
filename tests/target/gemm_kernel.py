"""A hand-built TIR GEMM micro-kernel: the kind of flattened loop nest lowering produces.

C[M, N] = A[M, K] @ B[K, N], with B pre-packed as Bp[N // NB, K, NB] so that each k step
reads NB contiguous floats.  A register tile of MB x NB accumulators (C_local, an Allocate)
is zeroed, updated with vector FMAs over k (A broadcast, Bp loaded as a vector), and written
back.  Run as a script to print GFLOP/s for 1024^3.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import tilecraft.ir.expr as E
from tilecraft.ir.expr import Broadcast, Buffer, BufferLoad, Ramp, SizeVar, Var, broadcast, const, decl_buffer
from tilecraft.tir.stmt import Allocate, BufferStore, For, PrimFunc, seq


def _ramp(base, lanes):
    return Ramp(E.convert(base), const(1), lanes, f"int32x{lanes}")


def vload(buf, index):
    """A vector load: the loaded dtype has the index's lanes."""
    lanes = int(index.dtype.partition("x")[2] or 1)
    return BufferLoad(buf, (index,), buf.dtype if lanes == 1 else f"{buf.dtype}x{lanes}")


def gemm_func(M, N, K, MB=4, NB=16, parallel=False, unroll_in_tir=True, k_block=None,
              symbolic=False):
    """The kernel as a PrimFunc over A (M*K), Bp (N/NB*K*NB) and C (M*N), all flattened."""
    if symbolic:
        M, N, K = SizeVar("M"), SizeVar("N"), SizeVar("K")
    A = decl_buffer((M, K), "float32", "A")
    Bp = decl_buffer((N // NB, K, NB), "float32", "Bp")
    C = decl_buffer((M, N), "float32", "C")
    # Flattened views sharing the same data pointers, as the lowering's flatten pass makes.
    Af = Buffer(A.data, "A", (M * K,), "float32")
    Bf = Buffer(Bp.data, "Bp", (N * K,), "float32")
    Cf = Buffer(C.data, "C", (M * N,), "float32")
    Cl = decl_buffer((MB * NB,), "float32", "C_local", scope="local")
    io, jo, k, ii = Var("io"), Var("jo"), Var("k"), Var("ii")
    vt = f"float32x{NB}"

    def rows(make):
        if unroll_in_tir:
            return seq(*[make(const(r)) for r in range(MB)])
        return For(ii, const(0), const(MB), "unroll", make(ii))

    init = rows(lambda r: BufferStore(Cl, Broadcast(const(0.0), NB, vt), (_ramp(r * NB, NB),)))

    def update(kk):
        def one(r):
            a = Af[(io * MB + r) * K + kk]
            b = vload(Bf, _ramp(jo * (K * NB) + kk * NB, NB))
            acc = vload(Cl, _ramp(r * NB, NB))
            return BufferStore(Cl, acc + broadcast(a, NB) * b, (_ramp(r * NB, NB),))
        return rows(one)

    if k_block:
        ko, ki = Var("ko"), Var("ki")
        kloop = For(ko, const(0), E.convert(K // k_block), "serial",
                    For(ki, const(0), const(k_block), "unroll", update(ko * k_block + ki)))
    else:
        kloop = For(k, const(0), E.convert(K), "serial", update(k))
    store = rows(lambda r: BufferStore(Cf, vload(Cl, _ramp(r * NB, NB)),
                                       (_ramp((io * MB + r) * N + jo * NB, NB),)))
    body = Allocate(Cl, seq(init, kloop, store))
    nest = For(io, const(0), E.convert(M // MB), "parallel" if parallel else "serial",
               For(jo, const(0), E.convert(N // NB), "serial", body))
    return PrimFunc((A, Bp, C), nest, "gemm")


def pack_b(b, NB=16):
    K, N = b.shape
    return np.ascontiguousarray(b.reshape(K, N // NB, NB).transpose(1, 0, 2))


def bench(mod, a, bp, c, repeat=5):
    mod(a, bp, c)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        mod(a, bp, c)
        best = min(best, time.perf_counter() - t0)
    return best


def main(size=1024):
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from jit_harness import build

    M = N = K = size
    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, K), dtype=np.float32)
    b = rng.standard_normal((K, N), dtype=np.float32)
    bp = pack_b(b)
    ref = a @ b
    for label, kw, tgt in [
        ("1 thread", {}, "llvm -num-cores=1"),
        ("parallel io, 2 threads", {"parallel": True}, "llvm -num-cores=2"),
    ]:
        t0 = time.perf_counter()
        mod = build(gemm_func(M, N, K, **kw), tgt)
        t_build = time.perf_counter() - t0
        c = np.zeros((M, N), np.float32)
        t = bench(mod, a, bp, c)
        err = np.abs(c - ref).max()
        print(f"{label}: {2 * M * N * K / t / 1e9:.1f} GFLOP/s  ({t * 1e3:.1f} ms, "
              f"build {t_build * 1e3:.0f} ms, max err {err:.2e})")
    t = min(bench(lambda x, y, z: np.matmul(x, b, out=z), a, b, c) for _ in range(1))
    print(f"numpy: {2 * M * N * K / t / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1024)
