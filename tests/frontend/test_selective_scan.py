"""Mamba's selective scan as one operator (issue 14 item 4): inside `relay.frontend.recurrences()`
transformers' scan calls `torch.ops.tilecraft.selective_scan`, which TorchScript and torch.export
record as one node and the importers turn into nn.selective_scan (a loop over time in the kernel),
so the graph does not grow with the sequence length.  Checked against PyTorch (the unpatched
model) on both import paths, and the kernel against a float64 numpy recurrence."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning")

import tilecraft as tvm  # noqa: E402
from tilecraft import relay, te, topi  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.models import suite  # noqa: E402
from tilecraft.relay.expr import Call  # noqa: E402
from tilecraft.relay.frontend import from_exported_program, from_pytorch, recurrences  # noqa: E402
from tilecraft.relay.visitor import post_order  # noqa: E402

TOL = dict(atol=1e-3, rtol=1e-3)


def _import(model, inputs, path):
    with torch.no_grad(), recurrences():
        if path == "trace":
            return from_pytorch(torch.jit.trace(model, inputs), [("ids", (tuple(inputs[0].shape), "int64"))])
        return from_exported_program(torch.export.export(model, inputs))


def _calls(mod):
    return [getattr(n.op, "name", "") for n in post_order(mod["main"].body) if isinstance(n, Call)]


def test_patched_model_computes_the_same_and_runs_one_op_per_layer():
    model, inputs = suite.mamba(tiny=True, seq=12)
    with torch.no_grad():
        ref = model(*inputs)[0]
        with recurrences():
            patched = model(*inputs)[0]
            traced = torch.jit.trace(model, inputs)
        again = traced(*inputs)[0]  # the traced module runs outside the context too
    np.testing.assert_allclose(patched.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(again.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    kinds = [n.kind() for n in traced.inlined_graph.nodes()]
    assert kinds.count("tilecraft::selective_scan") == model.config.num_hidden_layers
    import transformers.models.mamba.modeling_mamba as mm

    assert mm.mamba_selective_scan.__module__ == mm.__name__  # restored after the context


class _WithCache(torch.nn.Module):
    """Mamba called with use_cache=True: its cache path writes the conv and ssm states with copy_."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(ids, use_cache=True)[0]


@pytest.mark.parametrize("path", ["trace", "export"])
def test_mamba_with_cache_copies_its_states_with_copy_(path):
    model, inputs = suite.mamba(tiny=True, seq=8)
    wrapped = _WithCache(model).eval()
    with torch.no_grad():
        program = torch.jit.trace(wrapped, inputs, check_trace=False) if path == "trace" else \
            torch.export.export(wrapped, inputs)
        ref = wrapped(*inputs).numpy()
    if path == "export":
        assert any("copy_" in str(n.target) for n in program.graph.nodes if n.op == "call_function")
        mod, params = from_exported_program(program)
    else:
        mod, params = from_pytorch(program, [("ids", (tuple(inputs[0].shape), "int64"))])
    lib = relay.build(mod, target="llvm", params=params)
    gm = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    gm.set_input(0, inputs[0].numpy())
    gm.run()
    np.testing.assert_allclose(gm.get_output(0).numpy(), ref, **TOL)


@pytest.mark.parametrize("path", ["trace", "export"])
def test_tiny_mamba_matches_pytorch(path):
    model, inputs = suite.mamba(tiny=True, seq=16)
    mod, params = _import(model, inputs, path)
    assert _calls(mod).count("nn.selective_scan") == model.config.num_hidden_layers
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    gm = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    gm.set_input(0, inputs[0].numpy())
    gm.run()
    with torch.no_grad():
        ref = model(*inputs)[0].numpy()
    np.testing.assert_allclose(gm.get_output(0).numpy(), ref, **TOL)


def test_graph_size_does_not_grow_with_sequence_length():
    sizes = []
    for seq in (8, 64):
        model, inputs = suite.mamba(tiny=True, seq=seq)
        mod, _ = _import(model, inputs, "trace")
        sizes.append(len(_calls(mod)))
    assert sizes[0] == sizes[1], sizes


def test_kernel_matches_a_float64_recurrence():
    b, d, L, n = 2, 3, 9, 4
    shapes = [(b, d, L), (b, d, L), (d, n), (b, n, L), (b, n, L), (b, d, n)]
    phs = [te.placeholder(s, name=f"x{i}") for i, s in enumerate(shapes)]
    y, hn = topi.nn.selective_scan(*phs)
    f = tvm.build(te.create_schedule([y.op, hn.op]), phs + [y, hn])
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal(s).astype("float32") for s in shapes]
    vals[1], vals[2] = np.abs(vals[1]), -np.abs(vals[2])
    dev = tvm.cpu(0)
    out = [tvm.nd.empty((b, d, L), "float32", dev), tvm.nd.empty((b, d, n), "float32", dev)]
    f(*[tvm.nd.array(v, dev) for v in vals], *out)
    U, DT, A, B, C, h = (v.astype("float64") for v in vals)
    ys = []
    for t in range(L):
        h = np.exp(DT[:, :, t, None] * A[None]) * h + DT[:, :, t, None] * B[:, None, :, t] * U[:, :, t, None]
        ys.append((h * C[:, None, :, t]).sum(-1))
    np.testing.assert_allclose(out[0].numpy(), np.stack(ys, -1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[1].numpy(), h, rtol=1e-5, atol=1e-5)


def test_softplus_keeps_its_relative_precision_for_negative_inputs():
    """Mamba's time step is softplus(x) with x around -7 .. -2: log(1 + exp(x)) in float32 loses
    exp(x)'s digits (relative error ~1e-4); the converter uses log1p as PyTorch does."""

    class M(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.softplus(x), torch.log1p(x.abs())

    x = torch.linspace(-12, 25, 500)
    mod, params = from_pytorch(torch.jit.trace(M(), (x,)), [("x", (500,))])
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    gm = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    gm.set_input("x", x.numpy())
    gm.run()
    for i, ref in enumerate(M()(x.double())):
        np.testing.assert_allclose(gm.get_output(i).numpy(), ref.numpy(), rtol=1e-6)
