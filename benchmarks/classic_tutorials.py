"""Run Apache TVM's gallery tutorials with only the import line changed (`import tilecraft as tvm`),
one subprocess each with a timeout, and print which pass and the first error of those that fail.

The tutorials are not part of tilecraft: point this at a checkout of apache/tvm (tag v0.16.0).

    python benchmarks/classic_tutorials.py /path/to/apache-tvm [--timeout 300] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import table  # noqa: E402

# The gallery folders issue 12 names; TVMScript/TensorIR, RPC, tvmc, tuning and CUDA-only ones are
# listed apart so the count says what it covers.
FOLDERS = ("tutorial", "how_to/work_with_schedules", "how_to/optimize_operators", "how_to/extend_tvm",
           "how_to/work_with_relay")
OUT_OF_SCOPE = {"tensor_ir_blitz_course.py": "TensorIR", "cross_compilation_and_rpc.py": "RPC",
                "tvmc_command_line_driver.py": "tvmc", "tvmc_python.py": "tvmc", "uma.py": "UMA",
                "autotvm_matmul_x86.py": "tuning", "autotvm_relay_x86.py": "tuning",
                "auto_scheduler_matmul_x86.py": "tuning", "install.py": "prose", "introduction.py": "prose",
                "using_pipeline_executor.py": "pipeline executor (multi-device)",
                "tedd.py": "graphviz rendering", "using_relay_viz.py": "graphviz rendering",
                "build_gcn.py": "download (dgl data set)", "using_external_lib.py": "cuDNN/cuBLAS"}


def with_tilecraft_imports(source: str) -> str:
    """The one change allowed: `tvm` is tilecraft."""
    source = re.sub(r"^(\s*)import tvm\s*$", r"\1import tilecraft as tvm", source, flags=re.M)
    source = re.sub(r"^(\s*)import tvm\.([\w.]+)", r"\1import tilecraft as tvm\n\1import tilecraft.\2", source,
                    flags=re.M)
    return re.sub(r"^(\s*)from tvm(\.[\w.]+)? import", r"\1from tilecraft\2 import", source, flags=re.M)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tvm_src", help="apache/tvm checkout (its gallery/ folder is read)")
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--only", nargs="*", help="tutorial file names to run")
    p.add_argument("--all", action="store_true", help="also run the out-of-scope ones")
    args = p.parse_args()
    rows, passed, ran = [], 0, 0
    for folder in FOLDERS:
        base = os.path.join(args.tvm_src, "gallery", folder)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            if not name.endswith(".py") or (args.only and name not in args.only):
                continue
            if name in OUT_OF_SCOPE and not args.all:
                rows.append([f"{folder}/{name}", "skipped", OUT_OF_SCOPE[name], "-"])
                continue
            with open(os.path.join(base, name)) as f:
                source = f.read()
            if "sphinx_gallery_requires_cuda = True" in source and not args.all:
                rows.append([f"{folder}/{name}", "skipped", "GPU (declares sphinx_gallery_requires_cuda)", "-"])
                continue
            source = with_tilecraft_imports(source)
            with tempfile.TemporaryDirectory() as tmp:
                script = os.path.join(tmp, name)
                with open(script, "w") as f:
                    f.write(source)
                start = time.perf_counter()
                try:
                    proc = subprocess.run([sys.executable, script], cwd=tmp, capture_output=True, text=True,
                                          timeout=args.timeout, env={**os.environ, "MPLBACKEND": "Agg"})
                    ok, err = proc.returncode == 0, (proc.stderr.strip().splitlines() or ["?"])[-1]
                except subprocess.TimeoutExpired:
                    ok, err = False, f"timed out after {args.timeout} s"
            ran += 1
            passed += ok
            rows.append([f"{folder}/{name}", "pass" if ok else "FAIL", "" if ok else err[:110],
                         f"{time.perf_counter() - start:.0f}"])
            print(" | ".join(rows[-1]), flush=True)
    print(table(rows, ["tutorial", "result", "first error", "s"]))
    print(f"\n{passed} of {ran} in-scope tutorials pass with only the import line changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
