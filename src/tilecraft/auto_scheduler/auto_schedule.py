"""The tuning loop: ask the search policy for candidates, measure them (tilecraft.tuning's builders
and runners: worker processes, time-outs), hand the results to the callbacks (RecordToFile appends
each to the log as it comes) and to the cost model, until the trial budget or early stopping.

A log that already holds measurements of the task is read first: those candidates count against
the budget, seed the search and are never measured again, so a killed run resumes where it was.
"""

from __future__ import annotations

import math
import time

from ..tuning import LocalBuilder, LocalRunner, MeasureErrorNo
from .cost_model import XGBModel
from .measure import MeasureInput
from .measure_record import RecordReader, RecordToFile
from .search_policy import SketchPolicy


class TuningOptions:
    """Classic `auto_scheduler.TuningOptions`.  `builder`/`runner` take "local" or an object with
    `.build(inputs, verbose)` / `.run(inputs, build_results, verbose)` (e.g. tuning.DaskRunner)."""

    def __init__(self, num_measure_trials=0, early_stopping=None, num_measures_per_round=64, verbose=1,
                 builder="local", runner="local", measure_callbacks=None):
        for name, value, least in (("num_measure_trials", num_measure_trials, 0),
                                   ("num_measures_per_round", num_measures_per_round, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"TuningOptions({name}=...) takes an integer >= {least}, got {value!r}")
        self.num_measure_trials = int(num_measure_trials)
        self.early_stopping = early_stopping if early_stopping is None or early_stopping > 0 else None
        self.num_measures_per_round = int(num_measures_per_round)
        self.verbose = int(verbose)
        self.builder = _component(builder, "builder", LocalBuilder)
        self.runner = _component(runner, "runner", LocalRunner)
        self.measure_callbacks = list(measure_callbacks or [])


def _component(value, what: str, local):
    if value == "local":
        return local()
    method = "build" if what == "builder" else "run"
    if not callable(getattr(value, method, None)):
        raise TypeError(f"TuningOptions({what}=...) takes 'local' or an object with a .{method}() method "
                        f"(e.g. auto_scheduler.Local{what.title()}()), got {value!r}")
    return value


class ProgramMeasurer:
    """Measures batches of candidates, counts them and their errors, and calls the callbacks."""

    def __init__(self, options: TuningOptions):
        self.options = options
        self.ct = 0
        self.error_ct = 0

    def measure(self, task, policy, states) -> list:
        """Build the batch (in parallel), then run and record the candidates one by one, so a
        killed tuner loses at most the candidate it was timing."""
        inputs = [MeasureInput(task, s) for s in states]
        o = self.options
        builds = o.builder.build(inputs, verbose=o.verbose)
        results = []
        for inp, build in zip(inputs, builds):
            res = o.runner.run([inp], [build], verbose=o.verbose)[0]
            results.append(res)
            self.ct += 1
            self.error_ct += res.error_no != MeasureErrorNo.NO_ERROR
            for cb in o.measure_callbacks:
                cb.callback(policy, [inp], [res])
        return results


DEFAULT_MEASUREMENTS = 3


def _mean_cost(res) -> float:
    return sum(res.costs) / len(res.costs) if res.error_no == MeasureErrorNo.NO_ERROR and res.costs else math.inf


class TaskTuner:
    """One task's tuning: its policy, what was measured (including what its logs already hold) and
    the best so far.  `auto_schedule` runs one; the TaskScheduler interleaves several."""

    def __init__(self, task, policy, options: TuningOptions, measurer: ProgramMeasurer | None = None):
        self.task, self.options = task, options
        self.policy = policy.bind(task)
        self.measurer = measurer or ProgramMeasurer(options)
        self.trials = 0
        self.best_cost, self.best_state, self.best_at = math.inf, None, 0
        self.exhausted, self.default_runs = False, 0
        self._preload()
        self.preloaded = self.trials

    def _preload(self) -> None:
        """Candidates of this task already in the callbacks' logs: remembered by the policy and the
        cost model, counted as trials, never measured again."""
        inputs, results = [], []
        for cb in self.options.measure_callbacks:
            if not isinstance(cb, RecordToFile):
                continue
            for inp, res in RecordReader(cb.filename):
                if inp.task.workload_key != self.task.workload_key or inp.task.target.kind != self.task.target.kind:
                    continue
                state = MeasureInput(self.task, inp.steps).state
                if inp.steps:  # not the default schedule, whose loop IR no state describes
                    inputs.append(MeasureInput(self.task, state))
                    results.append(res)
                self._note(None, state, res)
        if inputs:
            self.policy.cost_model.update(inputs, results)
        self.best_at = self.trials

    def _measure_default(self) -> int:
        """Measure the task's default schedule (no transform steps): first, and again in later rounds
        while a tuned candidate leads, up to DEFAULT_MEASUREMENTS times (its fastest time counts), so
        a slow spell of the machine during one measurement does not hand the task to a candidate
        that is slower in fact.  Only for tasks extracted from a model, whose default is the
        strategies' kernels (what relay.build deploys without a record); a te workload's naive loop
        nest is not worth a trial."""
        leading = self.best_state is not None and bool(self.best_state.transform_steps)
        if self.task.default_group is None or self.default_runs >= DEFAULT_MEASUREMENTS or \
                (self.default_runs and not leading):
            return 0
        state = self.task.compute_dag.get_init_state()
        (res,) = self.measurer.measure(self.task, self.policy, [state])
        self._note(None, state, res)
        return 1

    def _note(self, recipe, state, res) -> None:
        cost = _mean_cost(res)
        if state.transform_steps:
            self.policy.record(recipe, state, cost)
        else:  # the default schedule: not a loop state the search can grow
            self.default_runs += 1
        if cost < self.best_cost:
            self.best_cost, self.best_state, self.best_at = cost, state, self.trials
        self.trials += 1

    def tune_round(self, n: int) -> int:
        """Search and measure up to n new candidates (the default schedule first, see _measure_default);
        returns how many were measured."""
        first = self._measure_default()
        n -= first
        if n <= 0:
            return first
        for _ in range(self.policy_retries()):
            cands = self.policy.search(n)
            if cands:
                break
        else:
            self.exhausted = True
            return first
        states = [s for _, s in cands]
        results = self.measurer.measure(self.task, self.policy, states)
        self.policy.cost_model.update([MeasureInput(self.task, s) for s in states], results)
        for (recipe, state), res in zip(cands, results):
            self._note(recipe, state, res)
        return first + len(cands)

    def policy_retries(self) -> int:
        return int(getattr(self.policy, "params", {}).get("retry_search_one_round_on_empty", 3))

    @property
    def gflops(self) -> float:
        return self.task.compute_dag.flop_ct / self.best_cost / 1e9 if self.best_cost < math.inf else 0.0

    def best_schedule(self):
        """(schedule, tensors) of the fastest candidate (the default schedule when none was measured)."""
        return MeasureInput(self.task, self.best_state if self.best_state is not None else []).instantiate()


def auto_schedule(task, search_policy=None, tuning_options=None):
    """Tune `task`; returns (schedule, args) of the best candidate (the default schedule when
    nothing was measured)."""
    options = tuning_options or TuningOptions()
    if search_policy is None:
        search_policy = SketchPolicy(program_cost_model=XGBModel(), verbose=options.verbose)
    tuner = TaskTuner(task, search_policy, options)
    name = task.desc or task.workload_key
    if options.verbose and tuner.trials:
        print(f"auto_scheduler: {tuner.trials} measured candidates of {name} read from the log")
    start = time.time()
    while tuner.trials < options.num_measure_trials:
        if not tuner.tune_round(min(options.num_measures_per_round, options.num_measure_trials - tuner.trials)):
            if options.verbose:
                print(f"auto_scheduler: the search space of {name} is exhausted")
            break
        if options.verbose:
            rate = (tuner.trials - tuner.preloaded) / max(time.time() - start, 1e-9)
            print(f"auto_scheduler: {tuner.trials}/{options.num_measure_trials} trials, best "
                  f"{tuner.best_cost * 1e3:.4f} ms ({tuner.gflops:.2f} GFLOP/s), {rate:.2f} trials/s")
        if options.early_stopping is not None and tuner.trials - tuner.best_at >= options.early_stopping:
            if options.verbose:
                print(f"auto_scheduler: no improvement in {options.early_stopping} trials, stopping early")
            break
    return tuner.best_schedule()
