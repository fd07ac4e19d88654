"""Each ATen converter on a small module, through TorchScript (trace) and torch.export, against torch."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.relay.frontend import OpNotImplemented, from_exported_program, from_pytorch  # noqa: E402


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for z in x for y in _flat(z)]
    return [x]


def import_model(model, inputs, path):
    """(mod, params, input names) through one importer."""
    model = model.eval()
    if path == "export":
        with torch.no_grad():
            ep = torch.export.export(model, tuple(inputs))
        mod, params = from_exported_program(ep)
        return mod, params, [p.name_hint for p in mod["main"].params[: len(inputs)]]
    names = [f"in{i}" for i in range(len(inputs))]
    infos = [(n, (tuple(t.shape), str(t.dtype).replace("torch.", ""))) for n, t in zip(names, inputs)]
    if path == "script":
        sm = torch.jit.script(model)
    else:
        with torch.no_grad():
            sm = torch.jit.trace(model, tuple(inputs), check_trace=False)
    mod, params = from_pytorch(sm, infos)
    return mod, params, names


def run_relay(mod, params, names, inputs):
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for n, t in zip(names, inputs):
        m.set_input(n, t.numpy())
    m.run()
    return [m.get_output(i).numpy() for i in range(m.get_num_outputs())]


def check(model, inputs, path, atol=1e-4, rtol=1e-4):
    model = model.eval()
    with torch.no_grad():
        ref = [r for r in _flat(model(*inputs)) if isinstance(r, torch.Tensor)]
    mod, params, names = import_model(model, inputs, path)
    outs = run_relay(mod, params, names, inputs)
    assert len(outs) == len(ref), f"{len(outs)} outputs, torch has {len(ref)}"
    for o, r in zip(outs, ref):
        r = r.numpy()
        assert o.shape == r.shape, f"shape {o.shape} vs torch {r.shape}"
        if r.dtype == np.bool_ or np.issubdtype(r.dtype, np.integer):
            np.testing.assert_array_equal(o.astype(r.dtype), r)
        else:
            np.testing.assert_allclose(o, r, atol=atol, rtol=rtol)
    return mod


class Fn(nn.Module):
    """A module around a function of the inputs (weights may be attached as attributes)."""

    def __init__(self, fn, **modules):
        super().__init__()
        self.fn = fn
        for k, v in modules.items():
            setattr(self, k, v)

    def forward(self, *xs):
        return self.fn(self, *xs)


def R(*shape, seed=0):
    g = torch.Generator().manual_seed(seed + sum(shape))
    return torch.randn(*shape, generator=g)


P = R(2, 3, 4).abs() + 0.5  # positive input

CASES = {
    # element-wise
    "relu": (lambda m, x: torch.relu(x), [R(2, 3, 4)]),
    "sigmoid_tanh": (lambda m, x: torch.sigmoid(x) + torch.tanh(x), [R(2, 3, 4)]),
    "exp_log_sqrt": (lambda m, x: torch.exp(x * 0.1) + torch.log(x) + torch.sqrt(x) + torch.rsqrt(x), [P]),
    "erf_sin_cos": (lambda m, x: torch.erf(x) + torch.sin(x) * torch.cos(x), [R(2, 3, 4)]),
    "gelu": (lambda m, x: F.gelu(x) + F.gelu(x, approximate="tanh"), [R(2, 3, 4)]),
    "silu_hardswish": (lambda m, x: F.silu(x) + F.hardswish(x) + F.hardsigmoid(x), [R(2, 3, 4) * 4]),
    "leaky_elu": (lambda m, x: F.leaky_relu(x, 0.2) + F.elu(x) + F.softplus(x) + F.mish(x), [R(2, 3, 4) * 3]),
    "hardtanh_relu6": (lambda m, x: F.hardtanh(x, -0.5, 0.5) + F.relu6(x * 8), [R(2, 3, 4)]),
    "round_family": (lambda m, x: torch.floor(x) + torch.ceil(x) + torch.round(x) + torch.trunc(x) + x.abs().neg(),
                     [R(2, 3, 4) * 3]),
    "clamp": (lambda m, x: torch.clamp(x, -0.5, 0.7) + x.clamp(min=0.1) + x.clamp_max(0.2), [R(2, 3, 4)]),
    "reciprocal_square": (lambda m, x: torch.reciprocal(x) + torch.square(x) + x.sign(), [P]),
    # binary, broadcasting, promotion
    "add_alpha": (lambda m, x, y: torch.add(x, y, alpha=2.0) - torch.sub(x, y, alpha=0.5), [R(2, 3, 4), R(3, 1)]),
    "rsub_scalar": (lambda m, x: 1.0 - x + 2 * x / 3.0, [R(2, 3)]),
    "div_modes": (lambda m, x, y: torch.div(x, y, rounding_mode="floor") + torch.div(x, y, rounding_mode="trunc"),
                  [R(2, 3) * 5, P[0, :2, :3]]),
    "pow": (lambda m, x: x ** 2 + x ** 3 + x ** 0.5 + x ** 1.7 + torch.pow(x, x), [P]),
    "max_min_binary": (lambda m, x, y: torch.maximum(x, y) + torch.minimum(x, y), [R(2, 3), R(1, 3)]),
    "int_float_promotion": (lambda m, x, i: x + i + i * 2, [R(2, 3), torch.arange(6).reshape(2, 3)]),
    "int_true_div": (lambda m, i: i / 4 + i // 3 + i % 4, [torch.arange(12).reshape(3, 4)]),
    "compare_where": (lambda m, x, y: torch.where(x > y, x, y) + torch.where(x <= 0, 1.0, x) + (x == y).float(),
                      [R(2, 3), R(2, 3, seed=1)]),
    "logical": (lambda m, x: ((x > 0) & (x < 1) | ~(x > -1)).to(torch.float32) + torch.logical_not(x > 0).float(),
                [R(3, 4)]),
    "masked_fill": (lambda m, x: x.masked_fill(x > 0.5, float("-inf")).softmax(-1), [R(3, 4)]),
    # reductions
    "sum_mean": (lambda m, x: x.sum(dim=1) + x.mean(dim=1) + x.sum(dim=(0, 2), keepdim=True).mean(), [R(2, 3, 4)]),
    "amax_amin": (lambda m, x: x.amax(dim=-1) - x.amin(dim=-1) + x.max() + x.min(), [R(2, 3, 4)]),
    "max_dim": (lambda m, x: torch.max(x, dim=1), [R(2, 5, 4)]),
    "argmax": (lambda m, x: (torch.argmax(x, dim=-1), torch.argmin(x, dim=1, keepdim=True)), [R(2, 5, 4)]),
    "var_std": (lambda m, x: x.var(dim=-1) + x.std(dim=1, keepdim=True).mean() + x.var(dim=-1, unbiased=False),
                [R(2, 5, 4)]),
    "prod_logsumexp_norm": (lambda m, x: (x.prod(dim=1), torch.logsumexp(x, dim=-1), x.norm(dim=-1)),
                            [R(2, 3, 4)]),
    "any_all": (lambda m, x: (x.gt(0).any(dim=1), x.gt(-1).all(dim=-1, keepdim=True), (x > 2).any(), x.all()),
                [R(2, 3, 4)]),
    # normalization
    "softmax": (lambda m, x: F.softmax(x, dim=1) + F.log_softmax(x, dim=-1), [R(2, 3, 4)]),
    "layer_norm": (lambda m, x: m.ln(x) + F.layer_norm(x, (3, 4)) + F.layer_norm(x, (4,)), [R(2, 3, 4)],
                   {"ln": nn.LayerNorm(4)}),
    "batch_norm": (lambda m, x: m.bn(x), [R(2, 3, 5, 5)], {"bn": nn.BatchNorm2d(3)}),
    "group_norm": (lambda m, x: m.gn(x), [R(2, 4, 5, 5)], {"gn": nn.GroupNorm(2, 4)}),
    "instance_norm": (lambda m, x: F.instance_norm(x), [R(2, 3, 5, 5)]),
    # linear algebra
    "linear": (lambda m, x: m.fc(x) + m.fc2(x), [R(2, 5, 8)],
               {"fc": nn.Linear(8, 6), "fc2": nn.Linear(8, 6, bias=False)}),
    "matmul_2d": (lambda m, x, y: x @ y, [R(4, 5), R(5, 3)]),
    "matmul_3d_2d": (lambda m, x, y: torch.matmul(x, y), [R(2, 4, 5), R(5, 3)]),
    "matmul_4d": (lambda m, x, y: x @ y.transpose(-2, -1) + x @ y.transpose(-2, -1), [R(2, 3, 4, 5), R(2, 3, 4, 5)]),
    "matmul_broadcast": (lambda m, x, y: x @ y, [R(2, 3, 4, 5), R(3, 5, 2)]),
    "matmul_vec": (lambda m, x, v: (x @ v, v @ x.transpose(-1, -2), v @ v), [R(2, 4, 5), R(5)]),
    "bmm_baddbmm": (lambda m, b, x, y: torch.bmm(x, y) + torch.baddbmm(b, x, y, beta=0.5, alpha=2.0),
                    [R(2, 3, 2), R(2, 3, 4), R(2, 4, 2)]),
    "addmm": (lambda m, b, x, y: torch.addmm(b, x, y) + torch.mm(x, y), [R(3), R(2, 4), R(4, 3)]),
    "einsum": (lambda m, x, y: torch.einsum("bhqd,bhkd->bhqk", x, y), [R(2, 3, 4, 5), R(2, 3, 6, 5)]),
    "sdpa": (lambda m, q, k, v, mask: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
             + F.scaled_dot_product_attention(q, k, v, is_causal=True),
             [R(1, 2, 5, 4), R(1, 2, 5, 4, seed=1), R(1, 2, 5, 4, seed=2),
              # seeded, and no row fully masked (PyTorch gives NaN there)
              (torch.rand(5, 5, generator=torch.Generator().manual_seed(3)) > 0.3) | torch.eye(5, dtype=torch.bool)]),
    "sdpa_float_mask": (lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=m.mask, scale=0.3),
                        [R(2, 5, 4), R(2, 6, 4, seed=1), R(2, 6, 3, seed=2)], {"mask": nn.Buffer(R(5, 6))}),
    # masks with batch axes of their own (the scores keep their 4-D shape) and without (folded to 3-D)
    "sdpa_batched_masks": (lambda m, q, k, v, mask: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
                           + F.scaled_dot_product_attention(q, k, v, attn_mask=m.shared)
                           + F.scaled_dot_product_attention(q, k, v)
                           + F.scaled_dot_product_attention(q, k, v, attn_mask=m.bias),
                           [R(2, 3, 5, 4), R(2, 3, 6, 4, seed=1), R(2, 3, 6, 4, seed=2), R(2, 1, 5, 6, seed=3)],
                           {"shared": nn.Buffer(R(1, 1, 5, 6, seed=4)), "bias": nn.Buffer(R(2, 3, 5, 6, seed=5))}),
    "encoder_layer_fast_path": (lambda m, x: m.post(x) + m.pre(x), [R(2, 5, 16)],
                                {"post": nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True),
                                 "pre": nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation="gelu",
                                                                   batch_first=True, norm_first=True)}),
    "encoder_layer_padding_mask": (lambda m, x, pad: m.layer(x, src_key_padding_mask=pad),
                                   [R(2, 5, 16), torch.tensor([[False] * 5, [False, False, False, True, True]])],
                                   {"layer": nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)}),
    "multihead_attention": (lambda m, x, y: (m.mha(x, x, x, need_weights=False)[0], *m.mha(x, y, y)),
                            [R(2, 5, 16), R(2, 3, 16, seed=1)],
                            {"mha": nn.MultiheadAttention(16, 2, batch_first=True)}),
    # convolution & pooling
    "conv2d": (lambda m, x: m.c1(x) + m.c2(x), [R(1, 4, 9, 9)],
               {"c1": nn.Conv2d(4, 6, 3, padding=1), "c2": nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2)}),
    "conv2d_stride_depthwise": (lambda m, x: m.dw(m.c(x)), [R(1, 3, 10, 10)],
                                {"c": nn.Conv2d(3, 8, 3, stride=2, bias=False), "dw": nn.Conv2d(8, 8, 3, groups=8)}),
    "conv2d_same": (lambda m, x: m.c(x), [R(1, 3, 8, 8)], {"c": nn.Conv2d(3, 4, 4, padding="same")}),
    "conv1d": (lambda m, x: m.c(x), [R(2, 3, 12)], {"c": nn.Conv1d(3, 5, 3, stride=2, padding=1)}),
    "conv_transpose2d": (lambda m, x: m.c(x), [R(1, 4, 5, 5)],
                         {"c": nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)}),
    "max_pool2d": (lambda m, x: (F.max_pool2d(x, 3, 2, 1), F.max_pool2d(x, 2, 2, ceil_mode=True),
                                 F.max_pool1d(x[0], 2)), [R(1, 3, 9, 9)]),
    "avg_pool2d": (lambda m, x: (F.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
                   [R(1, 3, 8, 8)]),
    "adaptive_pool": (lambda m, x: (F.adaptive_avg_pool2d(x, 1), F.adaptive_avg_pool2d(x, (3, 2)),
                                    F.adaptive_max_pool2d(x, 2)), [R(1, 3, 7, 8)]),
    "upsample": (lambda m, x: (F.interpolate(x, scale_factor=2, mode="nearest"),
                               F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False),
                               F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)), [R(1, 2, 4, 5)]),
    # shapes
    "view_flatten": (lambda m, x: (x.view(2, -1), x.reshape(-1, 6).flatten(), x.flatten(0, 1)), [R(2, 3, 4)]),
    "flatten_unflatten": (lambda m, x: x.flatten(1).unflatten(1, (4, 3)) + 1, [R(2, 3, 4)]),
    "permute_transpose": (lambda m, x, w: (x.permute(2, 0, 1).transpose(0, 1).contiguous() * 2, x.transpose(-1, 0),
                                           w.t(), x.mT), [R(2, 3, 4), R(3, 5)]),
    "unsqueeze_squeeze": (lambda m, x: x.unsqueeze(1).unsqueeze(-1).squeeze(-1).squeeze(1) + x.unsqueeze(0).squeeze(),
                          [R(2, 3)]),
    "expand_repeat": (lambda m, x: (x.expand(4, 2, 3), x.expand(2, -1, -1), x.repeat(2, 1, 2)), [R(1, 2, 3)]),
    "cat_stack": (lambda m, x, y: (torch.cat([x, y, x], dim=1), torch.stack([x, x], dim=-1)), [R(2, 3), R(2, 2)]),
    "split_chunk_unbind": (lambda m, x: (*x.split(2, dim=1), *x.split([1, 4], dim=1), *x.chunk(2, dim=0),
                                         *x.unbind(0)), [R(3, 5)]),
    "slice_select": (lambda m, x: (x[:, 1:3], x[..., ::2], x[-1], x[:, -2:, 1], x[1:, None, :2],
                                   x.narrow(1, 1, 2)), [R(3, 4, 5)]),
    "index_const": (lambda m, x: (x[m.idx], x[:, m.idx2], x[m.idx, m.idx], x[1:, m.idx2]), [R(4, 4)],
                    {"idx": nn.Buffer(torch.tensor([0, 2, -1])), "idx2": nn.Buffer(torch.tensor([[1, 0], [3, 3]]))}),
    "index_dynamic": (lambda m, x, i: (x[i], x[:, i], torch.index_select(x, 1, i), x[i, i], x[i, :, i.flip(0)]),
                      [R(4, 5, 4), torch.tensor([3, 0, 1])]),
    "gather_embedding": (lambda m, x, i: (torch.gather(x, 1, i), m.emb(i)),
                         [R(3, 4), torch.tensor([[0, 1], [2, 3], [1, 1]])], {"emb": nn.Embedding(5, 3)}),
    "pad_flip_roll": (lambda m, x: (F.pad(x, (1, 2, 0, 1), value=0.5), x.flip(-1), x.roll(1, 1)), [R(2, 3, 4)]),
    "tril_cumsum": (lambda m, x: (x.tril(), x.triu(1), x.cumsum(-1), x.cumsum(0)), [R(4, 4)]),
    "casts": (lambda m, x, i: (x.to(torch.int64), i.float() * x, x.type_as(i), i.to(x.dtype), x.double().float(),
                               (x > 0).long()), [R(2, 3) * 4, torch.arange(6).reshape(2, 3)]),
    "constants_from_shapes": (lambda m, x: x + torch.arange(x.shape[-1]) + torch.ones_like(x) + x.new_zeros(x.shape)
                              + torch.full((x.size(0), 1), 2.0) + torch.zeros(x.shape[1:]), [R(2, 3)]),
    "size_view": (lambda m, x: x.view(x.size(0), x.size(1) * x.size(2)) * x.numel() / x.dim(), [R(2, 3, 4)]),
    "inplace": (lambda m, x: torch.relu_(x.clone()).add_(1.0).mul_(2.0), [R(2, 3)]),
    # copy_ into a fresh tensor, broadcasting a row and casting: later reads see the copy
    "copy_": (lambda m, x, r: torch.zeros(2, 3, dtype=torch.float64).copy_(r).float() * 2
              + torch.empty_like(x).copy_(x), [R(2, 3), R(3, seed=1)]),
    "dropout_identity": (lambda m, x: F.dropout(x, 0.5, training=False) + m.d(x), [R(2, 3)], {"d": nn.Dropout(0.3)}),
}

IDS = sorted(CASES)


def _make(name):
    spec = CASES[name]
    fn, inputs = spec[0], spec[1]
    mods = spec[2] if len(spec) > 2 else {}
    buffers = {k: v for k, v in mods.items() if isinstance(v, torch.Tensor)}
    mods = {k: v for k, v in mods.items() if not isinstance(v, torch.Tensor)}
    torch.manual_seed(0)
    m = Fn(fn, **mods)
    for k, v in buffers.items():
        m.register_buffer(k, v)
    for sub in m.modules():
        if isinstance(sub, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
            with torch.no_grad():
                if getattr(sub, "running_mean", None) is not None:
                    sub.running_mean.uniform_(-0.5, 0.5)
                    sub.running_var.uniform_(0.5, 1.5)
                if sub.weight is not None:
                    sub.weight.uniform_(0.5, 1.5)
                    sub.bias.uniform_(-0.5, 0.5)
    return m.eval(), inputs


@pytest.mark.parametrize("path", ["trace", "export"])
@pytest.mark.parametrize("name", IDS)
def test_op(name, path):
    model, inputs = _make(name)
    check(model, inputs, path)


# ---------------------------------------------------------------------------- scripted TorchScript

class _Scripted(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        if y.dim() == 4:  # known at import time
            y = y.mean(dim=(2, 3))
        for _ in range(2):  # unrolled
            y = y + 1.0
        return torch.softmax(self.fc(y), dim=-1)


def test_scripted_module_with_static_control_flow():
    model = _Scripted().eval()
    check(model, [R(2, 3, 6, 6)], "script")


def test_scripted_data_dependent_control_flow_is_reported():
    class M(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                x = x * 2
            return x

    with pytest.raises(OpNotImplemented, match=r"prim::If.*condition depends on tensor data"):
        from_pytorch(torch.jit.script(M()), [("x", (3,))])


# ---------------------------------------------------------------------------- errors and API

class _Unsupported(nn.Module):
    def forward(self, x):
        a = torch.lgamma(x)
        b = torch.lgamma(x + 1)
        return torch.digamma(a + b)


@pytest.mark.parametrize("path", ["trace", "export"])
def test_unsupported_ops_reported_together(path):
    x = R(3).abs() + 1
    with pytest.raises(OpNotImplemented) as info:
        import_model(_Unsupported(), [x], path)
    msg = str(info.value)
    assert "aten::lgamma  x2" in msg and "aten::digamma  x1" in msg
    assert "test_pytorch_ops.py" in msg  # the source line of the use
    assert set(info.value.ops) == {"aten::lgamma", "aten::digamma"}
    assert isinstance(info.value, NotImplementedError)


def test_input_infos_forms_and_params():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).eval()
    x = R(2, 4)
    sm = torch.jit.trace(model, x)
    for infos in ([("data", (2, 4))], [("data", ((2, 4), "float32"))], [("data", [2, 4])]):
        mod, params = from_pytorch(sm, infos)
        main = mod["main"]
        assert main.params[0].name_hint == "data"
        assert main.params[0].type_annotation.shape == (2, 4)
        assert set(params) == {"0.weight", "0.bias"}
        np.testing.assert_array_equal(params["0.weight"].numpy(), model[0].weight.detach().numpy())
    with pytest.raises(ValueError, match="takes 1 input"):
        from_pytorch(sm, [("a", (2, 4)), ("b", (2, 4))])


def test_exported_program_names_and_params():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).eval()
    ep = torch.export.export(model, (R(2, 4),))
    mod, params = from_exported_program(ep)
    names = [p.name_hint for p in mod["main"].params]
    assert names[0] == "input"
    assert {"0.weight", "0.bias", "1.running_mean", "1.running_var"} <= set(params)
    assert "1.num_batches_tracked" not in params  # integer buffers are not weights


def test_seed_relay_snippet():
    """seeds/003 "Relay - High-Level IR", on the CPU target."""
    model = torch.nn.Linear(128, 64)
    input_shape = (1, 128)
    input_data = torch.randn(input_shape)
    traced = torch.jit.trace(model, input_data)
    relay_mod, params = relay.frontend.from_pytorch(traced, [("input", input_shape)])
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(relay_mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("input", input_data.numpy())
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), model(input_data).detach().numpy(), atol=1e-5, rtol=1e-5)


def test_custom_convert_map():
    x = R(3).abs() + 1
    sm = torch.jit.trace(_Unsupported(), x)
    custom = {"aten::lgamma": lambda inputs, types: relay.log(inputs[0]),
              "aten::digamma": lambda inputs, types: relay.sqrt(inputs[0])}
    mod, params = from_pytorch(sm, [("x", (3,))], custom_convert_map=custom)
    (out,) = run_relay(mod, params, ["x"], [x])
    xn = x.numpy()
    np.testing.assert_allclose(out, np.sqrt(np.log(xn) + np.log(xn + 1)), rtol=1e-5)


def test_not_a_script_module():
    with pytest.raises(TypeError, match="from_exported_program"):
        from_pytorch(nn.Linear(2, 2), [("x", (1, 2))])


def test_inplace_write_into_a_view_is_refused():
    """Writing through a view would change the viewed tensor too; refuse instead of diverging."""
    import torch

    from tilecraft import relay

    class M(torch.nn.Module):
        def forward(self, x):
            y = x * 2
            y[:, 0].add_(1)
            return y

    x = torch.randn(3, 4)
    with pytest.raises(relay.frontend.OpNotImplemented, match=r"aten::add_ .* writes in place into a view"):
        relay.frontend.from_pytorch(torch.jit.trace(M(), x), [("x", x.shape)])
    with pytest.raises(relay.frontend.OpNotImplemented, match=r"aten::add_ .* writes in place into a view"):
        relay.frontend.from_exported_program(torch.export.export(M(), (x,)))
