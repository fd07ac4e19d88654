"""Model zoo through both PyTorch importers (TorchScript trace and torch.export), compiled with
relay.build and compared with PyTorch on fresh random inputs (atol = rtol = 1e-3).

The default run uses small configurations (MLP, a tiny CNN with batch norm, a 2-layer BERT, a
2-layer GPT-2, a tiny ViT); the full-size zoo models are marked slow."""

from __future__ import annotations

import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.models import load  # noqa: E402
from tilecraft.relay.frontend import from_exported_program, from_pytorch  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning", "ignore::FutureWarning")

ATOL = RTOL = 1e-3


def _transformers():
    return pytest.importorskip("transformers")


# ---------------------------------------------------------------------------- small models

def tiny_cnn():
    from torch import nn

    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))

    model = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),
                          nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1), Block(16),
                          nn.Conv2d(16, 32, 3, stride=2, padding=1),
                          nn.BatchNorm2d(32), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1),
                          nn.Linear(32, 10))
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model.eval(), (torch.randn(2, 3, 32, 32),)


def tiny_bert(seq=16):
    tf = _transformers()
    torch.manual_seed(0)
    cfg = tf.BertConfig(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=256,
                        attn_implementation="eager")
    model = tf.BertModel(cfg, add_pooling_layer=False).eval()
    model.config.return_dict = False
    ids = torch.randint(0, cfg.vocab_size, (2, seq))
    mask = torch.ones(2, seq, dtype=torch.int64)
    mask[1, seq - 5:] = 0
    return model, (ids, mask)


def tiny_gpt2(seq=16):
    tf = _transformers()
    torch.manual_seed(0)
    cfg = tf.GPT2Config(n_layer=2, n_embd=64, n_head=2, n_positions=64, attn_implementation="eager", use_cache=False)
    model = tf.GPT2Model(cfg).eval()
    model.config.return_dict = False
    return model, (torch.randint(0, cfg.vocab_size, (1, seq)),)


SMALL = {
    "mlp": lambda: load("mlp", batch=4, sizes=(64, 32, 32, 10)),
    "tiny_cnn": tiny_cnn,
    "tiny_bert": tiny_bert,
    "tiny_gpt2": tiny_gpt2,
    "tiny_vit": lambda: load("vit_small", image=32, patch=8, dim=64, depth=2, heads=2, num_classes=10),
}

ZOO = {
    "mlp": lambda: load("mlp"),
    "resnet18": lambda: load("resnet18"),
    "resnet50": lambda: load("resnet50"),
    "mobilenet_v2": lambda: load("mobilenet_v2"),
    "bert_base": lambda: load("bert_base"),
    "gpt2_small": lambda: load("gpt2_small"),
    "gpt2_block": lambda: load("gpt2_block"),
    "vit_small": lambda: load("vit_small"),
}


# ---------------------------------------------------------------------------- the check

def _random_like(x, seed):
    g = torch.Generator().manual_seed(seed)
    if x.is_floating_point():
        return torch.randn(x.shape, generator=g, dtype=x.dtype)
    hi = int(x.max()) + 1
    if hi <= 2:  # masks keep their example pattern
        return x.clone()
    return torch.randint(0, hi, x.shape, generator=g, dtype=x.dtype)


def import_both(model, inputs, path):
    if path == "trace":
        with torch.no_grad():
            sm = torch.jit.trace(model, inputs, check_trace=False, strict=False)
        names = [f"input{i}" for i in range(len(inputs))]
        infos = [(n, (tuple(x.shape), str(x.dtype).replace("torch.", ""))) for n, x in zip(names, inputs)]
        mod, params = from_pytorch(sm, infos)
    else:
        with torch.no_grad():
            ep = torch.export.export(model, tuple(inputs))
        if path == "core_aten":  # the decomposed (core ATen) operator set
            ep = ep.run_decompositions()
        mod, params = from_exported_program(ep)
        names = [p.name_hint for p in mod["main"].params[: len(inputs)]]
    return mod, params, names


def check_model(model, inputs, path):
    t0 = time.perf_counter()
    mod, params, names = import_both(model, inputs, path)
    t1 = time.perf_counter()
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    t2 = time.perf_counter()
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    fresh = [_random_like(x, 100 + i) for i, x in enumerate(inputs)]
    with torch.no_grad():
        ref = model(*fresh)
    ref = ref[0] if isinstance(ref, (tuple, list)) else ref
    for n, x in zip(names, fresh):
        m.set_input(n, x.numpy())
    m.run()
    out = m.get_output(0).numpy()
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out, ref.numpy(), atol=ATOL, rtol=RTOL)
    return t1 - t0, t2 - t1


@pytest.mark.parametrize("path", ["trace", "export", "core_aten"])
@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_model(name, path):
    model, inputs = SMALL[name]()
    check_model(model, inputs, path)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["trace", "export"])
@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model(name, path):
    model, inputs = ZOO[name]()
    t_import, t_build = check_model(model, inputs, path)
    if name == "bert_base":
        assert t_build < 60, f"BERT-base took {t_build:.1f}s to compile"


def test_weights_are_params_and_shape_math_is_folded():
    """No shape arithmetic or constant masks reach the relay graph: only tensor work does."""
    from tilecraft.relay.visitor import post_order

    model, inputs = tiny_bert()
    mod, params, _ = import_both(model, inputs, "trace")
    main = mod["main"]
    assert "embeddings.word_embeddings.weight" in params
    assert "encoder.layer.0.attention.self.query.weight" in params
    ops = [n.op.name for n in post_order(main.body) if isinstance(n, relay.Call)]
    counts = {k: ops.count(k) for k in set(ops)}
    assert counts["nn.dense"] == 12 and counts["nn.batch_matmul"] == 4 and counts["nn.softmax"] == 2
    # per layer: 6 dense, 2 batch_matmul, 1 softmax, 2 layer_norm, gelu ...: a few dozen operators in all
    assert len(ops) < 120, counts
