"""The tuning loop: ask the search policy for candidates, measure them (tilecraft.tuning's builders
and runners: worker processes, time-outs), hand the results to the callbacks (RecordToFile appends
each to the log as it comes) and to the cost model, until the trial budget or early stopping.

A log that already holds measurements of the task is read first: those candidates count against
the budget, seed the search and are never measured again, so a killed run resumes where it was.
"""

from __future__ import annotations

import time

from ..tuning import LocalBuilder, LocalRunner, MeasureErrorNo
from .measure import MeasureInput
from .measure_record import RecordReader, RecordToFile
from .search_policy import SketchPolicy


class TuningOptions:
    """Classic `auto_scheduler.TuningOptions`.  `builder`/`runner` take "local" or an object with
    `.build(inputs, verbose)` / `.run(inputs, build_results, verbose)` (e.g. tuning.DaskRunner)."""

    def __init__(self, num_measure_trials=0, early_stopping=None, num_measures_per_round=64, verbose=1,
                 builder="local", runner="local", measure_callbacks=None):
        if int(num_measure_trials) < 0:
            raise ValueError(f"num_measure_trials must be >= 0, got {num_measure_trials}")
        if int(num_measures_per_round) < 1:
            raise ValueError(f"num_measures_per_round must be >= 1, got {num_measures_per_round}")
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
        inputs = [MeasureInput(task, s) for s in states]
        o = self.options
        builds = o.builder.build(inputs, verbose=o.verbose)
        results = o.runner.run(inputs, builds, verbose=o.verbose)
        self.ct += len(results)
        self.error_ct += sum(res.error_no != MeasureErrorNo.NO_ERROR for res in results)
        for cb in o.measure_callbacks:
            cb.callback(policy, inputs, results)
        return results


def _preload(task, policy, options) -> int:
    """Measured candidates of this task already in the callbacks' logs: remembered by the policy
    and the cost model, counted against the budget."""
    n, inputs, results, best = 0, [], [], (float("inf"), None)
    for cb in options.measure_callbacks:
        if not isinstance(cb, RecordToFile):
            continue
        for inp, res in RecordReader(cb.filename):
            if inp.task.workload_key != task.workload_key or str(inp.task.target) != str(task.target):
                continue
            cost = sum(res.costs) / len(res.costs) if res.error_no == 0 and res.costs else float("inf")
            policy.record(None, inp.state, cost)
            best = min(best, (cost, inp.state), key=lambda b: b[0])
            inputs.append(MeasureInput(task, inp.state))
            results.append(res)
            n += 1
    if inputs:
        policy.cost_model.update(inputs, results)
    return n, best


def auto_schedule(task, search_policy=None, tuning_options=None):
    """Tune `task`; returns (schedule, args) of the best candidate (the default schedule when
    nothing was measured)."""
    options = tuning_options or TuningOptions()
    policy = (search_policy or SketchPolicy(verbose=options.verbose)).bind(task)
    measurer = ProgramMeasurer(options)
    done, (best, best_state) = _preload(task, policy, options)
    if options.verbose and done:
        print(f"auto_scheduler: {done} measured candidates of {task.desc or task.workload_key} read from the log")
    best_at, start, empty_rounds = done, time.time(), 0
    while done < options.num_measure_trials:
        n = min(options.num_measures_per_round, options.num_measure_trials - done)
        cands = policy.search(n)
        if not cands:
            empty_rounds += 1
            if empty_rounds >= 3:
                if options.verbose:
                    print("auto_scheduler: the search space is exhausted")
                break
            continue
        states = [s for _, s in cands]
        results = measurer.measure(task, policy, states)
        policy.cost_model.update([MeasureInput(task, s) for s in states], results)
        for (recipe, state), res in zip(cands, results):
            cost = sum(res.costs) / len(res.costs) if res.error_no == 0 and res.costs else float("inf")
            policy.record(recipe, state, cost)
            if cost < best:
                best, best_state, best_at = cost, state, done
            done += 1
        if options.verbose:
            gflops = task.compute_dag.flop_ct / best / 1e9 if best < float("inf") else 0.0
            print(f"auto_scheduler: {done}/{options.num_measure_trials} trials, best {best * 1e3:.4f} ms "
                  f"({gflops:.2f} GFLOP/s), {done / max(time.time() - start, 1e-9):.2f} trials/s")
        if options.early_stopping is not None and done - best_at >= options.early_stopping:
            if options.verbose:
                print(f"auto_scheduler: no improvement in {options.early_stopping} trials, stopping early")
            break
    dag = task.compute_dag
    return dag.apply_steps_from_state(best_state if best_state is not None else dag.get_init_state())
