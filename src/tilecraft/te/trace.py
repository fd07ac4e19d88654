"""The record of the primitives applied to a schedule, in order: printed, it is the te code that
builds the schedule; replayed on a fresh schedule of the same computation, it rebuilds it.  A
search keeps a trace per candidate instead of a schedule (the auto-scheduler's states are built
on this).

Steps refer to stages and axes in ways that survive a replay: a stage by the operation it was
created for, a root axis by its position in the stage's operation, an axis a primitive made by
the step that returned it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..ir.expr import IntImm, IterType, IterVar, PrimExpr
from ..ir.functor import substitute
from .tensor import Operation, Tensor


@dataclass(frozen=True, eq=False)
class StageRef:
    origin: Operation  # the operation the stage was created for (cache_write/rfactor replace `op`)
    op: Operation  # the stage's operation when the step ran: root axes are looked up in it


@dataclass(frozen=True, eq=False)
class AxisRef:
    """A root axis: `getattr(stage.op, kind)[index]`."""

    stage: StageRef
    kind: str  # "axis" | "reduce_axis"
    index: int
    iv: IterVar


@dataclass(frozen=True, eq=False)
class TensorRef:
    """An output of a stage's current operation when that is no longer the operation the stage
    was created for (cache_read and rfactor rewrite their readers' operations)."""

    stage: StageRef
    index: int


@dataclass(frozen=True, eq=False)
class Step:
    primitive: str  # the method name: split, compute_at, cache_write, ...
    stage: StageRef | None  # the stage it was called on; None for Schedule methods
    args: tuple
    kwargs: tuple  # ((name, value), ...)
    result: object


def primitive(fn):
    """Record a successful call of a Stage or Schedule primitive in its schedule's trace.
    Primitives that call other primitives (tile calls split and reorder) record only themselves."""
    name = fn.__name__

    @functools.wraps(fn)
    def recorded(self, *args, **kwargs):
        sch = getattr(self, "schedule", self)
        if sch._recording:
            return fn(self, *args, **kwargs)
        stage = StageRef(self.origin_op, self.op) if sch is not self else None
        rargs = tuple(_ref(sch, a) for a in args)
        rkwargs = tuple((k, _ref(sch, v)) for k, v in kwargs.items())
        sch._recording = True
        try:
            result = fn(self, *args, **kwargs)
        finally:
            sch._recording = False
        sch._steps.append(Step(name, stage, rargs, rkwargs, result))
        return result

    return recorded


def _ref(sch, a):
    if hasattr(a, "leaf_iter_vars"):  # a Stage
        return StageRef(a.origin_op, a.op)
    if isinstance(a, IterVar) and a.iter_type != IterType.THREAD_INDEX:
        owner = sch._owner_of(a)
        if owner is not None:
            for kind in ("axis", "reduce_axis"):
                axes = getattr(owner.op, kind)
                if a in axes:
                    return AxisRef(StageRef(owner.origin_op, owner.op), kind, axes.index(a), a)
        return a
    if isinstance(a, Tensor):
        st = sch.stage_map.get(a.op)
        if st is not None and st.op is a.op and a.op is not st.origin_op:
            return TensorRef(StageRef(st.origin_op, st.op), a.value_index)
        return a
    if isinstance(a, (list, tuple)):
        return type(a)(_ref(sch, x) for x in a)
    return a


class Trace:
    """The steps applied to a schedule of `outputs`; `str(trace)` is te code, `trace.apply(s)`
    replays them on another schedule of the same outputs."""

    def __init__(self, outputs, steps):
        self.outputs, self.steps = tuple(outputs), tuple(steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def __str__(self) -> str:
        return _Printer(self).code()

    def __repr__(self) -> str:
        return f"Trace({len(self.steps)} steps: {', '.join(s.primitive for s in self.steps)})"

    def apply(self, sch) -> None:
        """Replay the steps on `sch`, e.g. `te.create_schedule(outputs)`: the same primitives with
        the same arguments, new axes and cache tensors standing in for the ones they replace."""
        if list(sch.outputs) != list(self.outputs):
            from .stage import ScheduleError

            def names(ops):
                return ", ".join(op.name for op in ops)
            raise ScheduleError(f"cannot replay a trace recorded on a schedule of [{names(self.outputs)}] "
                                f"on a schedule of [{names(sch.outputs)}]: replay on "
                                f"te.create_schedule of the same outputs")
        _Replay(sch).run(self.steps)


class _Printer:
    def __init__(self, trace: Trace):
        self.trace = trace
        self.names: dict = {}  # op / iter var -> its name in the code
        self.taken: set = set()
        self.lines: list = []

    def code(self) -> str:
        outs = ", ".join(f"{self.op_name(op)}.op" for op in self.trace.outputs)
        self.lines.append(f"s = te.create_schedule([{outs}])")
        for step in self.trace.steps:
            self.step(step)
        return "\n".join(self.lines)

    def fresh(self, obj, hint: str) -> str:
        base = re.sub(r"\W", "_", hint) or "v"
        if base[0].isdigit():
            base = "_" + base
        name, k = base, 1
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        self.names[obj] = name
        return name

    def op_name(self, op) -> str:
        return self.names.get(op) or self.fresh(op, op.name)

    def stage(self, ref: StageRef) -> str:
        return f"s[{self.op_name(ref.origin)}]"

    def step(self, step: Step) -> None:
        args = [self.value(a) for a in step.args] + [f"{k}={self.value(v)}" for k, v in step.kwargs]
        target = self.stage(step.stage) if step.stage is not None else "s"
        call = f"{target}.{step.primitive}({', '.join(args)})"
        lhs = self.bind(step.result)
        self.lines.append(f"{lhs} = {call}" if lhs else call)

    def bind(self, result) -> str:
        """Names for what a step returns (new axes, cache tensors)."""
        if isinstance(result, IterVar):
            return self.fresh(result, result.var.name)
        if isinstance(result, Tensor):
            return self.fresh(result.op, result.op.name)
        if isinstance(result, (list, tuple)) and result:
            if all(isinstance(r, IterVar) for r in result):
                return ", ".join(self.fresh(r, r.var.name) for r in result)
            if all(isinstance(r, Tensor) for r in result):
                name = self.fresh(result[0].op, result[0].op.name)
                self.names[("list", result[0].op)] = name
                return name
        return ""

    def value(self, v) -> str:
        if isinstance(v, StageRef):
            return self.stage(v)
        if isinstance(v, AxisRef):
            return self.axis(v)
        if isinstance(v, TensorRef):
            return f"{self.stage(v.stage)}.op.output({v.index})"
        if isinstance(v, IterVar):
            if v.iter_type == IterType.THREAD_INDEX:
                return f'te.thread_axis("{v.thread_tag}")'
            return self.names.get(v, v.var.name)
        if isinstance(v, Tensor):
            name = self.op_name(v.op)
            if ("list", v.op) in self.names:
                return f"{name}[{v.value_index}]"
            return name if v.op.num_outputs == 1 else f"{name}.op.output({v.value_index})"
        if isinstance(v, list):
            return "[" + ", ".join(self.value(x) for x in v) + "]"
        if isinstance(v, tuple):
            return "(" + ", ".join(self.value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, IntImm):
            return str(v.value)
        if isinstance(v, PrimExpr):
            return str(v)
        return repr(v)

    def axis(self, ref: AxisRef) -> str:
        """A root axis: named, with a line that takes it from the stage's op, where first used."""
        name = self.names.get(ref.iv)
        if name is None:
            axes = getattr(ref.stage.op, ref.kind)
            names = [self.names.get(iv) or self.fresh(iv, iv.var.name) for iv in axes]
            lhs = f"({names[0]},)" if len(names) == 1 else ", ".join(names)
            self.lines.append(f"{lhs} = {self.stage(ref.stage)}.op.{ref.kind}")
            name = self.names[ref.iv]
        return name


class _Replay:
    def __init__(self, sch):
        self.sch = sch
        self.map: dict = {}  # recorded op / iter var -> the one in sch

    def run(self, steps) -> None:
        from .stage import ScheduleError

        for n, step in enumerate(steps):
            try:
                target = self.stage(step.stage) if step.stage is not None else self.sch
                args = [self.value(a) for a in step.args]
                kwargs = {k: self.value(v) for k, v in step.kwargs}
            except KeyError as e:
                raise ScheduleError(f"cannot replay step {n} ({step.primitive}): this schedule has no stage "
                                    f"for operation {e.args[0]}; replay on a schedule of the same outputs") from None
            self.match(step.result, getattr(target, step.primitive)(*args, **kwargs))

    def stage(self, ref: StageRef):
        op = self.map.get(ref.origin, ref.origin)
        st = self.sch.stage_map.get(op)
        if st is None:
            raise KeyError(ref.origin.name)
        return st

    def value(self, v):
        if isinstance(v, StageRef):
            return self.stage(v)
        if isinstance(v, AxisRef):
            return getattr(self.stage(v.stage).op, v.kind)[v.index]
        if isinstance(v, TensorRef):
            return self.stage(v.stage).op.output(v.index)
        if isinstance(v, IterVar):
            return self.map.get(v, v)
        if isinstance(v, Tensor):
            op = self.map.get(v.op)
            return v if op is None else op.output(v.value_index)
        if isinstance(v, (list, tuple)):
            return type(v)(self.value(x) for x in v)
        if isinstance(v, PrimExpr):  # e.g. a store predicate over the recorded loops
            return substitute(v, {o.var: n.var for o, n in self.map.items() if isinstance(o, IterVar)})
        return v

    def match(self, old, new) -> None:
        if isinstance(old, IterVar):
            self.map[old] = new
        elif isinstance(old, Tensor):
            self.map[old.op] = new.op
        elif isinstance(old, (list, tuple)):
            for a, b in zip(old, new):
                self.match(a, b)
