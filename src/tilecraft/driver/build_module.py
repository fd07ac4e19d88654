"""From a te schedule to loop IR (`lower`) and to a runnable module (`build`): the one build path.

`tvm.lower` / `tvm.build`, `relay.build` (every fused group) and the tuners' builders all come
through these functions, so what a tuner measures is what relay.build deploys:

    te.Schedule --lower_schedule--> PrimFunc --lower_pipeline--> IRModule      (what `lower` prints)
                --build_pipeline--> IRModule --codegen for the target--> runtime Module
"""

from __future__ import annotations

from ..te.lower import lower_schedule
from ..te.schedule import Schedule
from ..tir.stmt import IRModule, PrimFunc
from ..tir.transform import build_pipeline, lower_pipeline, run_passes


def lower(sch, args=None, name: str = "main", binds=None, simple_mode: bool = False) -> IRModule:
    """Lower a schedule to an IRModule holding one PrimFunc; `print()` it to read the loops."""
    if binds:
        raise ValueError(f"lower(binds=...) is not supported by tilecraft (got buffers for "
                         f"{', '.join(getattr(t, 'name', str(t)) for t in binds)}); declare each argument with "
                         "te.placeholder of the shape and dtype it has, and leave binds out")
    if isinstance(sch, IRModule):
        return sch
    if isinstance(sch, PrimFunc):
        return IRModule({sch.name: sch})
    if not isinstance(sch, Schedule):
        raise TypeError(f"lower expects a te.Schedule (from te.create_schedule), got {type(sch).__name__}")
    if args is None:
        raise TypeError("lower(schedule, args): give the list of argument tensors, e.g. [A, B, C]")
    func = run_passes(lower_schedule(sch, args, name), lower_pipeline())
    return IRModule({name: func})


def schedule_to_module(sch, args=None, name: str = "main", binds=None) -> IRModule:
    """The schedule as loops, before any lowering pass (classic `driver.build_module.schedule_to_module`)."""
    if binds:
        raise ValueError("schedule_to_module(binds=...) is not supported; declare each argument with te.placeholder")
    if args is None:
        raise TypeError("schedule_to_module(schedule, args): give the list of argument tensors")
    return IRModule({name: lower_schedule(sch, args, name)})


def resolve_target(target=None, target_host=None):
    """The Target to compile for: `target`, else the enclosing `with Target(...)`, else the host CPU."""
    from ..target import Target

    tgt = Target(target if target is not None else (Target.current() or "llvm"))
    if target_host is None:
        return tgt
    host = Target(target_host)
    if host.kind != "llvm":
        raise ValueError(f"target_host={target_host!r}: the host code runs on the CPU, give an 'llvm' target")
    if tgt.kind == "llvm":
        return tgt  # CPU code is its own host
    return Target(tgt, host=host)


def build(inputs, args=None, target=None, target_host=None, name: str = "default_function", binds=None):
    """Compile a schedule (or a lowered IRModule/PrimFunc) for `target` and return a runtime Module."""
    tgt = resolve_target(target, target_host)
    if isinstance(inputs, Schedule):
        mod = lower(inputs, args, name=name, binds=binds)
    else:
        mod = lower(inputs, binds=binds)
    return codegen(run_passes(mod, build_pipeline()), tgt)


def codegen(mod: IRModule, target):
    """Generate machine code for a module of build-ready PrimFuncs and wrap it as a runtime Module."""
    if target.kind == "llvm":
        from ..runtime.module import Module
        from ..target.codegen.llvm import codegen_llvm

        return Module.from_artifact(codegen_llvm(mod, target))
    if target.kind == "cuda":
        from ..target.codegen.cuda import build_cuda

        return build_cuda(mod, target)
    if target.kind == "opencl":
        from ..target.codegen.opencl import build_opencl

        return build_opencl(mod, target)
    raise ValueError(f"cannot build for target kind {target.kind!r}; use 'llvm' (CPU), 'cuda' or 'opencl'")
