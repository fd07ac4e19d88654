"""The real-model suite, untuned: tilecraft vs PyTorch eager vs ONNX Runtime, side by side in one run.

Every model is built with random weights (nothing downloaded), compiled untuned, and verified
against PyTorch first (atol = rtol = 1e-3 by default); only verified models are timed.  Prints one
row per model, the geometric mean of each ratio, and the top kernels of the slowest models (the
highest tilecraft / ONNX Runtime ratio, else / PyTorch) from GraphModule.profile(report=True).

    python benchmarks/real_models.py                          # tilecraft.models.suite.SUITE
    python benchmarks/real_models.py --models resnet18 convnext suite:vit mypkg.models:net --threads 2
    python benchmarks/real_models.py --tiny --models vit efficientnet   # small variants: a quick check

A name is a suite model (tilecraft.models.suite.SUITE), a zoo model (tilecraft.models.ZOO),
"suite:NAME", MODULE:FUNCTION returning (model, inputs), or one of the built-in transformers
configs ("hf:bert", "hf:vit", "hf:convnext", "hf:efficientnet"), the default when tilecraft.models
has no suite.  Ratios are tilecraft / other: below 1 is tilecraft faster.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import math
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))


def _threads_from_argv() -> int | None:
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if a.startswith("--threads="):
            return int(a.partition("=")[2])
    return None


if _threads_from_argv():  # before numpy/torch/OpenMP load: every system gets the same thread count
    os.environ["OMP_NUM_THREADS"] = os.environ["TVM_NUM_THREADS"] = str(_threads_from_argv())
from common import median_seconds, onnxruntime_run, table  # noqa: E402

import tilecraft.models as zoo  # noqa: E402

BUILTIN = ("hf:bert", "hf:vit", "hf:convnext", "hf:efficientnet")
# Models whose whole depth does not fit in memory three times over (PyTorch, ONNX Runtime and
# tilecraft each hold the weights): these layers of the real width (Mistral-7B: 29 GB in fp32).
FEWER_LAYERS = {"mistral": 2}
# Models ONNX Runtime cannot be given in reasonable time, and why.
NO_ORT = {"mamba": "no ORT: onnxruntime refuses the TorchScript exporter's file (2-D Tile repeats); the dynamo "
                   "exporter ran > 15 min on the scan loop"}


# ---------------------------------------------------------------------- the built-in configs
def _builtin(name: str, tiny: bool):
    """A few architectures from transformers configs, for when tilecraft.models has no suite."""
    import torch
    import transformers as tf

    g = torch.Generator().manual_seed(0)
    if name == "bert":
        cfg = tf.BertConfig(num_hidden_layers=2 if tiny else 12, hidden_size=64 if tiny else 768,
                            num_attention_heads=4 if tiny else 12, intermediate_size=128 if tiny else 3072)
        model, x = tf.BertModel(cfg), torch.randint(0, cfg.vocab_size, (1, 16 if tiny else 128), generator=g)
    elif name == "vit":
        cfg = tf.ViTConfig(num_hidden_layers=2 if tiny else 12, hidden_size=64 if tiny else 768,
                           num_attention_heads=4 if tiny else 12, intermediate_size=128 if tiny else 3072,
                           image_size=32 if tiny else 224)
        model, x = tf.ViTModel(cfg), torch.randn(1, 3, cfg.image_size, cfg.image_size, generator=g)
    elif name == "convnext":
        cfg = tf.ConvNextConfig(depths=[1, 1, 1, 1] if tiny else [3, 3, 9, 3],
                                hidden_sizes=[16, 32, 64, 128] if tiny else [96, 192, 384, 768])
        model, x = tf.ConvNextModel(cfg), torch.randn(1, 3, 64 if tiny else 224, 64 if tiny else 224, generator=g)
    elif name == "efficientnet":
        cfg = tf.EfficientNetConfig(width_coefficient=0.25 if tiny else 1.0, depth_coefficient=0.25 if tiny else 1.0,
                                    image_size=64 if tiny else 224, hidden_dim=320 if tiny else 1280)  # B0
        model, x = tf.EfficientNetModel(cfg), torch.randn(1, 3, cfg.image_size, cfg.image_size, generator=g)
    else:
        raise ValueError(f"no built-in model {name!r}; built-in: {', '.join(BUILTIN)}")
    return _Tuples(model.eval()).eval(), (x,)


def _tuples_class():
    import torch

    class Tuples(torch.nn.Module):
        """ConvNeXt reads `.last_hidden_state` of its own encoder, so return_dict stays True: tuples here."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *xs):
            out = self.inner(*xs)
            return out.to_tuple() if hasattr(out, "to_tuple") else out

    return Tuples


def _Tuples(model):  # noqa: N802
    return _tuples_class()(model)


def load_model(name: str, tiny: bool):
    """(model, example inputs) for a suite / zoo / hf: / MODULE:FUNCTION name."""
    if name.startswith("hf:"):
        return _builtin(name[3:], tiny)
    suite = getattr(zoo, "SUITE", ())
    spec = f"suite:{name}" if name in suite else name
    if ":" not in spec and name not in getattr(zoo, "ZOO", ()):
        raise ValueError(f"unknown model {name!r}; suite: {', '.join(suite)}; zoo: {', '.join(zoo.ZOO)}; "
                         f"built-in: {', '.join(BUILTIN)}; or MODULE:FUNCTION")
    kwargs = {"tiny": True} if tiny and (spec.startswith("suite:") or "suite" in spec) else {}
    if not tiny and name in FEWER_LAYERS:
        kwargs["num_hidden_layers"] = FEWER_LAYERS[name]
    out = zoo.load(spec, **kwargs)
    model, inputs = out if isinstance(out, tuple) else (out, None)
    if inputs is None:
        raise ValueError(f"{name}: the factory returned no example inputs")
    return model, tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


# ---------------------------------------------------------------------- the systems
def geomean(xs) -> float | None:
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def bench_one(name: str, args, threads: int) -> dict:
    import torch

    from tilecraft.harness.export import verification_of
    from tilecraft.harness.profile import kernel_flops
    from tilecraft.measure import ExportConfig, export_pytorch_module

    row = {"model": name + (f" ({FEWER_LAYERS[name]} layers)" if name in FEWER_LAYERS and not args.tiny else "")}
    model, inputs = load_model(name, args.tiny)
    t0 = time.perf_counter()
    result = export_pytorch_module(model, ExportConfig(example_input=inputs, import_path=args.path))
    row["compile_s"] = time.perf_counter() - t0
    ver = verification_of(result, model, args.atol, args.rtol)
    row["verification"], row["max_abs_error"] = ver["status"], ver.get("max_abs_error")
    if ver["status"] != "passed":
        row["note"] = (ver.get("error") or ver.get("reason") or "verification failed")[:100]
        return row
    if ver.get("reference") == "float64":  # missed PyTorch's float32 output by its own rounding error
        row["verification"] = "passed vs float64"
        row["note"] = "float64 error: tilecraft {tilecraft:.1e}, PyTorch fp32 {pytorch_float32:.1e}".format(
            **ver["float64_check"])
    gm = result.graph_module
    from tilecraft.measure.latency import set_graph_inputs

    set_graph_inputs(gm, result.named_inputs())
    row["tilecraft_ms"] = median_seconds(gm.run, repeat=args.repeat) * 1e3
    with torch.inference_mode():
        reference = [o.numpy() if hasattr(o, "numpy") else o for o in _flat(model(*inputs))]
        row["eager_ms"] = median_seconds(lambda: model(*inputs), repeat=args.repeat) * 1e3
    if name in NO_ORT and not args.tiny:
        _add_note(row, NO_ORT[name])
    elif not args.no_ort:
        run, note = onnxruntime_run(model, inputs, threads, reference, args.atol, args.rtol)
        if run is not None:
            row["ort_ms"] = median_seconds(run, repeat=args.repeat) * 1e3
        _add_note(row, note)
    kernel_flops(result.factory)  # GFLOP/s in the kernel tables of the slowest models
    table_text = io.StringIO()  # taken now: keeping every compiled model for the end exhausts memory
    with contextlib.redirect_stdout(table_text):
        result.graph_module.profile(number=5, report=True, top=args.top, flops=result.factory.kernel_flops)
    row["_kernels"] = table_text.getvalue()
    return row


def _add_note(row: dict, note: str) -> None:
    row["note"] = "; ".join(filter(None, (row.get("note"), note)))


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in _flat(x)]
    return [out] if out is not None else []


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", help="model names (default: the real-model suite)")
    p.add_argument("--tiny", action="store_true", help="the suite's tiny variants (a quick check, not a benchmark)")
    p.add_argument("--threads", type=int, help="threads for every system (default: OMP_NUM_THREADS or all cores)")
    p.add_argument("--repeat", type=int, default=7, help="timed repeats per system (median)")
    p.add_argument("--path", default="trace", choices=["trace", "export", "onnx"], help="tilecraft's import path")
    p.add_argument("--atol", type=float, default=1e-3)
    p.add_argument("--rtol", type=float, default=1e-3)
    p.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime")
    p.add_argument("--slowest", type=int, default=3, help="how many of the slowest models get a kernel table")
    p.add_argument("--top", type=int, default=3, help="kernels shown per slow model")
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    names = args.models or list(getattr(zoo, "SUITE", ()) or BUILTIN)
    rows = []
    for name in names:
        print(f"[{name}] ...", file=sys.stderr, flush=True)
        try:
            row = bench_one(name, args, threads)
        except Exception as err:  # noqa: BLE001 - one failing model must not end the run
            row = {"model": name, "verification": "error", "note": f"{type(err).__name__}: {str(err)[:100]}"}
        rows.append(row)
        print(f"[{name}] {row['verification']}: " + ", ".join(f"{k} {row[k]:.2f}" for k in ("tilecraft_ms", "eager_ms",
              "ort_ms") if row.get(k) is not None) + (f" ({row['note']})" if row.get("note") else ""),
              file=sys.stderr, flush=True)  # a run that dies later keeps what it measured
        gc.collect()  # the model, its ONNX Runtime session and the compiled module go before the next
        row["vs_eager"] = row["tilecraft_ms"] / row["eager_ms"] if "eager_ms" in row else None
        row["vs_ort"] = row["tilecraft_ms"] / row["ort_ms"] if "ort_ms" in row else None

    fmt = lambda v, f="{:.2f}": f.format(v) if v is not None else "-"  # noqa: E731
    cells = [[r["model"], r["verification"] + (f" ({r['max_abs_error']:.0e})" if r.get("max_abs_error") else ""),
              fmt(r.get("tilecraft_ms")), fmt(r.get("eager_ms")), fmt(r.get("ort_ms")), fmt(r.get("vs_eager")),
              fmt(r.get("vs_ort")), fmt(r.get("compile_s"), "{:.1f}"), r.get("note", "")] for r in rows]
    ge, go = geomean(r.get("vs_eager") for r in rows), geomean(r.get("vs_ort") for r in rows)
    cells.append(["geometric mean", "", "", "", "", fmt(ge), fmt(go), "", ""])
    print(f"\nuntuned tilecraft vs PyTorch eager vs ONNX Runtime: {threads} threads, median ms of {args.repeat} "
          f"repeats{', tiny variants' if args.tiny else ''}; ratio = tilecraft / other (< 1: tilecraft faster); "
          f"verified against PyTorch at atol={args.atol}, rtol={args.rtol} before timing")
    print(table(cells, ["model", "verification", "tilecraft ms", "eager ms", "ORT ms", "tc/eager", "tc/ORT",
                        "compile s", "note"]))

    timed = [r for r in rows if r.get("vs_ort") or r.get("vs_eager")]
    slowest = sorted(timed, key=lambda r: -(r.get("vs_ort") or r.get("vs_eager")))[: args.slowest]
    for r in slowest:
        ratio = f"{r['vs_ort']:.2f}x ONNX Runtime" if r.get("vs_ort") else f"{r['vs_eager']:.2f}x PyTorch eager"
        print(f"\n{r['model']} ({ratio}): top {args.top} kernels")
        print(r["_kernels"], end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
