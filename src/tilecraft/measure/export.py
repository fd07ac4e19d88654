"""Seed 001's Python API: compile a PyTorch module with tilecraft (optionally tuned) and check it.

    config = ExportConfig(example_input=torch.randn(1, 128), target="llvm", tuning_trials=0)
    graph_module = compile_pytorch_module(model, config)
    outputs = verify_runtime(graph_module, [("input_0", x.numpy())], reference=[ref], atol=1e-3, rtol=1e-3)

`export_pytorch_module` does the same and also returns what a deployment needs (the factory
module with graph JSON, kernels and parameters) and how long each stage took.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from .tune import default_log, tune_model, tuned
from .verify import as_numpy, verify

log = logging.getLogger("tilecraft.export")

IMPORT_PATHS = ("trace", "export", "onnx")


@dataclass
class ExportConfig:
    """What to compile and how.  `example_input`: a tensor, a tuple of tensors or a dict name -> tensor;
    without it, `input_shapes` (name -> shape) makes random inputs (token ids for models that start
    with an embedding).  `tuning_trials` 0 means untuned; the log is resumed when it exists."""

    example_input: object = None
    target: str = "llvm"
    tuning_trials: int = 0
    use_ansor: bool = False
    tuning_log: object = None
    input_shapes: dict | None = None
    input_names: list | None = None
    example_dtype: str | None = None
    import_path: str = "trace"
    opt_level: int = 3
    verbose: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.import_path not in IMPORT_PATHS:
            raise ValueError(f"ExportConfig: unknown import_path {self.import_path!r}; use one of {IMPORT_PATHS}")
        if not isinstance(self.tuning_trials, int) or isinstance(self.tuning_trials, bool) or self.tuning_trials < 0:
            raise ValueError(f"ExportConfig: tuning_trials must be an int >= 0, got {self.tuning_trials!r}")
        if self.example_input is None and not self.input_shapes:
            raise ValueError("ExportConfig needs example_input or input_shapes (name -> shape) to know the inputs")


@dataclass
class ExportResult:
    graph_module: object  # contrib.graph_executor.GraphModule on the CPU, None when not_runnable
    factory: object  # relay.build's GraphExecutorFactoryModule: graph JSON, kernels, parameters
    input_names: list
    inputs: list  # the example inputs as numpy arrays, in input_names order
    import_seconds: float
    compile_seconds: float
    tuning: dict = field(default_factory=dict)
    not_runnable: str | None = None  # why graph_module is None (the target's code cannot run here)

    def named_inputs(self) -> list:
        return list(zip(self.input_names, self.inputs))


# ---------------------------------------------------------------------------- inputs

def flatten_outputs(outputs) -> list:
    """Model outputs (tensor, tuple/list, dict or transformers ModelOutput, runtime arrays) as a flat
    list of numpy arrays, in order; None entries (absent optional outputs) are dropped, as exporters do."""
    flat = []

    def walk(x):
        if x is None:
            return
        if isinstance(x, np.ndarray):
            flat.append(x)
        elif hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor
            flat.append(x.detach().cpu().numpy())
        elif isinstance(x, dict):  # transformers' ModelOutput is an OrderedDict
            for value in x.values():
                walk(value)
        elif hasattr(x, "numpy") and not isinstance(x, (tuple, list)):  # tvm / tilecraft NDArray
            flat.append(np.asarray(x.numpy()))
        elif isinstance(x, (tuple, list)) or (hasattr(x, "__len__") and hasattr(x, "__getitem__")
                                               and not isinstance(x, (str, bytes))):
            for item in (x[i] for i in range(len(x))):
                walk(item)
        else:
            flat.append(np.asarray(x))

    walk(outputs)
    return flat


def vocabulary_size(model) -> int | None:
    """Rows of the embedding a model starts with (its input ids must index it), or None."""
    import torch

    get = getattr(model, "get_input_embeddings", None)
    emb = get() if callable(get) else None
    if not isinstance(emb, torch.nn.Embedding):
        emb = next((m for m in model.modules() if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))), None)
        first = next((m for m in model.modules() if not list(m.children())), None)
        emb = emb if emb is not None and first is emb else None
    return int(emb.num_embeddings) if emb is not None else None


def make_example_inputs(model, shapes, dtype: str | None = None, seed: int = 0) -> tuple:
    """Random inputs of `shapes`: token ids in the vocabulary's range for the first input of a model
    that starts with an embedding (ones, an all-visible attention mask, for the others), standard
    normal floats otherwise; `dtype` forces one dtype for all."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    vocab = vocabulary_size(model)
    out = []
    for i, shape in enumerate(shapes):
        shape = tuple(int(d) for d in shape)
        want = dtype or ("int64" if vocab else "float32")
        tdtype = getattr(torch, want, None)
        if not isinstance(tdtype, torch.dtype):
            raise ValueError(f"unknown example dtype {want!r}; use e.g. float32, int64")
        if tdtype.is_floating_point:
            out.append(torch.randn(shape, generator=gen).to(tdtype))
        elif i == 0 or not vocab:
            out.append(torch.randint(0, vocab or 100, shape, generator=gen, dtype=tdtype))
        else:
            out.append(torch.ones(shape, dtype=tdtype))
    return tuple(out)


def _on_cpu(model, inputs: tuple) -> tuple:
    """Seed 000: inputs (and the model) that live on a GPU are moved to the CPU for export."""
    def cpu(x):
        return x.cpu() if hasattr(x, "cpu") and getattr(getattr(x, "device", None), "type", "cpu") != "cpu" else x

    if any(p.device.type != "cpu" for p in model.parameters()):
        log.info("moving the model to the CPU for export")
        model.to("cpu")
    return tuple(cpu(x) for x in inputs)


def resolve_inputs(model, config: ExportConfig) -> tuple[list, tuple]:
    """(input names, example inputs as a tuple of CPU tensors) from the config."""
    ex = config.example_input
    names = list(config.input_names or [])
    if ex is None:
        shape_names = list(config.input_shapes)
        ex = make_example_inputs(model, [config.input_shapes[n] for n in shape_names], config.example_dtype,
                                 config.seed)
        names = names or shape_names
    elif isinstance(ex, dict):
        names, ex = names or list(ex), tuple(ex.values())
    elif not isinstance(ex, (tuple, list)):
        ex = (ex,)
    ex = _on_cpu(model, tuple(ex))
    names = names or [f"input_{i}" for i in range(len(ex))]
    if len(names) != len(ex):
        raise ValueError(f"{len(names)} input names {names} for {len(ex)} example inputs")
    return names, ex


# ---------------------------------------------------------------------------- import

def import_model(model, inputs: tuple, names: list, path: str = "trace"):
    """(IRModule, params) of `model` through TorchScript tracing, torch.export or ONNX."""
    import torch

    from ..relay import frontend

    infos = [(n, (tuple(x.shape), str(x.dtype).replace("torch.", ""))) for n, x in zip(names, inputs)]
    # recurrences(): Mamba's scan traces as one operator instead of one step per token
    if path == "trace":
        with torch.no_grad(), frontend.recurrences():
            traced = torch.jit.trace(model, tuple(inputs), check_trace=False)
        return frontend.from_pytorch(traced, infos)
    if path == "export":
        with frontend.recurrences():
            ep = torch.export.export(model, tuple(inputs))
        return frontend.from_exported_program(ep, infos)
    if path == "onnx":
        with tempfile.TemporaryDirectory() as tmp:
            file = os.path.join(tmp, "model.onnx")
            with torch.no_grad():
                torch.onnx.export(model, tuple(inputs), file, dynamo=False, opset_version=17, input_names=names)
            return frontend.from_onnx(file, shape={n: s for n, (s, _) in infos},
                                      dtype={n: d for n, (_, d) in infos})
    raise ValueError(f"unknown import path {path!r}; use one of {IMPORT_PATHS}")


# ---------------------------------------------------------------------------- compile

def export_pytorch_module(model, config: ExportConfig, progress=None, artifacts_dir=None) -> ExportResult:
    """Import, tune (when config.tuning_trials > 0) and build `model`; `progress(message)` hears each stage."""
    from .. import relay
    from ..contrib import graph_executor
    from ..runtime import cpu
    from ..target import Target

    say = progress or (lambda message: None)
    target = Target(config.target) if isinstance(config.target, str) else config.target
    if target.kind != "llvm":
        raise ValueError(f"target {config.target!r}: relay.build compiles for the CPU ('llvm ...') only so far; "
                         "CUDA models are not supported yet")
    if hasattr(model, "eval"):
        model.eval()
    names, inputs = resolve_inputs(model, config)
    say(f"importing through {config.import_path}")
    t0 = time.perf_counter()
    mod, params = import_model(model, inputs, names, config.import_path)
    import_seconds = time.perf_counter() - t0
    if config.verbose:
        log.info("relay IR after import:\n%s", mod)
    tuning = {}
    tuning_log = config.tuning_log
    if config.tuning_trials > 0:
        tuning_log = str(tuning_log or default_log(artifacts_dir or ".", config.use_ansor))
        tuning = tune_model(mod, params, target, config.tuning_trials, tuning_log, config.use_ansor, progress)
    say("compiling")
    t0 = time.perf_counter()
    with tuned(tuning_log, config.use_ansor, config.opt_level):
        factory = relay.build(mod, target=target, params=params)
    compile_seconds = time.perf_counter() - t0
    if config.verbose:
        log.info("relay IR after optimisation (fused):\n%s", factory.ir_mod)
    try:
        module, not_runnable = graph_executor.GraphModule(factory["default"](cpu(0))), None
    except ValueError as err:  # code for another CPU (check_runs_here): deployable, not runnable here
        module, not_runnable = None, str(err)
    return ExportResult(module, factory, names, [as_numpy(x) for x in inputs], import_seconds, compile_seconds,
                        tuning, not_runnable)


def compile_pytorch_module(model, config: ExportConfig):
    """Seed 001: the compiled model as a graph module (set_input / run / get_output)."""
    return export_pytorch_module(model, config).graph_module


def run_graph_module(graph_module, inputs) -> list:
    """Run once on [(name, array)] pairs (or arrays by position); the outputs as numpy arrays."""
    from .latency import set_graph_inputs

    set_graph_inputs(graph_module, list(inputs))
    graph_module.run()
    return [graph_module.get_output(i).numpy() for i in range(graph_module.get_num_outputs())]


def verify_runtime(graph_module, inputs, reference, atol: float = 1e-3, rtol: float = 1e-3) -> list:
    """Seed 001: run `graph_module` on `inputs` ([("input_0", array), ...]) and check every output
    against `reference`; returns the outputs, raises VerificationError naming the worst element."""
    outputs = run_graph_module(graph_module, inputs)
    verify(outputs, [as_numpy(r) for r in reference], atol=atol, rtol=rtol)
    return outputs
