"""Dispatch contexts that answer with tuned AutoTVM configurations.

`apply_history_best(log)` reads a log (or records) and, for each (target key, workload), keeps
the fastest valid configuration; `relay.build` and direct template calls inside the context use
it, and a workload the log does not have falls through to the enclosing context (in the end, the
template's fallback).  `ApplyConfig(config)` answers one configuration for every query (a tuner
building one candidate).
"""

from __future__ import annotations

import os

from ...tuning.dispatch import DispatchContext
from ...tuning.template import ApplyConfigEntity as ApplyConfig  # noqa: F401 - classic name
from ...tuning.template import as_tuples


def _target_keys(target) -> tuple:
    if target is None:
        return ()
    from ...target import Target

    t = target if isinstance(target, Target) else Target(str(target))
    return tuple(t.keys) + ((f"model={t.model}",) if getattr(t, "model", None) not in (None, "unknown") else ())


class ApplyHistoryBest(DispatchContext):
    """The best configuration of each workload in `records`: log file name(s) or (input, result) pairs."""

    def __init__(self, records):
        self.best_by_targetkey: dict = {}  # (target key, workload) -> (config, cost)
        self.best_by_model: dict = {}
        self._best_any: dict = {}  # workload -> (config, cost), for queries without a target
        if records:
            self.load(records)

    def load(self, records) -> None:
        from ..record import load_from_file

        if isinstance(records, (str, os.PathLike)):
            records = [records]
        items = []
        for rec in records:
            if isinstance(rec, (str, os.PathLike)):
                if not os.path.exists(rec):
                    raise FileNotFoundError(
                        f"apply_history_best: the tuning log {os.fspath(rec)} does not exist; tune first "
                        "(tuner.tune(..., callbacks=[autotvm.callback.log_to_file(log)])) or pass the right path")
                items.extend(load_from_file(rec))
            else:
                items.append(rec)
        for inp, res in items:
            if res.error_no != 0:
                continue
            cost = res.mean_cost
            workload = (inp.task.name,) + as_tuples(inp.task.args)
            for key in _target_keys(inp.target):
                table = self.best_by_model if key.startswith("model=") else self.best_by_targetkey
                old = table.get((key, workload))
                if old is None or cost < old[1]:
                    table[(key, workload)] = (inp.config, cost)
            old = self._best_any.get(workload)
            if old is None or cost < old[1]:
                self._best_any[workload] = (inp.config, cost)

    def query(self, target, workload):
        hit = None
        if workload is not None:
            workload = as_tuples(workload)
            if target is None:
                hit = self._best_any.get(workload)
            else:
                for key in _target_keys(target):
                    table = self.best_by_model if key.startswith("model=") else self.best_by_targetkey
                    hit = table.get((key, workload))
                    if hit is not None:
                        break
        if hit is None:
            return super().query(target, workload)
        config, cost = hit
        config.cost = cost
        return config


def apply_history_best(log) -> ApplyHistoryBest:
    """with autotvm.apply_history_best("tune.log"): ... builds with the best logged configurations."""
    return ApplyHistoryBest(log)
