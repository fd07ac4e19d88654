"""Issue 14, items 5 and 6 on the PyTorch importers: input dtypes taken from the model when only a
shape is given, the note on errors that follow from a default dtype, integer indices cast like
classic TVM, integer cumsum at run time (RoBERTa's position ids), and aten::Int on sizes that
travel through tuples next to tensors (Swin's window padding); compared with PyTorch
(atol = rtol = 1e-3) on fresh random inputs."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_pytorch_zoo import check_model, tiny_bert  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.relay.frontend import from_exported_program, from_pytorch  # noqa: E402
from tilecraft.relay.frontend.common import OpNotImplemented  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning", "ignore::FutureWarning")


def _run(mod, params, feeds):
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for k, v in feeds.items():
        m.set_input(k, v)
    m.run()
    return m.get_output(0).numpy()


def test_shape_only_infos_take_the_traced_dtype():
    model, (ids, mask) = tiny_bert(seq=12)
    with torch.no_grad():
        traced = torch.jit.trace(model, (ids, mask), check_trace=False, strict=False)
    mod, params = from_pytorch(traced, [("ids", (2, 12)), ("mask", (2, 12))])
    assert [p.type_annotation.dtype for p in mod["main"].params[:2]] == ["int64", "int64"]
    fresh = torch.randint(0, 1000, (2, 12))
    with torch.no_grad():
        ref = model(fresh, mask)[0].numpy()
    out = _run(mod, params, {"ids": fresh.numpy(), "mask": mask.numpy()})
    np.testing.assert_allclose(out, ref, atol=1e-3, rtol=1e-3)


def test_shape_only_infos_take_the_exported_dtype():
    model, (ids, mask) = tiny_bert(seq=12)
    with torch.no_grad():
        ep = torch.export.export(model, (ids, mask))
    mod, _ = from_exported_program(ep, [("ids", (2, 12)), ("mask", (2, 12))])
    assert [p.name_hint for p in mod["main"].params[:2]] == ["ids", "mask"]
    assert [p.type_annotation.dtype for p in mod["main"].params[:2]] == ["int64", "int64"]


def test_default_dtype_is_named_in_the_error_that_follows():
    @torch.jit.script
    def f(x):
        return x & 1

    with pytest.raises(OpNotImplemented) as err:
        from_pytorch(f, [("x", (3,))])
    msg = str(err.value)
    assert "aten::__and__" in msg and "test_pytorch_dtypes.py" in msg  # the operator and its source line
    assert "'x' were typed float32 by default" in msg and '"int64"' in msg


def test_float_indices_are_cast_to_integers():
    @torch.jit.script
    def f(x, w):
        return torch.embedding(w, x)

    mod, params = from_pytorch(f, [("x", (4,)), ("w", (10, 3))])
    assert mod["main"].params[0].type_annotation.dtype == "float32"  # scripted: no recorded dtype
    w = np.random.randn(10, 3).astype("float32")
    x = np.array([3, 0, 9, 4], "float32")
    np.testing.assert_allclose(_run(mod, params, {"x": x, "w": w}), w[x.astype(int)])


class _PositionIds(torch.nn.Module):
    """RoBERTa's create_position_ids_from_input_ids, and integer cumsum with dtype= and on axis 0."""

    def forward(self, ids):
        m = ids.ne(1).int()
        pos = (torch.cumsum(m, dim=1).type_as(m) * m).long() + 1
        return pos + torch.cumsum(ids, 0) + torch.cumsum(ids.int(), 1, dtype=torch.int64)


@pytest.mark.parametrize("path", ["trace", "export", "core_aten"])
def test_integer_cumsum(path):
    ids = torch.randint(0, 4, (3, 9))
    ids[1, -3:] = 1
    check_model(_PositionIds(), (ids,), path)


def test_integer_cumsum_is_exact_beyond_float_precision():
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.cumsum(x, 1)

    x = torch.full((1, 4), 2 ** 40 + 1, dtype=torch.int64)
    with torch.no_grad():
        traced = torch.jit.trace(M(), (x,))
    mod, params = from_pytorch(traced, [("x", (1, 4))])
    np.testing.assert_array_equal(_run(mod, params, {"x": x.numpy()}), torch.cumsum(x, 1).numpy())


def tiny_roberta():
    tf = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = tf.RobertaConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=128,
                           vocab_size=100, max_position_embeddings=40)
    model = tf.RobertaModel(cfg, add_pooling_layer=False).eval()
    model.config.return_dict = False
    ids = torch.randint(2, 100, (2, 10))
    return model, (ids, torch.ones(2, 10, dtype=torch.int64))


@pytest.mark.parametrize("path", ["trace", "export"])
def test_roberta_position_ids(path):
    check_model(*tiny_roberta(), path)


class _Swin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        tf = pytest.importorskip("transformers")
        torch.manual_seed(0)
        cfg = tf.SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 2],
                            window_size=4)
        self.model = tf.SwinModel(cfg, add_pooling_layer=False).eval()

    def forward(self, x):
        return self.model(x).last_hidden_state


def test_swin_static_sizes_in_tuples_fold():
    """aten::Int of sizes that a traced tuple carries next to a tensor is folded, not reported."""
    check_model(_Swin().eval(), (torch.randn(1, 3, 32, 32),), "trace")
