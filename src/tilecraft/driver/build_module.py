"""From a te schedule to loop IR (`lower`) and to a runnable module (`build`)."""

from __future__ import annotations

from ..te.lower import lower_schedule
from ..te.schedule import Schedule
from ..tir.stmt import IRModule, PrimFunc
from ..tir.transform import BUILD_PASSES, LOWER_PASSES, run_passes


def lower(sch, args=None, name: str = "main", binds=None, simple_mode: bool = False) -> IRModule:
    """Lower a schedule to an IRModule holding one PrimFunc; `print()` it to read the loops."""
    if isinstance(sch, IRModule):
        return sch
    if isinstance(sch, PrimFunc):
        return IRModule({sch.name: sch})
    if not isinstance(sch, Schedule):
        raise TypeError(f"lower expects a te.Schedule (from te.create_schedule), got {type(sch).__name__}")
    if args is None:
        raise TypeError("lower(schedule, args): give the list of argument tensors, e.g. [A, B, C]")
    func = run_passes(lower_schedule(sch, args, name), LOWER_PASSES)
    return IRModule({name: func})


def build(inputs, args=None, target=None, target_host=None, name: str = "default_function"):
    """Compile a schedule (or a lowered IRModule/PrimFunc) for `target` and return a runtime Module."""
    from ..target import Target

    tgt = Target(target if target is not None else (Target.current() or "llvm"))
    mod = lower(inputs, args, name=name) if isinstance(inputs, Schedule) else lower(inputs)
    funcs = {n: run_passes(f, BUILD_PASSES) for n, f in mod.items()}
    mod = IRModule(funcs)
    if tgt.kind == "llvm":
        from ..runtime.module import Module
        from ..target.codegen.llvm import codegen_llvm

        return Module.from_artifact(codegen_llvm(mod, tgt))
    if tgt.kind == "cuda":
        from ..target.codegen.cuda import build_cuda

        return build_cuda(mod, tgt)
    raise ValueError(f"cannot build for target kind {tgt.kind!r}; use 'llvm' (CPU) or 'cuda'")
