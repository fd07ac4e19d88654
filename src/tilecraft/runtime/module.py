"""Module: compiled code and its functions, from an in-process JIT or a loaded shared library.

Kinds of module, one class each:
  * LLVMModule    an "llvm" Artifact compiled in process with llvmlite's MCJIT;
  * LibraryModule a shared library written by `export_library` and loaded with ctypes;
  * SourceModule  an Artifact ("cuda", "c") whose source can be read but not run here.
They share the classic TVM surface: `mod(*args)`, `mod["name"]`, `get_source`,
`time_evaluator`, `export_library`, `entry_name`, `type_key`, `imported_modules`.
"""

from __future__ import annotations

import ctypes
from abc import ABC, abstractmethod

from . import llvm_jit
from .artifact import Artifact
from .device import cpu, cuda, device
from .function import Function
from .registry import CALL_PACKED_SYMBOL, bind_packed_calls
from .timing import time_evaluator as _time_evaluator


class Module(ABC):
    """Base class: a set of named functions with known calling conventions."""

    type_key = "module"

    def __init__(self, artifact: Artifact):
        self.artifact = artifact
        self.imported_modules: list = []
        self._infos = {f.name: f for f in artifact.functions}
        self._functions: dict = {}

    @staticmethod
    def from_artifact(artifact: Artifact) -> Module:
        """Make the module an Artifact describes: JIT-compiled for "llvm", source-only otherwise."""
        if artifact.kind == "llvm":
            try:
                llvm_jit.check_runs_here(artifact)
            except ValueError:
                return CrossModule(artifact)
            return LLVMModule(artifact)
        if artifact.kind == "cuda" and "host" in artifact.extra:
            from .cuda_module import CUDAModule  # runs kernels where a GPU exists, source-only elsewhere

            module = CUDAModule(artifact)
        elif artifact.kind in ("cuda", "c", "opencl"):
            module = SourceModule(artifact)
        else:
            raise ValueError(f"cannot make a module from an artifact of kind {artifact.kind!r}; "
                             "known kinds: llvm, cuda, opencl, c")
        if artifact.kind in ("cuda", "opencl"):  # classic: the device code is the host module's import
            module.imported_modules = [SourceModule(artifact)]
        return module

    # --- functions --------------------------------------------------------------------------
    @property
    def entry_name(self) -> str:
        """The function `mod(*args)` calls: the artifact's entry, or its only function."""
        if self.artifact.entry:
            return self.artifact.entry
        if len(self._infos) == 1:
            return next(iter(self._infos))
        return ""

    @property
    def function_names(self) -> list:
        return list(self._infos)

    def get_function(self, name: str, query_imports: bool = False) -> Function:
        func = self._functions.get(name)
        if func is None:
            if name not in self._infos:
                raise AttributeError(f"module has no function {name!r}; it has: "
                                     f"{', '.join(self._infos) or '(none)'}")
            func = self._functions[name] = self._make_function(name)
        return func

    def _asserts(self) -> tuple:
        return tuple(self.artifact.extra.get("asserts", ()))

    def __getitem__(self, name: str) -> Function:
        return self.get_function(name)

    def __contains__(self, name: str) -> bool:
        return name in self._infos

    def __call__(self, *args):
        name = self.entry_name
        if not name:
            raise TypeError(f"this module has {len(self._infos)} functions and no entry; call one by "
                            f"name, e.g. mod[{next(iter(self._infos), 'name')!r}](...)")
        return self.get_function(name)(*args)

    @abstractmethod
    def _make_function(self, name: str) -> Function:
        """Bind the compiled code of function `name` (known to exist in the artifact)."""

    # --- inspection, timing, export ---------------------------------------------------------
    @abstractmethod
    def get_source(self, fmt: str = "") -> str:
        """The module's source text (fmt "" is the default format of the kind)."""

    def time_evaluator(self, func_name: str, dev, number: int = 10, repeat: int = 1,
                       min_repeat_ms: float = 0, limit_zero_time_iterations: int = 100,
                       cooldown_interval_ms: float = 0, repeats_to_cooldown: int = 1,
                       f_preproc: str = ""):
        """A callable that times `func_name` and returns a ProfileResult (TVM semantics)."""
        return _time_evaluator(self.get_function(func_name), device(dev), number=number, repeat=repeat,
                               min_repeat_ms=min_repeat_ms,
                               limit_zero_time_iterations=limit_zero_time_iterations,
                               cooldown_interval_ms=cooldown_interval_ms,
                               repeats_to_cooldown=repeats_to_cooldown, f_preproc=f_preproc)

    def export_library(self, path, fcompile=None, **kwargs) -> None:
        """Write a deployable library: ".so" (loadable alone) or ".tar" (IR + object + metadata)."""
        from .export import export_library  # export.py builds on this module

        export_library(self, path, fcompile=fcompile, **kwargs)

    def save(self, path, fmt: str = "") -> None:
        """Write the code alone: ".o" (object; link it with contrib.cc.create_shared), ".ll" or ".s"."""
        from .export import save_module

        save_module(self, path, fmt)

    def __repr__(self) -> str:
        return f"Module({self.type_key}, functions=[{', '.join(self._infos)}])"


class _LLVMSourceMixin:
    """get_source for modules whose source is LLVM IR: the IR as given, or assembly from it."""

    def get_source(self, fmt: str = "") -> str:
        art = self.artifact
        if fmt in ("", "ll", "llvm"):
            return art.source
        if fmt in ("asm", "s"):
            return llvm_jit.emit_assembly(art)
        raise ValueError(f"get_source: unknown format {fmt!r} for an LLVM module; use 'll' or 'asm'")


class LLVMModule(_LLVMSourceMixin, Module):
    """LLVM IR compiled in process by MCJIT for the host CPU."""

    type_key = "llvm"

    def __init__(self, artifact: Artifact):
        super().__init__(artifact)
        llvm_jit.check_runs_here(artifact)
        if llvm_jit.needs_openmp(artifact):
            from .openmp import load_openmp

            load_openmp()
        self._engine = llvm_jit.jit(artifact)
        if artifact.extra.get("packed_calls"):
            bind_packed_calls(self._engine.get_global_value_address(CALL_PACKED_SYMBOL))

    def _make_function(self, name: str) -> Function:
        address = self._engine.get_function_address(name)
        if not address:
            raise RuntimeError(f"function {name!r} is described by the artifact but missing from its "
                               "compiled code (a code generator bug)")
        return Function(self._infos[name], address, self._engine, cpu(0), self._asserts())


class CrossModule(_LLVMSourceMixin, Module):
    """Code for another machine (`-mtriple=...` or CPU features this one lacks): it can be read and
    exported (".o", ".tar"), and calling it explains why it cannot run here."""

    type_key = "llvm"

    def _make_function(self, name: str) -> Function:
        llvm_jit.check_runs_here(self.artifact)  # raises, naming the target and the fix
        raise RuntimeError(f"cannot run {name!r} here")


class LibraryModule(_LLVMSourceMixin, Module):
    """A shared library written by `export_library`, loaded with ctypes."""

    type_key = "library"

    def __init__(self, artifact: Artifact, lib: ctypes.CDLL, path: str):
        super().__init__(artifact)
        self._lib = lib
        self.path = path
        if artifact.extra.get("packed_calls"):
            try:
                slot = ctypes.addressof(ctypes.c_void_p.in_dll(lib, CALL_PACKED_SYMBOL))
            except ValueError:
                slot = 0
            bind_packed_calls(slot)

    def _make_function(self, name: str) -> Function:
        try:
            symbol = getattr(self._lib, name)
        except AttributeError:
            raise RuntimeError(f"{self.path}: function {name!r} is listed in the library's metadata "
                               "but the library does not export it") from None
        address = ctypes.cast(symbol, ctypes.c_void_p).value
        return Function(self._infos[name], address, self._lib, cpu(0), self._asserts())


class SourceModule(Module):
    """Generated source ("cuda" or "c") that can be inspected but not called from this module."""

    def __init__(self, artifact: Artifact):
        super().__init__(artifact)
        self.type_key = artifact.kind

    def get_source(self, fmt: str = "") -> str:
        return self.artifact.source

    def _make_function(self, name: str) -> Function:
        if self.artifact.kind == "cuda":
            if not cuda(0).exist:
                raise RuntimeError(f"cannot run CUDA function {name!r}: no CUDA device is present on this "
                                   "machine; read the kernel with mod.get_source() or build for "
                                   "target='llvm' to run on the CPU")
            raise RuntimeError(f"cannot run CUDA function {name!r} from a source-only module; build it "
                               "with tvm.build(..., target='cuda') so it is compiled for the GPU")
        if self.artifact.kind == "opencl":
            raise RuntimeError(f"cannot run OpenCL function {name!r}: tilecraft generates OpenCL C but has no "
                               "OpenCL runtime; read the kernel with mod.get_source(), or build for "
                               "target='cuda' (GPU) or 'llvm' (CPU) to run it")
        raise RuntimeError(f"cannot run {name!r}: a {self.artifact.kind!r} source module only holds "
                           "source text; build with target='llvm' to get callable code")
