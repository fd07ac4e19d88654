"""AutoTVM templates and the workloads that name them.

A *template* builds a computation and its schedule from a configuration (space.py).  Two kinds,
as in classic AutoTVM, share one table (`TASK_TABLE`, by task name):

* a user template, `@autotvm.template("tutorial/matmul")` on `f(*args) -> (schedule, tensors)`,
  which reads its configuration with `autotvm.get_config()`;
* an operator template of the operator library, a compute `fcompute(cfg, *args)` and a schedule
  `fschedule(cfg, outs)` registered with `register_topi_compute` / `register_topi_schedule`
  under a classic task name ("dense_pack.x86", "conv2d_NCHWc.x86", ...).  The relay strategies
  call them with the configuration `select_implementation` chose.

A *workload* is `(task name, *arguments)` with tensors written `("TENSOR", shape, dtype)` and
lists as tuples: what a tuning record is keyed by.  `config_for(workload)` asks the current
dispatch context; a workload no context knows gets a FallbackConfigEntity (the template's
hand-chosen defaults), cached per workload so compute and schedule see the same one, with a
one-line note on the "tilecraft.autotvm" logger at debug level.
"""

from __future__ import annotations

import functools
import logging
import threading

from ..te.tensor import Tensor
from .dispatch import DispatchContext, current_context
from .space import ConfigSpace, FallbackConfigEntity

logger = logging.getLogger("tilecraft.autotvm")

TASK_TABLE: dict = {}  # task name -> TaskTemplate


class TaskTemplate:
    """What a task name stands for: a user template function, or an operator's compute + schedule."""

    def __init__(self, name: str):
        self.name = name
        self.func = None  # user template: f(*args) -> (schedule, tensors)
        self.fcompute = None  # operator template: fcompute(cfg, *args) -> tensor or [tensors]
        self.fschedule = None  # fschedule(cfg, outs) -> schedule
        self.workload_of = None  # optional: args -> the workload this call is tuned as (see register_topi_compute)
        self._spaces: dict = {}  # workload -> ConfigSpace (accepts)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_spaces"] = {}  # a cache; workers rebuild what they need
        return state

    def __call__(self, *args, **kwargs):
        """(schedule, tensors) under the configuration the current context gives this workload."""
        cfg = config_for(self.workload(args))
        return self.instantiate(cfg, args, kwargs)

    def instantiate(self, cfg, args, kwargs=None):
        kwargs = kwargs or {}
        if self.func is not None:
            with ApplyConfigEntity(cfg):
                return self.func(*args, **kwargs)
        if self.fcompute is None or self.fschedule is None:
            raise RuntimeError(f"template {self.name!r} has no {'compute' if self.fcompute is None else 'schedule'}; "
                               "register both with register_topi_compute and register_topi_schedule")
        outs = self.fcompute(cfg, *args, **kwargs)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        sch = self.fschedule(cfg, outs)
        return sch, _inputs_of(outs, [a for a in args if isinstance(a, Tensor)]) + outs

    def workload(self, args) -> tuple:
        return self.workload_of(args) if self.workload_of is not None else args_to_workload(args, self.name)

    def space(self, args, kwargs=None) -> ConfigSpace:
        """The configuration space of this template on these arguments."""
        space = ConfigSpace()
        space.template_key = self.name
        if self.func is not None:
            self.instantiate(space, args, kwargs)
        else:
            self.fcompute(space, *args, **(kwargs or {}))  # operator templates define knobs in compute
        return space

    def accepts(self, cfg, args) -> bool:
        """Whether `cfg` sets every knob of this template's space on `args` to one of its values."""
        key = self.workload(args)
        space = self._spaces.get(key)
        if space is None:
            space = self._spaces[key] = self.space(args)
        entities = getattr(cfg, "_entity_map", {})
        ok = all(name in entities and entities[name] in knob.entities for name, knob in space.space_map.items())
        if not ok:
            logger.debug("the tuned configuration %s does not fit template %s on %s: using the fallback",
                         cfg, self.name, key)
        return ok

    def fallback(self, args, kwargs=None) -> FallbackConfigEntity:
        """The template's default configuration on these arguments (filled by running it)."""
        cfg = FallbackConfigEntity(self.workload(args))
        if self.func is not None:
            self.instantiate(cfg, args, kwargs)
        else:
            self.fcompute(cfg, *args, **(kwargs or {}))
        return cfg


def _inputs_of(outs, given) -> list:
    """The placeholders `outs` read: the given ones first, in order, then any the compute made
    itself (a tuned operator reads pre-blocked placeholders, see in_tuning)."""
    found, todo, seen = [], [t.op for t in reversed(outs)], set()
    while todo:  # depth first, inputs in order: data before weights
        op = todo.pop()
        if op in seen:
            continue
        seen.add(op)
        if type(op).__name__ == "PlaceholderOp":
            found.append(op)
        todo.extend(t.op for t in reversed(getattr(op, "input_tensors", ())))
    used = [t for t in given if t.op in seen]
    return used + [op.output(0) for op in found if op not in {t.op for t in given}]


_SCOPE = threading.local()


class tuning_scope:  # noqa: N801 - a context manager used like a function
    """While a tuner instantiates a task (Task.instantiate), operator templates measure the kernel
    as it is deployed: with data and weights already in the layout AlterOpLayout gives them
    (classic AutoTVM's GLOBAL_SCOPE.in_tuning), not re-laid out inside the kernel."""

    def __enter__(self):
        _SCOPE.depth = getattr(_SCOPE, "depth", 0) + 1

    def __exit__(self, *exc):
        _SCOPE.depth -= 1


def in_tuning() -> bool:
    return getattr(_SCOPE, "depth", 0) > 0


def _table_entry(name: str) -> TaskTemplate:
    if name not in TASK_TABLE:
        TASK_TABLE[name] = TaskTemplate(name)
    return TASK_TABLE[name]


def get_template(name: str) -> TaskTemplate:
    try:
        return TASK_TABLE[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(TASK_TABLE), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else \
            "; define it with @autotvm.template(name) (or import the module that does) first"
        raise KeyError(f"no AutoTVM template named {name!r}{hint}") from None


# ------------------------------------------------------------------------------------ workloads

def serialize_arg(a):
    if isinstance(a, Tensor):
        return ("TENSOR", tuple(int(getattr(s, "value", s)) for s in a.shape), str(a.dtype))
    if isinstance(a, (list, tuple)):
        return tuple(serialize_arg(x) for x in a)
    if isinstance(a, (bool, int, float, str)) or a is None:
        return a
    value = getattr(a, "value", None)
    if isinstance(value, (int, float)):
        return value
    dtype = getattr(a, "dtype", None)
    if isinstance(a, type) or (dtype is not None and a.__class__.__name__ == "dtype"):
        return str(a)
    raise TypeError(f"an AutoTVM template argument must be a tensor, a number, a string, None or a list of "
                    f"those; got {type(a).__name__} {a!r}")


def args_to_workload(args, task_name: str) -> tuple:
    """(task name, *arguments) with tensors as ("TENSOR", shape, dtype): a hashable record key."""
    return (task_name,) + tuple(serialize_arg(a) for a in args)


def deserialize_args(args) -> list:
    """Workload arguments back to template arguments: ("TENSOR", shape, dtype) becomes a placeholder."""
    from ..te import placeholder

    out = []
    for a in args:
        if isinstance(a, (list, tuple)) and len(a) == 3 and a[0] == "TENSOR":
            out.append(placeholder(tuple(a[1]), dtype=a[2]))
        elif isinstance(a, (list, tuple)):
            out.append(tuple(deserialize_args(a)))
        else:
            out.append(a)
    return out


def as_tuples(x):
    """JSON lists (from a log) as the nested tuples workloads are made of."""
    return tuple(as_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


# ------------------------------------------------------------------------------------ configurations

class ApplyConfigEntity(DispatchContext):
    """One configuration for every query: what a template (or a tuner's candidate) is built with."""

    def __init__(self, config):
        self.config = config

    def query(self, target, workload):
        return self.config


_FALLBACKS: dict = {}
_FALLBACK_LOCK = threading.Lock()


def config_for(workload, target=None):
    """The configuration of `workload`: the current context's answer, else the cached fallback."""
    from ..target import Target

    target = target if target is not None else Target.current(allow_none=True)
    cfg = current_context().query(target, workload)
    if cfg is not None:
        return cfg
    key = (str(target), workload)
    with _FALLBACK_LOCK:
        cfg = _FALLBACKS.get(key)
        if cfg is None:
            logger.debug("no tuned configuration for %s on %s: using the fallback", workload, target)
            cfg = _FALLBACKS[key] = FallbackConfigEntity(workload)
    return cfg


def get_config():
    """The configuration of the template being instantiated (inside an @autotvm.template function)."""
    cfg = current_context().query(None, None)
    if cfg is None:
        raise RuntimeError("autotvm.get_config() is called outside a template: call it inside a function "
                           "decorated with @autotvm.template, which supplies the configuration")
    return cfg


def template(task_name, func=None):
    """Decorate `f(*args) -> (schedule, tensors)` as the AutoTVM template `task_name`.

    Called directly, the function builds the schedule of the configuration the current context
    (e.g. `autotvm.apply_history_best(log)`) has for these arguments, or the fallback."""
    if callable(task_name) and func is None:
        func, task_name = task_name, task_name.__name__

    def decorate(f):
        entry = _table_entry(task_name)
        entry.func = f

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            if kwargs:
                raise TypeError(f"template {task_name!r}: pass arguments by position (they form the workload)")
            return entry(*args)

        wrapper.template_name = task_name
        return wrapper

    return decorate(func) if func is not None else decorate


def register_topi_compute(task_name: str, workload_of=None):
    """Register `fcompute(cfg, *args)` as the compute of operator template `task_name`; returns a
    function of `*args` that computes under the current context's configuration.  `workload_of(args)`
    (optional) names the workload another layout of the same operator is tuned as."""

    def decorate(fcompute):
        entry = _table_entry(task_name)
        entry.fcompute = fcompute
        entry.workload_of = workload_of

        @functools.wraps(fcompute)
        def wrapper(*args, **kwargs):
            return fcompute(config_for(entry.workload(args)), *args, **kwargs)

        wrapper.template_name = task_name
        return wrapper

    return decorate


def register_topi_schedule(task_name: str):
    """Register `fschedule(cfg, outs)` as the schedule of operator template `task_name`.  The
    function returned takes (outs) alone and schedules with the fallback derived from them."""

    def decorate(fschedule):
        entry = _table_entry(task_name)
        entry.fschedule = fschedule

        @functools.wraps(fschedule)
        def wrapper(outs, cfg=None):
            return fschedule(cfg, outs)

        wrapper.template_name = task_name
        return wrapper

    return decorate
