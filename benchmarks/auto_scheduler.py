"""The auto-scheduler (Ansor) against the best library on this machine, side by side in one run.

    python benchmarks/auto_scheduler.py matmul [--size 1024] [--trials 1000]
    python benchmarks/auto_scheduler.py ops [--trials 300] [--only conv2d]
    python benchmarks/auto_scheduler.py models [--models resnet18 mobilenet_v2] [--trials 800]

matmul: tunes C = A @ B (float32) and reports the tuning wall time, trials/s and the tuned kernel
against numpy's BLAS.  ops: tunes the six operator workloads of benchmarks/ops.py as relay graphs
(extract_tasks + TaskScheduler) and times tuned, untuned, PyTorch and ONNX Runtime.  Every result
is checked against numpy / PyTorch first; logs go to --logdir, so an interrupted run resumes.
models: tunes zoo models (extract_tasks + TaskScheduler) and times tuned, untuned, PyTorch and ONNX
Runtime in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from common import interleaved, median_seconds, onnxruntime_run, table  # noqa: E402  (sets thread counts first)

import tilecraft as tvm  # noqa: E402
from tilecraft import auto_scheduler, relay, te  # noqa: E402


@auto_scheduler.register_workload
def bench_matmul(M, N, K):
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    return [A, B, te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")]


def _options(trials, log, per_round=64):
    return auto_scheduler.TuningOptions(num_measure_trials=trials, num_measures_per_round=per_round, verbose=1,
                                        measure_callbacks=[auto_scheduler.RecordToFile(log)])


def matmul(args):
    n = args.size
    log = os.path.join(args.logdir, f"matmul_{n}.json")
    task = auto_scheduler.SearchTask(func=bench_matmul, args=(n, n, n), target="llvm")
    scheduler = auto_scheduler.TaskScheduler([task], [1])
    start = time.time()
    scheduler.tune(_options(args.trials, log), plot_file=log.replace(".json", ".png"))
    wall = time.time() - start
    tuner = scheduler.tuners[0]
    new_trials = tuner.trials - tuner.preloaded
    sch, targs = task.apply_best(log)
    f = tvm.build(sch, targs, target="llvm")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    A, B, C = tvm.nd.array(a), tvm.nd.array(b), tvm.nd.empty((n, n))
    f(A, B, C)
    ref = a @ b
    err = float(np.linalg.norm(C.numpy() - ref) / np.linalg.norm(ref))
    assert err < 1e-5, f"tuned matmul differs from numpy (relative error {err:.1e})"
    t_tc = median_seconds(lambda: f(A, B, C))
    t_np = median_seconds(lambda: a @ b)
    gflop = 2.0 * n**3 / 1e9
    print(table([[f"matmul {n}^3 fp32", str(tuner.trials), f"{wall:.0f}", f"{new_trials / max(wall, 1e-9):.2f}",
                  f"{gflop / t_tc:.1f}", f"{gflop / t_np:.1f}", f"{t_np / t_tc:.2f}"]],
                ["workload", "trials", "tuning s", "trials/s", "tuned GFLOP/s", "numpy GFLOP/s", "tuned/numpy speed"]))


def _build_checked(case, tuned: bool):
    """The workload built tuned (its log's schedules) or untuned, its output checked against PyTorch."""
    from ops import run_checked

    name, mod, params, log, data_vars, inputs, ref = case
    config = {"relay.backend.use_auto_scheduler": True} if tuned else {}
    with tvm.transform.PassContext(opt_level=3, config=config):
        if tuned and os.path.exists(log):
            with auto_scheduler.ApplyHistoryBest(log):
                lib = relay.build(mod, target="llvm", params=params)
        else:
            lib = relay.build(mod, target="llvm", params=params)
    return run_checked(lib, f"{name} ({'tuned' if tuned else 'untuned'})", data_vars, inputs, ref)[0]


def ops(args):
    import torch
    from ops import WORKLOADS, _np

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.manual_seed(0)
    rows = []
    for make in WORKLOADS:
        name, fn, inputs, rvars, out, params = make()
        if args.only and args.only not in name:
            continue
        mod = tvm.IRModule.from_expr(relay.Function(rvars, out))
        log = os.path.join(args.logdir, "ops_" + "".join(c if c.isalnum() else "_" for c in name) + ".json")
        tasks, weights = auto_scheduler.extract_tasks(mod, params, "llvm")
        start = time.time()
        trials = 0
        if tasks:
            scheduler = auto_scheduler.TaskScheduler(tasks, weights)
            scheduler.tune(_options(args.trials, log, per_round=min(64, args.trials)))
            trials = sum(t.trials for t in scheduler.tuners)
        wall = max(time.time() - start, _log_span(log))  # a resumed run: the time its log took to write
        with torch.no_grad():
            ref = _np(fn(*inputs))
        data_vars = [v for v in rvars if v.name_hint not in params]

        _compare((name, mod, params, log, data_vars, inputs, ref), fn, trials, wall, rows, args.rounds, "workload")


def _log_span(log) -> float:
    """Seconds from the first record of a log to its last (records carry a Unix timestamp)."""
    stamps = [json.loads(line)["r"][3] for line in open(log) if line.strip()] if os.path.exists(log) else []
    return float(max(stamps) - min(stamps)) if stamps else 0.0


HEADER = ["trials", "tuning s", "tuned ms", "untuned ms", "PyTorch ms", "ORT ms", "tuned/ORT", "tuned/untuned"]


def _compare(case, module, trials, wall, rows, rounds, what):
    """Time the tuned and untuned builds (checked against PyTorch first), PyTorch and ONNX Runtime,
    taking turns over `rounds` rounds; add the row and print the table so far."""
    import torch

    name, inputs = case[0], case[5]
    tuned, untuned = _build_checked(case, True), _build_checked(case, False)
    with torch.no_grad():
        ort_run, note = onnxruntime_run(module, inputs, int(os.environ["OMP_NUM_THREADS"]))
        t_tuned, t_untuned, t_pt, t_ort = interleaved(
            [tuned.run, untuned.run, lambda: module(*inputs), ort_run], rounds)
    rows.append([name, str(trials), f"{wall:.0f}", f"{t_tuned * 1e3:.3f}", f"{t_untuned * 1e3:.3f}",
                 f"{t_pt * 1e3:.3f}", f"{t_ort * 1e3:.3f}" if t_ort else f"- ({note})",
                 f"{t_tuned / t_ort:.2f}" if t_ort else "-", f"{t_tuned / t_untuned:.2f}"])
    print(table(rows, [what] + HEADER), flush=True)


def models(args):
    import torch

    from tilecraft.models import load

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    rows = []
    for spec in args.models:
        model, inputs = load(spec)
        model.eval()
        with torch.no_grad():
            traced = torch.jit.trace(model, tuple(inputs), check_trace=False)
            ref = model(*inputs)
        ref = (ref[0] if isinstance(ref, (tuple, list)) else ref).numpy()
        names = [f"input{i}" for i in range(len(inputs))]
        mod, params = relay.frontend.from_pytorch(traced, [(n, (tuple(x.shape), str(x.dtype).replace("torch.", "")))
                                                          for n, x in zip(names, inputs)])
        log = os.path.join(args.logdir, f"model_{spec}.json")
        tasks, weights = auto_scheduler.extract_tasks(mod, params, "llvm")
        scheduler = auto_scheduler.TaskScheduler(tasks, weights)
        start = time.time()
        scheduler.tune(_options(args.trials, log, per_round=16), plot_file=log.replace(".json", ".png"))
        wall = max(time.time() - start, _log_span(log))  # a resumed run: the time its log took to write
        _compare((spec, mod, params, log, [relay.var(n) for n in names], inputs, ref), model,
                 sum(t.trials for t in scheduler.tuners), wall, rows, args.rounds, "model")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["matmul", "ops", "models"])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--trials", type=int, default=None, help="1000 for matmul, 300 per workload for ops")
    p.add_argument("--only", default="", help="ops: substring of the workloads to run")
    p.add_argument("--models", nargs="+", default=["resnet18"], help="models: zoo names")
    p.add_argument("--logdir", default=os.path.join(os.path.dirname(__file__), "logs"))
    p.add_argument("--rounds", type=int, default=3, help="ops/models: the systems take turns over this many rounds")
    args = p.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    if args.trials is None:
        args.trials = {"matmul": 1000, "ops": 300, "models": 800}[args.what]
    print(f"{args.what}: {os.environ['OMP_NUM_THREADS']} threads, logs in {args.logdir}")
    {"matmul": matmul, "ops": ops, "models": models}[args.what](args)


if __name__ == "__main__":
    main()
