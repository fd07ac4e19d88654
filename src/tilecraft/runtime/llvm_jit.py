"""Machine code from an "llvm" Artifact with llvmlite: MCJIT in process, objects and assembly for export.

The code generator's IR has already been through LLVM's O3 pipeline (see
target/codegen/llvm.py), so the runtime only turns it into machine code.  It does so for the
machine the code generator recorded in the artifact (`extra`: mtriple, mcpu, mattr, mabi,
opt_level, and `requires`, the vector extensions the code may use), because the IR's functions
carry that CPU and those features: the runtime never reads a target string.  An artifact with
no record (IR written by hand) is code for this machine.

The JIT needs a target machine of its own because an MCJIT engine takes ownership of its
machine and frees it together with itself; object files and assembly share cached ones.

llvmlite is imported on first use, so importing the runtime does not load LLVM.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from functools import lru_cache

_init_lock = threading.Lock()
_initialised = False

# An IR module that references any of these needs an OpenMP runtime loaded before linking.
OPENMP_SYMBOL = re.compile(r"@(GOMP_\w+|omp_\w+|__kmpc_\w+)\b")

# Vector extensions whose absence makes code for another CPU crash with SIGILL; the code
# generator records which of them a target enables (`extra["requires"]`).
CHECKED_FEATURES = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl")


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


def machine_of(art) -> tuple[str, str, str, str, int]:
    """(triple, cpu, features, abi, opt level) the artifact's code was generated for."""
    x = art.extra
    if "mtriple" not in x:
        import llvmlite.binding as llvm

        return llvm.get_process_triple(), llvm.get_host_cpu_name(), "", "", 3
    return x["mtriple"], x.get("mcpu", ""), x.get("mattr", ""), x.get("mabi", ""), x.get("opt_level", 3)


@lru_cache(maxsize=1)
def _init_all() -> None:
    import llvmlite.binding as llvm

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()


_probe_lock = threading.Lock()
_UNRECOGNIZED = re.compile(r"'([^']*)' is not a recognized (processor|feature)")


@lru_cache(maxsize=64)
def unrecognized(triple: str, cpu: str, features: str) -> tuple[str, ...]:
    """The CPU name and features among `cpu`/`features` that LLVM does not know for `triple`.

    LLVM only prints a warning for these and goes on with a CPU that has no features; on x86-64
    that CPU cannot make 64-bit code and LLVM then kills the process.  So the question is asked
    on a throw-away subtarget that is told it is 64-bit, with LLVM's stderr read from a file.
    """
    import llvmlite.binding as llvm

    unsigned = tuple(f for f in features.split(",") if f and f[0] not in "+-")
    if unsigned:  # LLVM aborts on a feature without a sign: never hand it one
        return unsigned
    _init_all()
    target = _llvm_target(triple)
    safe = ",".join(f for f in (features, "+64bit" if triple.startswith("x86_64") else "") if f)
    with _probe_lock, tempfile.TemporaryFile() as log:
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            machine = target.create_target_machine(cpu=cpu, features=safe, opt=0, reloc="pic")
            probe = llvm.parse_assembly(f'target triple = "{triple}"\ndefine void @probe() {{\n  ret void\n}}\n')
            machine.emit_object(probe)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        said = log.read().decode(errors="replace")
    return tuple(dict.fromkeys(name for name, _ in _UNRECOGNIZED.findall(said)))


def check_machine(triple: str, cpu: str, features: str) -> None:
    """Raise ValueError naming what LLVM does not know, before a target machine is made for it."""
    bad = unrecognized(triple, cpu, features)
    if bad:
        what = [f"CPU {b!r}" if b == cpu else f"feature {b!r}" for b in bad]
        raise ValueError(f"LLVM does not know the {' or '.join(what)} for {triple}; "
                         "check -mcpu and -mattr of the target (-mcpu=native means this machine)")


def _llvm_target(triple: str):
    import llvmlite.binding as llvm

    try:
        return llvm.Target.from_triple(triple)
    except RuntimeError as err:
        raise ValueError(f"LLVM cannot generate code for the triple {triple!r}: {err}") from None


@lru_cache(maxsize=16)
def target_machine(triple: str, cpu: str, features: str, opt: int, abi: str):
    """The (cached) position-independent TargetMachine for a CPU, any triple LLVM knows."""
    check_machine(triple, cpu, features)
    return _llvm_target(triple).create_target_machine(cpu=cpu, features=features, opt=min(3, max(0, opt)),
                                   reloc="pic", codemodel="default", abiname=abi)


def needs_openmp(art) -> bool:
    return bool(art.extra.get("needs_openmp")) or bool(OPENMP_SYMBOL.search(art.source))


def check_runs_here(art) -> None:
    """Raise ValueError unless the artifact's code can run on this machine.

    Running code for another triple, or for a CPU with vector extensions this one lacks,
    would kill the process (SIGILL) instead of raising an error.
    """
    import llvmlite.binding as llvm

    triple = machine_of(art)[0]
    host_triple = llvm.get_process_triple()
    if triple.split("-")[0] != host_triple.split("-")[0]:
        raise ValueError(f"cannot run code built for target {art.target!r} (triple {triple}) on this "
                         f"{host_triple} machine; export it with export_library and run it where it "
                         "belongs")
    host = llvm.get_host_cpu_features()
    missing = [f for f in art.extra.get("requires", ()) if not host.get(f, False)]
    if missing:
        raise ValueError(f"cannot run code built for target {art.target!r} here: it uses "
                         f"{', '.join(missing)}, which this CPU ({llvm.get_host_cpu_name()}) lacks; "
                         "build for target='llvm' (the host CPU) or run it on a matching machine")


def jit(art):
    """Compile an "llvm" Artifact's IR in process; return the finalised MCJIT engine."""
    import llvmlite.binding as llvm

    _init()
    triple, cpu, features, _, _ = machine_of(art)
    check_machine(triple, cpu, features)
    machine = llvm.Target.from_triple(triple).create_target_machine(
        cpu=cpu, features=features, opt=3)  # code model "jitdefault", as MCJIT needs
    mod = llvm.parse_assembly(art.source)
    mod.verify()
    engine = llvm.create_mcjit_compiler(mod, machine)  # also makes the process's symbols visible
    _check_resolved(mod)
    engine.finalize_object()
    return engine


def _check_resolved(mod) -> None:
    """Raise instead of letting a call of an undefined external function jump to address 0."""
    import llvmlite.binding as llvm

    missing = [f.name for f in mod.functions if f.is_declaration and not f.name.startswith("llvm.")
               and not llvm.address_of_symbol(f.name)]
    if missing:
        raise ValueError(f"the compiled code calls {', '.join(repr(m) for m in missing)}, defined neither in the "
                         "module nor in this process; give its LLVM IR to the loop with "
                         "s[C].pragma(axis, \"import_llvm\", ll_code) (contrib.clang.create_llvm makes it from C), "
                         "or load a shared library that defines it with ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)")


def _module_and_machine(art):
    import llvmlite.binding as llvm

    if art.kind != "llvm":
        raise ValueError(f"cannot make machine code from a {art.kind!r} artifact; build it for an 'llvm' target")
    triple, cpu, features, abi, opt = machine_of(art)
    mod = llvm.parse_assembly(art.source)
    mod.triple = triple
    return mod, target_machine(triple, cpu, features, opt, abi)


def emit_object(art) -> bytes:
    """Position-independent object code for the machine the artifact was generated for."""
    mod, tm = _module_and_machine(art)
    return tm.emit_object(mod)


def emit_assembly(art) -> str:
    """Assembly text for the artifact's machine: the place to check for vfmadd231ps on ymm registers."""
    mod, tm = _module_and_machine(art)
    return tm.emit_assembly(mod)
