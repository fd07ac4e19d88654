"""Side-by-side baselines for `tilecraft run`: PyTorch eager, torch.compile, ONNX Runtime, Apache TVM.

Every system is timed by the caller's one `LatencyMeasurer` and verified against the same PyTorch
eager reference, so a report compares like with like.  Each baseline is optional: a missing package
becomes `status: "missing_dependencies"` naming the pip package, and any failure (export, compile,
a forward that raises) becomes `status: "error"` with a one-line message, never an exception that
ends the run.  ONNX Runtime, Apache TVM and torch are given tilecraft's thread count, so nobody wins
by using more cores.  Nothing here imports torch until a baseline runs.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ..measure import as_numpy, flatten_outputs, verification_report
from ..tuning.measure import one_line

SYSTEMS = ("pytorch_eager", "torch_compile", "onnxruntime", "apache_tvm")

# system -> (import name, pip package) of what it needs
REQUIREMENTS = {
    "pytorch_eager": (("torch", "torch"),),
    "torch_compile": (("torch", "torch"),),
    "onnxruntime": (("torch", "torch"), ("onnx", "onnx"), ("onnxruntime", "onnxruntime")),
    "apache_tvm": (("torch", "torch"), ("tvm", "apache-tvm")),
}


class _Missing(Exception):
    """A baseline cannot run because packages are absent (raised after a late, deeper check)."""

    def __init__(self, packages):
        super().__init__(", ".join(packages))
        self.packages = list(packages)


def measure_baselines(model, example_inputs: tuple, measurer, systems=SYSTEMS, reference=None, workdir=None,
                      atol: float = 1e-3, rtol: float = 1e-3, progress=None) -> dict:
    """Measure and verify `model` on `example_inputs` with each baseline system.

    Returns {system: entry}, each entry a JSON-serialisable dict with status ("ok",
    "missing_dependencies", "error", "skipped"), latency (the measurer's statistics or None),
    compile_seconds, verification (or None) and version; "missing" / "error" / "reason" say why a
    system did not run.  `reference` (PyTorch eager outputs as numpy arrays) is computed when None.
    """
    unknown = [s for s in systems if s not in REQUIREMENTS]
    if unknown:
        raise ValueError(f"measure_baselines: unknown system(s) {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(SYSTEMS)}")
    say = progress or (lambda message: None)
    inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    ctx = {"model": model, "inputs": inputs, "measurer": measurer, "atol": atol, "rtol": rtol, "say": say,
           "threads": _tilecraft_threads(), "reference": None, "reference_error": None}
    if reference is not None:
        ctx["reference"] = [np.asarray(r) for r in reference]
    elif not _missing_packages((("torch", "torch"),)):
        say("reference: running the PyTorch eager model")
        try:
            ctx["reference"] = flatten_outputs(_eager_call(model, inputs))
        except Exception as err:  # the model itself is broken: every system will report it
            ctx["reference_error"] = one_line(err)

    results = {}
    with tempfile.TemporaryDirectory(prefix="tilecraft-baselines-") as tmp:
        ctx["workdir"] = Path(workdir) if workdir is not None else Path(tmp)
        ctx["keep_files"] = workdir is not None
        for system in systems:
            results[system] = _run_one(system, ctx)
            say(f"{system}: {_summary(results[system])}")
    return results


# ---------------------------------------------------------------------------------------------------
# one system


def _run_one(system: str, ctx: dict) -> dict:
    entry = {"status": "ok", "latency": None, "compile_seconds": 0.0, "verification": None, "version": None,
             "threads": ctx["threads"]}
    missing = _missing_packages(REQUIREMENTS[system])
    if missing:
        return {**entry, "status": "missing_dependencies", "missing": missing}
    runner = _RUNNERS[system]
    try:
        entry["version"] = _version(system)
        if ctx["reference_error"] is not None:  # the eager model failed: no system can run it
            raise RuntimeError(f"the model failed under PyTorch eager: {ctx['reference_error']}")
        outputs, latency, compile_seconds, extra = runner(ctx)
    except _Missing as err:
        return {**entry, "status": "missing_dependencies", "missing": err.packages}
    except _Skip as why:
        return {**entry, "status": "skipped", "reason": str(why)}
    except Exception as err:  # a baseline's failure is a result, not a crash
        return {**entry, "status": "error", "error": one_line(err)}
    entry.update(extra, latency=latency, compile_seconds=round(compile_seconds, 6))
    if ctx["reference"] is not None:
        entry["verification"] = verification_report(flatten_outputs(outputs), ctx["reference"], ctx["atol"],
                                                    ctx["rtol"])
    return entry


class _Skip(Exception):
    """The system does not apply here (e.g. torch.compile without a C++ compiler)."""


def _pytorch_eager(ctx):
    ctx["say"]("pytorch_eager: measuring")
    model, inputs = ctx["model"], ctx["inputs"]
    with _torch_threads(ctx["threads"]):
        outputs = _eager_call(model, inputs)
        latency = ctx["measurer"].measure(_timed(model), inputs)
    return outputs, latency, 0.0, {}


def _torch_compile(ctx):
    import torch

    if not any(_on_cuda(x) for x in ctx["inputs"]) and not _cxx_compiler():
        raise _Skip("torch.compile on CPU needs a C++ compiler (g++ or clang++; set $CXX)")
    model, inputs = ctx["model"], ctx["inputs"]
    ctx["say"]("torch_compile: compiling (inductor; the first calls compile)")
    with _torch_threads(ctx["threads"]):
        t0 = time.perf_counter()
        compiled = torch.compile(model)
        with torch.inference_mode():
            compiled(*inputs)  # traces and compiles
            outputs = compiled(*inputs)  # a recompile on the second call still counts as compile time
        compile_seconds = time.perf_counter() - t0
        ctx["say"]("torch_compile: measuring")
        latency = ctx["measurer"].measure(_timed(compiled), inputs)
    return outputs, latency, compile_seconds, {"mode": "default", "backend": "inductor"}


def _onnxruntime(ctx):
    import onnxruntime as ort

    model, inputs = ctx["model"], ctx["inputs"]
    path = ctx["workdir"] / "baseline_model.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f"input{i}" for i in range(len(inputs))]
    ctx["say"]("onnxruntime: exporting to ONNX and creating the inference session")
    t0 = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = ctx["threads"]
    options.inter_op_num_threads = 1
    session, exporter, export_errors = _onnx_session(ort, model, inputs, path, names, options)
    feeds = _onnx_feeds(session, names, [as_numpy(x) for x in inputs])
    outputs = session.run(None, feeds)
    compile_seconds = time.perf_counter() - t0
    ctx["say"]("onnxruntime: measuring")
    latency = ctx["measurer"].measure_callable(lambda: session.run(None, feeds))
    extra = {"exporter": exporter, "provider": "CPUExecutionProvider"}
    if export_errors:  # why the preferred exporter was not used
        extra["export_errors"] = export_errors
    if ctx["keep_files"]:
        extra["model_file"] = str(path)
    return outputs, latency, compile_seconds, extra


def _onnx_session(ort, model, inputs, path: Path, names, options) -> tuple:
    """Export with the TorchScript exporter (robust for transformers 4.x models), else torch.export's
    (needed for transformers 5.x, whose forward wrappers the tracer cannot call, and for graphs ONNX
    Runtime refuses from the first, such as Mamba's Tile); (session, exporter, errors)."""
    import torch

    errors = []
    for dynamo in (False, True):
        if dynamo and importlib.util.find_spec("onnxscript") is None:
            errors.append("dynamo exporter: needs onnxscript (pip install onnxscript)")
            continue
        try:
            with warnings.catch_warnings(), torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                # onnxscript's optimizer is quadratic on long unrolled graphs (25 min on Mamba-130M);
                # ONNX Runtime optimizes the graph itself when it creates the session
                more = {"optimize": False} if dynamo else {}
                torch.onnx.export(model, tuple(inputs), str(path), input_names=names, dynamo=dynamo, **more)
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            return session, ("torch.export (dynamo)" if dynamo else "torchscript"), errors
        except Exception as err:  # try the other exporter, report both
            errors.append(f"{'dynamo' if dynamo else 'torchscript'} exporter: {one_line(err)}")
    raise RuntimeError("ONNX export failed; " + "; ".join(errors))


def _onnx_feeds(session, names, arrays) -> dict:
    """Inputs by the session's names: ours when the exporter kept them, else by position."""
    given = dict(zip(names, arrays))
    wanted = [i.name for i in session.get_inputs()]
    if all(n in given for n in wanted):
        return {n: given[n] for n in wanted}
    if len(wanted) != len(arrays):
        raise RuntimeError(f"the ONNX model takes inputs {wanted} but {len(arrays)} example inputs were given")
    return dict(zip(wanted, arrays))


def _apache_tvm(ctx):
    import torch

    tvm = _real_tvm()
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    model, inputs = ctx["model"], ctx["inputs"]
    target = _tvm_target(tvm, ctx["threads"])
    with _env("TVM_NUM_THREADS", str(ctx["threads"])):
        ctx["say"]("apache_tvm: torch.export and relax import")
        t0 = time.perf_counter()
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            mod = from_exported_program(torch.export.export(model, tuple(inputs)))
        ctx["say"](f"apache_tvm: building for llvm, {ctx['threads']} cores (default relax pipeline, untuned)")
        build = getattr(tvm, "compile", None) or relax.build
        executable = build(mod, target=target)
        vm = relax.VirtualMachine(executable, tvm.cpu())
        make = tvm.runtime.tensor if hasattr(tvm.runtime, "tensor") else tvm.nd.array
        args = [make(as_numpy(x)) for x in inputs]
        main = vm["main"]
        outputs = main(*args)
        compile_seconds = time.perf_counter() - t0
        ctx["say"]("apache_tvm: measuring")
        latency = ctx["measurer"].measure_callable(lambda: main(*args))
    return outputs, latency, compile_seconds, {"target": str(target), "tuned": False}


def _tvm_target(tvm, threads: int):
    """This host's CPU with tilecraft's core count: the JSON form (TVM >= 0.22), else the CLI string."""
    try:
        cpu = tvm.target.codegen.llvm_get_system_cpu()
    except Exception:  # older builds: let LLVM pick the generic CPU
        cpu = None
    spec = {"kind": "llvm", "num-cores": threads, **({"mcpu": cpu} if cpu else {})}
    try:
        return tvm.target.Target(spec)
    except Exception:
        return tvm.target.Target(f"llvm {'-mcpu=' + cpu if cpu else ''} -num-cores={threads}")


_RUNNERS = {"pytorch_eager": _pytorch_eager, "torch_compile": _torch_compile, "onnxruntime": _onnxruntime,
            "apache_tvm": _apache_tvm}


# ---------------------------------------------------------------------------------------------------
# helpers


class _InferenceCall:
    """The model called under torch.inference_mode (what the measurer times for the torch systems)."""

    def __init__(self, model):
        self.model = model

    def __call__(self, *inputs):
        import torch

        with torch.inference_mode():
            return self.model(*inputs)


def _timed(model):
    """What the measurer times: an nn.Module as is (the measurer runs it under inference_mode), any
    other callable wrapped so that it runs under inference_mode too."""
    import torch

    return model if isinstance(model, torch.nn.Module) else _InferenceCall(model)


def _eager_call(model, inputs):
    import torch

    with torch.inference_mode():
        return model(*inputs)


def _missing_packages(requirements) -> list:
    """Pip names of the packages not importable; `sys.modules[name] = None` counts as missing."""
    missing = []
    for module, package in requirements:
        if module in sys.modules:
            present = sys.modules[module] is not None
        else:
            try:
                present = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                present = False
        if not present:
            missing.append(package)
    return missing


def _real_tvm():
    """Apache TVM with relax, not tilecraft installed under the name `tvm` (or an old relay-only TVM)."""
    try:
        tvm = importlib.import_module("tvm")
    except ImportError as err:
        raise _Missing(["apache-tvm"]) from err
    where = str(Path(getattr(tvm, "__file__", "") or "").resolve())
    if "tilecraft" in where.split(os.sep) or getattr(tvm, "__name__", "") == "tilecraft":
        raise _Missing(["apache-tvm"])
    if not hasattr(tvm, "relax"):
        with contextlib.suppress(ImportError):
            importlib.import_module("tvm.relax")  # sets tvm.relax when it is this tvm's subpackage
    if not hasattr(tvm, "relax"):
        raise _Missing(["apache-tvm"])
    return tvm


def _version(system: str):
    module = {"pytorch_eager": "torch", "torch_compile": "torch", "onnxruntime": "onnxruntime",
              "apache_tvm": "tvm"}[system]
    if system == "apache_tvm":
        return str(getattr(_real_tvm(), "__version__", "unknown"))
    return str(getattr(importlib.import_module(module), "__version__", "unknown"))


def _tilecraft_threads() -> int:
    """tilecraft's parallel-loop thread count; the CPU count when no OpenMP runtime is found."""
    from ..runtime import num_threads

    try:
        return max(1, int(num_threads()))
    except Exception:  # no OpenMP runtime: tilecraft itself runs serial code
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@contextlib.contextmanager
def _torch_threads(n: int):
    """torch's intra-op threads set to tilecraft's for the measurement, then restored."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _env(name: str, value: str):
    before = os.environ.get(name)
    if before is None:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)


def _cxx_compiler():
    return os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")


def _on_cuda(x) -> bool:
    return getattr(getattr(x, "device", None), "type", "cpu") == "cuda"



def _summary(entry: dict) -> str:
    status = entry["status"]
    if status == "ok":
        mean = entry["latency"]["mean"] if entry.get("latency") else float("nan")
        ver = entry.get("verification")
        check = "" if ver is None else (", verified" if ver["passed"] else ", VERIFICATION FAILED")
        return f"{mean:.3f} ms mean{check}"
    if status == "missing_dependencies":
        return f"missing {', '.join(entry['missing'])} (pip install {' '.join(entry['missing'])})"
    return f"{status}: {entry.get('error') or entry.get('reason')}"
