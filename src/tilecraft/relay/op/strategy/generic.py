"""Operator strategies: per operator and target, the kernels that can compute it, and the one
function that chooses among them.

An `OpImplementation` is a compute (attrs, inputs, out_type, cfg) -> [te.Tensor], a schedule
(attrs, outs, target, cfg) -> te.Schedule, a name in the classic style (`conv2d_NCHWc.x86`) and a
priority.  Most are AutoTVM operator templates (`OpStrategy.add_template`): their configuration
cfg (knobs such as the channel blocks of a blocked convolution) comes from the dispatch context
when a tuning log has the call's workload, else it is the template's fallback.  A strategy
function, registered for an operator and a target key ("cpu", "cuda", "gpu", or "generic" for
any target), returns the implementations that are valid for the call's attributes and shapes.

`select_implementation` is the only place a kernel is chosen: among the valid implementations, a
tuned configuration from the current dispatch context (tilecraft.tuning) wins, the fastest one if
several are tuned; otherwise the highest priority with its default configuration.  With
`relay.backend.use_auto_scheduler` the operator's own compute is chosen, and the group it lands in
is scheduled from the auto-scheduler's records where they have it (relay/backend/te_compiler.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ....ir.transform import PassContext
from ....tuning import current_context
from ....tuning.template import get_template
from ..registry import OpPattern


@dataclass(frozen=True)
class OpImplementation:
    compute: object  # (attrs, inputs, out_type, cfg) -> list of te.Tensor; None: the operator's compute
    schedule: object  # (attrs, outs, target, cfg) -> te.Schedule
    name: str
    plevel: int = 10
    template: object = None  # the tuning.template.TaskTemplate whose configurations this takes
    args: object = None  # (attrs, inputs, out_type) -> the template's arguments for this call

    def config(self, attrs, inputs, out_type):
        """The default configuration: the template's fallback ({} without a template)."""
        return self.template.fallback(self.args(attrs, inputs, out_type)) if self.template else {}

    def accepts(self, cfg, attrs, inputs, out_type) -> bool:
        """Whether a tuned configuration fits this call's configuration space (a record of another
        template version, or a classic log's, may not)."""
        return self.template is None or self.template.accepts(cfg, self.args(attrs, inputs, out_type))


class OpStrategy:
    """The implementations of one call, in the order they were added."""

    def __init__(self):
        self.implementations: list = []

    def add_implementation(self, compute, schedule, name: str, plevel: int = 10):
        self.implementations.append(OpImplementation(compute, schedule, name, plevel))
        return self

    def add_template(self, name: str, args, plevel: int = 10, compute=None):
        """Add the operator template `name` (registered in topi with register_topi_compute and
        register_topi_schedule); args(attrs, inputs, out_type) -> its arguments for the call.
        compute None: the template's compute on those arguments; "op": the operator's own (when
        it equals the template's and the configuration only changes the schedule)."""
        template = get_template(name)
        if compute is None:
            def compute(attrs, inputs, out_type, cfg):
                return template.fcompute(cfg, *args(attrs, inputs, out_type))
        elif compute == "op":
            compute = None

        def schedule(attrs, outs, target, cfg):
            return template.fschedule(cfg, outs)

        self.implementations.append(OpImplementation(compute, schedule, name, plevel, template, args))
        return self


_STRATEGIES: dict = {}  # (operator name or pattern family, target key) -> strategy function


def register_strategy(op_name: str, *target_keys: str):
    """Decorator: `@register_strategy("nn.dense", "cpu")` on fn(attrs, inputs, out_type, target) -> OpStrategy.
    `op_name` may also be "injective" or "reduce": the strategy of every operator of that fusion
    pattern that has none of its own."""

    def register(fn):
        for key in target_keys or ("generic",):
            _STRATEGIES[(op_name, key)] = fn
        return fn

    return register


def _family(op) -> str | None:
    if op.pattern in (OpPattern.ELEMWISE, OpPattern.BROADCAST, OpPattern.INJECTIVE):
        return "injective"
    if op.pattern == OpPattern.COMM_REDUCE:
        return "reduce"
    return None


def _registered(names, attrs, inputs, out_type, target):
    keys = tuple(getattr(target, "keys", ())) + ("generic",)
    for name in names:
        for key in keys:
            fn = _STRATEGIES.get((name, key))
            if fn is not None:
                strategy = fn(attrs, inputs, out_type, target)
                if strategy.implementations:
                    return strategy
    return None


def op_strategy(op, attrs, inputs, out_type, target) -> OpStrategy:
    """The strategy of `op` for `target`: the most specific registration among the target's keys,
    then "generic"; operators without their own fall back to their fusion pattern's family."""
    strategy = _registered((op.name, _family(op)), attrs, inputs, out_type, target)
    if strategy is None:
        keys = ", ".join(tuple(getattr(target, "keys", ())) + ("generic",))
        raise ValueError(f"operator {op.name} has no implementation for target {target} (keys {keys}); "
                         f"register one with relay.op.strategy.register_strategy({op.name!r}, <target key>)")
    return strategy


def schedule_injective(outs, target):
    """The target's injective schedule for `outs` (what a group of only data movement gets)."""
    impl = _registered(("injective",), {}, [], None, target).implementations[0]
    return impl.schedule({}, outs, target, {})


def workload_of(impl: OpImplementation, attrs, inputs, out_type) -> tuple:
    """What a tuning record is keyed by: a template's workload (classic AutoTVM's: task name and
    arguments), else the implementation's name, its input shapes and dtypes and the attributes."""
    if impl.template is not None:
        return impl.template.workload(impl.args(attrs, inputs, out_type))
    args = tuple((tuple(int(s) if isinstance(s, int) or hasattr(s, "value") else str(s) for s in _shape(t)),
                  str(t.dtype)) for t in inputs)
    return (impl.name, args, tuple(sorted((k, repr(v)) for k, v in attrs.items())))


def _shape(t):
    return [getattr(s, "value", s) for s in t.shape]


@dataclass(frozen=True)
class Selection:
    """The chosen implementation, its configuration and whether that came from a tuning record."""

    op: object
    impl: OpImplementation
    config: object  # a ConfigEntity (tuned), the template's FallbackConfigEntity, or {}
    tuned: bool

    def compute(self, attrs, inputs, out_type) -> list:
        if self.impl.compute is None:
            outs = self.op.compute(attrs, inputs, out_type)
        else:
            outs = self.impl.compute(attrs, inputs, out_type, self.config)
        return list(outs) if isinstance(outs, (list, tuple)) else [outs]

    def schedule(self, attrs, outs, target):
        return self.impl.schedule(attrs, outs, target, self.config)


def auto_scheduler_enabled() -> bool:
    """relay.backend.use_auto_scheduler in the current PassContext: the operators' own computes are
    chosen and whole groups take their schedules from the auto-scheduler's records."""
    return PassContext.current().get_config("relay.backend.use_auto_scheduler")


def select_implementation(op, attrs, inputs, out_type, target, own_compute=None) -> Selection:
    """Choose the kernel for one call of `op` (see the module docstring for the rule).  own_compute:
    the operator's own compute for the auto-scheduler (default: whether it is enabled)."""
    impls = sorted(op_strategy(op, attrs, inputs, out_type, target).implementations, key=lambda i: -i.plevel)
    if auto_scheduler_enabled() if own_compute is None else own_compute:
        # The auto-scheduler schedules whole groups of the operators' own computes (classic's
        # naive computes): no packed layouts, no templates.
        plain = [i for i in impls if i.compute is None]
        if plain:
            return Selection(op, plain[0], plain[0].config(attrs, inputs, out_type), False)
    ctx = current_context()
    tuned = []
    for impl in impls:
        cfg = ctx.query(target, workload_of(impl, attrs, inputs, out_type))
        if cfg is not None and impl.accepts(cfg, attrs, inputs, out_type):
            tuned.append((getattr(cfg, "cost", math.inf), -impl.plevel, len(tuned), impl, cfg))
    if tuned:
        _, _, _, impl, cfg = min(tuned, key=lambda t: t[:3])
        return Selection(op, impl, cfg, True)
    best = impls[0]
    return Selection(op, best, best.config(attrs, inputs, out_type), False)


# ---------------------------------------------------------------------------- generic strategies

def topi_schedule(fn):
    """A topi schedule fn(outs) as an implementation schedule."""
    return lambda attrs, outs, target, cfg: fn(outs)


def single(name: str, schedule, compute=None, plevel: int = 10):
    """A strategy with one implementation; compute None means the operator's registered compute."""

    def strategy(attrs, inputs, out_type, target):
        return OpStrategy().add_implementation(compute, schedule, name, plevel)

    return strategy


def _default_schedule(attrs, outs, target, cfg):
    from ....topi.generic import default_schedule

    return default_schedule(outs)


register_strategy("injective", "generic")(single("injective.generic", _default_schedule))
register_strategy("reduce", "generic")(single("reduce.generic", _default_schedule))
# a copy, where a stop_fusion mark is built before FuseOps drops it (FoldConstant on a constant)
register_strategy("annotation.stop_fusion", "generic")(
    single("stop_fusion.generic", lambda attrs, outs, target, cfg: schedule_injective(outs, target)))
