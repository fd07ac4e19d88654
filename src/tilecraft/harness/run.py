"""`tilecraft run -c config.json` (seed 000's `icd.cli run`): measure one model side by side — PyTorch
eager, torch.compile, ONNX Runtime, Apache TVM where installed, and tilecraft (exported, verified
against PyTorch) — with one LatencyMeasurer, and write metrics.json.

The configuration (JSON) names the model and how to measure it:

    {"graph":   {"loader": "tilecraft.models:bert_base", "loader_kwargs": {"seq": 128},
                 "example_shape": [[1, 128]], "example_dtype": null, "input_names": null},
     "measure": {"repeats": 50, "warmup": 10, "baselines": ["pytorch_eager", "torch_compile", "onnxruntime",
                 "apache_tvm"], "atol": 1e-3, "rtol": 1e-3,
                 "tvm_enable": true, "tvm_target": "llvm", "tvm_trials": 0, "tvm_use_ansor": false,
                 "tvm_repeats": 50, "tvm_warmup": 10, "tvm_log": null, "tvm_artifacts_dir": null,
                 "tvm_import_path": "trace"},
     "out": "runs/bert"}

`max_seconds` (default 120, null for none) bounds how long each baseline is timed: a slow system
(Apache TVM's untuned relax build takes seconds per call) gets fewer repeats, marked `time_limited`.
Other top-level sections are kept in metrics.json untouched; a misspelt `measure` key is an error.
"""

from __future__ import annotations

import copy
import os

from ..measure import ExportConfig, LatencyMeasurer
from ..measure.export import resolve_inputs
from ..tuning.measure import one_line
from .artifacts import host, now, read_json, version, write_json
from .export import export_model, load_factory, reference_outputs

SYSTEMS = ("pytorch_eager", "torch_compile", "onnxruntime", "apache_tvm")
MEASURE_DEFAULTS = {"repeats": 50, "warmup": 10, "max_seconds": 120, "baselines": list(SYSTEMS), "atol": 1e-3,
                    "rtol": 1e-3,
                    "tvm_enable": True, "tvm_target": "llvm", "tvm_trials": 0, "tvm_use_ansor": False,
                    "tvm_repeats": None, "tvm_warmup": None, "tvm_log": None, "tvm_artifacts_dir": None,
                    "tvm_import_path": "trace"}
GRAPH_KEYS = ("loader", "loader_kwargs", "example_shape", "example_dtype", "input_names")


def apply_override(config: dict, key_path: str, value) -> None:
    """`measure.tvm_trials=1000`: set a nested key, creating sections as needed."""
    *parents, leaf = key_path.split(".")
    node = config
    for p in parents:
        if not isinstance(node.setdefault(p, {}), dict):
            raise ValueError(f"--override {key_path}: {p!r} is a {type(node[p]).__name__}, not a section")
        node = node[p]
    node[leaf] = value


def load_config(path, overrides=()) -> dict:
    config = read_json(path, "run configuration")
    for key, value in overrides:
        apply_override(config, key, value)
    return resolve_config(config, path)


def resolve_config(config: dict, path="the configuration") -> dict:
    """Defaults filled in and every key checked; errors name the key and what is accepted."""
    config = copy.deepcopy(config)
    graph = config.get("graph")
    if not isinstance(graph, dict) or not graph.get("loader"):
        raise ValueError(f"{path}: needs \"graph\": {{\"loader\": \"MODULE:FUNCTION\"}} naming the model factory "
                         "(seed 000: automatic baselines need a model and example inputs)")
    unknown = sorted(set(graph) - set(GRAPH_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown graph keys {unknown}; known: {list(GRAPH_KEYS)}")
    measure = config.setdefault("measure", {})
    unknown = sorted(set(measure) - set(MEASURE_DEFAULTS))
    if unknown:
        raise ValueError(f"{path}: unknown measure keys {unknown}; known: {sorted(MEASURE_DEFAULTS)}")
    config["measure"] = {**MEASURE_DEFAULTS, **measure}
    bad = [s for s in config["measure"]["baselines"] if s not in SYSTEMS]
    if bad:
        raise ValueError(f"{path}: unknown baselines {bad}; choose from {list(SYSTEMS)}")
    return config


def _tilecraft_entry(model, names, inputs, m: dict, out_dir: str, model_name: str, progress) -> dict:
    artifacts = m["tvm_artifacts_dir"] or os.path.join(out_dir, "tvm")
    entry = {"target": m["tvm_target"], "tuning_trials": m["tvm_trials"], "use_ansor": bool(m["tvm_use_ansor"]),
             "artifacts_dir": os.path.abspath(artifacts)}
    try:
        config = ExportConfig(example_input=dict(zip(names, inputs)), target=m["tvm_target"],
                              tuning_trials=int(m["tvm_trials"]), use_ansor=bool(m["tvm_use_ansor"]),
                              tuning_log=m["tvm_log"], import_path=m["tvm_import_path"])
        meta = export_model(model, config, artifacts, model_name=model_name,
                            repeats=m["tvm_repeats"] or m["repeats"], warmup=m["tvm_warmup"] or m["warmup"],
                            atol=m["atol"], rtol=m["rtol"], progress=progress)
    except ImportError as err:
        return {"status": "missing_dependencies", "missing": [err.name or str(err)], "error": str(err),
                "latency": None, "verification": None, **entry}
    except Exception as err:  # noqa: BLE001 - a failed baseline is a result, the run goes on
        return {"status": "error", "error": one_line(err), "latency": None, "verification": None, **entry}
    latency = meta["latency"] if "mean" in meta["latency"] else None
    return {"status": "ok" if latency else "skipped", "latency": latency, "verification": meta["verification"],
            "compile_seconds": meta["compile_seconds"], "tuning": meta["tuning"], "version": meta["tilecraft_version"],
            **entry}


def run(config: dict, out_dir=None, progress=None, config_path=None) -> dict:
    """Measure every system of `config` (resolved by load_config) and write <out>/metrics.json."""
    from .baselines import measure_baselines

    say = progress or (lambda message: None)
    graph, m = config["graph"], config["measure"]
    loader = graph["loader"]
    out_dir = os.path.abspath(out_dir or config.get("out") or os.path.join("runs", loader.rpartition(":")[2]))
    say(f"loading {loader}")
    model, inputs = load_factory(loader, **(graph.get("loader_kwargs") or {}))
    shapes = graph.get("example_shape")
    if shapes:
        shapes = [shapes] if shapes and isinstance(shapes[0], int) else shapes
        names = graph.get("input_names") or [f"input_{i}" for i in range(len(shapes))]
        export_config = ExportConfig(input_shapes=dict(zip(names, shapes)), input_names=names,
                                     example_dtype=graph.get("example_dtype"))
    elif inputs is not None:
        export_config = ExportConfig(example_input=inputs, input_names=graph.get("input_names"))
    else:
        raise ValueError(f"model factory {loader!r} returned no example inputs; set graph.example_shape "
                         "(e.g. [[1, 128]]) in the configuration")
    if hasattr(model, "eval"):
        model.eval()
    names, tensors = resolve_inputs(model, export_config)
    os.makedirs(out_dir, exist_ok=True)
    say("PyTorch reference outputs")
    reference = reference_outputs(model, [t.numpy() for t in tensors])
    measurer = LatencyMeasurer(m["warmup"], m["repeats"], m["max_seconds"])
    baselines = measure_baselines(model, tensors, measurer, systems=tuple(m["baselines"]), reference=reference,
                                  workdir=os.path.join(out_dir, "baselines"), atol=m["atol"], rtol=m["rtol"],
                                  progress=say)
    if m["tvm_enable"]:
        say("tilecraft: export, verify and measure")
        tvm = _tilecraft_entry(model, names, tensors, m, out_dir, loader, say)
    else:
        tvm = {"status": "skipped", "reason": "measure.tvm_enable is false", "latency": None}
    baselines["tilecraft"] = tvm
    primary = "pytorch_eager" if baselines.get("pytorch_eager", {}).get("latency") else "tilecraft"
    metrics = {"model": loader, "primary": primary, "latency": baselines.get(primary, {}).get("latency"),
               "tvm_baseline": {k: tvm.get(k) for k in ("status", "latency", "target", "tuning_trials", "use_ansor",
                                                         "artifacts_dir", "verification")}
               | ({"error": tvm["error"]} if "error" in tvm else {}),
               "baselines": baselines,
               "inputs": [{"name": n, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
                          for n, t in zip(names, tensors)],
               "config": config, "config_path": os.path.abspath(config_path) if config_path else None,
               "out_dir": out_dir, "tilecraft_version": version(), "host": host(), "created": now()}
    write_json(os.path.join(out_dir, "metrics.json"), metrics)
    say(f"metrics written to {os.path.join(out_dir, 'metrics.json')}")
    return metrics
