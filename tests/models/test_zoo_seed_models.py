"""The seed models of the zoo (BERT-large, Mamba-130M): loadable as `tilecraft.models:NAME`, with
the published shapes, and compiled by tilecraft to PyTorch's numbers (atol = rtol = 1e-3) in
reduced configurations (few layers, short sequences) so the suite stays fast.  The full-size
figures (compile time, latency against PyTorch eager) are measured by the benchmarks."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.measure.verify import verify  # noqa: E402
from tilecraft.models import ZOO, load  # noqa: E402
from tilecraft.relay.frontend import from_pytorch  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning", "ignore::FutureWarning")


def _compile(model, inputs):
    with torch.no_grad():
        traced = torch.jit.trace(model, tuple(inputs), check_trace=False)
    infos = [(f"input{i}", (tuple(x.shape), str(x.dtype).replace("torch.", ""))) for i, x in enumerate(inputs)]
    mod, params = from_pytorch(traced, infos)
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    gm = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))

    def run(*xs):
        for (name, _), x in zip(infos, xs):
            gm.set_input(name, x.numpy())
        gm.run()
        return [gm.get_output(i).numpy() for i in range(gm.get_num_outputs())]

    return run


def _check(model, inputs, fresh):
    run = _compile(model, inputs)
    for xs in (inputs, fresh):  # the example inputs and inputs the trace never saw
        with torch.no_grad():
            ref = [t.numpy() for t in model(*xs)]
        verify(run(*xs), ref, atol=1e-3, rtol=1e-3)


def test_seed_models_are_in_the_zoo():
    assert {"bert_large", "mamba_130m"} <= set(ZOO)


def test_bert_large_shape_and_small_variant_matches_pytorch():
    model, (ids, mask) = load("tilecraft.models:bert_large", layers=1, seq=16)
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size) == (1024, 16, 4096)
    assert ids.shape == mask.shape == (1, 16) and ids.dtype == torch.int64
    assert not model.training and cfg.return_dict is False
    g = torch.Generator().manual_seed(3)
    fresh_mask = torch.ones(1, 16, dtype=torch.int64)
    fresh_mask[:, 11:] = 0
    _check(model, (ids, mask), (torch.randint(0, cfg.vocab_size, (1, 16), generator=g), fresh_mask))


def test_mamba_130m_shape_and_small_variant_matches_pytorch():
    model, (ids,) = load("tilecraft.models:mamba_130m", layers=2, seq=16)
    cfg = model.config
    assert (cfg.hidden_size, cfg.vocab_size, cfg.state_size, cfg.expand, cfg.conv_kernel) == (768, 50280, 16, 2, 4)
    assert cfg.intermediate_size == 1536 and cfg.use_cache is False
    assert ids.shape == (1, 16) and ids.dtype == torch.int64
    assert not model.training
    g = torch.Generator().manual_seed(3)
    _check(model, (ids,), (torch.randint(0, cfg.vocab_size, (1, 16), generator=g),))


def test_mamba_default_is_the_full_130m_shape():
    model, (ids,) = load("mamba_130m", layers=1)
    assert ids.shape == (1, 128)
    assert model.config.num_hidden_layers == 1
    full = sum(p.numel() for p in model.parameters()) + 23 * sum(p.numel() for p in model.layers[0].parameters())
    assert 125e6 < full < 135e6  # 24 layers: Mamba-130M

