"""CUDA C to PTX with nvcc.

The code generator compiles at build time when nvcc is installed; a CUDA module handed source
without PTX compiles it here when it first launches.  Both call this one function, which is
why it lives in the runtime, below the code generators.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile


class CUDACompileError(RuntimeError):
    """nvcc rejected the generated source; the message quotes the offending lines."""


def find_nvcc() -> str | None:
    """nvcc on PATH, or under $CUDA_HOME / /usr/local/cuda."""
    found = shutil.which("nvcc")
    if found:
        return found
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root and os.path.isfile(os.path.join(root, "bin", "nvcc")):
            return os.path.join(root, "bin", "nvcc")
    return None


def compile_ptx(source: str, arch: str = "sm_80", nvcc: str | None = None, timeout: float = 120) -> str:
    """PTX text for `source` compiled by nvcc for `arch`; CUDACompileError quotes what failed.

    Results are cached in memory by (source, arch), so rebuilding the same schedule is free."""
    return _compile_ptx(source, arch, nvcc or find_nvcc(), timeout)


@functools.lru_cache(maxsize=256)
def _compile_ptx(source: str, arch: str, nvcc: str | None, timeout: float) -> str:
    if nvcc is None:
        raise RuntimeError("nvcc was not found (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin); install the CUDA "
                           "toolkit to compile CUDA kernels")
    if not re.fullmatch(r"(sm|compute)_\d+[a-z]?", arch or ""):
        raise ValueError(f"invalid CUDA architecture {arch!r}; use e.g. -arch=sm_80")
    with tempfile.TemporaryDirectory(prefix="tilecraft_cuda_") as tmp:
        src = os.path.join(tmp, "kernels.cu")
        out = os.path.join(tmp, "kernels.ptx")
        with open(src, "w") as fh:
            fh.write(source)
        cmd = [nvcc, "-ptx", f"-arch={arch}", "-O3", "-std=c++14", "-o", out, src]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CUDACompileError(f"nvcc did not finish within {timeout} s") from None
        if proc.returncode != 0:
            raise CUDACompileError(_explain(proc.stderr + proc.stdout, source))
        with open(out) as fh:
            return fh.read()


def _explain(log: str, source: str) -> str:
    lines = source.splitlines()
    msg = ["nvcc could not compile the generated CUDA source (a code generator bug; please report it):",
           log.strip()]
    for m in re.finditer(r"kernels\.cu\((\d+)\)", log):
        n = int(m.group(1))
        if 1 <= n <= len(lines):
            msg.append(f"line {n}: {lines[n - 1].strip()}")
    return "\n".join(msg)
