"""Phase 3 — schedule analysis: the same matmul under five schedules, side by side with numpy.

Each schedule is checked against numpy on the same random inputs before it is timed.
Run: python examples/schedule_analysis.py [--sizes 256 512 1024]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))

import numpy as np  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import te, topi  # noqa: E402


def declare(n):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def naive(n):
    A, B, C = declare(n)
    return te.create_schedule(C.op), [A, B, C]


def tiled(n, vec=False, par=False, bn=32):
    A, B, C = declare(n)
    s = te.create_schedule(C.op)
    io, jo, ii, ji = s[C].tile(C.op.axis[0], C.op.axis[1], bn, bn)
    (k,) = C.op.reduce_axis
    ko, ki = s[C].split(k, factor=4)
    s[C].reorder(io, jo, ko, ki, ii, ji)  # a bn x bn block of C stays in cache across k
    if vec:
        s[C].vectorize(ji)
    if par:
        s[C].parallel(io)
    return s, [A, B, C]


def packed(n):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    C = topi.matmul_packed(A, B)
    s = te.create_schedule(C.op)
    topi.x86.schedule_matmul_packed(s, C)
    return s, [A, B, C]


SCHEDULES = [
    ("naive", naive),
    ("tiled", lambda n: tiled(n)),
    ("tiled+vectorized", lambda n: tiled(n, vec=True)),
    ("tiled+vectorized+parallel", lambda n: tiled(n, vec=True, par=True)),
    ("packed+register tile+parallel", packed),
]


def seconds(fn, budget=0.5):
    fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    reps = max(1, min(9, int(budget / max(one, 1e-6))))
    return statistics.median(_time(fn) for _ in range(reps))


def _time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    args = p.parse_args()
    rng = np.random.default_rng(0)
    header = ["schedule"] + [f"n={n} GFLOP/s" for n in args.sizes]
    results = {name: [] for name, _ in SCHEDULES}
    results["numpy (BLAS)"] = []
    for n in args.sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ref = a @ b
        gflop = 2.0 * n**3 / 1e9
        for name, make in SCHEDULES:
            s, targs = make(n)
            f = tvm.build(s, targs, target="llvm")
            A, B, C = tvm.nd.array(a), tvm.nd.array(b), tvm.nd.empty((n, n))
            f(A, B, C)
            err = np.linalg.norm(C.numpy() - ref) / np.linalg.norm(ref)
            assert err < 1e-5, f"{name} at n={n}: relative error {err:.1e}"
            results[name].append(f"{gflop / seconds(lambda f=f, A=A, B=B, C=C: f(A, B, C)):.1f}")
        results["numpy (BLAS)"].append(f"{gflop / seconds(lambda a=a, b=b: a @ b):.1f}")
    rows = [[name] + vals for name, vals in results.items()]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))
    print(fmt(header))
    print(fmt(["-" * w for w in widths]))
    for r in rows:
        print(fmt(r))
    print("\nAll schedules matched numpy (relative error < 1e-5) before timing.")


if __name__ == "__main__":
    main()
