"""`tilecraft profile MODEL`: compile a model untuned, check it briefly against PyTorch, and print the
table of its fused functions, slowest first (runtime.timing.ProfileReport), so that the slow kernels
are visible at a glance.

    tilecraft profile resnet18 --top 15
    tilecraft profile tilecraft.models:bert_base --example-shape 1 128

The flop count of each kernel is that of its fused group's tensor expressions
(auto_scheduler.ComputeDAG.flop_ct, the count the tuners report GFLOP/s with: every arithmetic
operation of every loop iteration, a multiply-add counting two), computed here rather than in the
runtime, which never sees the compiler's IR.
"""

from __future__ import annotations

import logging

log = logging.getLogger("tilecraft.harness.profile")


def kernel_flops(factory, target=None) -> dict:
    """{kernel name: flop per call} for the kernels of relay.build's factory (GraphExecutorFactoryModule),
    counted from each fused group's compute (ComputeDAG.flop_ct), and stored on factory.kernel_flops so
    that the executors it makes later report GFLOP/s.  Kernels whose count fails are left out."""
    import json

    from ..auto_scheduler.compute_dag import ComputeDAG
    from ..relay.backend.te_compiler import group_name, group_tensors
    from ..relay.expr import Call, Function
    from ..relay.visitor import post_order
    from ..target import Target

    if factory.ir_mod is None:
        raise ValueError("kernel_flops needs the factory relay.build returned (a loaded library has no fused "
                         "relay functions to count)")
    target = Target(target or getattr(getattr(factory.lib, "artifact", None), "target", None) or "llvm")
    calls = [n for n in post_order(factory.ir_mod["main"].body) if isinstance(n, Call) and isinstance(n.op, Function)]
    nodes = [n for n in json.loads(factory.graph_json)["nodes"] if n["op"] == "tvm_op"]
    if len(calls) != len(nodes):
        raise ValueError(f"kernel_flops: the fused module has {len(calls)} kernel calls but the graph has "
                         f"{len(nodes)}; they do not describe the same build")
    flops: dict = {}
    with target:
        for call, node in zip(calls, nodes):
            name = node["attrs"]["func_name"]
            if name in flops:
                continue
            if not name.startswith(group_name(call.op)):
                raise ValueError(f"kernel_flops: graph kernel {name} is not the fused group {group_name(call.op)}")
            try:
                inputs, outs, _ = group_tensors(call.op, name, target)
                flops[name] = float(ComputeDAG(list(inputs) + list(outs)).flop_ct)
            except Exception as err:  # noqa: BLE001 - flop counts are informational
                log.debug("no flop count for %s: %s", name, err)
    factory.kernel_flops = flops
    return flops


def profile_model(spec: str, *, model_args: dict | None = None, shapes: dict | None = None,
                  input_names: list | None = None, example_dtype: str | None = None, target: str = "llvm",
                  import_path: str = "trace", number: int = 10, top: int | None = 20, peak=None,
                  atol: float = 1e-3, rtol: float = 1e-3, progress=None, file=None) -> tuple:
    """Load `spec` (a zoo name or MODULE:FUNCTION), compile it untuned, verify it once against PyTorch,
    print the per-kernel table (the `top` slowest) and return (ProfileReport, verification dict)."""
    from ..measure import ExportConfig, export_pytorch_module
    from .export import load_factory, verification_of

    say = progress or (lambda message: None)
    model, inputs = load_factory(spec, **(model_args or {}))
    if shapes:
        inputs = None
    elif inputs is None:
        raise ValueError(f"model factory {spec!r} returned no example inputs; pass --example-shape "
                         "(e.g. --example-shape 1 128)")
    config = ExportConfig(example_input=inputs, input_shapes=shapes, input_names=input_names, target=target,
                          tuning_trials=0, example_dtype=example_dtype, import_path=import_path)
    result = export_pytorch_module(model, config, progress=say)
    if result.graph_module is None:
        raise ValueError(f"the compiled code cannot run on this machine: {result.not_runnable}")
    say("verifying against PyTorch")
    verification = verification_of(result, model, atol, rtol)
    detail = verification.get("error") or f"max abs error {verification.get('max_abs_error', float('nan')):.2e}"
    say(f"verification {verification['status']}: {detail}")
    say("counting flops per kernel")
    flops = kernel_flops(result.factory)
    say(f"timing each kernel ({number} calls per measurement)")
    report = result.graph_module.profile(number=number, report=True, flops=flops, peak=peak, top=top, file=file)
    return report, verification
