"""Choosing a topi schedule by target the way classic tests do (`topi.testing.dispatch`,
`get_injective_schedule`, ...), and `compare_numpy_tvm`."""

from __future__ import annotations

import numpy as np


def _schedules(kind: str) -> dict:
    """{target key: schedule} for one kind of operator; only what tilecraft's topi has."""
    from .. import cuda, generic, x86

    table = {"injective": {"cpu": x86.schedule_injective, "gpu": cuda.schedule_injective},
             "reduce": {"cpu": x86.schedule_reduce, "gpu": getattr(cuda, "schedule_reduce", None)}}[kind]
    return {"generic": generic.default_schedule, **{k: v for k, v in table.items() if v is not None}}


def dispatch(target, dispatch_map: dict):
    """dispatch_map[key] for the first of the target's keys ("cpu", "gpu", ...) that it has, else
    dispatch_map["generic"]."""
    from ...target import Target

    target = Target(target) if isinstance(target, str) else target
    for key in target.keys:
        if key in dispatch_map:
            return dispatch_map[key]
    if "generic" not in dispatch_map:
        raise KeyError(f"no schedule for target {target} (keys {', '.join(target.keys)}) and no 'generic' entry")
    return dispatch_map["generic"]


def get_injective_schedule(target):
    return dispatch(target, _schedules("injective"))


def get_reduce_schedule(target):
    return dispatch(target, _schedules("reduce"))


get_broadcast_schedule = get_injective_schedule
get_elemwise_schedule = get_injective_schedule


def get_conv2d_nchw_implement(target):
    """(compute, schedule) for conv2d_nchw on the target."""
    from .. import generic, nn, x86

    return dispatch(target, {"generic": (nn.conv2d_nchw, generic.default_schedule),
                             "cpu": (x86.conv2d_nchw, x86.schedule_conv2d_nchw)})


def compare_numpy_tvm(inputs, output, target, device, compute, schedule):
    """Build compute(*placeholders) with schedule([out]) for target, run it on `inputs` and compare
    with the known-correct `output` (atol = rtol = 1e-4)."""
    from ... import te
    from ...driver import build
    from ...runtime import ndarray as nd
    from ...target import Target

    placeholders = [te.placeholder(i.shape, dtype=str(i.dtype)) for i in inputs]
    result = nd.array(np.zeros(output.shape, dtype=output.dtype), device)
    target = Target(target) if isinstance(target, str) else target
    with target:
        out = compute(*placeholders)
        func = build(schedule([out]), [*placeholders, out], target=target)
    func(*[nd.array(x, device) for x in inputs], result)
    np.testing.assert_allclose(result.numpy(), output, atol=1e-4, rtol=1e-4)
