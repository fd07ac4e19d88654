"""Whole models: the tasks of a relay program, and the dispatch context that makes relay.build use
their tuned schedules.

`extract_tasks` runs relay.build's graph passes (with `relay.backend.use_auto_scheduler`, so each
operator uses its own compute, as at build time) and turns every distinct fused group with an
operator that reuses data (matmul, dense, convolutions: what multi-level tiling is for) into a
SearchTask, the others too with include_simple_tasks; a task's weight is how many times its group
occurs.  The
key of a task is the hash of its ComputeDAG's text, the same key `ApplyHistoryBest` computes for
each group relay.build lowers, so tuning and deployment meet without naming anything.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict

from ..driver.build_module import resolve_target
from ..ir.transform import PassContext
from ..relay.backend.te_compiler import group_key, group_name, group_tensors
from ..relay.build_module import optimize
from ..relay.expr import Call, Function
from ..relay.visitor import post_order
from ..target import Target
from ..tuning import DispatchContext
from .compute_dag import ComputeDAG
from .measure_record import RecordReader
from .search_task import SearchTask
from .workload_registry import register_workload_tensors

AUTO_SCHEDULER_CONFIG = {"relay.backend.use_auto_scheduler": True}


def _groups(main: Function):
    for n in post_order(main.body):
        if isinstance(n, Call) and isinstance(n.op, Function):
            yield n.op


def extract_tasks(mod, params, target, target_host=None, hardware_params=None, include_simple_tasks=False,
                  opt_level=3):
    """(tasks, task_weights) for the fused groups of `mod` (an IRModule or its main Function)."""
    tgt = resolve_target(target, target_host)
    with PassContext(opt_level=opt_level, config=AUTO_SCHEDULER_CONFIG), tgt:
        fused = optimize(mod, params, tgt)
        seen, weights, tasks = {}, OrderedDict(), {}
        for func in _groups(fused["main"]):
            gkey = group_key(func)
            if gkey not in seen:
                name = group_name(func)
                inputs, outs, _ = group_tensors(func, name, tgt)
                dag = ComputeDAG(inputs + outs)
                # Groups without data reuse (element-wise, pooling, softmax, norms) keep their hand
                # schedules unless asked: the CPU sketches have nothing better for them.
                simple = not any(dag.needs_multi_level_tiling(op) for op in dag.ops)
                seen[gkey] = None if simple and not include_simple_tasks else (dag, name)
            if seen[gkey] is None:
                continue
            dag, name = seen[gkey]
            key = dag.workload_key()
            weights[key] = weights.get(key, 0) + 1
            if key not in tasks:
                register_workload_tensors(key, dag.tensors)
                tasks[key] = SearchTask(compute_dag=dag, workload_key=key, target=tgt,
                                        hardware_params=hardware_params, desc=name)
                tasks[key].default_group = func
    keys = list(weights)
    return [tasks[k] for k in keys], [weights[k] for k in keys]


class ApplyHistoryBest(DispatchContext):
    """The best record of each workload in the logs, as tuned schedules for relay.build (under
    `PassContext(config={"relay.backend.use_auto_scheduler": True})`) and for te code that asks
    `current_context().schedule_graph(target, tensors)`.  Groups not in the logs keep their
    default schedule (`misses` lists them), as do those whose fastest record is the default
    schedule itself (no transform steps)."""

    def __init__(self, records, n_lines=None, include_compatible=False):
        self.best: dict = {}  # (workload key, target kind) -> (cost, MeasureInput)
        self.misses: list = []
        self.include_compatible = include_compatible
        for path in [records] if isinstance(records, (str, bytes)) or hasattr(records, "__fspath__") else records:
            self.load(path, n_lines)

    def load(self, path, n_lines=None) -> None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"ApplyHistoryBest: no tuning log at {os.fspath(path)!r}; tune with "
                                    f"measure_callbacks=[auto_scheduler.RecordToFile(...)] first, or check the path")
        for n, (inp, res) in enumerate(RecordReader(path)):
            if n_lines is not None and n >= n_lines:
                break
            if res.error_no != 0 or not res.costs:
                continue
            cost = sum(res.costs) / len(res.costs)
            key = (inp.task.workload_key, inp.task.target.kind)
            if cost < self.best.get(key, (math.inf, None))[0]:
                self.best[key] = (cost, inp)

    def schedule_graph(self, target, tensors):
        dag = ComputeDAG(list(tensors))
        kind = getattr(target, "kind", None) or Target(str(target)).kind
        hit = self.best.get((dag.workload_key(), kind))
        if hit is None:
            self.misses.append(dag.workload_key())
            return super().schedule_graph(target, tensors)
        if not hit[1].steps:
            return None  # the default schedule measured fastest: relay.build's own kernels
        sch, _ = dag.apply_steps_from_state(hit[1].steps)
        return sch
