"""Run Apache TVM's unit-test files with only the import line changed (`import tilecraft as tvm`)
and print, per file, how many tests pass, fail, error and skip, and the most common failure.

The test files are not part of tilecraft: point this at a checkout of apache/tvm (tag v0.16.0).

    python benchmarks/classic_tests.py /path/to/apache-tvm [FILE ...]   (paths under tests/python)
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from classic_tutorials import with_tilecraft_imports  # noqa: E402
from common import table  # noqa: E402

# Issue 12's list: TE schedules, TE tensors, TE build/lower, relay operators level 1 and 2, FuseOps.
FILES = ("te/test_te_schedule.py", "te/test_te_schedule_ops.py", "te/test_te_schedule_bound_inference.py",
         "te/test_te_tensor.py", "te/test_te_tensor_overload.py", "te/test_te_build_lower.py",
         "relay/test_op_level1.py", "relay/test_op_level2.py", "relay/test_pass_fuse_ops.py")


def run_file(src: str, timeout: int) -> tuple[collections.Counter, list]:
    with open(src) as f:
        text = with_tilecraft_imports(f.read())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "test_" + os.path.basename(src).removeprefix("test_"))
        with open(path, "w") as f:
            f.write(text)
        # tilecraft.testing.plugin does for these files what tvm.testing.plugin does in apache/tvm's conftest
        cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "-p", "tilecraft.testing.plugin",
               path, *(["--timeout", str(timeout)] if _has_timeout() else [])]
        try:
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout * 20)
            out = proc.stdout
        except subprocess.TimeoutExpired as err:
            out = (err.stdout or b"").decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
            out += "\n1 error (the file timed out)"
    counts = collections.Counter()
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    for n, what in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", summary):
        counts[what.rstrip("s") if what.startswith("error") else what] += int(n)
    reasons = [re.sub(r"^(FAILED|ERROR) \S+ - ", "", line)[:90] for line in out.splitlines()
               if line.startswith(("FAILED", "ERROR"))]
    return counts, reasons


def _has_timeout() -> bool:
    import importlib.util

    return importlib.util.find_spec("pytest_timeout") is not None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tvm_src")
    p.add_argument("files", nargs="*", default=list(FILES))
    p.add_argument("--timeout", type=int, default=120, help="seconds per test (with pytest-timeout)")
    args = p.parse_args()
    rows, total = [], collections.Counter()
    for rel in args.files:
        counts, reasons = run_file(os.path.join(args.tvm_src, "tests", "python", rel), args.timeout)
        total += counts
        top = collections.Counter(reasons).most_common(1)
        rows.append([rel, str(counts["passed"]), str(counts["failed"]), str(counts["error"]), str(counts["skipped"]),
                     f"{top[0][1]}x {top[0][0]}" if top else ""])
        print(" | ".join(rows[-1]), flush=True)
    print(table(rows, ["file", "passed", "failed", "errors", "skipped", "most common failure"]))
    ran = total["passed"] + total["failed"] + total["error"]
    print(f"\n{total['passed']} of {ran} tests pass ({total['skipped']} skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
