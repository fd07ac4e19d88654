"""fp32 matmul 1024^3: tilecraft's best hand-written schedule vs numpy's BLAS (and PyTorch if
installed), side by side in one run, correctness checked on the same random inputs.

    python benchmarks/matmul.py [--size 1024]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from common import median_seconds, table  # noqa: E402  (sets thread counts before numpy loads)

import tilecraft as tvm  # noqa: E402
from tilecraft import te, topi  # noqa: E402


def build_best(M, N, K, target):
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    C = topi.matmul_packed(A, B, nr=16)
    s = te.create_schedule(C.op)
    topi.x86.schedule_matmul_packed(s, C)
    t0 = time.perf_counter()
    f = tvm.build(s, [A, B, C], target=target, name="matmul")
    return f, time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--target", default="llvm -mcpu=native")
    args = p.parse_args()
    n = args.size
    M = N = K = n
    flops = 2.0 * M * N * K
    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, K), dtype=np.float32)
    b = rng.standard_normal((K, N), dtype=np.float32)
    ref = a @ b

    f, compile_s = build_best(M, N, K, args.target.replace("native", _host_cpu()))
    A, B, C = tvm.nd.array(a), tvm.nd.array(b), tvm.nd.empty((M, N), "float32")
    f(A, B, C)
    err = np.linalg.norm(C.numpy() - ref) / np.linalg.norm(ref)
    assert err < 1e-5, f"tilecraft result is wrong: relative error {err:.2e}"

    rows = []
    t_np = median_seconds(lambda: a @ b)
    t_tc = median_seconds(lambda: f(A, B, C))
    rows.append(["numpy (BLAS)", f"{t_np * 1e3:.2f}", f"{flops / t_np / 1e9:.1f}", "1.00"])
    try:
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        t_pt = median_seconds(lambda: ta @ tb)
        rows.append(["PyTorch", f"{t_pt * 1e3:.2f}", f"{flops / t_pt / 1e9:.1f}", f"{t_np / t_pt:.2f}"])
    except ImportError:
        pass
    rows.append(["tilecraft (hand schedule)", f"{t_tc * 1e3:.2f}", f"{flops / t_tc / 1e9:.1f}", f"{t_np / t_tc:.2f}"])
    print(f"matmul {M}x{N}x{K} fp32, {os.environ['OMP_NUM_THREADS']} threads, relative error {err:.1e}, "
          f"tilecraft compile {compile_s * 1e3:.0f} ms")
    print(table(rows, ["implementation", "median ms", "GFLOP/s", "x numpy"]))


def _host_cpu() -> str:
    import llvmlite.binding as llvm

    return llvm.get_host_cpu_name()


if __name__ == "__main__":
    main()
