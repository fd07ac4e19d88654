"""`tilecraft run -c config.json`: seed 000's automatic baselines, overrides, metrics.json, and a run that
goes on when an optional dependency is missing."""

import json
import sys
from pathlib import Path

import pytest

from tilecraft.harness.cli import main
from tilecraft.harness.run import apply_override, resolve_config

pytest.importorskip("torch")
HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _tiny_models_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def _config(tmp_path, **measure):
    cfg = {"graph": {"loader": "tiny_models:two_inputs", "loader_kwargs": {"width": 6}},
           "measure": {"repeats": 5, "warmup": 1, "baselines": ["pytorch_eager", "onnxruntime", "apache_tvm"],
                       **measure},
           "pipeline": {"mode": "iterative"}}  # a section tilecraft does not know is kept, not refused
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    return path


def test_run_writes_metrics_with_every_baseline_and_tilecraft(tmp_path):
    out = tmp_path / "run"
    code = main(["run", "-c", str(_config(tmp_path)), "--override", "measure.tvm_repeats=7",
                 "--override", "measure.tvm_target=llvm", "--out", str(out), "--report"])
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())
    tvm = m["tvm_baseline"]
    assert set(tvm) >= {"status", "latency", "target", "tuning_trials", "use_ansor", "artifacts_dir", "verification"}
    assert tvm["status"] == "ok" and tvm["target"] == "llvm" and tvm["tuning_trials"] == 0
    assert tvm["latency"]["repeats"] == 7 and tvm["verification"]["passed"] is True
    assert Path(tvm["artifacts_dir"]) == out / "tvm" and (out / "tvm" / "deploy_lib.tar").exists()
    assert m["primary"] == "pytorch_eager" and m["latency"] == m["baselines"]["pytorch_eager"]["latency"]
    assert m["baselines"]["pytorch_eager"]["latency"]["repeats"] == 5
    assert m["baselines"]["onnxruntime"]["status"] == "ok"
    assert m["baselines"]["onnxruntime"]["verification"]["passed"] is True
    real_tvm = m["baselines"]["apache_tvm"]
    assert real_tvm["status"] in ("ok", "missing_dependencies")
    assert real_tvm["status"] == "ok" or real_tvm["missing"] == ["apache-tvm"]
    assert m["config"]["pipeline"] == {"mode": "iterative"} and m["config"]["measure"]["tvm_repeats"] == 7
    assert m["inputs"] == [{"name": "input_0", "shape": [3, 6], "dtype": "float32"},
                           {"name": "input_1", "shape": [3, 6], "dtype": "float32"}]
    html = (out / "report.html").read_text()
    assert "tilecraft" in html and "onnxruntime" in html.lower().replace(" ", "")
    # seed 000's third entry point: compare the run with the export's metadata
    assert main(["compare", str(out / "metrics.json"), str(out / "tvm" / "metadata.json"),
                 "--output", str(tmp_path / "cmp.json")]) == 0
    cmp = json.loads((tmp_path / "cmp.json").read_text())
    assert cmp["tvm_latency_ms"] == tvm["latency"]["mean"] and cmp["icd_latency_ms"] == m["latency"]["mean"]


def test_missing_onnxruntime_is_a_result_not_a_failure(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # hidden from the import system
    out = tmp_path / "run"
    assert main(["run", "-c", str(_config(tmp_path)), "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    ort = m["baselines"]["onnxruntime"]
    assert ort["status"] == "missing_dependencies" and "onnxruntime" in ort["missing"] and ort["latency"] is None
    assert m["baselines"]["pytorch_eager"]["status"] == "ok" and m["tvm_baseline"]["status"] == "ok"


def test_tvm_disabled_and_artifacts_dir_override(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "-c", str(_config(tmp_path)), "--override", "measure.tvm_enable=false",
                 "--override", "measure.baselines=[\"pytorch_eager\"]", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["tvm_baseline"]["status"] == "skipped" and set(m["baselines"]) == {"pytorch_eager", "tilecraft"}
    art = tmp_path / "elsewhere"
    assert main(["run", "-c", str(_config(tmp_path, tvm_artifacts_dir=str(art), baselines=[])),
                 "--out", str(out)]) == 0
    assert (art / "metadata.json").exists()
    m = json.loads((out / "metrics.json").read_text())
    assert m["primary"] == "tilecraft" and m["latency"]["mean"] == m["tvm_baseline"]["latency"]["mean"]


def test_a_model_that_cannot_run_stops_with_one_clear_line(tmp_path, capsys):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"graph": {"loader": "tiny_models:broken"},
                                "measure": {"repeats": 2, "warmup": 0, "baselines": []}}))
    # the reference outputs come from PyTorch itself, so a model that cannot run stops the run clearly
    assert main(["run", "-c", str(path), "--out", str(tmp_path / "o")]) == 1
    assert "this model cannot run" in capsys.readouterr().err


@pytest.mark.parametrize("config, message", [
    ({}, "needs \"graph\": {\"loader\""),
    ({"graph": {"loader": "m:f", "shape": [1]}}, "unknown graph keys ['shape']"),
    ({"graph": {"loader": "m:f"}, "measure": {"tvm_trails": 3}}, "unknown measure keys ['tvm_trails']"),
    ({"graph": {"loader": "m:f"}, "measure": {"baselines": ["tensorrt"]}}, "unknown baselines ['tensorrt']"),
])
def test_configuration_errors_name_the_key(config, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        resolve_config(config)


def test_overrides_create_sections_and_parse_json():
    cfg = {"measure": {"tvm_trials": 1}}
    apply_override(cfg, "measure.tvm_trials", 1000)
    apply_override(cfg, "a.b.c", "x")
    assert cfg == {"measure": {"tvm_trials": 1000}, "a": {"b": {"c": "x"}}}
    with pytest.raises(ValueError, match="not a section"):
        apply_override(cfg, "measure.tvm_trials.deeper", 1)


def test_run_cli_error_lines(tmp_path, capsys):
    assert main(["run", "-c", str(tmp_path / "nope.json")]) == 1
    assert "run configuration" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "-c", "x.json", "--override", "no_equals_sign"])
