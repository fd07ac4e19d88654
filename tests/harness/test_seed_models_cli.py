"""Seed 000's commands on the models it names — BERT-base, BERT-large, Mamba-130M — in reduced sizes
(one layer, 16 tokens) so the suite stays fast: `tilecraft export` with the seed's flags writes the
deploy files with verification passed against PyTorch; `tilecraft run` + `compare` on Mamba.
The full-size figures come from benchmarks/workflow.py."""

import json

import pytest

from tilecraft.harness.cli import main

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                         "ignore::UserWarning", "ignore::FutureWarning")]
SMALL = {"bert_base": ["--model-arg", "num_hidden_layers=1"], "bert_large": ["--model-arg", "layers=1"],
         "mamba_130m": ["--model-arg", "layers=1"]}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_seed_export_command_on_the_seed_models(tmp_path, capsys, name):
    out = tmp_path / name
    code = main(["export", f"tilecraft.models:{name}", *SMALL[name], "--model-arg", "seq=16",
                 "--example-shape", "1", "16", "--input-names", "input_ids", "--tuning-trials", "0",
                 "--artifacts", str(out), "--measure-repeats", "3", "--measure-warmup", "1"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["verification"]["status"] == "passed", meta["verification"]
    assert meta["inputs"] == [{"name": "input_ids", "shape": [1, 16], "dtype": "int64"}]
    assert meta["latency"]["repeats"] == 3 and meta["latency"]["mean"] > 0
    for f in ("deploy_lib.tar", "deploy_graph.json", "deploy_params.bin"):
        assert (out / f).stat().st_size > 0


def test_seed_run_and_compare_on_mamba(tmp_path, capsys):
    cfg = {"graph": {"loader": "tilecraft.models:mamba_130m", "loader_kwargs": {"layers": 1, "seq": 16}},
           "measure": {"repeats": 3, "warmup": 1, "baselines": ["pytorch_eager", "onnxruntime"]}}
    path = tmp_path / "mamba.json"
    path.write_text(json.dumps(cfg))
    out = tmp_path / "run"
    assert main(["run", "-c", str(path), "--out", str(out)]) == 0, capsys.readouterr().err
    m = json.loads((out / "metrics.json").read_text())
    assert m["tvm_baseline"]["status"] == "ok" and m["tvm_baseline"]["verification"]["passed"]
    assert m["baselines"]["pytorch_eager"]["status"] == "ok"
    ort = m["baselines"]["onnxruntime"]  # ONNX Runtime refuses the TorchScript exporter's Mamba (Tile): dynamo's
    assert ort["status"] == "ok" and ort["verification"]["passed"], ort
    assert main(["compare", str(out / "metrics.json"), str(out / "tvm" / "metadata.json"),
                 "--output", str(tmp_path / "cmp.csv")]) == 0
    assert "tvm_latency_ms" in (tmp_path / "cmp.csv").read_text()


@pytest.mark.parametrize("tuner", ["autotvm", "ansor"])
def test_seed_export_with_tuning_on_a_small_bert(tmp_path, capsys, tuner):
    out = tmp_path / tuner
    small = ["--model-arg", "num_hidden_layers=1", "--model-arg", "hidden_size=64", "--model-arg",
             "num_attention_heads=2", "--model-arg", "intermediate_size=128", "--model-arg", "seq=16"]
    code = main(["export", "tilecraft.models:bert_base", *small, "--example-shape", "1", "16",
                 "--tuning-trials", "4", *(["--use-ansor"] if tuner == "ansor" else []),
                 "--artifacts", str(out), "--measure-repeats", "3", "--measure-warmup", "1"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["verification"]["status"] == "passed", meta["verification"]
    tuning = meta["tuning"]
    assert tuning["use_ansor"] == (tuner == "ansor") and tuning["trials"] == 4 and tuning["seconds"] > 0
    log = [line for line in open(tuning["log"]) if line.strip()]
    assert 1 <= len(log) <= 4  # what was measured is in the log, within the budget
