"""Code generators: TIR in, a runtime `Artifact` (source text plus calling conventions) out.

llvm.py and cuda.py import llvmlite or the CUDA toolchain helpers; import them by name."""

from ..x86 import target_has_features


def llvm_version_major(allow_none: bool = False) -> int:
    """The major version of the LLVM that compiles llvm targets (llvmlite's), as classic tests ask."""
    import llvmlite.binding as llvm

    return llvm.llvm_version_info[0]


def llvm_get_system_triple() -> str:
    import llvmlite.binding as llvm

    return llvm.get_process_triple()


def llvm_get_system_cpu() -> str:
    import llvmlite.binding as llvm

    return llvm.get_host_cpu_name()


# Whether a target (default: the current one, else the host) enables every feature named: classic
# codegen.llvm_cpu_has_features / target_has_features, answered from target/x86.py.
llvm_cpu_has_features = target_has_features
