"""Auto-scheduler measure inputs: a task and a loop state, as a candidate of the measurement layer
(tilecraft.tuning): `.target`, `.instantiate()` -> (schedule, args), `.reference()` -> the default
schedule for checking answers, `.reference_key()`.

A MeasureInput pickles to its task (workload key, target, hardware parameters and the DAG's
tensors, so a spawned worker rebuilds the computation even when the workload function lives in
the parent's `__main__`) and its steps as v0.6 step records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..tuning.measure import MAX_COST, MeasureErrorNo, MeasureResult  # noqa: F401  (re-exported)
from .loop_state import State
from .transform_steps import step_from_record


class MeasureInput:
    """One candidate: `task` scheduled by `state`."""

    def __init__(self, task, state):
        self.task = task
        if isinstance(state, State):
            self._state, self.steps = state, list(state.transform_steps)
        else:  # steps (e.g. read from a record): the loop view is built when asked for
            self._state, self.steps = None, list(state)

    @property
    def state(self) -> State:
        if self._state is None:
            self._state = self.task.compute_dag.state_from_steps(self.steps)
        return self._state

    @property
    def target(self):
        return self.task.target

    def instantiate(self):
        """(te schedule, tensor arguments) of the state's steps on the task's computation; with no
        steps, the task's default schedule."""
        return self.task.schedule_from_steps(self.steps)

    def reference(self):
        """The same computation with its default schedule (for answer checks)."""
        from ..te import create_schedule

        dag = self.task.compute_dag
        outs = [op for op in dag.ops if dag.access_analyzer.is_output[op]]
        return create_schedule(outs), list(dag.tensors)

    def reference_key(self):
        return (self.task.workload_key, str(self.task.target))

    def steps_record(self) -> list:
        return [s.to_record() for s in self.steps]

    def __getstate__(self):
        return {"task": self.task, "steps": self.steps_record()}

    def __setstate__(self, d):
        self.task = d["task"]
        self._state, self.steps = None, [step_from_record(r) for r in d["steps"]]

    def __repr__(self) -> str:
        return f"MeasureInput({self.task.workload_key}, {len(self.steps)} steps)"


def recover_measure_input(inp: MeasureInput, rebuild_state: bool = False) -> MeasureInput:
    """A MeasureInput whose task has its ComputeDAG rebuilt from the workload key (classic API;
    records read here already carry a full task and state)."""
    from .search_task import SearchTask

    task = SearchTask(workload_key=inp.task.workload_key, target=inp.task.target,
                      hardware_params=inp.task.hardware_params, layout_rewrite_option=inp.task.layout_rewrite_option,
                      task_inputs=list(inp.task.task_input_names))
    return MeasureInput(task, task.compute_dag.state_from_steps(inp.steps) if rebuild_state else inp.steps)


class MeasureCallback(ABC):
    """Called after each batch of measurements: `callback(policy, inputs, results)`."""

    @abstractmethod
    def callback(self, policy, inputs, results) -> None:
        """Handle one batch of measured candidates."""

    def __call__(self, policy, inputs, results) -> None:
        self.callback(policy, inputs, results)
