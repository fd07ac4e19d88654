"""Phase 5 — auto-tuning: the auto-scheduler (Ansor) searches the matmul's schedules by itself, and
the winner goes in one table with the hand schedules of phase 3 and numpy.

The search writes every measured candidate to a log as it goes (kill it and run again: it resumes),
then the best record is applied, checked against numpy and timed with the others.
Run: python examples/auto_tune.py [--size 1024] [--trials 200] [--log matmul_autotune.json]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))

import numpy as np  # noqa: E402
from schedule_analysis import SCHEDULES, seconds  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import auto_scheduler, te  # noqa: E402


@auto_scheduler.register_workload
def matmul(M, N, K):
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return [A, B, C]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--per-round", type=int, default=64)
    p.add_argument("--log", default="matmul_autotune.json")
    p.add_argument("--plot", default=None, help="write the tuning curve to this PNG")
    args = p.parse_args()
    n = args.size

    task = auto_scheduler.SearchTask(func=matmul, args=(n, n, n), target="llvm")
    print(f"Computational DAG:\n{task.compute_dag}\n")
    options = auto_scheduler.TuningOptions(
        num_measure_trials=args.trials, num_measures_per_round=min(args.per_round, args.trials), verbose=1,
        measure_callbacks=[auto_scheduler.RecordToFile(args.log)])
    scheduler = auto_scheduler.TaskScheduler([task], [1])
    scheduler.tune(options, plot_file=args.plot)
    sch, targs = task.apply_best(args.log)
    print("\nBest schedule found:\n" + task.print_best(args.log))

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    ref = a @ b
    gflop = 2.0 * n**3 / 1e9
    rows = []
    candidates = [(name, make(n)) for name, make in SCHEDULES] + [("auto-scheduler (tuned)", (sch, targs))]
    for name, (s, sargs) in candidates:
        f = tvm.build(s, sargs, target="llvm")
        A, B, C = tvm.nd.array(a), tvm.nd.array(b), tvm.nd.empty((n, n))
        f(A, B, C)
        err = np.linalg.norm(C.numpy() - ref) / np.linalg.norm(ref)
        assert err < 1e-5, f"{name}: relative error {err:.1e}"
        rows.append((name, gflop / seconds(lambda f=f, A=A, B=B, C=C: f(A, B, C))))
    blas = gflop / seconds(lambda: a @ b)
    rows.append(("numpy (BLAS)", blas))
    width = max(len(r[0]) for r in rows)
    print(f"\nmatmul {n}x{n}x{n} float32, {scheduler.tuners[0].trials} trials")
    print(f"{'schedule'.ljust(width)}  GFLOP/s  vs numpy")
    for name, g in rows:
        print(f"{name.ljust(width)}  {g:7.1f}  {g / blas:7.2f}x")
    print("\nEvery schedule matched numpy (relative error < 1e-5) before timing.")


if __name__ == "__main__":
    main()
