"""Classic `tvm.contrib.clang`: C/C++ source to LLVM IR text, e.g. for the `import_llvm` pragma
(`s[C].pragma(axis, "import_llvm", clang.create_llvm(code))`) that links a hand-written kernel
into the module calling it with `tir.call_extern`.

This needs a compiler that emits LLVM IR: clang (any version whose IR this LLVM reads; found on
PATH as clang-<LLVM major>, clang or clang-NN), or `cc` when it is clang.  gcc cannot, and then
create_llvm says so instead of failing inside the compiler.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import llvmlite.binding as llvm

from .utils import tempdir

_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".c++", ".ll")


def find_clang(required: bool = True) -> list:
    """Paths of the clang compilers on PATH, the one matching this LLVM's version first."""
    major = llvm.llvm_version_info[0]
    names = [f"clang-{major}", "clang"] + [f"clang-{v}" for v in range(major + 3, 9, -1) if v != major]
    found = []
    for n in names:
        p = shutil.which(n)
        if p and p not in found:
            found.append(p)
    if required and not found:
        raise RuntimeError(_missing_message())
    return found


@functools.cache
def _emits_llvm(cc: str) -> bool:
    """Whether `cc` understands `-S -emit-llvm` (clang does; gcc does not)."""
    try:
        proc = subprocess.run([cc, "-S", "-emit-llvm", "-x", "c", "-", "-o", "-"], input="int f(void){return 0;}\n",
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and "define" in proc.stdout


def _missing_message() -> str:
    cc = shutil.which("cc")
    what = f"`cc` ({os.path.realpath(cc)}) cannot emit LLVM IR" if cc else "there is no `cc` either"
    return ("contrib.clang.create_llvm needs clang to turn C/C++ source into LLVM IR, and no clang is on PATH "
            f"(looked for clang-{llvm.llvm_version_info[0]}, clang, clang-NN); {what}.  Install clang (e.g. "
            "`apt-get install clang`), pass cc='/path/to/clang', or write the LLVM IR text yourself and give it "
            "to the import_llvm pragma")


def _default_cc() -> str:
    found = find_clang(required=False)
    if found:
        return found[0]
    cc = shutil.which("cc")
    if cc and _emits_llvm(cc):
        return cc
    raise RuntimeError(_missing_message())


def create_llvm(inputs, output=None, options=None, cc=None) -> str:
    """Compile C/C++ source (strings of code, or paths of source files) to LLVM IR; returns the IR
    text (also written to `output` when given).  `options` are extra compiler flags (e.g. ["-O3"])."""
    cc = cc or _default_cc()
    temp = tempdir()
    output = os.fspath(output) if output else temp.relpath("output.ll")
    inputs = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    files = []
    for i, code in enumerate(inputs):
        code = os.fspath(code)
        if "\n" not in code and code.endswith(_SOURCE_SUFFIXES) and os.path.isfile(code):
            files.append(code)
        else:
            path = temp.relpath(f"input{i}.cc")
            with open(path, "w") as f:
                f.write(code)
            files.append(path)
    cmd = [cc, "-S", "-emit-llvm", *(options or ()), "-o", output, *files]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise RuntimeError(f"create_llvm: cannot run {cc!r}: {e}") from None
    if proc.returncode != 0:
        hint = "" if _emits_llvm(cc) else f" ({cc} does not emit LLVM IR; use clang)"
        raise RuntimeError(f"create_llvm: compilation failed{hint}: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    with open(output) as f:
        return f.read()
