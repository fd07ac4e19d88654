"""`tilecraft export MODULE:FUNCTION` (seed 000's run_autotvm.py): compile a PyTorch model, tune it,
verify it against PyTorch, time it, and keep the deployable artifacts with their metadata.

Everything is computed before anything is written: a failure on the way (an import error, a
wrong number of inputs) leaves the artifacts directory as it was, apart from the tuning log,
whose measurements are kept so that a rerun resumes.  Verification and latency are skipped, with
the reason recorded, when the compiled code cannot run on this machine.
"""

from __future__ import annotations

import importlib
import os

from ..measure import ExportConfig, LatencyMeasurer, export_pytorch_module, flatten_outputs, verification_report
from .artifacts import host, now, update_json, version


def load_factory(spec: str, **kwargs):
    """Call the factory named "package.module:function" (or a zoo name); (model, example inputs or None)."""
    from ..models import ZOO

    module, sep, func = spec.rpartition(":")
    if not sep:
        module, func = "tilecraft.models", spec
    try:
        factory = getattr(importlib.import_module(module), func)
    except ModuleNotFoundError as err:
        raise ValueError(f"cannot load model {spec!r}: {err}; give MODULE:FUNCTION with MODULE importable "
                         f"(zoo models: tilecraft.models:{{{','.join(ZOO)}}})") from None
    except AttributeError:
        raise ValueError(f"cannot load model {spec!r}: module {module!r} has no function {func!r}") from None
    if not callable(factory):
        raise ValueError(f"cannot load model {spec!r}: {func!r} is a {type(factory).__name__}, not a function")
    out = factory(**kwargs)
    if isinstance(out, tuple) and len(out) == 2 and callable(out[0]):
        model, inputs = out
        return model, (inputs if isinstance(inputs, (tuple, list, dict)) else (inputs,))
    if not callable(out):
        raise ValueError(f"model factory {spec!r} returned a {type(out).__name__}; it must return a model "
                         "(torch.nn.Module) or a (model, example inputs) pair")
    return out, None


def reference_outputs(model, inputs, float64: bool = False) -> list:
    """PyTorch eager's outputs on `inputs` (numpy arrays in the model's input order); with
    `float64`, of a float64 copy of the model on float64 inputs (integer inputs stay as they are)."""
    import copy

    import torch

    args = [torch.from_numpy(x.copy()) for x in inputs]
    if float64:
        model = copy.deepcopy(model).double()
        args = [a.double() if a.is_floating_point() else a for a in args]
    with torch.inference_mode():
        return flatten_outputs(model(*args))


def verification_of(result, model, atol: float, rtol: float) -> dict:
    base = {"atol": atol, "rtol": rtol}
    if result.graph_module is None:
        return {"status": "skipped", "passed": None, "reason": result.not_runnable, **base}
    from ..measure.export import run_graph_module

    outputs = run_graph_module(result.graph_module, result.named_inputs())
    return verification_report(outputs, reference_outputs(model, result.inputs), atol, rtol,
                               exact=lambda: reference_outputs(model, result.inputs, float64=True))


def latency_of(result, warmup: int, repeats: int) -> dict:
    if result.graph_module is None:
        return {"status": "skipped", "reason": result.not_runnable}
    return LatencyMeasurer(warmup, repeats).measure(result.graph_module, result.named_inputs())


def export_model(model, config: ExportConfig, artifacts_dir, *, model_name: str, repeats: int = 100,
                 warmup: int = 10, atol: float = 1e-3, rtol: float = 1e-3, progress=None) -> dict:
    """Compile, verify, time and write `model`'s artifacts to `artifacts_dir`; returns metadata.json's content."""
    say = progress or (lambda message: None)
    artifacts_dir = os.path.abspath(artifacts_dir)
    result = export_pytorch_module(model, config, progress=say, artifacts_dir=artifacts_dir)
    say("verifying against PyTorch")
    verification = verification_of(result, model, atol, rtol)
    detail = verification.get("reason") or verification.get("error") or \
        f"max abs error {verification['max_abs_error']:.2e}"
    say(f"verification {verification['status']}: {detail}")
    say(f"measuring latency ({warmup} warm-up, {repeats} timed runs)")
    latency = latency_of(result, warmup, repeats)
    tuning = result.tuning or {"tuner": None, "use_ansor": bool(config.use_ansor), "trials": 0,
                               "log": os.path.abspath(config.tuning_log) if config.tuning_log else None,
                               "seconds": 0.0}
    metadata = {
        "tilecraft_version": version(), "model": model_name, "target": str(config.target),
        "import_path": config.import_path, "opt_level": config.opt_level,
        "inputs": [{"name": n, "shape": list(x.shape), "dtype": str(x.dtype)}
                   for n, x in zip(result.input_names, result.inputs)],
        "tuning": tuning, "import_seconds": result.import_seconds, "compile_seconds": result.compile_seconds,
        "verification": verification, "latency": latency, "host": host(), "updated": now(),
    }
    say(f"writing artifacts to {artifacts_dir}")
    os.makedirs(artifacts_dir, exist_ok=True)
    files = result.factory.save(artifacts_dir)
    metadata["artifacts"] = {k: os.path.basename(v) for k, v in files.items()}
    meta_path = os.path.join(artifacts_dir, "metadata.json")
    if not os.path.exists(meta_path):
        metadata["created"] = metadata["updated"]
    merged = update_json(meta_path, metadata)
    update_json(os.path.join(artifacts_dir, "summary.json"), summary_of(merged, artifacts_dir))
    return merged


def summary_of(metadata: dict, artifacts_dir) -> dict:
    """summary.json: the metadata's headline figures, flat, for a quick look."""
    lat, ver, tun = metadata.get("latency", {}), metadata.get("verification", {}), metadata.get("tuning", {})
    return {"model": metadata.get("model"), "target": metadata.get("target"), "tuner": tun.get("tuner"),
            "tuning_trials": tun.get("trials"), "tuning_seconds": tun.get("seconds"),
            "compile_seconds": metadata.get("compile_seconds"), "verification": ver.get("status"),
            "max_abs_error": ver.get("max_abs_error"), "latency_mean_ms": lat.get("mean"),
            "latency_p50_ms": lat.get("p50"), "latency_p95_ms": lat.get("p95"), "latency_ci95_ms": lat.get("ci95"),
            "repeats": lat.get("repeats"), "warmup": lat.get("warmup"), "artifacts_dir": artifacts_dir,
            "tilecraft_version": metadata.get("tilecraft_version"), "updated": metadata.get("updated")}
