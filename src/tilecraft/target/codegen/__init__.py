"""Code generators: TIR in, an `Artifact` (source text plus calling conventions) out."""

from .artifact import Artifact, FuncInfo, ParamInfo

__all__ = ["Artifact", "FuncInfo", "ParamInfo", "codegen_llvm", "emit_object", "emit_assembly"]


def __getattr__(name):
    # llvm.py imports llvmlite; importing the artifact contract alone should not.
    if name in ("codegen_llvm", "emit_object", "emit_assembly"):
        from . import llvm

        return getattr(llvm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
