"""Classic `tvm.contrib.cc`: link object files into a shared library with the system C compiler
(`mod.save("lib.o")` then `cc.create_shared("lib.so", ["lib.o"])`; also usable as export_library's
`fcompile`)."""

from __future__ import annotations

import os
import subprocess

from ..runtime.export import find_cc
from ..runtime.fileio import atomic_output


def create_shared(output, objects, options=None, cc=None, cwd=None, ccache_env=None) -> None:
    """Link `objects` (paths) into the shared library `output`, written atomically."""
    objects = [objects] if isinstance(objects, (str, os.PathLike)) else list(objects)
    missing = [os.fspath(o) for o in objects if not os.path.exists(o)]
    if missing:
        raise FileNotFoundError(f"create_shared: no such object file(s): {', '.join(missing)}")
    with atomic_output(os.fspath(output)) as out:
        cmd = [find_cc(cc), "-shared", "-fPIC", "-o", out, *map(os.fspath, objects), "-lm", *(options or ())]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd,
                              env={**os.environ, **(ccache_env or {})})
        if proc.returncode != 0:
            raise RuntimeError(f"create_shared: linking {output} failed ({' '.join(cmd)}):\n{proc.stderr}")


create_shared.output_format = "so"
