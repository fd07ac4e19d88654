"""Seed 002's five phases, in order (its `python -m tvm_practice.main`):

  1. te_basics          tensor expressions: vector add and matrix multiply
  2. manual_schedule    split, reorder, vectorize, parallel, and the loop IR each one gives
  3. schedule_analysis  naive vs tiled vs parallel schedules against numpy, as a table
  4. relay_import       a PyTorch MLP through relay: import, fuse, compile, verify
  5. auto_tune          Ansor on a matmul, compared with the manual schedules

Run: python examples/main.py [--quick]   (--quick: small sizes and few tuning trials, about a minute)
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def phases(quick: bool, workdir: str) -> list:
    """(title, script, arguments) for each phase."""
    tune_log = os.path.join(workdir, "matmul_autotune.json")
    return [
        ("Phase 1: TVM basics & tensor expressions", "te_basics.py", []),
        ("Phase 2: manual schedule optimization", "manual_schedule.py", []),
        ("Phase 3: schedule analysis & comparison", "schedule_analysis.py", ["--sizes", "128", "256"] if quick else []),
        ("Phase 4: relay integration", "relay_import.py", []),
        ("Phase 5: auto-tuning with Ansor", "auto_tune.py",
         ["--size", "128", "--trials", "16", "--per-round", "8", "--log", tune_log] if quick
         else ["--log", tune_log]),
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes and few tuning trials")
    p.add_argument("--workdir", default=None, help="where the tuning log goes (default: a temporary directory)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or tmp
        for title, script, script_args in phases(args.quick, workdir):
            print(f"\n{'=' * 78}\n{title}  (examples/{script} {' '.join(script_args)})\n{'=' * 78}", flush=True)
            start = time.perf_counter()
            saved = sys.argv
            sys.argv = [script, *script_args]
            try:
                runpy.run_path(os.path.join(HERE, script), run_name="__main__")
            except SystemExit as done:  # a phase's main() returns through sys.exit
                if done.code not in (0, None):
                    print(f"{title} failed (exit status {done.code})", file=sys.stderr)
                    return int(done.code) if isinstance(done.code, int) else 1
            finally:
                sys.argv = saved
            print(f"-- {title}: {time.perf_counter() - start:.1f} s", flush=True)
    print("\nAll five phases ran.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
