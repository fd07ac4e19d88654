"""The tuning loop every AutoTVM tuner shares (classic `Tuner.tune`).

A tuner proposes configurations (`next_batch`), the measurement layer builds and times them
in worker processes, and the tuner learns from the results (`update`).  The loop keeps the
best configuration, calls the callbacks (logging, progress) after every batch, and stops after
`n_trial` measurements, when the space is exhausted, or after `early_stopping` trials without a
new best.

The template's default configuration (its fallback: what the workload runs untuned) is measured
first when it is a point of the space, so the best a tuning run reports is never a regression
from the untuned code (classic AutoTVM starts from random points).  GridSearchTuner, whose point
is the index order, does not.

`visited` holds every index proposed or measured, including those of a log passed to
`load_history`: a tuner never measures one index twice, so a run killed and resumed from its
log continues where it stopped instead of re-measuring what the log already has.
"""

from __future__ import annotations

import abc
import logging
import numbers

import numpy as np

from ...tuning.template import as_tuples
from ..measure import MeasureInput, create_measure_batch

logger = logging.getLogger("tilecraft.autotvm")


def result_flops(task, res) -> float:
    """FLOP/s of a measurement (0 for a failed one)."""
    if res.error_no != 0:
        return 0.0
    cost = float(np.mean(res.costs))
    return task.flop / cost if cost > 0 else 0.0


def same_task(a, b) -> bool:
    """Whether two tasks are one workload (same template name and arguments)."""
    return a.name == b.name and as_tuples(a.args) == as_tuples(b.args)


class Tuner(abc.ABC):
    """Base class of the tuners: `tuner.tune(n_trial, measure_option, ...)`."""

    measure_default_first = True

    def __init__(self, task, **kwargs):
        if getattr(task, "config_space", None) is None:
            raise TypeError(f"a tuner needs an AutoTVM task with a configuration space, got {task!r}; "
                            "make one with autotvm.task.create(name, args=..., target=...)")
        self.param = kwargs
        self.task = task
        self.space = task.config_space
        self.visited: set = set()
        self.error_ct_threshold = 150
        self.best_config = None
        self.best_flops = 0.0
        self.best_measure_pair = None
        self.best_iter = 0
        self.ttl = None
        self.n_trial = None
        self.early_stopping = None

    # ------------------------------------------------------------------ what a tuner implements
    def has_next(self) -> bool:
        """Whether some configuration is left to measure."""
        return len(self.visited) < len(self.space)

    @abc.abstractmethod
    def next_batch(self, batch_size: int) -> list:
        """Up to `batch_size` configurations (ConfigEntity) not measured before; fewer or none
        when the space has no more."""

    def in_range(self, index: int) -> bool:
        """Whether the tuner may measure `index` (index-range tuners restrict it)."""
        return True

    def default_config(self):
        """The template's fallback configuration as a point of the space, if it is one and not
        measured yet (then marked visited), else None."""
        if not self.measure_default_first:
            return None
        try:
            index = self.space.index_of(self.task.fallback_config())
        except Exception:  # noqa: BLE001 - a template whose fallback cannot be built has no default point
            return None
        if index is None or index in self.visited or not self.in_range(index) or not self.space.is_index_valid(index):
            return None
        self.visited.add(index)
        return self.space.get(index)

    def update(self, inputs, results) -> None:  # noqa: B027 - optional: a tuner without a model learns nothing
        """Learn from measured configurations (the default tuner learns nothing)."""

    # ------------------------------------------------------------------ the loop
    def tune(self, n_trial, measure_option, early_stopping=None, callbacks=(), si_prefix="G"):
        """Measure up to `n_trial` configurations and keep the best (`best_config`, `best_flops`).

        measure_option  autotvm.measure_option(builder=..., runner=...)
        early_stopping  stop after this many trials without a new best (None: never)
        callbacks       callables `cb(tuner, inputs, results)` run after every batch, e.g.
                        autotvm.callback.log_to_file(log), autotvm.callback.progress_bar(n_trial)
        si_prefix       unit of the GFLOPS figures in the debug log ("G", "T", ...)
        """
        n_trial = _positive_int(n_trial, "n_trial")
        if early_stopping is not None:
            early_stopping = _positive_int(early_stopping, "early_stopping")
        if not (isinstance(measure_option, dict) and "builder" in measure_option and "runner" in measure_option):
            raise TypeError(f"tune: measure_option must be the dict autotvm.measure_option(builder=..., runner=...) "
                            f"returns, got {type(measure_option).__name__}; call autotvm.measure_option first")
        if callable(callbacks):
            callbacks = (callbacks,)
        scale = si_scale(si_prefix)
        measure_batch = create_measure_batch(self.task, measure_option)
        n_parallel = max(1, int(getattr(measure_batch, "n_parallel", 1) or 1))
        early_stopping = n_trial if early_stopping is None else early_stopping
        self.n_trial, self.early_stopping = n_trial, early_stopping
        error_ct, warned = 0, False
        self.best_iter = 0  # trials count from this call: early stopping waits for a best found in it
        i = 0
        first = [c for c in [self.default_config()] if c is not None]
        while i < n_trial and (first or self.has_next()):
            batch = min(n_parallel, n_trial - i)
            configs = first + (self.next_batch(batch - len(first)) if batch > len(first) else [])
            first = []
            if not configs:
                break  # the tuner has no valid unmeasured configuration left
            inputs = [MeasureInput(self.task.target, self.task, c) for c in configs]
            results = measure_batch(inputs)
            for k, (inp, res) in enumerate(zip(inputs, results)):
                self.visited.add(inp.config.index)
                flops = result_flops(self.task, res)
                error_ct = 0 if res.error_no == 0 else error_ct + 1
                if flops > self.best_flops:
                    self.best_flops, self.best_config = flops, inp.config
                    self.best_measure_pair, self.best_iter = (inp, res), i + k
                logger.debug("No: %d\t%sFLOPS: %.2f/%.2f\tresult: %s\t%s", i + k + 1, si_prefix, flops / scale,
                             self.best_flops / scale, res, inp.config)
            i += len(results)
            self.ttl = min(early_stopping + self.best_iter, n_trial) - i
            self.update(inputs, results)
            for callback in callbacks:
                callback(self, inputs, results)
            if i >= self.best_iter + early_stopping:
                logger.debug("Early stopped. Best iter: %d.", self.best_iter)
                break
            if error_ct > self.error_ct_threshold and not warned:
                warned = True
                logger.warning("tuning %s: the last %d trials all failed (last error: %s); check the template and "
                               "the measure_option (timeouts, target)", self.task.name, error_ct,
                               results[-1].error_msg or results[-1])
        self.ttl = None
        return self

    def reset(self) -> None:
        """Forget everything measured or loaded: the next tune() starts afresh."""
        self.visited = set()
        self.best_config, self.best_flops, self.best_measure_pair, self.best_iter = None, 0.0, None, 0

    # ------------------------------------------------------------------ resuming
    def load_history(self, data_set, min_seed_records=500) -> None:
        """Take in a log (an iterable of (MeasureInput, MeasureResult), e.g.
        autotvm.record.load_from_file(log)): this task's records are marked visited (never measured
        again) and may become the best.  Model-based tuners also train on them, and on other
        workloads' records when there are at least `min_seed_records` (transfer learning)."""
        self.split_history(data_set)

    def split_history(self, data_set):
        """Mark this task's records visited and keep their best; returns (this task's records,
        mapped onto this space; records of other workloads) for tuners that learn from them."""
        mine, others, stale = [], [], 0
        for inp, res in data_set:
            if not same_task(inp.task, self.task):
                others.append((inp, res))
                continue
            index = inp.config.index
            config = self.space.get(index) if 0 <= index < len(self.space) else None
            if config is None or config != inp.config:
                stale += 1
                continue
            self.visited.add(index)
            inp = MeasureInput(self.task.target, self.task, config)
            mine.append((inp, res))
            flops = result_flops(self.task, res)
            if flops > self.best_flops:
                self.best_flops, self.best_config, self.best_measure_pair = flops, config, (inp, res)
        if stale:
            logger.warning("load_history: %d records of %s do not match its configuration space (the template "
                           "changed since they were logged); they are ignored", stale, self.task.name)
        return mine, others


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"tune: {name} must be a positive integer, got {value!r}")
    return int(value)


_SI = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def si_scale(prefix: str) -> float:
    if prefix not in _SI:
        raise ValueError(f"si_prefix must be one of {', '.join(repr(p) for p in _SI)}, got {prefix!r}")
    return _SI[prefix]


def random_unvisited(space, visited, lo: int = 0, hi: int | None = None, rng=np.random):
    """A random valid index in [lo, hi) not in `visited` (None when none is left).  Draws at
    random while that works, then (in a range small enough to list) picks among the remaining
    indices, so the last points of a nearly exhausted space are found too."""
    hi = len(space) if hi is None else hi
    listable = hi - lo <= _LISTABLE
    for _ in range(64 if listable else 100_000):
        i = int(rng.randint(lo, hi))
        if i not in visited and space.is_index_valid(i):
            return i
    if not listable:
        return None  # a huge range almost entirely visited or ruled out by constraints
    rest = [i for i in range(lo, hi) if i not in visited and space.is_index_valid(i)]
    return rest[int(rng.randint(len(rest)))] if rest else None


_LISTABLE = 1 << 22
