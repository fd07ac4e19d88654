"""AutoTVM tuners and callbacks.

Most tests tune a synthetic space (a small matmul template with 7 x 7 x 4 = 196 points) through a
fake builder/runner whose "cost" is a fixed function of the configuration with one hidden best
point, so they are fast and deterministic; one test tunes for real (LocalBuilder/LocalRunner)
and checks the tuned kernel against numpy, and one kills a tuning process with SIGKILL and
resumes it from its log.
"""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import autotvm, te
from tilecraft.autotvm.tuner import GATuner, GridSearchTuner, RandomTuner, XGBTuner
from tilecraft.tuning import BuildResult, MeasureResult
from tilecraft.tuning.template import config_for

HERE = Path(__file__).resolve().parent
N = 64


@autotvm.template("test_tuner/matmul")
def matmul(n, l, m, dtype):
    A = te.placeholder((n, l), name="A", dtype=dtype)
    B = te.placeholder((l, m), name="B", dtype=dtype)
    k = te.reduce_axis((0, l), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    y, x = s[C].op.axis
    cfg = autotvm.get_config()
    cfg.define_split("tile_y", y, num_outputs=2)
    cfg.define_split("tile_x", x, num_outputs=2)
    cfg.define_knob("ann", [0, 1, 2, 3])  # bit 0: vectorize the inner x loop, bit 1: unroll the inner y loop
    yo, yi = cfg["tile_y"].apply(s, C, y)
    xo, xi = cfg["tile_x"].apply(s, C, x)
    (kk,) = s[C].op.reduce_axis
    s[C].reorder(yo, xo, kk, yi, xi)
    if cfg["ann"].val & 1:
        s[C].vectorize(xi)
    if cfg["ann"].val & 2:
        s[C].unroll(yi)
    return s, [A, B, C]


def synthetic_cost(config) -> float:
    """Seconds, smallest (uniquely) at tile_y inner 8, tile_x inner 16, ann 3."""
    ly = math.log2(config["tile_y"].size[-1])
    lx = math.log2(config["tile_x"].size[-1])
    ann = config["ann"].val
    return 1e-4 * (1 + (ly - 3) ** 2 + 0.7 * (lx - 4) ** 2 + 0.5 * (ann & 1 == 0) + 0.3 * (ann & 2 == 0))


class FakeBuilder:
    """Builds nothing; `n_parallel` is the tuner's batch size."""

    def __init__(self, n_parallel=4):
        self.n_parallel = n_parallel

    def build(self, inputs, verbose=0):
        return [BuildResult("", (), 0, "", 0.0) for _ in inputs]


class FakeRunner:
    """'Measures' synthetic_cost, remembering every index measured (and sleeping, if asked)."""

    def __init__(self, sleep=0.0, cost=synthetic_cost):
        self.sleep, self.cost, self.measured = sleep, cost, []

    def run(self, inputs, build_results, verbose=0):
        out = []
        for inp in inputs:
            time.sleep(self.sleep)
            self.measured.append(inp.config.index)
            cost = self.cost(inp.config)
            out.append(MeasureResult((cost,), 0, "", cost, time.time()))
        return out


def make_task():
    return autotvm.task.create("test_tuner/matmul", args=(N, N, N, "float32"), target="llvm")


def fake_option(runner=None, n_parallel=4):
    return autotvm.measure_option(builder=FakeBuilder(n_parallel), runner=runner or FakeRunner())


@pytest.fixture(scope="module")
def task():
    return make_task()


@pytest.fixture(scope="module")
def best_index(task):
    space = task.config_space
    return min(range(len(space)), key=lambda i: synthetic_cost(space.get(i)))


# ------------------------------------------------------------------------------ the loop


def test_space_is_the_synthetic_one(task, best_index):
    assert len(task.config_space) == 196 and task.flop == 2 * N**3
    best = task.config_space.get(best_index)
    assert best["tile_y"].size == [-1, 8] and best["tile_x"].size == [-1, 16] and best["ann"].val == 3


@pytest.mark.parametrize("make", [RandomTuner, GridSearchTuner, lambda t: GATuner(t, pop_size=16),
                                  lambda t: XGBTuner(t, plan_size=16, feature_type="knob")],
                         ids=["random", "grid", "ga", "xgb"])
def test_each_tuner_measures_every_config_at_most_once(task, best_index, make):
    np.random.seed(0)
    runner = FakeRunner()
    tuner = make(task)
    tuner.tune(250, fake_option(runner))  # more trials than points: stops when the space is exhausted
    assert sorted(runner.measured) == list(range(len(task.config_space)))
    assert not tuner.has_next()
    assert tuner.best_config.index == best_index
    assert tuner.best_flops == pytest.approx(task.flop / synthetic_cost(tuner.best_config))
    assert tuner.best_measure_pair[0].config.index == best_index


@autotvm.template("test_tuner/constrained")
def constrained(n):
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 2.0, name="B")
    s = te.create_schedule(B.op)
    cfg = autotvm.get_config()
    cfg.define_knob("a", [0, 1, 2, 3])
    cfg.define_knob("b", [0, 1, 2, 3])
    cfg.multi_filter(lambda e: e["a"].val <= e["b"].val)  # 10 of the 16 points
    return s, [A, B]


@pytest.mark.parametrize("make", [RandomTuner, GridSearchTuner, lambda t: GATuner(t, pop_size=4),
                                  lambda t: XGBTuner(t, plan_size=4, feature_type="knob")],
                         ids=["random", "grid", "ga", "xgb"])
def test_tuners_measure_only_points_the_constraints_allow(make):
    np.random.seed(8)
    task = autotvm.task.create("test_tuner/constrained", args=(16,), target="llvm")
    valid = [i for i in range(len(task.config_space)) if task.config_space.is_index_valid(i)]
    assert len(valid) == 10
    runner = FakeRunner(cost=lambda c: 1e-4 * (1 + c["a"].val + 3 - c["b"].val))
    tuner = make(task)
    tuner.tune(30, fake_option(runner))
    assert sorted(runner.measured) == valid
    assert tuner.best_config.get_other_option() == {"a": 0, "b": 3}


def test_reset_forgets_what_was_measured(task):
    np.random.seed(9)
    runner = FakeRunner()
    tuner = XGBTuner(task, plan_size=8, feature_type="knob")
    tuner.tune(16, fake_option(runner))
    assert len(tuner.visited) == 16 and tuner.best_config is not None and tuner.cost_model.bst is not None
    tuner.reset()
    assert tuner.visited == set() and tuner.best_config is None and tuner.best_flops == 0
    assert tuner.xs == [] and tuner.cost_model.bst is None
    tuner.tune(8, fake_option(runner))
    assert len(runner.measured) == 24


def test_grid_search_goes_in_index_order(task):
    runner = FakeRunner()
    GridSearchTuner(task).tune(20, fake_option(runner))
    assert runner.measured == list(range(20))
    runner = FakeRunner()
    tuner = GridSearchTuner(task, range_idx=(50, 59))
    tuner.tune(100, fake_option(runner))
    assert runner.measured == list(range(50, 60))
    with pytest.raises(ValueError, match="range_idx"):
        GridSearchTuner(task, range_idx=(5, 196))


def test_random_tuner_respects_its_range(task):
    np.random.seed(1)
    runner = FakeRunner()
    RandomTuner(task, range_idx=(10, 29)).tune(100, fake_option(runner))
    assert sorted(runner.measured) == list(range(10, 30))


def test_early_stopping_stops_after_trials_without_improvement(task):
    runner = FakeRunner()
    tuner = GridSearchTuner(task)
    # in index order (tile_y fastest, then tile_x, then ann) the best so far improves last at
    # index 31 (tile_y inner 8, tile_x inner 16, ann 0); the next better one is index 80 (ann 1).
    # 10 trials after 31 the run stops, at the end of the batch of 4 holding trial 41
    tuner.tune(196, fake_option(runner, n_parallel=4), early_stopping=10)
    assert tuner.best_iter == 31 and len(runner.measured) == 44
    tuner = GridSearchTuner(task)
    tuner.tune(196, fake_option(runner, n_parallel=4), early_stopping=60)  # 80 - 31 < 60: goes on
    assert tuner.best_iter >= 80


def test_callbacks_and_monitor(task, capsys):
    np.random.seed(2)
    monitor = autotvm.callback.Monitor()
    seen = []
    tuner = RandomTuner(task)
    tuner.tune(10, fake_option(n_parallel=3), callbacks=[monitor, lambda t, i, r: seen.append(len(i)),
                                                        autotvm.callback.progress_bar(10, prefix="[Task 1/1]")])
    assert seen == [3, 3, 3, 1]
    scores = monitor.trial_scores()
    assert len(scores) == 10 and scores.max() == pytest.approx(tuner.best_flops)
    assert len(monitor.trial_timestamps()) == 10
    out = capsys.readouterr().out
    assert "[Task 1/1] Current/Best:" in out and "GFLOPS | Progress: (10/10)" in out and "Done." in out


def test_bad_arguments_are_named(task):
    tuner = RandomTuner(task)
    for bad in (0, -3, 2.5, "10", True):
        with pytest.raises(ValueError, match="n_trial"):
            tuner.tune(bad, fake_option())
    for bad in (None, {"builder": FakeBuilder()}, [FakeBuilder(), FakeRunner()]):
        with pytest.raises(TypeError, match="autotvm.measure_option"):
            tuner.tune(5, bad)
    with pytest.raises(ValueError, match="feature_type"):
        XGBTuner(task, feature_type="loops")
    with pytest.raises(ValueError, match="loss_type"):
        XGBTuner(task, loss_type="huber")
    with pytest.raises(TypeError, match="autotvm.task.create"):
        RandomTuner("matmul")


# ------------------------------------------------------------------------------ search quality


def trials_to_best(make, task, best_index, seed) -> int:
    np.random.seed(seed)
    runner = FakeRunner()
    tuner = make(task)
    option = fake_option(runner)
    while best_index not in runner.measured:
        tuner.tune(8, option)
    return runner.measured.index(best_index) + 1


@pytest.mark.parametrize("make", [
    lambda t: GATuner(t, pop_size=16, elite_num=3),
    lambda t: XGBTuner(t, plan_size=16, feature_type="knob", loss_type="reg"),
    lambda t: XGBTuner(t, plan_size=16, feature_type="knob", loss_type="rank"),
    lambda t: XGBTuner(t, plan_size=16, feature_type="itervar", loss_type="reg"),
    lambda t: XGBTuner(t, plan_size=16, feature_type="itervar", loss_type="rank"),
    lambda t: XGBTuner(t, plan_size=16, feature_type="curve", loss_type="rank-binary"),
], ids=["ga", "xgb-knob-reg", "xgb-knob-rank", "xgb-itervar-reg", "xgb-itervar-rank", "xgb-curve-rank-binary"])
def test_guided_tuners_find_the_best_faster_than_random(task, best_index, make):
    seeds = range(4)
    guided = np.mean([trials_to_best(make, task, best_index, s) for s in seeds])
    random_ = np.mean([trials_to_best(RandomTuner, task, best_index, s) for s in range(12)])
    # random search needs (196 + 1) / 2 = 98.5 trials on average
    assert guided < 0.7 * 98.5 and guided < random_, (guided, random_)


def test_itervar_features_see_the_loop_nest(task):
    from tilecraft.autotvm.tuner.features import FeatureCache

    space = task.config_space
    cache = FeatureCache(task, "itervar")
    a = space.knob2point([3, 4, 0])
    b = space.knob2point([3, 4, 1])  # the same tiles, vectorized
    c = space.knob2point([3, 5, 0])  # other tiles
    va, vb, vc = cache.get([a, b, c])
    assert va.shape == vb.shape == vc.shape and not np.array_equal(va, vb) and not np.array_equal(va, vc)
    assert cache.get([a])[0] is va and cache.extracted == 3  # cached per index
    curve = FeatureCache(task, "curve").get([a, b])
    assert curve[0].shape == curve[1].shape and not np.array_equal(*curve)


# ------------------------------------------------------------------------------ logs and resuming


def test_log_to_file_writes_v02_records_that_load_back(task, tmp_path):
    np.random.seed(3)
    log = tmp_path / "tune.log"
    runner = FakeRunner()
    tuner = RandomTuner(task)
    tuner.tune(12, fake_option(runner), callbacks=[autotvm.callback.log_to_file(str(log))])
    tuner.tune(5, fake_option(runner), callbacks=[autotvm.callback.log_to_file(log)])  # a Path appends too
    lines = log.read_text().splitlines()
    assert len(lines) == 17
    import json

    row = json.loads(lines[0])
    assert row["version"] == 0.2 and row["input"][:3] == ["llvm", "test_tuner/matmul", [N, N, N, "float32"]]
    assert [e[0] for e in row["config"]["entity"]] == ["tile_y", "tile_x", "ann"]
    records = list(autotvm.record.load_from_file(str(log)))
    assert [inp.config.index for inp, _ in records] == runner.measured
    for inp, res in records:
        assert res.error_no == 0 and res.costs[0] == pytest.approx(synthetic_cost(inp.config))
    assert tuner.best_config.index == min(runner.measured, key=lambda i: synthetic_cost(task.config_space.get(i)))


@pytest.mark.parametrize("make", [RandomTuner, GridSearchTuner, lambda t: GATuner(t, pop_size=8),
                                  lambda t: XGBTuner(t, plan_size=8, feature_type="knob")],
                         ids=["random", "grid", "ga", "xgb"])
def test_load_history_skips_logged_configs(task, tmp_path, make):
    np.random.seed(4)
    log = tmp_path / "tune.log"
    first = FakeRunner()
    make(task).tune(30, fake_option(first), callbacks=[autotvm.callback.log_to_file(log)])
    resumed = make(task)
    resumed.load_history(autotvm.record.load_from_file(log))
    logged_best = min(first.measured, key=lambda i: synthetic_cost(task.config_space.get(i)))
    assert resumed.best_config.index == logged_best and set(first.measured) <= resumed.visited
    second = FakeRunner()
    resumed.tune(40, fake_option(second), callbacks=[autotvm.callback.log_to_file(log)])
    assert len(second.measured) == 40 and not set(second.measured) & set(first.measured)
    assert len(set(second.measured)) == 40


def test_load_history_ignores_other_workloads(task, tmp_path):
    np.random.seed(5)
    other = autotvm.task.create("test_tuner/matmul", args=(32, N, N, "float32"), target="llvm")
    log = tmp_path / "other.log"
    runner = FakeRunner()
    RandomTuner(other).tune(10, fake_option(runner), callbacks=[autotvm.callback.log_to_file(log)])
    tuner = XGBTuner(task, plan_size=8, feature_type="knob")
    tuner.load_history(autotvm.record.load_from_file(log), min_seed_records=5)  # transfer learning
    assert tuner.visited == set() and tuner.best_config is None
    assert tuner.cost_model.base_model is not None and len(tuner.trials) == 8  # the base model plans
    plan = list(tuner.trials)
    second = FakeRunner()
    tuner.tune(8, fake_option(second))
    # the template's default configuration first, then the plan (no random tail: 5 % of 8 is 0)
    default = task.config_space.index_of(task.fallback_config())
    assert second.measured == [default] + [i for i in plan if i != default][:7]


RESUME_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    import numpy as np
    from tilecraft import autotvm
    from tilecraft.autotvm.tuner import XGBTuner
    import test_tuner as t

    np.random.seed(7)
    task = t.make_task()
    tuner = XGBTuner(task, plan_size=4, feature_type="knob")
    tuner.tune(196, t.fake_option(t.FakeRunner(sleep=0.2), n_parallel=1),
               callbacks=[autotvm.callback.log_to_file({log!r})])
""")


def test_killed_run_resumes_from_its_log(task, tmp_path):
    log = tmp_path / "killed.log"
    script = tmp_path / "tune.py"
    script.write_text(RESUME_SCRIPT.format(here=str(HERE), log=str(log)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            if log.exists() and log.read_text().count("\n") >= 10:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    records = list(autotvm.record.load_from_file(log))
    logged = [inp.config.index for inp, _ in records]
    assert len(logged) >= 10 and len(set(logged)) == len(logged)
    tuner = XGBTuner(task, plan_size=4, feature_type="knob")
    tuner.load_history(autotvm.record.load_from_file(log))
    assert len(tuner.xs) == len(logged) and tuner.train_ct >= 1  # trained on the log at once
    runner = FakeRunner()
    tuner.tune(20, fake_option(runner, n_parallel=1), callbacks=[autotvm.callback.log_to_file(log)])
    assert len(runner.measured) == 20 and not set(runner.measured) & set(logged)
    again = list(autotvm.record.load_from_file(log))
    assert [inp.config.index for inp, _ in again] == logged + runner.measured


# ------------------------------------------------------------------------------ for real


def test_real_tuning_end_to_end(tmp_path):
    np.random.seed(6)
    log = str(tmp_path / "matmul.log")
    task = make_task()
    option = autotvm.measure_option(builder=autotvm.LocalBuilder(timeout=30, n_parallel=2),
                                    runner=autotvm.LocalRunner(timeout=10, number=2, repeat=1, min_repeat_ms=0))
    try:
        tuner = RandomTuner(task)
        tuner.tune(6, option, callbacks=[autotvm.callback.log_to_file(log)])
    finally:
        option["builder"].close()
        option["runner"].close()
    records = list(autotvm.record.load_from_file(log))
    assert len(records) == 6
    valid = [(inp, res) for inp, res in records if res.error_no == 0]
    assert valid, [res for _, res in records]
    best = min(valid, key=lambda p: p[1].mean_cost)[0].config
    assert tuner.best_config == best and tuner.best_flops > 0
    with autotvm.apply_history_best(log):
        with tvm.target.Target("llvm"):
            s, args = matmul(N, N, N, "float32")
            assert config_for(("test_tuner/matmul", N, N, N, "float32")) == best  # what the template used
    func = tvm.build(s, args, target="llvm")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((N, N)).astype("float32")
    b = rng.standard_normal((N, N)).astype("float32")
    c = tvm.nd.empty((N, N), "float32")
    func(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("make", [RandomTuner, lambda t: GATuner(t, pop_size=8),
                                  lambda t: XGBTuner(t, plan_size=8, feature_type="knob")],
                         ids=["random", "ga", "xgb"])
def test_an_operator_templates_default_configuration_is_measured_first(make):
    """What the workload runs untuned is the first candidate, so tuning never reports a regression."""
    tensor = ("TENSOR", (64, 64), "float32")
    task = autotvm.task.create("dense_pack.x86", args=(tensor, tensor, None, "float32"), target="llvm")
    default = task.config_space.index_of(task.fallback_config())
    assert default is not None
    runner = FakeRunner(cost=lambda config: 1e-4)
    make(task).tune(6, fake_option(runner, n_parallel=3))
    assert runner.measured[0] == default and len(set(runner.measured)) == 6
