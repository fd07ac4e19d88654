"""Zoo models: PyTorch eager vs untuned tilecraft (latency and compile time), plus ONNX Runtime.

Every model is verified against PyTorch (atol = rtol = 1e-3) on the same random inputs before it is
timed; medians over repeats after warm-up, side by side in one run.

    python benchmarks/models.py [--models resnet18 bert_base ...] [--path trace|export]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from common import median_seconds, table  # noqa: E402, I001  (first: it imports tilecraft before torch loads OpenMP)
import torch  # noqa: E402

from tilecraft.measure import ExportConfig, export_pytorch_module, run_graph_module, verify  # noqa: E402
from tilecraft.models import ZOO, load  # noqa: E402


class _FirstOutput(torch.nn.Module):
    """Export wrapper: positional inputs, the first output (transformers models return tuples)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *xs):
        out = self.model(*xs)
        return out[0] if isinstance(out, (tuple, list)) else out


def _ort(model, inputs, threads):
    try:
        import onnxruntime as ort
    except ImportError:
        return None, None
    buf = io.BytesIO()
    names = [f"in{i}" for i in range(len(inputs))]
    t0 = time.perf_counter()
    try:
        torch.onnx.export(_FirstOutput(model), tuple(inputs), buf, input_names=names, opset_version=17,
                          dynamo=False)
    except Exception as err:  # torch's exporter lacks some operators (e.g. aten::diff in GPT-2 masks)
        print(f"  (ONNX Runtime skipped: torch.onnx.export failed: {str(err).splitlines()[0]})", flush=True)
        return None, None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
    feed = {n: x.numpy() for n, x in zip(names, inputs)}
    return (lambda: sess.run(None, feed)), time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", nargs="+", default=list(ZOO))
    p.add_argument("--path", default="trace", choices=["trace", "export"])
    p.add_argument("--no-ort", action="store_true")
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    threads = int(os.environ["OMP_NUM_THREADS"])
    torch.set_num_threads(threads)
    rows = []
    for name in args.models:
        model, inputs = load(name)
        with torch.no_grad():
            ref = model(*inputs)
        ref = (ref[0] if isinstance(ref, (tuple, list)) else ref).numpy()
        c = export_pytorch_module(model, ExportConfig(example_input=inputs, import_path=args.path))
        err = verify(run_graph_module(c.graph_module, c.named_inputs())[:1], [ref])[0]["max_abs"]
        t_tc = median_seconds(c.graph_module.run, repeat=5)
        with torch.no_grad():
            t_pt = median_seconds(lambda model=model, inputs=inputs: model(*inputs), repeat=5)
        ort_run, ort_compile = (None, None) if args.no_ort else _ort(model, inputs, threads)
        t_ort = median_seconds(ort_run, repeat=5) if ort_run else None
        rows.append([name, f"{t_pt * 1e3:.2f}", f"{t_tc * 1e3:.2f}", f"{t_tc / t_pt:.2f}",
                     f"{t_ort * 1e3:.2f}" if t_ort else "-", f"{c.import_seconds + c.compile_seconds:.1f}",
                     f"{ort_compile:.1f}" if ort_compile else "-", f"{err:.1e}"])
        print(" | ".join(rows[-1]), flush=True)
    print(f"\nzoo models, {threads} threads, import path {args.path!r}, median ms; compile = import + build seconds")
    print(table(rows, ["model", "PyTorch", "tilecraft", "tc/PyTorch", "ONNX Runtime", "tc compile s",
                       "ORT export+load s", "max abs err"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
