"""Recurrent layers (nn.LSTM, nn.GRU, nn.RNN) through TorchScript, torch.export and ONNX, against
PyTorch (and onnxruntime for the ONNX forms PyTorch does not write), and the graph size and
compile time that must not grow with the sequence length (issue 14 item 3)."""

from __future__ import annotations

import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                                        "ignore::UserWarning")
from torch import nn  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.relay.expr import Call  # noqa: E402
from tilecraft.relay.frontend import OpNotImplemented, from_exported_program, from_onnx, from_pytorch  # noqa: E402
from tilecraft.relay.visitor import post_order  # noqa: E402

TOL = dict(atol=1e-3, rtol=1e-3)
I, H = 6, 8


class _WithState(nn.Module):
    """The layer called with explicit initial states (h0, and c0 for an LSTM)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h, c=None):
        return self.rnn(x, (h, c) if c is not None else h)


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for z in x for y in _flat(z)]
    return [x]


def _import(model, inputs, path, tmp_path=None):
    """(mod, params, input names) through one import path."""
    if path == "export":
        ep = torch.export.export(model, tuple(inputs))
        mod, params = from_exported_program(ep)
        return mod, params, [p.name_hint for p in mod["main"].params[: len(inputs)]]
    names = [f"in{i}" for i in range(len(inputs))]
    if path == "trace":
        with torch.no_grad():
            traced = torch.jit.trace(model, tuple(inputs), check_trace=False)
        mod, params = from_pytorch(traced, [(n, (tuple(t.shape), str(t.dtype)[6:])) for n, t in zip(names, inputs)])
        return mod, params, names
    import onnx

    f = str(tmp_path / "model.onnx")
    torch.onnx.export(model, tuple(inputs), f, input_names=names, dynamo=path == "onnx-dynamo")
    proto = onnx.load(f)
    names = [i.name for i in proto.graph.input][: len(inputs)]
    mod, params = from_onnx(proto, {n: tuple(t.shape) for n, t in zip(names, inputs)},
                            dtype={n: str(t.dtype)[6:] for n, t in zip(names, inputs)})
    return mod, params, names


def _build(mod, params):
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    return graph_executor.GraphModule(lib["default"](tvm.cpu(0)))


def _run(gm, names, inputs):
    for n, t in zip(names, inputs):
        gm.set_input(n, t.numpy())
    gm.run()
    return [gm.get_output(i).numpy() for i in range(gm.get_num_outputs())]


def _check(model, inputs, path, tmp_path, fresh):
    """Import with `inputs`, then compare with PyTorch on `fresh` inputs of the same shapes."""
    model = model.eval()
    mod, params, names = _import(model, inputs, path, tmp_path)
    gm = _build(mod, params)
    with torch.no_grad():
        ref = _flat(model(*fresh))
    outs = _run(gm, names, fresh)
    assert len(outs) == len(ref)
    for o, r in zip(outs, ref):
        np.testing.assert_allclose(o, r.numpy(), **TOL)
    return mod


def _layer(kind, layers, bidirectional, batch_first):
    torch.manual_seed(0)
    if kind == "lstm":
        return nn.LSTM(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    if kind == "gru":
        return nn.GRU(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    return nn.RNN(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first,
                  nonlinearity="relu" if kind == "rnn_relu" else "tanh")


def _inputs(kind, layers, bidirectional, batch_first, with_state, T=5, B=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((B, T, I) if batch_first else (T, B, I), generator=g)
    if not with_state:
        return [x]
    shape = (layers * (2 if bidirectional else 1), B, H)
    states = [torch.randn(shape, generator=g)]
    if kind == "lstm":
        states.append(torch.randn(shape, generator=g))
    return [x] + states


CASES = [  # kind, layers, bidirectional, batch_first, with initial states
    ("lstm", 2, True, True, True),
    ("lstm", 1, False, False, False),
    ("gru", 2, True, False, True),
    ("gru", 1, False, True, False),
    ("rnn_tanh", 2, False, False, True),
    ("rnn_relu", 1, True, True, False),
]


@pytest.mark.parametrize("path", ["trace", "export", "onnx"])
@pytest.mark.parametrize("case", CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_recurrent_matches_pytorch(case, path, tmp_path):
    kind, layers, bidir, batch_first, with_state = case
    if path == "export" and kind.startswith("rnn"):
        pytest.skip("the same ATen converter as TorchScript's; kept short")
    rnn = _layer(kind, layers, bidir, batch_first)
    model = _WithState(rnn) if with_state else rnn
    mod = _check(model, _inputs(*case), path, tmp_path, _inputs(*case, seed=1))
    assert any(isinstance(n, Call) and n.op.name == "nn.recurrent" for n in post_order(mod["main"].body))


def test_onnx_dynamo_exporter_lstm(tmp_path):
    case = ("lstm", 2, True, False, True)
    _check(_WithState(_layer(*case[:4])), _inputs(*case), "onnx-dynamo", tmp_path, _inputs(*case, seed=1))


def _calls(mod) -> int:
    return sum(isinstance(n, Call) for n in post_order(mod["main"].body))


@pytest.mark.parametrize("path", ["trace", "onnx"])
def test_graph_and_compile_time_do_not_grow_with_sequence_length(path, tmp_path):
    case = ("lstm", 2, True, True, True)
    model = _WithState(_layer(*case[:4])).eval()
    counts, seconds = {}, {}
    for T in (5, 200):
        mod, params, names = _import(model, _inputs(*case, T=T), path, tmp_path)
        counts[T] = _calls(mod)
        start = time.perf_counter()
        gm = _build(mod, params)
        seconds[T] = time.perf_counter() - start
    fresh = _inputs(*case, T=200, seed=1)
    with torch.no_grad():
        ref = _flat(model(*fresh))
    for o, r in zip(_run(gm, names, fresh), ref):
        np.testing.assert_allclose(o, r.numpy(), **TOL)
    assert counts[5] == counts[200], counts
    # the program is a loop over time: T=200 compiles about as fast as T=5 (generous for busy machines)
    assert seconds[200] < 3 * seconds[5] + 2.0, seconds


# ---------------------------------------------------------------------------- ONNX forms PyTorch does not write

def _onnx_model(op, attrs, x, inputs):
    """One ONNX recurrent node reading X and `inputs` [(name, array)] in position order ("" = absent)."""
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(a, n) for n, a in inputs if n]
    node = helper.make_node(op, ["X"] + [n for n, _ in inputs], ["Y", "Y_h"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("Y", "Y_h")],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32") * 0.5


@pytest.mark.parametrize("op, attrs", [
    ("GRU", {"direction": "reverse", "linear_before_reset": 0}),
    ("GRU", {"direction": "bidirectional", "layout": 1}),
    ("LSTM", {"direction": "reverse", "layout": 1}),
    ("RNN", {"direction": "bidirectional", "activations": ["Relu", "Relu"]}),
])
def test_onnx_forms_against_onnxruntime(op, attrs):
    ort = pytest.importorskip("onnxruntime")
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    D = 2 if attrs.get("direction") == "bidirectional" else 1
    T, B = 7, 2
    layout = attrs.get("layout", 0)
    x = _rand(*((B, T, I) if layout else (T, B, I)))
    h0 = _rand(*((B, D, H) if layout else (D, B, H)), seed=1)
    weights = [("W", _rand(D, G * H, I, seed=2)), ("R", _rand(D, G * H, H, seed=3)),
               ("B", _rand(D, 2 * G * H, seed=4)), ("seq", np.full((B,), T, "int32"))]
    model = _onnx_model(op, dict(attrs, hidden_size=H), x, weights + [("h0", h0)])
    if layout:  # onnxruntime has no batch-major recurrent kernels: its sequence-major result, transposed
        seq_major = {k: v for k, v in attrs.items() if k != "layout"}
        ref_model = _onnx_model(op, dict(seq_major, hidden_size=H), x.transpose(1, 0, 2),
                                weights + [("h0", h0.transpose(1, 0, 2))])
        y, y_h = ort.InferenceSession(ref_model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
            None, {"X": x.transpose(1, 0, 2)})
        ref = [y.transpose(2, 0, 1, 3), y_h.transpose(1, 0, 2)]
    else:
        ref = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"X": x})
    mod, params = from_onnx(model, {"X": x.shape})
    outs = _run(_build(mod, params), ["X"], [torch.from_numpy(x)])
    for o, r in zip(outs, ref):
        np.testing.assert_allclose(o, r, **TOL)


@pytest.mark.parametrize("attrs, extra, message", [
    ({"activations": ["Sigmoid", "Relu", "Tanh"]}, [], "activations"),
    ({"clip": 3.0}, [], "clip"),
    ({}, [("", None), ("seq", np.array([5, 3], "int32"))], "sequence_lens"),
    ({}, [("", None), ("", None), ("", None), ("", None), ("P", np.ones((1, 3 * H), "float32"))], "P"),
])
def test_onnx_lstm_refuses_what_it_does_not_compute(attrs, extra, message):
    x = _rand(5, 2, I)
    model = _onnx_model("LSTM", dict(attrs, hidden_size=H), x,
                        [("W", _rand(1, 4 * H, I)), ("R", _rand(1, 4 * H, H))] + extra)
    with pytest.raises(OpNotImplemented, match=message):
        from_onnx(model, {"X": x.shape})


# ---------------------------------------------------------------------------- a small language model

class TinyLM(nn.Module):
    def __init__(self, vocab=50, dim=16, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids):
        y, _ = self.lstm(self.embed(ids))
        return self.head(y)


@pytest.mark.parametrize("path", ["trace", "export", "onnx"])
def test_tiny_lstm_language_model(path, tmp_path):
    torch.manual_seed(0)
    model = TinyLM().eval()
    ids = torch.randint(0, 50, (2, 12))
    fresh = torch.randint(0, 50, (2, 12), generator=torch.Generator().manual_seed(1))
    _check(model, [ids], path, tmp_path, [fresh])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("hidden", [32, 128])
def test_wide_layers_take_the_vector_and_parallel_paths(kind, hidden):
    """Hidden sizes that divide by 16: the gates run as vectors (sigmoid/tanh polynomials) and the
    step's matrix-vector product in register blocks, in parallel from 128 on; same numbers as PyTorch."""
    torch.manual_seed(1)
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn_tanh": nn.RNN}[kind]
    model = cls(I, hidden, num_layers=1, bidirectional=True)
    g = torch.Generator().manual_seed(2)
    x = torch.randn((7, 2, I), generator=g)
    _check(model, [x], "trace", None, [torch.randn((7, 2, I), generator=g)])
