"""AutoTVM's side of the measurement layer (tilecraft.tuning): a candidate is one configuration
of a task.  `measure_option(builder, runner)` names the builder and runner, `create_measure_batch`
turns them into the function a tuner calls on a batch of MeasureInputs.  Building and running
happen in worker processes with timeouts (tuning/builder.py, tuning/runner.py), or on a Dask
cluster (tuning.DaskBuilder / DaskRunner)."""

from __future__ import annotations

from ..te import create_schedule
from ..tuning import LocalBuilder, LocalRunner
from ..tuning.measure import MAX_COST, BuildResult, MeasureErrorNo, MeasureResult  # noqa: F401


class MeasureInput:
    """One candidate: `task` under `config`, for `target`."""

    def __init__(self, target, task, config):
        self.target, self.task, self.config = target, task, config

    def instantiate(self):
        return self.task.instantiate(self.config)

    def reference(self):
        """The same computation with te's default schedule (for answer checks)."""
        _, tensors = self.task.instantiate(self.config)
        outs = [t for t in tensors if not _is_placeholder(t)]
        return create_schedule([t.op for t in outs]), tensors

    def reference_key(self):
        return (repr(self.task.workload), str(self.target))

    def __iter__(self):  # classic: target, task, config = inp
        return iter((self.target, self.task, self.config))

    def __repr__(self) -> str:
        return f"MeasureInput({self.target}, {self.task.name}, {self.config})"


def _is_placeholder(t) -> bool:
    return type(t.op).__name__ == "PlaceholderOp"


def measure_option(builder="local", runner="local"):
    """{"builder": ..., "runner": ...} for a tuner: LocalBuilder / LocalRunner objects (or "local"),
    or Dask ones."""
    builder = LocalBuilder() if builder == "local" else builder
    runner = LocalRunner() if runner == "local" else runner
    for name, obj, method in (("builder", builder, "build"), ("runner", runner, "run")):
        if not callable(getattr(obj, method, None)):
            raise TypeError(f"measure_option: {name} must be a LocalBuilder/LocalRunner (or Dask) object or "
                            f"'local', got {type(obj).__name__}")
    return {"builder": builder, "runner": runner}


def create_measure_batch(task, option):
    """fn(inputs) -> [MeasureResult]: build then run a batch of candidates of `task`."""
    builder, runner = option["builder"], option["runner"]

    def measure_batch(inputs):
        inputs = list(inputs)
        build_results = builder.build(inputs, verbose=0)
        return runner.run(inputs, build_results, verbose=0)

    measure_batch.n_parallel = getattr(builder, "n_parallel", 1)
    return measure_batch
