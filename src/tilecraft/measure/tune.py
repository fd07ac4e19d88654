"""Tune a whole relay model within a trial budget, resuming from its log, and build it with the
result: AutoTVM (the seeds' default) or the auto-scheduler (`use_ansor`).

The budget is the total number of measurements in the log, as with the auto-scheduler's task
scheduler: a run that was killed and is started again measures only what is left, and a rerun of
a finished run measures nothing new.  AutoTVM splits the budget over the tasks by their share of
the model's FLOPs, largest first.
"""

from __future__ import annotations

import contextlib
import os
import time

# Lower-priority implementations of a call that has a blocked / packed one: tuning them rarely pays
# (choosing them changes layouts), so a budget goes to the primary template of each call.
ALTERNATIVE_TEMPLATES = ("conv2d_nchw.x86", "depthwise_conv2d_nchw.x86", "dense_nopack.x86")


def default_log(directory, use_ansor: bool) -> str:
    return os.path.join(directory, "ansor_tuning.json" if use_ansor else "autotvm_tuning.log")


def split_budget(tasks, trials: int) -> list:
    """[(task, trials)] for the primary templates: proportional to FLOPs, the rounding remainder to
    the largest tasks; tasks that get nothing are left out."""
    primary = {t.args[:2] for t in tasks if t.name not in ALTERNATIVE_TEMPLATES}
    chosen = [t for t in tasks if t.name not in ALTERNATIVE_TEMPLATES or t.args[:2] not in primary]
    chosen.sort(key=lambda t: -t.flop)
    total = sum(t.flop for t in chosen) or 1.0
    shares = [int(trials * t.flop / total) for t in chosen]
    for i in range(trials - sum(shares)):
        shares[i % len(chosen)] += 1
    return [(t, n) for t, n in zip(chosen, shares) if n > 0]


def _measured(log: str, task) -> int:
    from .. import autotvm

    if not os.path.exists(log):
        return 0
    return sum(1 for inp, _ in autotvm.record.load_from_file(log) if inp.task.workload == task.workload)


def tune_autotvm(mod, params, target, trials: int, log: str, progress=None) -> dict:
    from .. import autotvm

    tasks = autotvm.task.extract_from_program(mod["main"], params=params, target=target)
    option = autotvm.measure_option(builder=autotvm.LocalBuilder(),
                                    runner=autotvm.LocalRunner(number=4, repeat=3, min_repeat_ms=50, timeout=10))
    plan = split_budget(tasks, trials)
    new = 0
    for k, (task, budget) in enumerate(plan):
        todo = min(budget - _measured(log, task), len(task.config_space))
        if todo <= 0:
            continue
        if progress:
            progress(f"AutoTVM task {k + 1}/{len(plan)} {task.name}: {todo} trials "
                     f"({len(task.config_space)} configurations)")
        try:
            import xgboost  # noqa: F401

            tuner = autotvm.tuner.XGBTuner(task, loss_type="rank", feature_type="knob")
        except ImportError:
            tuner = autotvm.tuner.RandomTuner(task)
        if os.path.exists(log):
            tuner.load_history(autotvm.record.load_from_file(log), min_seed_records=1)
        todo = min(todo, len(task.config_space) - len(tuner.visited))
        if todo <= 0:
            continue
        tuner.tune(n_trial=todo, measure_option=option,
                   callbacks=[autotvm.callback.progress_bar(todo, prefix=f"[{task.name}]"),
                              autotvm.callback.log_to_file(log)])
        new += todo
    return {"tasks": len(tasks), "tuned_tasks": len(plan), "new_trials": new}


def tune_ansor(mod, params, target, trials: int, log: str, progress=None, verbose: int = 1) -> dict:
    from .. import auto_scheduler

    tasks, weights = auto_scheduler.extract_tasks(mod["main"], params, target)
    if not tasks:
        return {"tasks": 0, "tuned_tasks": 0, "new_trials": 0}
    if progress:
        progress(f"auto-scheduler: {len(tasks)} tasks, {trials} trials in all")
    scheduler = auto_scheduler.TaskScheduler(tasks, weights, load_log_file=log if os.path.exists(log) else None)
    before = _records(log)
    options = auto_scheduler.TuningOptions(num_measure_trials=trials, num_measures_per_round=min(64, max(1, trials)),
                                           verbose=verbose, measure_callbacks=[auto_scheduler.RecordToFile(log)])
    scheduler.tune(options)
    return {"tasks": len(tasks), "tuned_tasks": len(tasks), "new_trials": _records(log) - before}


def _records(log: str) -> int:
    if not os.path.exists(log):
        return 0
    with open(log) as f:
        return sum(1 for line in f if line.strip())


def tune_model(mod, params, target, trials: int, log: str, use_ansor: bool = False, progress=None) -> dict:
    """Tune `mod` for `trials` measurements in all (resuming from `log`); returns what was done."""
    os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
    start = time.perf_counter()
    tune = tune_ansor if use_ansor else tune_autotvm
    done = tune(mod, params, target, trials, log, progress)
    return {"tuner": "ansor" if use_ansor else "autotvm", "use_ansor": bool(use_ansor), "trials": int(trials),
            "log": os.path.abspath(log), "seconds": time.perf_counter() - start, **done}


@contextlib.contextmanager
def tuned(log, use_ansor: bool = False, opt_level: int = 3):
    """The contexts relay.build needs to use the best records of `log` (none when log is None)."""
    from .. import auto_scheduler, autotvm, transform

    with contextlib.ExitStack() as stack:
        config = {}
        if log and os.path.exists(log):
            if use_ansor:
                stack.enter_context(auto_scheduler.ApplyHistoryBest(log))
                config = {"relay.backend.use_auto_scheduler": True}
            else:
                stack.enter_context(autotvm.apply_history_best(log))
        stack.enter_context(transform.PassContext(opt_level=opt_level, config=config))
        yield
