"""A long fuzz campaign over random legal schedules: wrong results, crashes and build times.

The generator is the suite's property test (tests/te/test_schedule_property.py: matmul, stencil,
reduction and element-wise workloads under random split / reorder / fuse / tile / compute_at /
cache_read / cache_write / rfactor / vectorize / parallel / unroll, symbolic shapes half the
time); the suite runs a few dozen examples, this runs thousands.  Each chunk of examples runs in
its own interpreter, so a crash is counted rather than ending the campaign, and every build is
timed.

    python tools/fuzz_schedules.py --examples 10000 --chunk 250 --out fuzz.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLOW_BUILD_S = 2.0
CASES = ("matmul_case", "stencil_case", "reduction_case", "chain_case")


def run_chunk(examples: int, seed: int, max_ops: int) -> dict:
    """In this process: `examples` random schedules; build times, failures, example count."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    spec = importlib.util.spec_from_file_location("schedule_property", ROOT / "tests/te/test_schedule_property.py")
    prop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prop)
    tvm = prop.tvm
    build_times: list = []
    failures: list = []
    done = [0]
    real_build = tvm.build

    slow: list = []

    def timed_build(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real_build(*args, **kwargs)
        finally:
            build_times.append(time.perf_counter() - t0)
            if build_times[-1] > SLOW_BUILD_S:  # keep what made it slow
                slow.append({"seconds": build_times[-1], "ir": str(tvm.lower(*args[:2]))[-6000:]})

    prop.tvm.build = timed_build

    @hseed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data(), st.sampled_from(CASES))
    def one(data, case):
        done[0] += 1
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log):
                getattr(prop, case)(data, max_ops=max_ops)
        except Exception as err:  # a wrong result (AssertionError) or a build error: recorded, go on
            failures.append({"case": case, "error": f"{type(err).__name__}: {err}"[:500],
                             "log": log.getvalue()[-4000:]})

    one()
    return {"examples": done[0], "build_times": build_times, "failures": failures, "slow": slow}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=10000)
    ap.add_argument("--chunk", type=int, default=250, help="examples per interpreter")
    ap.add_argument("--max-ops", type=int, default=6, help="loop operations per stage")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="fuzz_schedules.json")
    ap.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)  # examples seed
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(run_chunk(args.worker[0], args.worker[1], args.max_ops)))
        return
    total = {"examples": 0, "build_times": [], "failures": [], "crashes": [], "slow": []}
    t0 = time.time()
    for i in range(0, args.examples, args.chunk):
        n = min(args.chunk, args.examples - i)
        seed = args.seed * 1_000_003 + i
        proc = subprocess.run([sys.executable, __file__, "--max-ops", str(args.max_ops), "--worker", str(n), str(seed)],
                              capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            total["crashes"].append({"seed": seed, "returncode": proc.returncode, "stderr": proc.stderr[-2000:]})
        else:
            part = json.loads(proc.stdout.strip().splitlines()[-1])
            total["examples"] += part["examples"]
            total["build_times"] += part["build_times"]
            total["failures"] += [{"seed": seed, **f} for f in part["failures"]]
            total["slow"] += [{"seed": seed, **b} for b in part["slow"]]
        times = sorted(total["build_times"])
        print(f"{total['examples']:6d} examples, {len(times)} builds, {len(total['failures'])} failures, "
              f"{len(total['crashes'])} crashes, slowest build {times[-1] if times else 0:.2f} s, "
              f"{time.time() - t0:.0f} s", flush=True)
    Path(args.out).write_text(json.dumps(total, indent=1))
    report(total)


def report(total: dict) -> None:
    import numpy as np

    times = np.array(total["build_times"])
    print(f"\n{total['examples']} random schedules, {len(times)} builds: {len(total['failures'])} failures, "
          f"{len(total['crashes'])} crashed interpreters")
    if len(times):
        q = np.percentile(times, [50, 90, 99, 99.9])
        print(f"build time: median {q[0]:.3f} s, p90 {q[1]:.3f} s, p99 {q[2]:.3f} s, p99.9 {q[3]:.3f} s, "
              f"max {times.max():.2f} s; over 10 s: {(times > 10).sum()}, over 1 s: {(times > 1).sum()}")
    for f in total["failures"][:10]:
        print(f"- seed {f['seed']} {f['case']}: {f['error'][:200]}")


if __name__ == "__main__":
    main()
