"""Tasks of a relay program: every operator call whose implementations are AutoTVM templates.

`extract_from_program(mod["main"], target="llvm", params=params, ops=(relay.op.get("nn.conv2d"),))`
runs relay.build's graph passes except AlterOpLayout (as classic AutoTVM does: tasks are the
operators as the model states them, NCHW convolutions and unpacked dense; at build time
AlterOpLayout takes each one's tuned blocks), then makes one task per distinct (template,
arguments) of each call's strategy.  All templated implementations of a call become tasks
(dense_pack.x86 and dense_nopack.x86 both), so tuning decides between them by measured cost.
"""

from __future__ import annotations

from ...driver.build_module import resolve_target
from ...ir.transform import PassContext
from ...relay.build_module import optimize
from ...relay.expr import Call, Function
from ...relay.op.registry import Op
from ...relay.op.registry import get as get_op
from ...relay.op.strategy import op_strategy
from ...relay.ty import TensorType
from ...relay.visitor import post_order
from ...te import placeholder
from ...tuning.template import deserialize_args
from .task import create


def _op_names(ops) -> set | None:
    if ops is None:
        return None
    names = set()
    for op in ops if isinstance(ops, (list, tuple, set)) else [ops]:
        name = op.name if isinstance(op, Op) else str(op)
        get_op(name)  # an unknown operator name raises, naming it
        names.add(name)
    return names


def _calls(main: Function):
    for n in post_order(main.body):
        if isinstance(n, Call) and isinstance(n.op, Function):
            yield from (c for c in post_order(n.op.body) if isinstance(c, Call) and isinstance(c.op, Op))


def extract_from_program(mod, params, target, target_host=None, ops=None, opt_level=3):
    """The AutoTVM tasks of `mod` (an IRModule or its main Function), optionally only for the relay
    operators in `ops` (Op objects or names), in the order the model uses them."""
    tgt = resolve_target(target, target_host)
    wanted = _op_names(ops)
    tasks, seen = [], set()
    with PassContext(opt_level=opt_level, disabled_pass=["AlterOpLayout"]), tgt:
        fused = optimize(mod, params, tgt)
        for call in _calls(fused["main"]):
            if wanted is not None and call.op.name not in wanted:
                continue
            if not all(isinstance(a.ty, TensorType) for a in call.args):
                continue
            ins = [placeholder(a.ty.shape, a.ty.dtype, name=f"arg{i}") for i, a in enumerate(call.args)]
            for impl in op_strategy(call.op, call.attrs, ins, call.ty, tgt).implementations:
                if impl.template is None:
                    continue
                workload = impl.template.workload(impl.args(call.attrs, ins, call.ty))
                if workload in seen:
                    continue
                seen.add(workload)
                tasks.append(create(workload[0], deserialize_args(workload[1:]), tgt, target_host))
    return tasks


def extract_from_multiple_program(mods, params, target, target_host=None, ops=None):
    """The tasks of several programs, each task once."""
    tasks, seen = [], set()
    for mod, param in zip(mods, params):
        for t in extract_from_program(mod, param, target, target_host, ops):
            if t.workload not in seen:
                seen.add(t.workload)
                tasks.append(t)
    return tasks
