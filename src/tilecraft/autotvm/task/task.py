"""AutoTVM tasks: a template applied to one workload, with its configuration space.

`create("dense_pack.x86", args=(("TENSOR", (1, 512), "float32"), ...), target="llvm")` makes a
task; `task.config_space` is the space the template defines on these arguments (what a tuner
searches), `task.instantiate(config)` builds (schedule, tensors) for one point of it.  A task
pickles with its template (by value under cloudpickle when the template lives in a script), so
the measurement workers can instantiate it.
"""

from __future__ import annotations

from ...target import Target
from ...tuning.template import ApplyConfigEntity, as_tuples, deserialize_args, get_template, serialize_arg, tuning_scope


class Task:
    """A tuning task: a template name and the workload's arguments (tensors as ("TENSOR", shape, dtype))."""

    def __init__(self, name: str, args):
        self.name = name
        self.args = tuple(serialize_arg(a) for a in args)
        self.kwargs: dict = {}
        self.config_space = None
        self.target = None
        self.target_host = None
        self.flop = 0.0

    @property
    def template(self):
        return get_template(self.name)

    @property
    def workload(self) -> tuple:
        return self.template.workload(deserialize_args(self.args))

    def instantiate(self, config):
        """(te schedule, tensor arguments) of this task under `config`, as the tuner measures it
        (operator templates read their inputs in the deployed layout: tuning_scope)."""
        with self.target if self.target is not None else _nothing(), ApplyConfigEntity(config), tuning_scope():
            return self.template.instantiate(config, deserialize_args(self.args))

    def fallback_config(self):
        with self.target if self.target is not None else _nothing():
            return self.template.fallback(deserialize_args(self.args))

    def __getstate__(self):
        return {"name": self.name, "args": self.args, "kwargs": self.kwargs, "config_space": self.config_space,
                "target": None if self.target is None else str(self.target), "flop": self.flop,
                "template": self.template}

    def __setstate__(self, state):
        from ...tuning.template import TASK_TABLE

        self.name, self.args, self.kwargs = state["name"], as_tuples(state["args"]), state["kwargs"]
        self.config_space, self.flop = state["config_space"], state["flop"]
        self.target = None if state["target"] is None else Target(state["target"])
        self.target_host = None
        TASK_TABLE.setdefault(self.name, state["template"])

    def __repr__(self) -> str:
        return f"Task(func_name={self.name}, args={self.args}, kwargs={self.kwargs}, workload={self.workload})"


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _count_flop(tensors) -> float:
    from ...auto_scheduler.compute_dag import ComputeDAG

    try:
        return float(ComputeDAG(list(tensors)).flop_ct)
    except Exception:  # noqa: BLE001 - flop counts are informational
        return 0.0


def create(task_name: str, args, target, target_host=None) -> Task:
    """Make the task of template `task_name` on `args` for `target`, with its configuration space."""
    template = get_template(task_name)
    task = Task(task_name, args)
    task.target = Target(target) if not isinstance(target, Target) else target
    task.target_host = target_host
    with task.target:
        try:
            space = template.space(deserialize_args(task.args))
        except AttributeError as err:
            _refuse_non_tensor(task_name, template, task.args, err)
            raise
        space.code_hash = None
        task.config_space = space
        if space.flop:
            task.flop = space.flop
        else:
            _, tensors = template.instantiate(space, deserialize_args(task.args))
            task.flop = _count_flop(tensors)
    return task


def _refuse_non_tensor(task_name: str, template, args, err: AttributeError) -> None:
    """A template reading `.shape` of a number fails with "'int' object has no attribute 'shape'":
    name the template parameter that expected a tensor, and what it was given."""
    import inspect
    import re

    m = re.fullmatch(r"'(\w+)' object has no attribute '(shape|dtype|op|ndim)'", str(err))
    if m is None:
        return
    func = template.func or template.fcompute
    try:
        names = list(inspect.signature(func).parameters)[0 if template.func else 1:]
    except (TypeError, ValueError):
        names = []
    for i, a in enumerate(args):
        if type(a).__name__ == m.group(1):
            which = f"argument {i}" + (f" ({names[i]!r})" if i < len(names) else "")
            raise TypeError(f"autotvm.task.create({task_name!r}): {which} of the template must be a tensor "
                            f"(te.placeholder(...) or ('TENSOR', shape, dtype)), got {a!r}") from None
