"""ONNX importer on whole models: zoo models exported with torch.onnx (the TorchScript-based exporter,
opset 17), imported, built and run; compared with onnxruntime and with torch.

The default run uses tiny configurations; the full-size models are marked slow."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import tilecraft as tvm  # noqa: E402
from tilecraft import models, relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.relay.frontend.onnx import from_onnx  # noqa: E402

TOL = {"rtol": 1e-3, "atol": 1e-3}


def export(model, inputs, names, path):
    torch.onnx.export(model, tuple(inputs), str(path), dynamo=False, opset_version=17, input_names=names)
    return onnx.load(str(path))


def run_all(model, inputs, names, tmp_path, **tol):
    """Export, import, build, run; compare with onnxruntime and torch.  Returns the relay module."""
    tol = tol or TOL
    proto = export(model, inputs, names, tmp_path / "model.onnx")
    feeds = {n: x.numpy() for n, x in zip(names, inputs)}
    with torch.no_grad():
        ref_torch = model(*inputs)
    ref_torch = ref_torch[0] if isinstance(ref_torch, (tuple, list)) else ref_torch
    ref_ort = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]

    mod, params = from_onnx(proto, {n: tuple(x.shape) for n, x in zip(names, inputs)})
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input(**feeds)
    m.run()
    got = m.get_output(0).numpy()
    assert got.shape == tuple(ref_torch.shape)
    np.testing.assert_allclose(got, ref_ort, **tol)
    np.testing.assert_allclose(got, ref_torch.numpy(), **tol)
    return mod


class _HF(torch.nn.Module):
    """A transformers model called with keyword arguments, returning the last hidden state.  GPT-2 gets an
    all-ones attention mask made inside the graph (without one, transformers traces aten::diff, which the
    TorchScript exporter cannot export)."""

    def __init__(self, model, ones_mask=False):
        super().__init__()
        self.model, self.ones_mask = model, ones_mask

    def forward(self, ids, mask=None):
        if self.ones_mask:
            mask = torch.ones_like(ids)
        return self.model(input_ids=ids, attention_mask=mask)[0]


def _tiny_cnn():
    """ResNet and MobileNetV2 operators in one small net: conv+bn+relu, depthwise conv + ReLU6 (Clip),
    residual add, max pool, adaptive average pool, flatten, linear."""
    from torch import nn

    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
            self.pool = nn.MaxPool2d(3, 2, 1)
            self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16),
                                    nn.ReLU6(), nn.Conv2d(16, 16, 1))
            self.down = nn.Sequential(nn.Conv2d(16, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU())
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            x = self.pool(self.stem(x))
            x = x + self.dw(x)
            x = self.down(x)
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    net = Net()
    for m in net.modules():  # random running statistics, so batch norm really does something
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features) + 0.5)
    return net.eval(), (torch.randn(2, 3, 32, 32),)


def _bert(seq=16, **cfg):
    import transformers as tf

    torch.manual_seed(0)
    config = tf.BertConfig(attn_implementation="eager", **cfg)
    model = tf.BertModel(config, add_pooling_layer=False).eval()
    ids = torch.randint(0, config.vocab_size, (1, seq))
    mask = torch.ones(1, seq, dtype=torch.int64)
    mask[:, seq - seq // 4:] = 0  # padded tail: the mask arithmetic matters
    return _HF(model).eval(), (ids, mask)


def _gpt2(seq=16, **cfg):
    import transformers as tf

    torch.manual_seed(0)
    config = tf.GPT2Config(attn_implementation="eager", use_cache=False, **cfg)
    model = tf.GPT2Model(config).eval()
    return _HF(model, ones_mask=True).eval(), (torch.randint(0, config.vocab_size, (1, seq)),)


# ---------------------------------------------------------------------------- default run (tiny)

def test_mlp(tmp_path):
    model, inputs = models.load("mlp", batch=4)
    mod = run_all(model, inputs, ["x"], tmp_path)
    assert "nn.dense" in str(mod)


def test_tiny_cnn(tmp_path):
    model, inputs = _tiny_cnn()
    run_all(model, inputs, ["x"], tmp_path)


def test_tiny_bert(tmp_path):
    pytest.importorskip("transformers")
    model, inputs = _bert(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=256)
    mod = run_all(model, inputs, ["input_ids", "attention_mask"], tmp_path)
    text = str(mod)
    assert "nn.batch_matmul" in text and "nn.layer_norm" in text


def test_tiny_gpt2(tmp_path):
    pytest.importorskip("transformers")
    model, inputs = _gpt2(n_layer=2, n_embd=128, n_head=2)
    run_all(model, inputs, ["input_ids"], tmp_path)


def test_tiny_vit(tmp_path):
    model, inputs = models.load("vit_small", image=32, patch=8, dim=64, depth=2, heads=2, num_classes=10)
    run_all(model, inputs, ["x"], tmp_path)


# ---------------------------------------------------------------------------- full size (slow)

@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18", "resnet50", "mobilenet_v2"])
def test_cnn_zoo(name, tmp_path):
    model, inputs = models.load(name)
    run_all(model, inputs, ["x"], tmp_path)


@pytest.mark.slow
def test_gpt2_block(tmp_path):
    model, inputs = models.load("gpt2_block")
    run_all(model, inputs, ["x"], tmp_path)


@pytest.mark.slow
def test_vit_small(tmp_path):
    model, inputs = models.load("vit_small")
    run_all(model, inputs, ["x"], tmp_path)


@pytest.mark.slow
def test_bert_base(tmp_path):
    """BERT-base's width, heads and sequence (128), 4 of its 12 identical layers: the import path is what
    is tested (the whole model is verified and timed by benchmarks/models.py and real_models.py)."""
    pytest.importorskip("transformers")
    model, inputs = _bert(seq=128, num_hidden_layers=4)
    run_all(model, inputs, ["input_ids", "attention_mask"], tmp_path)


@pytest.mark.slow
def test_gpt2_small(tmp_path):
    """GPT-2 small's width and sequence, 4 of its 12 identical layers (as test_bert_base)."""
    pytest.importorskip("transformers")
    model, inputs = _gpt2(seq=128, n_layer=4)
    run_all(model, inputs, ["input_ids"], tmp_path)


@pytest.mark.slow
def test_tiny_bert_opset13_decomposed_layer_norm(tmp_path):
    """Before opset 17 the exporter writes layer norm as ReduceMean / Sub / Pow / Sqrt / Div."""
    pytest.importorskip("transformers")
    model, inputs = _bert(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=256)
    names = ["input_ids", "attention_mask"]
    torch.onnx.export(model, inputs, str(tmp_path / "m.onnx"), dynamo=False, opset_version=13, input_names=names)
    proto = onnx.load(str(tmp_path / "m.onnx"))
    assert "LayerNormalization" not in {n.op_type for n in proto.graph.node}
    feeds = {n: x.numpy() for n, x in zip(names, inputs)}
    mod, params = from_onnx(proto)
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input(**feeds)
    m.run()
    with torch.no_grad():
        np.testing.assert_allclose(m.get_output(0).numpy(), model(*inputs).numpy(), **TOL)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["cnn", "bert"])
def test_dynamo_exporter(which, tmp_path):
    """torch.onnx.export(dynamo=True) writes other patterns (GatherND for the mask, ReduceMean for pooling)."""
    pytest.importorskip("onnxscript")
    if which == "cnn":
        model, inputs, names = *_tiny_cnn(), ["x"]
    else:
        pytest.importorskip("transformers")
        model, inputs = _bert(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=256)
        names = ["input_ids", "attention_mask"]
    torch.onnx.export(model, inputs, str(tmp_path / "m.onnx"), dynamo=True, opset_version=18, input_names=names)
    proto = onnx.load(str(tmp_path / "m.onnx"))
    feeds = {n: x.numpy() for n, x in zip(names, inputs)}
    mod, params = from_onnx(proto, {n: tuple(x.shape) for n, x in zip(names, inputs)})
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input(**feeds)
    m.run()
    ref = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, **TOL)
    with torch.no_grad():
        np.testing.assert_allclose(m.get_output(0).numpy(), model(*inputs).numpy(), **TOL)
