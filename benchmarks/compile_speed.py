"""Compile speed: tuning lowers and builds thousands of candidates, so this path is a feature.

Prints lower and build times (median of several runs) for the classic GEMM recipe and for a
100-stage element-wise chain.  Targets: GEMM < 0.5 s, chain < 2 s.

    python benchmarks/compile_speed.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import table  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import te, topi  # noqa: E402


def gemm():
    A = te.placeholder((1024, 1024), name="A")
    B = te.placeholder((1024, 1024), name="B")
    C = topi.matmul_packed(A, B)
    s = te.create_schedule(C.op)
    topi.x86.schedule_matmul_packed(s, C)
    return s, [A, B, C]


def chain(stages=100, n=4096):
    A = te.placeholder((n,), name="A")
    T = A
    for i in range(stages):
        T = te.compute((n,), lambda j, T=T, i=i: T[j] * 1.0001 + float(i % 7), name=f"T{i}")
    s = te.create_schedule(T.op)
    return s, [A, T]


def measure(make, repeat=5):
    lows, builds = [], []
    for _ in range(repeat):
        s, args = make()
        t0 = time.perf_counter()
        tvm.lower(s, args)
        t1 = time.perf_counter()
        s, args = make()
        t2 = time.perf_counter()
        tvm.build(s, args, target="llvm")
        t3 = time.perf_counter()
        lows.append(t1 - t0)
        builds.append(t3 - t2)
    return statistics.median(lows), statistics.median(builds)


def main():
    tvm.build(*chain(2, 16), target="llvm")  # warm up llvmlite and imports
    rows = []
    for name, make, limit in [("GEMM recipe 1024^3", gemm, 0.5), ("100-stage element-wise chain", chain, 2.0)]:
        lo, bu = measure(make)
        rows.append([name, f"{lo * 1e3:.0f}", f"{bu * 1e3:.0f}", f"{limit * 1e3:.0f}",
                     "ok" if bu < limit else "SLOW"])
    print(table(rows, ["workload", "lower ms", "lower+build ms", "limit ms", ""]))


if __name__ == "__main__":
    main()
