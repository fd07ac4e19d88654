"""In-process compilation of an "llvm" Artifact with llvmlite's MCJIT.

The code generator's IR has already been through LLVM's O3 pipeline (see
target/codegen/llvm.py), so the runtime only turns it into machine code.  Object files and
assembly for export come from the code generator's `emit_object` / `emit_assembly`; the JIT
needs a target machine of its own because an MCJIT engine takes ownership of its machine and
frees it together with itself.

llvmlite is imported on first use, so importing the runtime does not load LLVM.
"""

from __future__ import annotations

import re
import threading

_init_lock = threading.Lock()
_initialised = False

# An IR module that references any of these needs an OpenMP runtime loaded before linking.
OPENMP_SYMBOL = re.compile(r"@(GOMP_\w+|omp_\w+|__kmpc_\w+)\b")

# Vector extensions whose absence makes code for another CPU crash with SIGILL.
_CHECKED_FEATURES = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl")


def _init() -> None:
    """Initialise llvmlite's native target, assembly printer and parser (once per process)."""
    global _initialised
    if _initialised:
        return
    import llvmlite.binding as llvm

    with _init_lock:
        if not _initialised:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            llvm.initialize_native_asmparser()
            _initialised = True


def _target(target: str):
    from tilecraft.target.target import Target

    return Target(target or "llvm")


def needs_openmp(art) -> bool:
    return bool(art.extra.get("needs_openmp")) or bool(OPENMP_SYMBOL.search(art.source))


def check_runs_here(target: str) -> None:
    """Raise ValueError unless code for `target` can run on this machine.

    Running code for another triple, or for a CPU with vector extensions this one lacks,
    would kill the process (SIGILL) instead of raising an error.
    """
    import llvmlite.binding as llvm

    t = _target(target)
    host_triple = llvm.get_process_triple()
    if t.mtriple.split("-")[0] != host_triple.split("-")[0]:
        raise ValueError(f"cannot run code built for target {target!r} (triple {t.mtriple}) on this "
                         f"{host_triple} machine; export it with export_library and run it where it "
                         "belongs")
    host = llvm.get_host_cpu_features()
    missing = [f for f in _CHECKED_FEATURES if t.has_feature(f) and not host.get(f, False)]
    if missing:
        raise ValueError(f"cannot run code built for target {target!r} here: it uses "
                         f"{', '.join(missing)}, which this CPU ({llvm.get_host_cpu_name()}) lacks; "
                         "build for target='llvm' (the host CPU) or run it on a matching machine")


def jit(art):
    """Compile an "llvm" Artifact's IR in process; return the finalised MCJIT engine."""
    import llvmlite.binding as llvm

    _init()
    t = _target(art.target)
    machine = llvm.Target.from_triple(t.mtriple).create_target_machine(
        cpu=t.mcpu, features=t.features, opt=3)  # code model "jitdefault", as MCJIT needs
    mod = llvm.parse_assembly(art.source)
    mod.verify()
    engine = llvm.create_mcjit_compiler(mod, machine)
    engine.finalize_object()
    return engine


def emit_object(art) -> bytes:
    """Position-independent object code for the artifact's target."""
    from tilecraft.target.codegen.llvm import emit_object as codegen_emit_object

    return codegen_emit_object(art)


def emit_assembly(art) -> str:
    from tilecraft.target.codegen.llvm import emit_assembly as codegen_emit_assembly

    return codegen_emit_assembly(art)
