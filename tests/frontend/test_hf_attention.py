"""Decoder attention as Hugging Face models write it (issue 14): left-padded attention masks, whose
fully masked query rows PyTorch's scaled_dot_product_attention returns as 0 (not NaN), and
grouped-query attention (`enable_gqa=True`), through TorchScript, torch.export and core ATen;
compared with PyTorch on fresh random inputs (atol = rtol = 1e-3)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_pytorch_zoo import check_model, import_both  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning", "ignore::FutureWarning")


class _Decoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, mask):
        return self.model(input_ids=ids, attention_mask=mask)[0]


def tiny_decoder(arch, impl="sdpa"):
    tf = pytest.importorskip("transformers")
    torch.manual_seed(0)
    common = dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
                  vocab_size=100, attn_implementation=impl, use_cache=False)
    cfg, cls = {"llama": (lambda: tf.LlamaConfig(num_key_value_heads=4, **common), "LlamaModel"),
                "qwen2": (lambda: tf.Qwen2Config(num_key_value_heads=2, **common), "Qwen2Model"),
                "mistral": (lambda: tf.MistralConfig(num_key_value_heads=2, **common), "MistralModel")}[arch]
    model = getattr(tf, cls)(cfg()).eval()
    model.config.return_dict = False
    ids = torch.randint(0, 100, (2, 8))
    mask = torch.ones(2, 8, dtype=torch.int64)
    mask[1, :3] = 0  # left padding: the first three query rows of sequence 1 see no key at all
    return _Decoder(model).eval(), (ids, mask)


@pytest.mark.parametrize("path", ["trace", "export"])
@pytest.mark.parametrize("arch", ["llama", "qwen2", "mistral"])
def test_left_padded_decoder_matches_pytorch(arch, path):
    model, inputs = tiny_decoder(arch)
    with torch.no_grad():
        ref = model(*inputs)
    assert not torch.isnan(ref).any()  # PyTorch: fully masked rows attend to nothing (0), not NaN
    check_model(model, inputs, path)  # asserts allclose, which also fails on any NaN


def test_left_padded_llama_core_aten_and_eager():
    check_model(*tiny_decoder("llama"), "core_aten")  # the decomposed _safe_softmax
    check_model(*tiny_decoder("llama", impl="eager"), "trace")  # finfo.min masks, plain softmax


class _SDPA(torch.nn.Module):
    def __init__(self, gqa):
        super().__init__()
        self.gqa = gqa

    def forward(self, q, k, v, m):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=self.gqa)


def _sdpa_inputs(hk, mask_dtype):
    m = torch.ones(1, 1, 5, 5, dtype=torch.bool).tril()
    m[..., :2, :] = False  # two query rows with every key masked
    if mask_dtype == "float":
        m = torch.zeros(m.shape).masked_fill(~m, float("-inf"))
    return (torch.randn(2, 4, 5, 8), torch.randn(2, hk, 5, 8), torch.randn(2, hk, 5, 8), m)


@pytest.mark.parametrize("path", ["trace", "export", "core_aten"])
@pytest.mark.parametrize("mask_dtype", ["bool", "float"])
def test_sdpa_fully_masked_rows_are_zero(path, mask_dtype):
    inputs = _sdpa_inputs(4, mask_dtype)
    with torch.no_grad():
        ref = _SDPA(False)(*inputs)
    assert float(ref[:, :, :2].abs().max()) == 0.0
    check_model(_SDPA(False), inputs, path)


@pytest.mark.parametrize("path", ["trace", "export", "core_aten"])
def test_sdpa_enable_gqa(path):
    check_model(_SDPA(True), _sdpa_inputs(2, "bool"), path)


def test_softmax_after_masked_fill_keeps_pytorch_nan():
    """A plain softmax over a row of -inf is NaN in PyTorch too: only SDPA's safe softmax gives 0."""

    class M(torch.nn.Module):
        def forward(self, x, m):
            return torch.softmax(x.masked_fill(m, float("-inf")), -1)

    x, m = torch.randn(3, 4), torch.zeros(3, 4, dtype=torch.bool)
    m[0] = True
    mod, params, names = import_both(M(), (x, m), "trace")
    lib = relay.build(mod, target="llvm", params=params)
    g = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    g.set_input(names[0], x.numpy())
    g.set_input(names[1], m.numpy())
    g.run()
    out, ref = g.get_output(0).numpy(), M()(x, m).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=1e-5, equal_nan=True)
