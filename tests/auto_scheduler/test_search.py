"""Sketches, the search policy and the tuning loop: every candidate computes what numpy computes,
crashing and hanging candidates become error records, a killed run resumes from its log, and a
tuned whole model builds with its tuned schedules."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import auto_scheduler, relay, te, tir
from tilecraft.auto_scheduler.auto_schedule import DEFAULT_MEASUREMENTS
from tilecraft.auto_scheduler.sketch import generate_sketches
from tilecraft.contrib import graph_executor

FAST_RUNNER = dict(number=1, repeat=1, min_repeat_ms=0)


@auto_scheduler.register_workload
def search_matmul(n, m, k):
    A = te.placeholder((n, k), name="A")
    B = te.placeholder((k, m), name="B")
    r = te.reduce_axis((0, k), name="r")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), name="C")
    return [A, B, C]


@auto_scheduler.register_workload
def search_matmul_relu(n):
    A, B, C = search_matmul(n, n, n)
    D = te.compute((n, n), lambda i, j: te.max(C[i, j] + 1.0, 0.0), name="D")
    return [A, B, D]


@auto_scheduler.register_workload
def search_row_sum(rows, cols):
    A = te.placeholder((rows, cols), name="A")
    r = te.reduce_axis((0, cols), name="r")
    return [A, te.compute((rows,), lambda i: te.sum(A[i, r], axis=r), name="S")]


@auto_scheduler.register_workload
def search_misbehaving(n, kind):
    """Every schedule of this kernel raises SIGSEGV or sleeps inside the kernel."""
    A = te.placeholder((n, n), name="A")
    call = tir.Call("int32", "call_extern", (tir.StringImm("raise" if kind == "segv" else "sleep"),
                                              tvm.tir.const(int(signal.SIGSEGV) if kind == "segv" else 600, "int32")))
    return [A, te.compute((n, n), lambda i, j: A[i, j] + call.astype("float32"), name="B")]


def _task(func, *args):
    return auto_scheduler.SearchTask(func=func, args=args, target="llvm")


def _policy(task, seed=0):
    return auto_scheduler.SketchPolicy(task, seed=seed, verbose=0)


def _run(sch, args, inputs):
    f = tvm.build(sch, args)
    out = [tvm.nd.array(np.full([int(s) for s in t.shape], np.nan, "float32")) for t in args[len(inputs):]]
    f(*[tvm.nd.array(x) for x in inputs], *out)
    return out[-1].numpy()


def test_sketches_follow_the_cpu_rules():
    mm = _policy(_task(search_matmul, 32, 32, 32))
    # with a write cache fused at two tile levels, and plain multi-level tiling
    assert len(mm.sketches) == 3
    assert sum("C.local" in str(s) or "C_local" in str(s) for s in mm.sketches) == 2
    fused = _policy(_task(search_matmul_relu, 32))
    # the element-wise consumer takes the tiles (two levels); nothing else
    assert len(fused.sketches) == 2 and all("compute_at" in repr(s.transform_steps) or "ComputeAt" in
                                            repr(s.transform_steps) for s in fused.sketches)
    reduce = _policy(_task(search_row_sum, 2, 4096))
    # little spatial parallelism: rfactor the reduction (outer or inner part), or leave it
    assert len(reduce.sketches) == 3
    assert sum("rf" in str(s) for s in reduce.sketches) == 2
    assert len(generate_sketches(mm)) == 3


@pytest.mark.parametrize("workload,args,make_ref", [
    (search_matmul, (24, 40, 16), lambda a, b: a @ b),
    (search_matmul_relu, (32,), lambda a, b: np.maximum(a @ b + 1.0, 0.0)),
    (search_row_sum, (2, 512), lambda a: a.sum(axis=1)),
])
def test_every_candidate_computes_the_same_numbers(workload, args, make_ref):
    task = _task(workload, *args)
    policy = _policy(task, seed=1)
    rng = np.random.default_rng(0)
    dag_args = task.compute_dag.tensors
    inputs = [rng.random([int(s) for s in t.shape], "float32") + 0.5 for t in dag_args[:-1]]
    ref = make_ref(*[x.astype("float64") for x in inputs])
    recipes = [r for r, _ in policy.sample_initial_population(6)]
    recipes += [policy.mutate(r) for r in recipes]
    checked = 0
    for r in recipes:
        state = policy.materialize(r)
        if state is None:
            continue
        sch, targs = task.compute_dag.apply_steps_from_state(state)
        np.testing.assert_allclose(_run(sch, targs, inputs), ref, rtol=1e-4, err_msg=str(state))
        checked += 1
    assert checked >= 6


def test_seed_003_flow_tunes_records_and_applies_the_best(tmp_path):
    log = str(tmp_path / "matmul.json")
    task = _task(search_matmul, 64, 64, 64)
    tune_option = auto_scheduler.TuningOptions(
        num_measure_trials=6, num_measures_per_round=3, verbose=0,
        runner=auto_scheduler.LocalRunner(**FAST_RUNNER), measure_callbacks=[auto_scheduler.RecordToFile(log)])
    task.tune(tune_option, search_policy=_policy(task))
    lines = [json.loads(x) for x in open(log)]
    assert len(lines) == 6 and all(x["v"] == "v0.6" and x["r"][1] == 0 for x in lines)
    sch, args = task.apply_best(log)
    a, b = np.random.rand(64, 64).astype("float32"), np.random.rand(64, 64).astype("float32")
    np.testing.assert_allclose(_run(sch, args, [a, b]), a @ b, rtol=1e-4)
    assert "s = te.create_schedule" in task.print_best(log)


@pytest.mark.parametrize("kind,error_no", [("segv", 4), ("hang", 7)])
def test_crashing_and_hanging_candidates_become_error_records(tmp_path, kind, error_no):
    log = str(tmp_path / "bad.json")
    task = _task(search_misbehaving, 16, kind)
    options = auto_scheduler.TuningOptions(
        num_measure_trials=2, num_measures_per_round=2, verbose=0,
        runner=auto_scheduler.LocalRunner(timeout=2, **FAST_RUNNER),
        measure_callbacks=[auto_scheduler.RecordToFile(log)])
    sch, args = auto_scheduler.auto_schedule(task, _policy(task), options)  # finishes: the default schedule
    assert [json.loads(x)["r"][1] for x in open(log)] == [error_no, error_no]
    assert sch is not None and len(args) == 2


RESUMABLE = """
    import sys
    sys.path.insert(0, {tests!r})
    from tilecraft import auto_scheduler
    from test_search import search_matmul
    task = auto_scheduler.SearchTask(func=search_matmul, args=(32, 32, 32), target="llvm")
    options = auto_scheduler.TuningOptions(
        num_measure_trials=400, num_measures_per_round=4, verbose=0,
        runner=auto_scheduler.LocalRunner(number=1, repeat=1, min_repeat_ms=0),
        measure_callbacks=[auto_scheduler.RecordToFile({log!r})])
    auto_scheduler.auto_schedule(task, auto_scheduler.SketchPolicy(seed=0, verbose=0), options)
"""


def _steps(log):
    return [json.dumps(json.loads(line)["i"][1]) for line in open(log) if line.endswith("\n")]


def test_a_run_killed_with_sigkill_resumes_without_measuring_anything_twice(tmp_path):
    log = str(tmp_path / "resume.json")
    script = tmp_path / "tune.py"
    script.write_text(textwrap.dedent(RESUMABLE.format(tests=os.path.dirname(__file__), log=log)))
    proc = subprocess.Popen([sys.executable, str(script)])
    deadline = time.time() + 120
    while time.time() < deadline and (not os.path.exists(log) or len(open(log).readlines()) < 5):
        time.sleep(0.05)
    time.sleep(np.random.default_rng().random() * 0.5)  # a random moment of the run
    proc.kill()
    proc.wait()
    before = _steps(log)
    assert len(before) >= 5
    task = _task(search_matmul, 32, 32, 32)
    options = auto_scheduler.TuningOptions(
        num_measure_trials=len(before) + 4, num_measures_per_round=4, verbose=0,
        runner=auto_scheduler.LocalRunner(**FAST_RUNNER), measure_callbacks=[auto_scheduler.RecordToFile(log)])
    auto_scheduler.auto_schedule(task, _policy(task, seed=3), options)
    after = _steps(log)
    assert after[: len(before)] == before  # the log is appended to, never rewritten
    assert len(after) == len(before) + 4  # the budget counts the logged candidates
    assert len(set(after)) == len(after)  # nothing measured twice


def _small_model():
    x = relay.var("x", shape=(1, 4, 8, 8))
    w = relay.const(np.random.default_rng(0).standard_normal((8, 4, 3, 3)).astype("float32"))
    y = relay.nn.relu(relay.nn.conv2d(x, w, padding=(1, 1)))
    w2 = relay.const(np.random.default_rng(1).standard_normal((10, 8 * 8 * 8)).astype("float32"))
    y = relay.nn.dense(relay.nn.batch_flatten(y), w2)
    return tvm.IRModule.from_expr(relay.Function([x], y))


def _run_model(lib, a):
    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    m.set_input("x", a)
    m.run()
    return m.get_output(0).numpy()


def test_a_tuned_model_builds_with_its_tuned_schedules(tmp_path):
    mod = _small_model()
    tasks, weights = auto_scheduler.extract_tasks(mod, {}, "llvm")
    assert len(tasks) == 2 and weights == [1, 1]
    assert any("conv2d" in t.desc for t in tasks) and any("dense" in t.desc for t in tasks)
    log = str(tmp_path / "model.json")
    scheduler = auto_scheduler.TaskScheduler(tasks, weights)
    options = auto_scheduler.TuningOptions(
        num_measure_trials=8, num_measures_per_round=2, verbose=0,
        runner=auto_scheduler.LocalRunner(**FAST_RUNNER), measure_callbacks=[auto_scheduler.RecordToFile(log)])
    scheduler.tune(options, search_policy="sketch.random", plot_file=str(tmp_path / "curve.png"))
    assert os.path.getsize(tmp_path / "curve.png") > 1000
    assert sum(t.trials for t in scheduler.tuners) == 8 and scheduler.objective() < float("inf")
    a = np.random.rand(1, 4, 8, 8).astype("float32")
    ref = _run_model(relay.build(mod, target="llvm"), a)
    ctx = auto_scheduler.ApplyHistoryBest(log)
    with ctx, tvm.transform.PassContext(opt_level=3, config={"relay.backend.use_auto_scheduler": True}):
        lib = relay.build(mod, target="llvm")
    np.testing.assert_allclose(_run_model(lib, a), ref, rtol=1e-4, atol=1e-4)
    tuned = {t.workload_key for t in tasks}
    assert not tuned & set(ctx.misses)  # both tasks were found in the log


def _lowered(sch, args):
    return str(tvm.lower(sch, args, name="f"))


def test_a_model_task_measures_its_default_schedule_first_and_keeps_it_when_fastest(tmp_path):
    """The strategies' kernels are each extracted task's first candidate (a record with no steps),
    checked against the reference like any other (and timed again, a few times at most, while a
    tuned candidate leads); when they measured fastest, relay.build and apply_best use them, so
    tuning never deploys a schedule slower than the untuned one."""
    mod = _small_model()
    tasks, weights = auto_scheduler.extract_tasks(mod, {}, "llvm")
    log = str(tmp_path / "model.json")
    options = auto_scheduler.TuningOptions(
        num_measure_trials=6, num_measures_per_round=3, verbose=0,
        runner=auto_scheduler.LocalRunner(check_correctness=True, **FAST_RUNNER),
        measure_callbacks=[auto_scheduler.RecordToFile(log)])
    auto_scheduler.TaskScheduler(tasks, weights).tune(options, search_policy="sketch.random")
    records = [json.loads(line) for line in open(log)]
    for task in tasks:
        mine = [r for r in records if r["i"][0][0] == task.workload_key]
        assert mine[0]["i"][1][1] == [] and mine[0]["r"][1] == 0  # measured first, right numbers
        assert sum(not r["i"][1][1] for r in mine) <= DEFAULT_MEASUREMENTS
    for r in records:  # make every default the fastest
        r["r"][0] = [1e-9] if not r["i"][1][1] else [1.0]
    with open(log, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    for task in tasks:
        assert _lowered(*task.apply_best(log)) == _lowered(*task.default_schedule())
        assert "default schedule" in task.print_best(log)
    a = np.random.rand(1, 4, 8, 8).astype("float32")
    with tvm.transform.PassContext(opt_level=3):
        untuned = relay.build(mod, target="llvm")
    ctx = auto_scheduler.ApplyHistoryBest(log)
    with ctx, tvm.transform.PassContext(opt_level=3, config={"relay.backend.use_auto_scheduler": True}):
        lib = relay.build(mod, target="llvm")
    assert not {t.workload_key for t in tasks} & set(ctx.misses)
    assert lib.get_lib().get_source() == untuned.get_lib().get_source()
    np.testing.assert_allclose(_run_model(lib, a), _run_model(untuned, a), rtol=1e-5, atol=1e-5)
    # resuming measures no default schedule again: each is the fastest already
    options.num_measure_trials = 8
    auto_scheduler.TaskScheduler(tasks, weights).tune(options, search_policy="sketch.random")
    added = [json.loads(line) for line in open(log)][len(records):]
    assert len(added) == 2 and all(r["i"][1][1] for r in added)


def test_dask_local_cluster_tunes_and_its_records_are_applied(tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    log = str(tmp_path / "dask.json")
    task = _task(search_matmul, 32, 32, 32)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        options = auto_scheduler.TuningOptions(
            num_measure_trials=3, num_measures_per_round=3, verbose=0,
            builder=auto_scheduler.DaskBuilder(client), runner=auto_scheduler.DaskRunner(client, **FAST_RUNNER),
            measure_callbacks=[auto_scheduler.RecordToFile(log)])
        auto_scheduler.auto_schedule(task, _policy(task), options)
    assert [json.loads(x)["r"][1] for x in open(log)] == [0, 0, 0]
    sch, args = task.apply_best(log)
    a, b = np.random.rand(32, 32).astype("float32"), np.random.rand(32, 32).astype("float32")
    np.testing.assert_allclose(_run(sch, args, [a, b]), a @ b, rtol=1e-4)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="SketchPolicy has no parameter 'sketch_max'"):
        auto_scheduler.SketchPolicy(sketch_max=3)
    with pytest.raises(TypeError, match=r"TuningOptions\(runner=...\)"):
        auto_scheduler.TuningOptions(runner="remote")
    with pytest.raises(ValueError, match="num_measure_trials"):
        auto_scheduler.TuningOptions(num_measure_trials=-1)
    with pytest.raises(ValueError, match=r"num_measure_trials=...\) takes an integer >= 0, got 'ten'"):
        auto_scheduler.TuningOptions(num_measure_trials="ten")
    with pytest.raises(TypeError, match="program_cost_model"):
        auto_scheduler.SketchPolicy(program_cost_model="xgb")
    with pytest.raises(FileNotFoundError, match="no tuning log at '/nonexistent/log.json'"):
        auto_scheduler.ApplyHistoryBest("/nonexistent/log.json")
    with pytest.raises(OSError, match="cannot write the tuning log"):
        auto_scheduler.RecordToFile("/proc/no/such/dir/log.json")
    with pytest.raises(ValueError, match="strategy"):
        auto_scheduler.TaskScheduler([_task(search_matmul, 8, 8, 8)], strategy="fastest")
