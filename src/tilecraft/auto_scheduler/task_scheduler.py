"""Tuning a whole model: which task gets the next round of trials.

The objective is the model's estimated latency, Σ weight × best latency of each task.  After one
warm-up round per task, the "gradient" strategy gives the next round to the task whose recent
progress, scaled by its weight, promises the largest cut of that sum (Ansor §6, simplified: the
backward gradient over the last rounds, plus an optimistic term for tasks still far from the
peak their flop count allows); "round-robin" cycles through the tasks.  Every task's tuner reads
its log first, so a killed run resumes without measuring anything twice.
"""

from __future__ import annotations

import math
import os
import time

from .auto_schedule import TaskTuner, TuningOptions
from .cost_model import RandomModel, XGBModel
from .measure_record import RecordToFile
from .progress import Progress
from .search_policy import SketchPolicy


class TaskScheduler:
    """Classic `auto_scheduler.TaskScheduler(tasks, task_weights, strategy=...)`."""

    def __init__(self, tasks, task_weights=None, objective_func=None, strategy="gradient", load_model_file=None,
                 load_log_file=None, alpha=0.2, beta=2, gamma=0.5, backward_window_size=3, callbacks=None):
        if not tasks:
            raise ValueError("TaskScheduler needs at least one task (extract_tasks found none?)")
        if strategy not in ("gradient", "round-robin"):
            raise ValueError(f"TaskScheduler strategy must be 'gradient' or 'round-robin', got {strategy!r}")
        self.tasks = list(tasks)
        self.task_weights = [float(w) for w in (task_weights or [1] * len(self.tasks))]
        if len(self.task_weights) != len(self.tasks):
            raise ValueError(f"{len(self.tasks)} tasks but {len(self.task_weights)} task_weights")
        self.objective_func = objective_func or (lambda costs: sum(w * c for w, c in zip(self.task_weights, costs)))
        self.strategy = strategy
        self.load_model_file, self.load_log_file = load_model_file, load_log_file
        self.alpha, self.beta, self.gamma, self.window = alpha, beta, gamma, backward_window_size
        self.callbacks = list(callbacks or [])
        self.history: list = []  # (total trials, seconds, [best cost per task], objective)
        self.tuners: list = []

    # ------------------------------------------------------------------ estimates
    def best_costs(self) -> list:
        return [t.best_cost for t in self.tuners]

    def objective(self) -> float:
        costs = self.best_costs()
        return self.objective_func(costs) if all(c < math.inf for c in costs) else math.inf

    def _gradient(self, i: int) -> float:
        """How much the objective would drop per trial given to task i (negative = a cut)."""
        tuner, curve = self.tuners[i], self._curves[i]
        if tuner.exhausted:
            return math.inf
        if len(curve) <= self.window:
            backward = -curve[-1] / max(len(curve), 1) if curve[-1] < math.inf else -math.inf
        else:
            backward = (curve[-1] - curve[-1 - self.window]) / self.window
        best = curve[-1]
        forward = -best / max(tuner.trials, 1)  # optimistic: as much again over as many trials
        grad = self.alpha * backward + (1 - self.alpha) * forward if backward > -math.inf else -math.inf
        return self.task_weights[i] * grad

    def _next_task(self, rounds: int) -> int:
        live = [i for i, t in enumerate(self.tuners) if not t.exhausted]
        if not live:
            return -1
        if rounds < len(self.tuners):  # warm-up: one round each
            return rounds if not self.tuners[rounds].exhausted else live[0]
        if self.strategy == "round-robin":
            return live[rounds % len(live)]
        return min(live, key=self._gradient)

    # ------------------------------------------------------------------ tuning
    def tune(self, tuning_options: TuningOptions, search_policy="default", search_policy_params=None,
             adaptive_training=False, per_task_early_stopping=None, plot_file=None):
        """Spend `tuning_options.num_measure_trials` trials over the tasks.  `search_policy`:
        "default"/"sketch.xgb" (SketchPolicy + one XGBModel shared by all tasks), "sketch.random",
        or a list of policies, one per task.  `plot_file`: a PNG of the tuning curves."""
        options = tuning_options
        if self.load_log_file and not any(isinstance(c, RecordToFile) and os.path.abspath(c.filename)
                                          == os.path.abspath(self.load_log_file) for c in options.measure_callbacks):
            options.measure_callbacks.append(_ReadOnlyLog(self.load_log_file))
        policies = self._policies(search_policy, search_policy_params, options.verbose, adaptive_training)
        self.tuners = [TaskTuner(t, p, options) for t, p in zip(self.tasks, policies)]
        self._curves = [[self.task_weights[i] * t.best_cost] for i, t in enumerate(self.tuners)]
        total = sum(t.trials for t in self.tuners)
        start = time.time()
        progress = Progress(self, options.verbose)
        rounds = 0
        try:
            progress.start()
            self._record(total, start)
            while total < options.num_measure_trials:
                i = self._next_task(rounds)
                if i < 0:
                    break
                tuner = self.tuners[i]
                n = tuner.tune_round(min(options.num_measures_per_round, options.num_measure_trials - total))
                total += n
                rounds += 1
                self._curves[i].append(self.task_weights[i] * tuner.best_cost)
                if per_task_early_stopping and tuner.trials - tuner.best_at >= per_task_early_stopping:
                    tuner.exhausted = True
                self._record(total, start)
                progress.update(total, options.num_measure_trials, time.time() - start)
                for cb in self.callbacks:
                    cb(self, i)
                if options.early_stopping and self._stalled(options.early_stopping):
                    break
        finally:
            progress.stop()
        if plot_file:
            plot_tuning_curves(self, plot_file)
        return self

    def _stalled(self, trials: int) -> bool:
        if len(self.history) < 2:
            return False
        now_trials, _, _, now = self.history[-1]
        for t, _, _, obj in reversed(self.history):
            if now_trials - t >= trials:
                return not obj > now
        return False

    def _record(self, total: int, start: float) -> None:
        self.history.append((total, time.time() - start, self.best_costs(), self.objective()))

    def _policies(self, search_policy, params, verbose, adaptive_training) -> list:
        if isinstance(search_policy, (list, tuple)):
            if len(search_policy) != len(self.tasks):
                raise ValueError(f"{len(search_policy)} search policies for {len(self.tasks)} tasks")
            return list(search_policy)
        if search_policy in ("default", "sketch.xgb"):
            model = XGBModel(adaptive_training=adaptive_training)
            if self.load_model_file and os.path.exists(self.load_model_file):
                model.load(self.load_model_file)
            elif self.load_log_file and os.path.exists(self.load_log_file):
                model.update_from_file(self.load_log_file)
        elif search_policy == "sketch.random":
            model = RandomModel()
        else:
            raise ValueError(f"search_policy must be 'default', 'sketch.xgb', 'sketch.random' or a list of "
                             f"policies, got {search_policy!r}")
        return [SketchPolicy(program_cost_model=model, params=params, verbose=verbose) for _ in self.tasks]


class _ReadOnlyLog(RecordToFile):
    """A log to resume from that is not written to (load_log_file without a RecordToFile for it)."""

    def callback(self, policy, inputs, results) -> None:
        return None


def plot_tuning_curves(scheduler: TaskScheduler, path) -> str:
    """Best latency against trials, per task and end to end, as a PNG (matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plotting tuning curves needs matplotlib: pip install 'tilecraft[tune]'") from e
    hist = scheduler.history
    trials = [h[0] for h in hist]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for i, task in enumerate(scheduler.tasks):
        ys = [h[2][i] * 1e3 if h[2][i] < math.inf else float("nan") for h in hist]
        ax1.plot(trials, ys, label=(task.desc or task.workload_key)[:40])
    ax1.set(xlabel="trials", ylabel="best latency (ms)", title="per task", yscale="log")
    ax1.legend(fontsize=6)
    ax2.plot(trials, [h[3] * 1e3 if h[3] < math.inf else float("nan") for h in hist])
    ax2.set(xlabel="trials", ylabel="estimated latency (ms)", title="end to end (Σ weight × best)")
    fig.tight_layout()
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return os.fspath(path)
