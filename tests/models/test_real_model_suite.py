"""Issue 14, item 7: the real-model suite.  Every architecture of `tilecraft.models.suite` (tiny
variants: the real layer kinds, few layers, small widths) is compiled through every import path
PyTorch produces — TorchScript trace, torch.export, ONNX from the TorchScript-based exporter (opset
17) and from the dynamo exporter (opset 18) — and compared with PyTorch (atol = rtol = 1e-3) on the
example inputs and on fresh random ones.

Cells PyTorch cannot produce (its exporter raises) are skipped with PyTorch's error, and so are ONNX
cells whose file itself gives other numbers than PyTorch (onnxruntime too) when tilecraft matches
onnxruntime on it.  Cells that fail
today because of importer gaps are xfail(strict=True) with the error's head, so this file documents
them and turns red when one gets fixed (then delete its XFAIL entry).  docs/model_coverage.md is the
same matrix as a table (tools/gen_model_coverage.py).

The suite's run checks DEFAULT (a few cells covering the families, ~30 s on a busy 2-core machine)
and the XFAIL cells; the whole matrix (100 cells, several minutes) runs with
TILECRAFT_MODEL_SUITE=all, and tools/gen_model_coverage.py runs it to write the table."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tilecraft.measure.verify import VerificationError, verify  # noqa: E402
from tilecraft.models import SUITE, load, suite, suite_paths  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning", "ignore::FutureWarning")

# (model, path) -> the head of today's error: importer gaps, found by tools/gen_model_coverage.py.
XFAIL: dict = {}

# Cells of the default (not slow) run: cheap ones that cover the families (encoder with mask,
# grouped-query decoder with left padding, vision transformer, convolutions, recurrent).
DEFAULT = {("distilbert", "trace"), ("llama", "export"), ("t5_encoder", "onnx"), ("vit", "onnx_dynamo"),
           ("swin", "trace"), ("unet", "export"), ("bert_large", "export"), ("qwen2", "trace"),
           ("convnext", "onnx"), ("whisper_encoder", "trace")}


def _cells():
    everything = os.environ.get("TILECRAFT_MODEL_SUITE") == "all"
    for name in SUITE:
        for path in suite_paths.PATHS:
            if not (everything or (name, path) in DEFAULT or (name, path) in XFAIL):
                continue
            marks = []
            if (name, path) in XFAIL:
                marks.append(pytest.mark.xfail(reason=XFAIL[name, path], strict=True))
            if (name, path) not in DEFAULT:
                marks.append(pytest.mark.slow)
            yield pytest.param(name, path, marks=marks, id=f"{name}-{path}")


@pytest.mark.parametrize("name, path", list(_cells()))
def test_tiny_model_matches_pytorch(name, path, tmp_path):
    model, inputs = load(f"suite:{name}", tiny=True)
    try:
        run, _, _ = suite_paths.compile_path(model, inputs, path, str(tmp_path))
    except suite_paths.NoGraph as err:
        pytest.skip(f"PyTorch produces no graph for {path}: {str(err).splitlines()[0][:200]}")
    except suite_paths.InvalidFile as err:  # e.g. Mamba's Tile repeats written as a [1, 1] array
        pytest.skip(f"PyTorch writes an invalid file for {path}: {str(err).splitlines()[0][:300]}")
    for xs in (inputs, suite.fresh_inputs(model, inputs, seed=3)):
        try:
            verify(run(*xs), suite_paths.reference(model, xs), atol=1e-3, rtol=1e-3)
        except VerificationError:
            differs = suite_paths.file_differs(run, xs, model)  # checks tilecraft against onnxruntime
            if differs:
                pytest.skip(f"{path}: {differs}")
            raise


def test_suite_lists_the_issue_architectures():
    assert len(SUITE) == len(set(SUITE)) >= 25
    assert {"bert_large", "distilbert", "roberta", "albert", "t5_encoder", "bart_encoder", "llama", "qwen2", "mistral",
            "gpt_neox", "mamba", "whisper_encoder", "clip_vision", "vit", "deit", "swin", "convnext", "mobilevit",
            "segformer", "efficientnet", "regnet", "mobilenet_v3", "lstm", "gru", "unet"} <= set(SUITE)
    assert set(suite_paths.PATHS) == {"trace", "export", "onnx", "onnx_dynamo"}
    assert set(XFAIL) <= {(m, p) for m in SUITE for p in suite_paths.PATHS}


@pytest.mark.parametrize("name", SUITE)
def test_tiny_factories_follow_the_zoo_conventions(name):
    model, inputs = load(f"suite:{name}", tiny=True)
    same, _ = load(f"tilecraft.models.suite:{name}", tiny=True)
    assert not model.training and isinstance(inputs, tuple)
    assert sum(p.numel() for p in model.parameters()) < 200_000  # tiny means tiny
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in same.parameters())
    cfg = getattr(model, "config", None)
    if cfg is not None and getattr(cfg, "vocab_size", None) and name != "whisper_encoder":
        assert inputs[0].dtype == torch.int64 and inputs[0].dim() == 2  # token ids
        assert all(x.dtype == torch.int64 for x in inputs)
        if name != "mamba":
            assert len(inputs) == 2 and (inputs[1] == 0).any()  # a padded attention mask
    else:
        assert all(x.is_floating_point() for x in inputs)
    with torch.no_grad():
        assert len(suite_paths.reference(model, inputs)) >= 1
    fresh = suite.fresh_inputs(model, inputs)
    assert [(x.shape, x.dtype) for x in fresh] == [(x.shape, x.dtype) for x in inputs]


def test_decoders_pad_on_the_left_and_encoders_on_the_right():
    _, (_, mask) = load("suite:llama", tiny=True)
    assert mask[0, 0] == 0 and mask[0, -1] == 1
    _, (_, mask) = load("suite:bert_large", tiny=True)
    assert mask[0, 0] == 1 and mask[0, -1] == 0


@pytest.mark.parametrize("name, overrides, expect", [
    ("bert_large", dict(num_hidden_layers=1), dict(hidden_size=1024, num_attention_heads=16, intermediate_size=4096)),
    ("llama", dict(num_hidden_layers=1, vocab_size=100), dict(hidden_size=2048, num_key_value_heads=4,
                                                              intermediate_size=5632)),
    ("qwen2", dict(num_hidden_layers=1, vocab_size=100), dict(hidden_size=896, num_attention_heads=14,
                                                              num_key_value_heads=2)),
    ("gpt_neox", dict(num_hidden_layers=1), dict(hidden_size=768, intermediate_size=3072, vocab_size=50304)),
    ("swin", {}, dict(embed_dim=96, depths=[2, 2, 6, 2], window_size=7)),
])
def test_full_size_configs_are_the_published_shapes(name, overrides, expect):
    """The default (tiny=False) is the real architecture; fewer layers can be asked for by config."""
    model, inputs = load(f"suite:{name}", **overrides)
    for key, value in expect.items():
        assert getattr(model.config, key) == value
    if name == "swin":
        assert tuple(inputs[0].shape) == (1, 3, 224, 224)
    else:
        assert tuple(inputs[0].shape) == (1, 128)


def test_plain_torch_full_sizes():
    model, (x, h0, c0) = load("suite:lstm")
    assert (model.rnn.hidden_size, model.rnn.num_layers, model.rnn.bidirectional) == (512, 2, True)
    assert x.shape == (1, 128, 256) and h0.shape == c0.shape == (4, 1, 512)
    model, (x,) = load("suite:unet")
    assert x.shape == (1, 3, 256, 256) and model.inc[0].out_channels == 64
    model, (x,) = load("suite:mobilenet_v3")
    assert 5.0e6 < sum(p.numel() for p in model.parameters()) < 5.8e6  # MobileNetV3-Large: 5.5 M


def test_check_records_pass_and_reasons():
    row = suite_paths.check("distilbert", "trace")
    assert row["status"] == "pass" and row["max_abs"] < 1e-3 and row["compile_s"] > 0


@pytest.mark.slow
def test_check_records_a_reason_instead_of_raising():
    row = suite_paths.check("bert_large", "onnx")
    assert row["status"] in ("pass", "fail") and (row["status"] == "pass") == (row["error"] is None)
