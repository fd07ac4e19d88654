"""Lower one fused group (a primitive relay Function) to a tir.PrimFunc.

Each operator gets its kernel from `select_implementation` (relay/op/strategy: the one place a
kernel is chosen, where tuned configurations plug in), applied to the group's input placeholders in
order; the group's anchor (its most complex operator: conv, dense, reduction) schedules the whole
group with its implementation's schedule, which inlines or fuses the element-wise rest.  The
schedule is lowered by the driver, the same function `tvm.lower` is.  With
`relay.backend.use_auto_scheduler`, a group the current dispatch context has a tuned schedule for
(auto_scheduler.ApplyHistoryBest) gets that schedule instead.  Groups that are the same
computation (same operators, attributes, shapes) are lowered once and shared, which is what makes
a 12-layer transformer cheap to build.
"""

from __future__ import annotations

from ... import te
from ...driver.build_module import lower
from ...tuning import current_context
from ..expr import Call, Constant, Function, Tuple, TupleGetItem, Var
from ..op.registry import OpPattern
from ..op.strategy import auto_scheduler_enabled, schedule_injective, select_implementation
from ..ty import TensorType
from ..visitor import post_order


def _flat(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def group_key(func: Function) -> str:
    """A structural fingerprint: two groups with the same key compute the same thing."""
    ids: dict = {}
    parts = [",".join(f"{p.ty.shape}{p.ty.dtype}" for p in func.params)]
    for k, p in enumerate(func.params):
        ids[id(p)] = f"p{k}"
    for n in post_order(func.body):
        if id(n) in ids:
            continue
        ids[id(n)] = f"n{len(ids)}"
        if isinstance(n, Call):
            attrs = sorted((k, repr(v)) for k, v in n.attrs.items())
            parts.append(f"{ids[id(n)]}={n.op.name}({','.join(ids[id(a)] for a in n.args)};{attrs})")
        elif isinstance(n, Tuple):
            parts.append(f"{ids[id(n)]}=({','.join(ids[id(a)] for a in n.fields)})")
        elif isinstance(n, TupleGetItem):
            parts.append(f"{ids[id(n)]}={ids[id(n.tuple_value)]}.{n.index}")
        elif isinstance(n, Constant):
            parts.append(f"{ids[id(n)]}=const{n.data.shape}{n.data.dtype}{n.data.tobytes()[:64].hex()}")
    return ";".join(parts)


def group_name(func: Function) -> str:
    ops = [n.op.name.replace(".", "_") for n in post_order(func.body) if isinstance(n, Call)]
    return "fused_" + "_".join(ops[:6]) if ops else "fused_copy"


class LoweredGroup:
    def __init__(self, name, prim_func, num_inputs, num_outputs, implementation=None):
        self.name, self.prim_func, self.num_inputs, self.num_outputs = name, prim_func, num_inputs, num_outputs
        self.implementation = implementation  # the anchor's strategy Selection (None for a plain copy)


def group_tensors(func: Function, name: str, target, own_computes=None) -> tuple:
    """(input placeholders, output tensors, anchor) of a fused group: each operator's compute from
    its selected implementation (own_computes: the operators' own computes, as the auto-scheduler
    tunes them; default: whether it is enabled); the anchor is (call, Selection) of the most
    complex operator, or None for a group of data movement only."""
    inputs = []
    env: dict = {}
    for k, p in enumerate(func.params):
        if not isinstance(p.ty, TensorType):
            raise TypeError(f"{name}: parameter {p.name_hint} must be a tensor, got {p.ty}")
        t = te.placeholder(p.ty.shape, p.ty.dtype, name=f"p{k}")
        inputs.append(t)
        env[id(p)] = [t]
    anchor, anchor_rank = None, -1
    for n in post_order(func.body):
        if id(n) in env:
            continue
        if isinstance(n, Call):
            ins = [t for a in n.args for t in env[id(a)]]
            chosen = select_implementation(n.op, n.attrs, ins, n.ty, target, own_computes)
            env[id(n)] = chosen.compute(n.attrs, ins, n.ty)
            rank = _anchor_rank(n.op.pattern)
            if rank >= anchor_rank:
                anchor, anchor_rank = (n, chosen), rank
        elif isinstance(n, Tuple):
            env[id(n)] = [t for f in n.fields for t in env[id(f)]]
        elif isinstance(n, TupleGetItem):
            env[id(n)] = [env[id(n.tuple_value)][n.index]]
        elif isinstance(n, Constant):
            env[id(n)] = [_constant_tensor(n)]
        elif isinstance(n, Var):
            raise ValueError(f"{name}: free variable %{n.name_hint} inside a fused group")
    outs = env[id(func.body)]
    outs = [o if o not in inputs else te.compute(o.shape, lambda *i, o=o: o[i], name="copy") for o in outs]
    return inputs, outs, anchor


def schedule_group(func: Function, name: str, target) -> tuple:
    """(schedule, tensors, anchor Selection) of a fused group as relay.build compiles it: under
    relay.backend.use_auto_scheduler the tuned schedule of the dispatch context's records where they
    have one, otherwise the strategies' kernels."""
    if auto_scheduler_enabled():
        inputs, outs, anchor = group_tensors(func, name, target, own_computes=True)
        sch = current_context().schedule_graph(target, inputs + outs)
        if sch is not None:
            return sch, inputs + outs, anchor[1] if anchor is not None else None
    return default_group_schedule(func, name, target)


def default_group_schedule(func: Function, name: str, target) -> tuple:
    """(schedule, tensors, anchor Selection) of a fused group without auto-scheduler records: each
    operator's strategy kernel (a template with its tuned or fallback configuration), the anchor's
    schedule for the whole group.  The auto-scheduler measures it as a task's first candidate, so a
    tuned model never deploys a schedule that measured slower than this one."""
    inputs, outs, anchor = group_tensors(func, name, target, own_computes=False)
    if anchor is None:
        return schedule_injective(outs, target), inputs + outs, None  # an input returned as it is, or data movement
    return anchor[1].schedule(anchor[0].attrs, outs, target), inputs + outs, anchor[1]


def lower_group(func: Function, name: str, target) -> LoweredGroup:
    sch, tensors, chosen = schedule_group(func, name, target)
    prim = lower(sch, tensors, name=name)[name]
    return LoweredGroup(name, prim, len(func.params), len(tensors) - len(func.params), chosen)


def _anchor_rank(pattern: int) -> int:
    return {OpPattern.OPAQUE: 4, OpPattern.OUT_ELEMWISE_FUSABLE: 3, OpPattern.COMM_REDUCE: 2}.get(pattern, 0)


def _constant_tensor(c: Constant):
    """A scalar constant inside a group becomes an expression; tensor constants are lifted by FuseOps."""
    if c.data.size != 1:
        raise ValueError("a tensor constant reached a fused group; FuseOps lifts them to parameters")
    value = c.data.reshape(()).item()
    return te.compute(c.data.shape, lambda *i: te.const(value, str(c.data.dtype)), name="const")


class TECompiler:
    """Lowers groups, sharing one kernel among structurally identical groups."""

    def __init__(self, target):
        self.target = target
        self.cache: dict = {}
        self.names: set = set()

    def lower(self, func: Function) -> LoweredGroup:
        key = group_key(func)
        hit = self.cache.get(key)
        if hit is None:
            base = group_name(func)
            name, k = base, 1
            while name in self.names:
                name = f"{base}_{k}"
                k += 1
            self.names.add(name)
            hit = lower_group(func, name, self.target)
            self.cache[key] = hit
        return hit
