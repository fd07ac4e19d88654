"""The `tilecraft` command line (also `python -m tilecraft`): the entry points of seeds 000 and 001.

    tilecraft export MODULE:FUNCTION --example-shape 1 128 --tuning-trials 300 --artifacts runs/tvm_bert_base
    tilecraft run -c configs/bert.json --override measure.tvm_trials=1000 --out runs/bert_vs_tvm
    tilecraft compare runs/bert_vs_tvm/metrics.json runs/tvm_bert_base/metadata.json --output cmp.json
    tilecraft report runs/bert_vs_tvm
    tilecraft profile resnet18 --top 10

Errors end the command with a one-line message and exit status 1 (2 for bad arguments, 3 when the
compiled model does not match PyTorch); --verbose adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys


def _key_value(text: str) -> tuple:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a plain string: measure.tvm_target="cuda -arch=sm_80" after the shell's quoting


def _parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    p = argparse.ArgumentParser(prog="tilecraft", description="tilecraft: compile, tune, verify and compare "
                                "PyTorch models (the classic TVM workflow)")
    p.add_argument("--version", action="version", version=f"tilecraft {version('tilecraft')}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    e = sub.add_parser("export", help="compile (and tune) a PyTorch model, verify it, time it, write artifacts")
    e.add_argument("model", help="MODULE:FUNCTION returning a model or (model, example inputs), "
                                 "e.g. tilecraft.models:bert_base")
    e.add_argument("--example-shape", type=int, nargs="+", action="append", metavar="DIM",
                   help="shape of an example input (repeat the flag for several inputs)")
    e.add_argument("--example-dtype", help="dtype of the example inputs (default: int64 token ids for models "
                                           "that start with an embedding, else float32)")
    e.add_argument("--input-names", nargs="+", help="names of the graph inputs (default input_0, input_1, ...)")
    e.add_argument("--model-arg", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument for the model factory (value parsed as JSON when it can be)")
    e.add_argument("--target", default="llvm", help="compilation target (default: llvm, this CPU)")
    e.add_argument("--tuning-trials", type=int, default=0, help="tuning measurements in all (0: untuned)")
    e.add_argument("--use-ansor", action="store_true", help="tune with the auto-scheduler instead of AutoTVM")
    e.add_argument("--tuning-log", help="tuning log (resumed when it exists; default in the artifacts directory)")
    e.add_argument("--artifacts", help="output directory (default: runs/tilecraft_<function>)")
    e.add_argument("--measure-repeats", type=int, default=100)
    e.add_argument("--measure-warmup", type=int, default=10)
    e.add_argument("--import-path", choices=("trace", "export", "onnx"), default="trace",
                   help="TorchScript trace (default), torch.export, or ONNX")
    e.add_argument("--atol", type=float, default=1e-3)
    e.add_argument("--rtol", type=float, default=1e-3)
    e.add_argument("--report", action="store_true", help="also write report.html and charts")
    e.add_argument("--verbose", action="store_true", help="relay IR before/after optimisation, stage timings")

    r = sub.add_parser("run", help="measure a model side by side: PyTorch, torch.compile, ONNX Runtime, "
                                   "tilecraft, Apache TVM")
    r.add_argument("-c", "--config", required=True, help="run configuration (JSON)")
    r.add_argument("--override", type=_key_value, action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="set a configuration value, e.g. measure.tvm_trials=1000")
    r.add_argument("--out", help="output directory (default: the configuration's \"out\" or runs/<name>)")
    r.add_argument("--report", action="store_true", help="also write report.html and charts")
    r.add_argument("--verbose", action="store_true")

    c = sub.add_parser("compare", help="compare a run's metrics.json with an export's metadata.json")
    c.add_argument("metrics", help="metrics.json of `tilecraft run`")
    c.add_argument("metadata", help="metadata.json of `tilecraft export`")
    c.add_argument("--output", help="write JSON, or CSV when the name ends with .csv (default: print JSON)")
    c.add_argument("--verbose", action="store_true")

    pr = sub.add_parser("profile", help="compile a model untuned and print its kernels, slowest first, with "
                                        "GFLOP/s, GB/s and the share of the machine's peak")
    pr.add_argument("model", help="a zoo model (mlp, resnet18, bert_base, ...) or MODULE:FUNCTION")
    pr.add_argument("--top", type=int, default=20, help="show the N slowest kernels (default 20; 0: all)")
    pr.add_argument("--number", type=int, default=10, help="calls per kernel measurement (default 10)")
    pr.add_argument("--example-shape", type=int, nargs="+", action="append", metavar="DIM",
                    help="shape of an example input (repeat the flag for several inputs)")
    pr.add_argument("--example-dtype", help="dtype of the example inputs")
    pr.add_argument("--input-names", nargs="+", help="names of the graph inputs (default input_0, input_1, ...)")
    pr.add_argument("--model-arg", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                    help="keyword argument for the model factory (value parsed as JSON when it can be)")
    pr.add_argument("--target", default="llvm", help="compilation target (default: llvm, this CPU)")
    pr.add_argument("--import-path", choices=("trace", "export", "onnx"), default="trace")
    pr.add_argument("--peak-gflops", type=float, help="the machine's peak GFLOP/s (default: estimated from the CPU)")
    pr.add_argument("--peak-gbps", type=float, help="the machine's peak memory GB/s (default: measured copy)")
    pr.add_argument("--atol", type=float, default=1e-3)
    pr.add_argument("--rtol", type=float, default=1e-3)
    pr.add_argument("--json", help="also write the report as JSON to this file")
    pr.add_argument("--verbose", action="store_true")

    rep = sub.add_parser("report", help="write report.html and PNG charts for a run or export directory")
    rep.add_argument("directory")
    rep.add_argument("--output", help="HTML file to write (default: DIRECTORY/report.html)")
    rep.add_argument("--verbose", action="store_true")
    return p


def _logging(verbose: bool) -> None:
    debug = os.environ.get("TVM_LOG_DEBUG", "") not in ("", "0")
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="[%(name)s] %(message)s")
    logging.getLogger("tilecraft").setLevel(level)


def _named_shapes(args) -> tuple:
    """(input names, {name: shape} or None) from --input-names and --example-shape."""
    names = args.input_names
    if not args.example_shape:
        return names, None
    names = names or [f"input_{i}" for i in range(len(args.example_shape))]
    if len(names) != len(args.example_shape):
        raise ValueError(f"{len(names)} --input-names for {len(args.example_shape)} --example-shape inputs")
    return names, dict(zip(names, args.example_shape))


def cmd_export(args, progress) -> int:
    from ..measure import ExportConfig
    from .export import export_model, load_factory

    with progress.stage("loading the model"):
        model, inputs = load_factory(args.model, **dict(args.model_arg))
    names, shapes = _named_shapes(args)
    if shapes:
        inputs = None
    elif inputs is None:
        raise ValueError(f"model factory {args.model!r} returned no example inputs; pass --example-shape "
                         "(e.g. --example-shape 1 128)")
    config = ExportConfig(example_input=inputs, input_shapes=shapes, input_names=names, target=args.target,
                          tuning_trials=args.tuning_trials, use_ansor=args.use_ansor, tuning_log=args.tuning_log,
                          example_dtype=args.example_dtype, import_path=args.import_path, verbose=args.verbose)
    artifacts = args.artifacts or os.path.join("runs", "tilecraft_" + args.model.rpartition(":")[2])
    with progress.stage("export"):
        meta = export_model(model, config, artifacts, model_name=args.model, repeats=args.measure_repeats,
                            warmup=args.measure_warmup, atol=args.atol, rtol=args.rtol, progress=progress)
    lat, ver = meta["latency"], meta["verification"]
    print(f"{args.model}: verification {ver['status']}"
          + (f", latency {lat['mean']:.3f} ms (p50 {lat['p50']:.3f}, 95% CI {lat['ci95'][0]:.3f}-"
             f"{lat['ci95'][1]:.3f}) over {lat['repeats']} runs" if "mean" in lat else "")
          + f"; artifacts in {os.path.abspath(artifacts)}")
    if args.report:
        _report(artifacts, None)
    return 3 if ver["status"] == "failed" else 0


def cmd_run(args, progress) -> int:
    from .run import load_config, run

    config = load_config(args.config, args.override)
    metrics = run(config, args.out, progress=progress, config_path=args.config)
    if args.report:
        _report(metrics["out_dir"], None)
    failed = metrics.get("tvm_baseline", {}).get("verification") or {}
    return 3 if failed.get("status") == "failed" else 0


def cmd_compare(args, progress) -> int:
    from .compare import compare, write_comparison

    result = compare(args.metrics, args.metadata)
    if args.output:
        write_comparison(result, args.output)
        progress(f"comparison written to {args.output}")
    else:
        print(json.dumps(result, indent=2))
    return 0


def _report(directory, output) -> None:
    from .report import write_report

    path = write_report(directory, output)
    print(f"report: {path}")


def cmd_report(args, progress) -> int:
    _report(args.directory, args.output)
    return 0


def cmd_profile(args, progress) -> int:
    from ..runtime.fileio import write_atomic
    from .profile import profile_model

    names, shapes = _named_shapes(args)
    with progress.stage("profile"):
        report, ver = profile_model(args.model, model_args=dict(args.model_arg), shapes=shapes, input_names=names,
                                    example_dtype=args.example_dtype, target=args.target,
                                    import_path=args.import_path, number=args.number, top=args.top or None,
                                    peak=(args.peak_gflops, args.peak_gbps), atol=args.atol, rtol=args.rtol,
                                    progress=progress)
    print(f"{args.model}: verification {ver['status']}"
          + (f" (max abs error {ver['max_abs_error']:.2e})" if ver.get("max_abs_error") is not None else ""))
    if args.json:
        write_atomic(args.json, json.dumps({"model": args.model, "verification": ver, **report.as_dict()},
                                           indent=2, default=str).encode())
    return 3 if ver["status"] == "failed" else 0


COMMANDS = {"export": cmd_export, "run": cmd_run, "compare": cmd_compare, "report": cmd_report,
            "profile": cmd_profile}


def main(argv=None) -> int:
    from .progress import Progress

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _logging(args.verbose)
    progress = Progress()
    try:
        code = COMMANDS[args.command](args, progress)
    except KeyboardInterrupt:
        print(f"tilecraft {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - one clear line for anything the user's model or files raise
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"tilecraft {args.command}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    if args.verbose and progress.timings:
        print("stage timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in progress.timings.items()),
              file=sys.stderr)
    return code
