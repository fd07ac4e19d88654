"""The real-model suite through every import path PyTorch produces: a TorchScript trace, an
ExportedProgram, and ONNX files from torch.onnx.export's TorchScript-based exporter (opset 17) and
its dynamo exporter (opset 18).  `compile_path` produces, imports and builds one model for one
path; `check` compares it with PyTorch and records the result as a row of docs/model_coverage.md
(tools/gen_model_coverage.py), and tests/models/test_real_model_suite.py checks the same cells."""

from __future__ import annotations

from . import suite
from .suite import _torch

PATHS = ("trace", "export", "onnx", "onnx_dynamo")


class NoGraph(Exception):
    """PyTorch could not produce the graph or file for this path (the cell has nothing to import)."""


class InvalidFile(Exception):
    """PyTorch wrote an ONNX file that tilecraft could not import or build and onnxruntime cannot run
    either: the exporter's fault, not an importer gap (the message gives both errors)."""


def _names(inputs):
    return [f"input_{i}" for i in range(len(inputs))]


def _Positional(model):
    """`model` behind forward(*args).  The TorchScript-based ONNX exporter fills every parameter of
    forward it was not given with its default, positionally; transformers 5 models then receive
    `use_cache` twice ("got multiple values for argument 'use_cache'") and no file is written."""
    from torch import nn

    class Positional(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(*args)

    return Positional(model).eval()


def produce(model, inputs, path: str, directory: str):
    """What PyTorch makes of `model` for `path`: a traced module, an ExportedProgram or an ONNX file
    name; raises NoGraph (with PyTorch's error) when it cannot."""
    import contextlib
    import io
    import os

    from ..relay.frontend import recurrences

    torch = _torch()
    try:
        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            # recurrences(): Mamba's scan traces as one operator instead of one step per token
            if path == "trace":
                with recurrences():
                    return torch.jit.trace(model, tuple(inputs), check_trace=False)
            if path == "export":
                with recurrences():
                    return torch.export.export(model, tuple(inputs))
            if path in ("onnx", "onnx_dynamo"):
                file = os.path.join(directory, f"model_{path}.onnx")
                kw = {"dynamo": True, "opset_version": 18} if path == "onnx_dynamo" else \
                    {"dynamo": False, "opset_version": 17}
                target = _Positional(model) if path == "onnx" else model
                torch.onnx.export(target, tuple(inputs), file, input_names=_names(inputs), **kw)
                if not os.path.exists(file):
                    raise RuntimeError("torch.onnx.export wrote no file")
                return file
    except Exception as err:  # noqa: BLE001 - any exporter failure is a "no file" cell
        raise NoGraph(f"{type(err).__name__}: {err}") from err
    raise ValueError(f"unknown import path {path!r}; use one of {PATHS}")


def import_graph(artifact, inputs, path: str):
    """(IRModule, params, names of the inputs the graph takes) through tilecraft's importer for `path`."""
    from ..relay import frontend

    names = _names(inputs)
    infos = [(n, (tuple(x.shape), str(x.dtype).replace("torch.", ""))) for n, x in zip(names, inputs)]
    if path == "trace":
        mod, params = frontend.from_pytorch(artifact, infos)
    elif path == "export":
        mod, params = frontend.from_exported_program(artifact, infos)
    else:
        import onnx

        proto = onnx.load(artifact)
        initializers = {t.name for t in proto.graph.initializer}
        taken = [i.name for i in proto.graph.input if i.name not in initializers]  # unused inputs are dropped
        infos = [info for info in infos if info[0] in taken]
        mod, params = frontend.from_onnx(proto, shape={n: s for n, (s, _) in infos},
                                         dtype={n: d for n, (_, d) in infos})
    return mod, params, [n for n, _ in infos]


def compile_path(model, inputs, path: str, directory: str):
    """Produce, import and build `model` for `path`; returns (run(*tensors) -> [numpy outputs], seconds
    spent importing, seconds spent in relay.build).  Raises NoGraph when PyTorch makes no graph."""
    import time

    from .. import relay
    from ..contrib import graph_executor
    from ..ir.transform import PassContext
    from ..runtime import cpu

    artifact = produce(model, inputs, path, directory)
    t0 = time.perf_counter()
    try:
        mod, params, taken = import_graph(artifact, inputs, path)
        t1 = time.perf_counter()
        with PassContext(opt_level=3):
            lib = relay.build(mod, target="llvm", params=params)
    except Exception as err:
        refused = onnxruntime_refusal(artifact, inputs) if isinstance(artifact, str) else None
        if refused:
            raise InvalidFile(f"onnxruntime refuses the file too ({refused}); tilecraft: "
                              f"{type(err).__name__}: {err}") from err
        raise
    t2 = time.perf_counter()
    gm = graph_executor.GraphModule(lib["default"](cpu(0)))
    names = _names(inputs)

    def run(*xs):
        for name, x in zip(names, xs):
            if name in taken:
                gm.set_input(name, x.numpy())
        gm.run()
        return [gm.get_output(i).numpy() for i in range(gm.get_num_outputs())]

    run.artifact = artifact  # the traced module, ExportedProgram or ONNX file name
    return run, t1 - t0, t2 - t1


def reference(model, inputs) -> list:
    """PyTorch's outputs as a flat list of numpy arrays (None entries dropped, as exporters do)."""
    from ..measure.export import flatten_outputs

    torch = _torch()
    with torch.no_grad():
        return flatten_outputs(model(*inputs))


def onnxruntime_reference(file: str, inputs) -> list:
    """onnxruntime's outputs for an ONNX file (inputs the file dropped are not fed)."""
    import onnxruntime as ort

    session = ort.InferenceSession(file, providers=["CPUExecutionProvider"])
    taken = {i.name for i in session.get_inputs()}
    return session.run(None, {n: x.numpy() for n, x in zip(_names(inputs), inputs) if n in taken})


def onnxruntime_refusal(file: str, inputs) -> str | None:
    """The head of onnxruntime's error when it cannot load or run `file` on `inputs`; None when it runs."""
    try:
        onnxruntime_reference(file, inputs)
    except Exception as err:  # noqa: BLE001 - any refusal is the answer
        return _first_line(f"{type(err).__name__}: {err}", limit=200)
    return None


def file_differs(run, inputs, model, atol: float = 1e-3, rtol: float = 1e-3) -> str | None:
    """For an ONNX cell that does not match PyTorch: when onnxruntime does not match PyTorch on the
    file either and tilecraft matches onnxruntime, the file is what differs (the exporter's semantics,
    not an importer gap); say so.  None otherwise."""
    from ..measure.verify import VerificationError, verify

    if not isinstance(getattr(run, "artifact", None), str):
        return None
    try:
        ort_out = onnxruntime_reference(run.artifact, inputs)
        verify(run(*inputs), ort_out, atol=atol, rtol=rtol)
    except Exception:  # noqa: BLE001 - tilecraft does not match onnxruntime either: not this case
        return None
    try:
        verify(ort_out, reference(model, inputs), atol=atol, rtol=rtol)
    except VerificationError as err:
        worst = max(r["max_abs"] for r in err.report.values()) if err.report else float("nan")
        return (f"the exported file differs from PyTorch (onnxruntime too: max abs error {worst:.3g}); "
                "tilecraft matches onnxruntime")
    return None


def check(name: str, path: str, tiny: bool = True, atol: float = 1e-3, rtol: float = 1e-3, **kwargs) -> dict:
    """Build suite model `name` (tiny by default), compile it through `path` and compare with PyTorch on
    the example inputs and on fresh random ones.  Returns {"status": "pass" | "fail" | "no file" |
    "file differs" (an ONNX file onnxruntime does not run to PyTorch's numbers either), "file invalid"
    (one tilecraft cannot build and onnxruntime refuses too),
    "error": first line or None, "import_s", "compile_s", "max_abs"}; never raises for model errors."""
    import tempfile

    from ..measure.verify import VerificationError, verify

    row = {"status": "fail", "error": None, "import_s": None, "compile_s": None, "max_abs": None}
    model, inputs = getattr(suite, name)(tiny=tiny, **kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        run = xs = None
        try:
            run, row["import_s"], row["compile_s"] = compile_path(model, inputs, path, tmp)
            worst = 0.0
            for xs in (inputs, suite.fresh_inputs(model, inputs)):
                report = verify(run(*xs), reference(model, xs), atol=atol, rtol=rtol)
                worst = max([worst] + [r["max_abs"] for r in report.values()])
            row.update(status="pass", max_abs=worst)
        except NoGraph as err:
            row.update(status="no file", error=_first_line(str(err)))
        except InvalidFile as err:
            row.update(status="file invalid", error=_first_line(str(err), limit=400))
        except VerificationError as err:
            differs = file_differs(run, xs, model, atol, rtol)
            row.update(status="file differs" if differs else "fail",
                       error=differs or _first_line(f"{type(err).__name__}: {err}"))
        except Exception as err:  # noqa: BLE001 - recorded in the coverage table
            row.update(error=_first_line(f"{type(err).__name__}: {err}"))
    return row


def _first_line(text: str, limit: int = 160) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()] or [""]
    line = lines[0]
    if line.endswith(":") and len(lines) > 1:  # "cannot convert 2 operator(s): ..." names them next
        line = f"{line} {lines[1]}"
    return line if len(line) <= limit else line[: limit - 1] + "…"
