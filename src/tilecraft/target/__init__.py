"""Targets (what to compile for) and the code generators that turn TIR into native code."""

from .target import Target, TargetKind, arm_cpu, create, cuda, llvm

__all__ = ["Target", "TargetKind", "create", "llvm", "cuda", "arm_cpu", "codegen_llvm", "emit_object", "emit_assembly"]


def __getattr__(name):
    # The code generators import llvmlite; load them only when asked for.
    if name in ("codegen_llvm", "emit_object", "emit_assembly"):
        from .codegen import llvm

        return getattr(llvm, name)
    if name == "codegen":  # tvm.target.codegen.llvm_version_major() without importing it first
        import importlib

        return importlib.import_module(".codegen", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
