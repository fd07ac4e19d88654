"""`tilecraft export` and `tilecraft compare`: files, fields, resumable tuning, atomic failure, and the
artifacts running in a fresh process without torch."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tilecraft.harness.cli import main

torch = pytest.importorskip("torch")
HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"

FAST = ["--measure-repeats", "5", "--measure-warmup", "1"]
LATENCY_FIELDS = {"mean", "std", "min", "max", "p50", "p90", "p95", "p99", "ci95", "warmup", "repeats"}


@pytest.fixture(autouse=True)
def _tiny_models_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def _export(tmp_path, *args, name="art"):
    out = tmp_path / name
    code = main(["export", *args, "--artifacts", str(out), *FAST])
    return code, out


def test_export_writes_the_seed_files_and_fields(tmp_path, capsys):
    code, out = _export(tmp_path, "tiny_models:mlp")
    assert code == 0, capsys.readouterr().err
    names = {p.name for p in out.iterdir()}
    assert {"deploy_lib.tar", "deploy_graph.json", "deploy_params.bin", "metadata.json", "summary.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["model"] == "tiny_models:mlp" and meta["target"] == "llvm" and meta["import_path"] == "trace"
    assert meta["tilecraft_version"] and meta["compile_seconds"] > 0
    assert meta["tuning"] == {"tuner": None, "use_ansor": False, "trials": 0, "log": None, "seconds": 0.0}
    ver = meta["verification"]
    assert ver["status"] == "passed" and ver["passed"] and ver["max_abs_error"] < 1e-4
    assert ver["atol"] == 1e-3 and ver["rtol"] == 1e-3
    lat = meta["latency"]
    assert LATENCY_FIELDS <= set(lat) and lat["repeats"] == 5 and lat["warmup"] == 1
    assert lat["min"] <= lat["p50"] <= lat["max"] and lat["ci95"][0] <= lat["mean"] <= lat["ci95"][1]
    assert meta["inputs"] == [{"name": "input_0", "shape": [2, 16], "dtype": "float32"}]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["latency_mean_ms"] == lat["mean"] and summary["verification"] == "passed"


def test_rerun_updates_metadata_and_keeps_earlier_fields(tmp_path):
    _, out = _export(tmp_path, "tiny_models:mlp")
    meta = json.loads((out / "metadata.json").read_text())
    meta["notes"] = {"owner": "me"}
    (out / "metadata.json").write_text(json.dumps(meta))
    code, _ = _export(tmp_path, "tiny_models:mlp", "--import-path", "export")
    assert code == 0
    again = json.loads((out / "metadata.json").read_text())
    assert again["notes"] == {"owner": "me"} and again["import_path"] == "export"
    assert again["created"] == meta["created"] and again["updated"] >= meta["updated"]


def test_failure_leaves_the_directory_as_it_was(tmp_path, capsys):
    _, out = _export(tmp_path, "tiny_models:mlp")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _ = _export(tmp_path, "tiny_models:mlp", "--example-shape", "2", "7")  # Linear(16) cannot take 7
    assert code == 1
    err = capsys.readouterr().err
    assert "tilecraft export: error" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("spec, message", [
    ("tiny_models:nope", "has no function 'nope'"),
    ("no_such_module_xyz:f", "cannot load model"),
    ("tiny_models:NOT_A_FUNCTION", "not a function"),
    ("tiny_models:embedder", "returned no example inputs; pass --example-shape"),
    ("tiny_models:broken", "this model cannot run"),
])
def test_bad_models_get_one_clear_line(tmp_path, capsys, spec, message):
    code, out = _export(tmp_path, spec)
    assert code == 1 and message in capsys.readouterr().err
    assert not (out / "metadata.json").exists()


def test_example_shape_makes_token_ids_and_names(tmp_path):
    code, out = _export(tmp_path, "tiny_models:embedder", "--example-shape", "2", "6", "--input-names", "ids")
    assert code == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["inputs"] == [{"name": "ids", "shape": [2, 6], "dtype": "int64"}]
    assert meta["verification"]["passed"]


def test_two_inputs_and_outputs_through_onnx(tmp_path):
    code, out = _export(tmp_path, "tiny_models:two_inputs", "--import-path", "onnx", "--model-arg", "width=5")
    assert code == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["verification"]["outputs"] == 2 and meta["verification"]["passed"]
    assert [i["shape"] for i in meta["inputs"]] == [[3, 5], [3, 5]]


def test_tuning_log_is_resumed_not_repeated(tmp_path):
    log = tmp_path / "tune.log"
    code, out = _export(tmp_path, "tiny_models:mlp", "--tuning-trials", "3", "--tuning-log", str(log))
    assert code == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    tuning = json.loads((out / "metadata.json").read_text())["tuning"]
    assert tuning["tuner"] == "autotvm" and tuning["new_trials"] == 3 and tuning["log"] == str(log)
    code, out = _export(tmp_path, "tiny_models:mlp", "--tuning-trials", "3", "--tuning-log", str(log))
    assert code == 0 and log.read_text().splitlines() == lines  # a finished budget measures nothing again
    assert json.loads((out / "metadata.json").read_text())["tuning"]["new_trials"] == 0


def test_artifacts_run_without_torch_in_a_fresh_process(tmp_path):
    _, out = _export(tmp_path, "tiny_models:two_inputs")
    model, (a, b) = __import__("tiny_models").two_inputs()
    a, b = torch.randn(3, 8), torch.randn(3, 8)  # fresh inputs
    with torch.no_grad():
        refs = [r.numpy() for r in model(a, b)]
    np.savez(tmp_path / "io.npz", a=a.numpy(), b=b.numpy(), r0=refs[0], r1=refs[1])
    script = f"""
import sys
sys.modules["torch"] = None  # torch is not importable in this process
import numpy as np
from tilecraft.relay.build_module import load_deployed
io = np.load({str(tmp_path / 'io.npz')!r})
m = load_deployed({str(out)!r})
m.set_input("input_0", io["a"]); m.set_input("input_1", io["b"]); m.run()
assert np.allclose(m.get_output(0).numpy(), io["r0"], atol=1e-5), "output 0"
assert np.allclose(m.get_output(1).numpy(), io["r1"], atol=1e-5), "output 1"
assert "torch" not in [k for k, v in sys.modules.items() if v is not None]
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


def _metrics(path, mean=2.0, others=None):
    lat = {"mean": mean, "ci95": [mean - 0.1, mean + 0.1]}
    baselines = {"pytorch_eager": {"status": "ok", "latency": lat},
                 "onnxruntime": {"status": "missing_dependencies", "latency": None}, **(others or {})}
    path.write_text(json.dumps({"model": "m", "primary": "pytorch_eager", "latency": lat, "baselines": baselines}))
    return path


def test_compare_json_and_csv(tmp_path, capsys):
    _, out = _export(tmp_path, "tiny_models:mlp")
    meta = json.loads((out / "metadata.json").read_text())
    tvm = meta["latency"]["mean"]
    metrics = _metrics(tmp_path / "metrics.json", mean=tvm * 2)
    assert main(["compare", str(metrics), str(out / "metadata.json"), "--output", str(tmp_path / "c.json")]) == 0
    c = json.loads((tmp_path / "c.json").read_text())
    assert c["icd_latency_ms"] == tvm * 2 and c["tvm_latency_ms"] == tvm
    assert c["speedup_vs_tvm"] == pytest.approx(0.5) and c["delta_ms"] == pytest.approx(-tvm)
    assert c["tvm_config"]["target"] == "llvm" and c["tvm_verification"]["passed"] is True
    assert c["baselines"]["onnxruntime"]["latency_ms"] is None
    assert main(["compare", str(metrics), str(out / "metadata.json"), "--output", str(tmp_path / "c.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "c.csv").read_text().splitlines()))
    assert [r["system"] for r in rows] == ["run (pytorch_eager)", "pytorch_eager", "onnxruntime"]
    assert float(rows[0]["speedup_vs_tvm"]) == pytest.approx(0.5) and rows[2]["latency_ms"] == ""
    capsys.readouterr()
    assert main(["compare", str(metrics), str(out / "metadata.json")]) == 0  # printed
    assert json.loads(capsys.readouterr().out)["tvm_latency_ms"] == tvm
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["compare", str(tmp_path / "bad.json"), str(out / "metadata.json")]) == 1
    assert "is not valid JSON" in capsys.readouterr().err


def test_python_dash_m_tilecraft(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE)])}
    res = subprocess.run([sys.executable, "-m", "tilecraft", "export", "tiny_models:mlp", "--artifacts",
                          str(tmp_path / "m"), "--verbose", *FAST], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert "relay IR after import" in res.stderr and "relay IR after optimisation" in res.stderr
    assert "stage timings" in res.stderr and "verification passed" in res.stdout
