"""Binding to a real OpenMP runtime, which generated parallel loops call through its ABI.

Parallel loops are lowered to `GOMP_parallel(fn, data, nthreads, flags)` plus
`omp_get_thread_num` / `omp_get_num_threads`.  libgomp, LLVM's libomp and Intel's libiomp5 all
export these names, so any of them works.  We never start Python threads or a pool of our own.

Which library: one already loaded in this process wins (two OpenMP runtimes in one process
oversubscribe the cores), then $TILECRAFT_OPENMP, the system's libgomp/libomp, and finally the
copy that a PyTorch wheel ships in its lib folder (found on disk; torch is not imported).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import importlib.util
import os
import sys
import threading

_lock = threading.Lock()
_loaded: dict = {}  # "path" -> str, "lib" -> ctypes.CDLL

_NAMES = ("libgomp", "libomp", "libiomp5")
_SYSTEM_PATHS = (
    "/usr/lib/x86_64-linux-gnu/libgomp.so.1", "/usr/lib/aarch64-linux-gnu/libgomp.so.1",
    "/usr/lib64/libgomp.so.1", "/usr/lib/libgomp.so.1", "/usr/local/lib/libgomp.so.1",
    "/usr/lib/x86_64-linux-gnu/libomp.so.5", "/usr/lib/llvm/lib/libomp.so",
    "/opt/homebrew/opt/libomp/lib/libomp.dylib", "/usr/local/opt/libomp/lib/libomp.dylib",
)


def _already_loaded() -> list[str]:
    """OpenMP libraries mapped into this process right now (Linux only; empty elsewhere)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if any(os.path.basename(p).startswith(n) for n in _NAMES)
                  and ".so" in os.path.basename(p))


def _torch_lib_candidates() -> list[str]:
    spec = importlib.util.find_spec("torch") if "torch" not in sys.modules else sys.modules["torch"].__spec__
    if spec is None or not spec.submodule_search_locations:
        return []
    out = []
    for loc in spec.submodule_search_locations:
        for pattern in ("libgomp*.so*", "libiomp5*", "libomp*"):
            out += sorted(glob.glob(os.path.join(loc, "lib", pattern)))
    return out


def _candidates() -> list[str]:
    env = os.environ.get("TILECRAFT_OPENMP")
    found = [ctypes.util.find_library(n) for n in ("gomp", "omp", "iomp5")]
    return ([env] if env else []) + _already_loaded() + [f for f in found if f] + list(_SYSTEM_PATHS) \
        + _torch_lib_candidates()


def _try_load(path: str):
    try:
        lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        return None
    if not hasattr(lib, "GOMP_parallel") or not hasattr(lib, "omp_get_num_threads"):
        return None
    return lib


def load_openmp() -> str:
    """Load an OpenMP runtime so JIT-compiled and exported code can call it; return its path.

    Idempotent and thread-safe.  The library is opened with RTLD_GLOBAL and registered with
    llvmlite, so both the JIT and `ctypes.CDLL` of an exported library resolve GOMP_parallel.
    """
    with _lock:
        if "path" in _loaded:
            return _loaded["path"]
        tried = []
        for path in _candidates():
            if path in tried:
                continue
            tried.append(path)
            lib = _try_load(path)
            if lib is None:
                continue
            import llvmlite.binding as llvm

            llvm.load_library_permanently(path)
            path = _real_path(path)
            _loaded.update(path=path, lib=lib)
            _apply_env_threads(lib)
            return path
    raise RuntimeError(
        "no OpenMP runtime found; parallel loops need libgomp, libomp or libiomp5. Install one "
        "(Debian/Ubuntu: `apt-get install libgomp1`; Fedora: `dnf install libgomp`; macOS: "
        "`brew install libomp`) or point $TILECRAFT_OPENMP at the library file. Tried: "
        + ", ".join(tried))


def _real_path(path: str) -> str:
    """The file a bare soname ("libgomp.so.1") resolved to, so a linker can be given it."""
    if os.path.isabs(path):
        return path
    stem = path.split(".so")[0]
    for mapped in _already_loaded():
        if os.path.basename(mapped).startswith(stem):
            return mapped
    return path


def _apply_env_threads(lib) -> None:
    # OMP_NUM_THREADS is read by the runtime itself; TVM_NUM_THREADS is the classic TVM knob.
    value = os.environ.get("TVM_NUM_THREADS")
    if value and value.strip().isdigit() and int(value) > 0:
        lib.omp_set_num_threads(int(value))


def set_num_threads(n: int) -> None:
    """Use `n` threads in later parallel loops (started from this Python thread)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive int, got {n!r}")
    load_openmp()
    _loaded["lib"].omp_set_num_threads(n)


def num_threads() -> int:
    """How many threads the next parallel loop started from this Python thread will use."""
    load_openmp()
    return int(_loaded["lib"].omp_get_max_threads())
