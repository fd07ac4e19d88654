"""Seed 000's workflow on the seeds' models, timed end to end: `tilecraft run` (PyTorch eager,
torch.compile, ONNX Runtime, Apache TVM where installed, and tilecraft exported + verified) for
BERT-base, BERT-large and Mamba-130M, then `tilecraft compare`.  Prints one row per model with
every system's mean latency (ms, one LatencyMeasurer for all) and the run's wall time.

    python benchmarks/workflow.py [--models bert_base bert_large mamba_130m] [--repeats 30]
                                  [--trials 0] [--use-ansor] [--out runs/workflow] [--no-torch-compile]
                                  [--skip apache_tvm ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import table  # noqa: E402  (sets thread counts first)

SYSTEMS = ("pytorch_eager", "torch_compile", "onnxruntime", "apache_tvm", "tilecraft")


def _ms(entry) -> str:
    lat = (entry or {}).get("latency") or {}
    return f"{lat['mean']:.2f}" if "mean" in lat else (entry or {}).get("status", "-")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["bert_base", "bert_large", "mamba_130m"])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--trials", type=int, default=0, help="tilecraft tuning trials (0: untuned)")
    p.add_argument("--use-ansor", action="store_true")
    p.add_argument("--no-torch-compile", action="store_true")
    p.add_argument("--skip", nargs="*", default=[], choices=SYSTEMS[:4], help="baselines to leave out")
    p.add_argument("--out", default=os.path.join("runs", "workflow"))
    args = p.parse_args()
    rows = []
    for name in args.models:
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        baselines = [s for s in SYSTEMS[:4] if not (args.no_torch_compile and s == "torch_compile")
                     and s not in args.skip]
        config = {"graph": {"loader": f"tilecraft.models:{name}"},
                  "measure": {"repeats": args.repeats, "warmup": args.warmup, "baselines": baselines,
                              "tvm_trials": args.trials, "tvm_use_ansor": args.use_ansor}}
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(config, f)
        start = time.perf_counter()
        rc = subprocess.run([sys.executable, "-m", "tilecraft", "run", "-c", os.path.join(out, "config.json"),
                             "--out", out, "--report"]).returncode
        if rc not in (0, 3):  # 3: a verification failed, which the table shows
            raise SystemExit(f"tilecraft run failed for {name} (exit status {rc})")
        wall = time.perf_counter() - start
        subprocess.run([sys.executable, "-m", "tilecraft", "compare", os.path.join(out, "metrics.json"),
                        os.path.join(out, "tvm", "metadata.json"), "--output", os.path.join(out, "comparison.csv")],
                       check=True)
        with open(os.path.join(out, "metrics.json")) as f:
            m = json.load(f)
        b = m["baselines"]
        tc, eager = (b["tilecraft"].get("latency") or {}), (b["pytorch_eager"].get("latency") or {})
        ratio = f"{tc['mean'] / eager['mean']:.2f}" if "mean" in tc and "mean" in eager else "-"
        ver = (b["tilecraft"].get("verification") or {})
        rows.append([name, *(_ms(b.get(s)) for s in SYSTEMS), ratio,
                     f"{b['tilecraft'].get('compile_seconds') or 0:.1f}",
                     f"{ver.get('status', '-')} ({ver.get('max_abs_error') or 0:.1e})", f"{wall:.0f}"])
        print(" | ".join(rows[-1]), flush=True)
    print(f"\nmean ms over {args.repeats} runs after {args.warmup} warm-up, {os.environ['OMP_NUM_THREADS']} threads; "
          f"tilecraft tuning trials {args.trials}{' (ansor)' if args.use_ansor else ''}")
    print(table(rows, ["model", "PyTorch eager", "torch.compile", "ONNX Runtime", "Apache TVM", "tilecraft",
                       "tilecraft/eager", "tc compile s", "verification (max abs)", "run wall s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
