"""AutoTVM (template tuning) against the best library on this machine, side by side in one run.

    python benchmarks/autotvm.py dense [--size 1024] [--trials 200]
    python benchmarks/autotvm.py models [--models resnet18 mobilenet_v2] [--minutes 30] [--no-graph-tuner]

dense: tunes the dense_pack.x86 template on an N x N x N problem with XGBTuner and times the
tuned kernel, the untuned (fallback) one and numpy's BLAS.  models: extracts a zoo model's
AutoTVM tasks, tunes them with XGBTuner within a wall-time budget (split over the tasks by their
share of the model's FLOPs), runs the graph tuner (DPTuner) over the convolution layouts, and
times tuned, untuned, PyTorch and ONNX Runtime in the same run.  Every result is checked against numpy /
PyTorch first; logs go to --logdir, and a rerun resumes from them (logged configurations are not
measured again).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from common import interleaved, median_seconds, onnxruntime_run, table  # noqa: E402  (sets thread counts first)

import tilecraft as tvm  # noqa: E402
from tilecraft import autotvm, relay  # noqa: E402


def _measure_option():
    return autotvm.measure_option(builder=autotvm.LocalBuilder(),
                                  runner=autotvm.LocalRunner(number=4, repeat=3, min_repeat_ms=50, timeout=10))


def tune_task(task, n_trial, log, option, early_stopping=None):
    """XGBTuner on `task` for n_trial new measurements, resuming from `log` (returns trials run)."""
    tuner = autotvm.tuner.XGBTuner(task, loss_type="rank", feature_type="knob")
    if os.path.exists(log):
        tuner.load_history(autotvm.record.load_from_file(log), min_seed_records=1)
    n_trial = min(n_trial, len(task.config_space) - len(tuner.visited))
    if n_trial <= 0:
        return 0
    tuner.tune(n_trial=n_trial, measure_option=option, early_stopping=early_stopping,
               callbacks=[autotvm.callback.progress_bar(n_trial, prefix=f"[{task.name}]"),
                          autotvm.callback.log_to_file(log)])
    return n_trial


# ---------------------------------------------------------------------------- dense

def dense(args):
    n = args.size
    log = os.path.join(args.logdir, f"autotvm_dense_{n}.log")
    tensor = ("TENSOR", (n, n), "float32")
    task = autotvm.task.create("dense_pack.x86", args=(tensor, tensor, None, "float32"), target="llvm")
    print(f"dense_pack.x86 {n}^3: {len(task.config_space)} configurations")
    start = time.time()
    trials = tune_task(task, args.trials, log, _measure_option())
    wall = time.time() - start
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    ref = a @ w.T
    times = {}
    tuned_ctx = autotvm.apply_history_best(log) if os.path.exists(log) else None
    for label, ctx in (("tuned", tuned_ctx), ("untuned", None)):
        with ctx or _nothing(), tvm.target.Target("llvm"):
            s, targs = task.template(*tvm.tuning.template.deserialize_args(task.args))
        f = tvm.build(s, targs, target="llvm")
        A, W, C = tvm.nd.array(a), tvm.nd.array(w), tvm.nd.empty((n, n))
        f(A, W, C)
        err = float(np.linalg.norm(C.numpy() - ref) / np.linalg.norm(ref))
        assert err < 1e-5, f"{label} dense differs from numpy (relative error {err:.1e})"
        times[label] = median_seconds(lambda f=f, A=A, W=W, C=C: f(A, W, C))
    t_np = median_seconds(lambda: a @ w.T)
    gflop = 2.0 * n**3 / 1e9
    print(table([[f"dense {n}^3 fp32", str(trials), f"{wall:.0f}", f"{gflop / times['tuned']:.1f}",
                  f"{gflop / times['untuned']:.1f}", f"{gflop / t_np:.1f}", f"{t_np / times['tuned']:.2f}"]],
                ["workload", "new trials", "tuning s", "tuned GFLOP/s", "untuned GFLOP/s", "numpy GFLOP/s",
                 "tuned/numpy speed"]))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ---------------------------------------------------------------------------- models

ALTERNATIVES = ("conv2d_nchw.x86", "depthwise_conv2d_nchw.x86", "dense_nopack.x86")


def _budgets(tasks, seconds, seconds_per_trial=0.6, alternatives=False):
    """Trials per task, split by the task's share of FLOPs (at least 16).  The lower-priority
    implementations of a call that has a blocked / packed one (the direct NCHW convolutions, plain
    dense) are tuned only with `alternatives`: choosing them changes layouts, and they rarely win."""
    primary = {t.args[:2] for t in tasks if t.name not in ALTERNATIVES}
    chosen = [t for t in tasks if alternatives or t.name not in ALTERNATIVES or t.args[:2] not in primary]
    flops = sum(t.flop for t in chosen) or 1.0
    return [(t, max(16, int(seconds / seconds_per_trial * t.flop / flops))) for t in chosen]


def _build(mod, params, log=None, graph_log=None):
    ctxs = []
    if log and os.path.exists(log):
        ctxs.append(autotvm.apply_history_best(log))
    if graph_log and os.path.exists(graph_log):
        ctxs.append(autotvm.apply_graph_best(graph_log))
    for c in ctxs:
        c.__enter__()
    try:
        with tvm.transform.PassContext(opt_level=3):
            return relay.build(mod, target="llvm", params=params)
    finally:
        for c in reversed(ctxs):
            c.__exit__(None, None, None)


def models(args):
    import torch
    from ops import run_checked

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
        shapes = [(n, (tuple(x.shape), str(x.dtype).replace("torch.", ""))) for n, x in zip(names, inputs)]
        mod, params = relay.frontend.from_pytorch(traced, shapes)
        log = os.path.join(args.logdir, f"autotvm_{spec}.log")
        graph_log = os.path.join(args.logdir, f"autotvm_{spec}_graph.log")
        tasks = autotvm.task.extract_from_program(mod["main"], params=params, target="llvm")
        option = _measure_option()
        start = time.time()
        deadline = start + args.minutes * 60 * (0.9 if args.graph_tuner else 1.0)
        trials = 0
        plan = _budgets(tasks, args.minutes * 60 * 0.9, alternatives=args.alternatives)
        for k, (task, budget) in enumerate(plan):
            left = deadline - time.time()
            if left <= 0:
                print(f"time budget spent: {len(plan) - k} tasks keep their fallback")
                break
            print(f"[{k + 1}/{len(plan)}] {task.name} {task.args[:2]}: {len(task.config_space)} configurations, "
                  f"{budget} trials")
            trials += tune_task(task, min(budget, int(left)), log, option, early_stopping=max(64, budget // 2))
        if args.graph_tuner and os.path.exists(log):
            from tilecraft.autotvm.graph_tuner import DPTuner

            data_shapes = {n: s for n, (s, _) in shapes}
            gt = DPTuner(mod["main"], data_shapes, log, [relay.op.get("nn.conv2d")], "llvm", params=params)
            gt.benchmark_layout_transform(min_exec_num=200)
            gt.run()
            gt.write_opt_sch2record_file(graph_log)
        wall = time.time() - start
        data_vars = [relay.var(n) for n in names]
        tuned = run_checked(_build(mod, params, log, graph_log if args.graph_tuner else None), f"{spec} tuned",
                            data_vars, inputs, ref)[0]
        untuned = run_checked(_build(mod, params), f"{spec} untuned", data_vars, inputs, ref)[0]
        with torch.no_grad():
            ort_run, _ = onnxruntime_run(model, inputs, int(os.environ["OMP_NUM_THREADS"]))
            t_tuned, t_untuned, t_pt, t_ort = interleaved(
                [tuned.run, untuned.run, lambda model=model, inputs=inputs: model(*inputs), ort_run], args.rounds)
        rows.append([spec, str(trials), f"{wall:.0f}", f"{t_tuned * 1e3:.2f}", f"{t_untuned * 1e3:.2f}",
                     f"{t_pt * 1e3:.2f}", f"{t_ort * 1e3:.2f}" if t_ort else "-",
                     f"{t_tuned / t_ort:.2f}" if t_ort else "-", f"{t_tuned / t_untuned:.2f}"])
    print(table(rows, ["model", "new trials", "tuning s", "tuned ms", "untuned ms", "PyTorch ms", "ORT ms",
                       "tuned/ORT", "tuned/untuned"]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["dense", "models"])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--trials", type=int, default=200, help="dense: new trials")
    p.add_argument("--models", nargs="+", default=["resnet18"], help="models: zoo names")
    p.add_argument("--minutes", type=float, default=30.0, help="models: tuning budget per model")
    p.add_argument("--no-graph-tuner", dest="graph_tuner", action="store_false")
    p.add_argument("--alternatives", action="store_true", help="models: also tune the direct / plain kernels")
    p.add_argument("--rounds", type=int, default=5, help="models: timing rounds (systems take turns)")
    p.add_argument("--logdir", default=os.path.join(os.path.dirname(__file__), "logs"))
    args = p.parse_args()
    os.makedirs(args.logdir, exist_ok=True)
    print(f"{args.what}: {os.environ['OMP_NUM_THREADS']} threads, logs in {args.logdir}")
    {"dense": dense, "models": models}[args.what](args)


if __name__ == "__main__":
    main()
