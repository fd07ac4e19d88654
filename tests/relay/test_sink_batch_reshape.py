"""SinkBatchReshape: attention's 4-D scores stay in the batch_matmul's 3-D shape (no reshape copies),
and everything it leaves alone still computes the same numbers."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.relay.expr import Call
from tilecraft.relay.transform.sink_batch_reshape import sink_batch_reshape
from tilecraft.relay.visitor import post_order

RNG = np.random.default_rng(0)
B, H, L, S, E = 1, 3, 5, 6, 4


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _attention(bias_shape=(1, H, L, S), mask_shape=(B, 1, 1, S), batch=B):
    q, k, v = (relay.var(n, shape=(batch * H, n_rows, E)) for n, n_rows in (("q", L), ("k", S), ("v", S)))
    mask = relay.var("mask", shape=mask_shape)
    bias = relay.var("bias", shape=bias_shape)
    scores = relay.reshape(relay.nn.batch_matmul(q, k), (batch, H, L, S))
    scores = relay.add(relay.add(relay.multiply(scores, relay.const(0.5)), bias), mask)
    attn = relay.reshape(relay.nn.softmax(scores, axis=-1), (batch * H, L, S))
    out = relay.nn.batch_matmul(attn, v, transpose_b=False)
    return relay.Function([q, k, v, mask, bias], out)


def _reference(q, k, v, mask, bias, batch=B):
    s = (q @ k.transpose(0, 2, 1)).reshape(batch, H, L, S) * 0.5 + bias + mask
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    return s.reshape(batch * H, L, S) @ v


def _ops(func) -> list:
    return [n.op.name for n in post_order(func) if isinstance(n, Call) and hasattr(n.op, "name")]


def _run(func, inputs, disabled=()):
    with tvm.transform.PassContext(opt_level=3, disabled_pass=list(disabled)):
        lib = relay.build(tvm.IRModule.from_expr(func), target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input(**inputs)
    m.run()
    return m.get_output(0).numpy()


def _inputs(bias_shape=(1, H, L, S), mask_shape=(B, 1, 1, S), batch=B):
    return {"q": rand(batch * H, L, E), "k": rand(batch * H, S, E), "v": rand(batch * H, S, E),
            "mask": rand(*mask_shape), "bias": rand(*bias_shape)}


def test_attention_reshapes_cancel_and_the_numbers_hold():
    func = _attention()
    assert _ops(func).count("reshape") == 2
    out = sink_batch_reshape(func)
    # the two score reshapes are gone: softmax runs on the 3-D scores; the 4-D bias and mask are
    # regrouped instead (two reshapes of the operands, which FoldConstant folds when they are weights)
    reshaped = [n.args[0] for n in post_order(out) if isinstance(n, Call) and n.op.name == "reshape"]
    assert sorted(v.name_hint for v in reshaped) == ["bias", "mask"]
    (softmax,) = [n for n in post_order(out) if isinstance(n, Call) and n.op.name == "nn.softmax"]
    assert len(softmax.ty.shape) == 3
    feeds = _inputs()
    got = _run(func, feeds)
    want = _reference(**feeds)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_built_attention_has_no_reshape_kernel_on_the_scores():
    """With the bias a weight (folded in its regrouped shape), the scale, bias and mask fuse into the
    batch_matmul and softmax reads its output: the two kernels copying the scores give way to one
    regrouping the 6-float mask."""
    func = _attention()
    params = {"bias": rand(1, H, L, S)}
    mod = tvm.IRModule.from_expr(func)
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    with tvm.transform.PassContext(opt_level=3, disabled_pass=["SinkBatchReshape"]):
        before = relay.build(mod, target="llvm", params=params)
    fused = [n for n in lib.function_names if n.startswith("fused")]
    assert "fused_nn_batch_matmul_multiply_add_add" in fused
    assert len(fused) == len([n for n in before.function_names if n.startswith("fused")]) - 1
    assert [n for n in fused if "reshape" in n] == ["fused_reshape"]  # the [1, 1, 1, S] mask's, 6 floats


@pytest.mark.parametrize("bias_shape, mask_shape, batch", [
    ((2, 1, L, S), (2, 1, 1, S), 2),   # a bias with batch axes of its own (2, 1): does not line up, stays
    ((1, H, L, S), (2, H, L, S), 2),   # a full-size mask lines up, the (1, H) bias does not
    ((L, S), (S,), 2),                 # 2-D and 1-D operands broadcast as they are
])
def test_operands_that_do_not_line_up_keep_the_reshape_and_the_numbers(bias_shape, mask_shape, batch):
    func = _attention(bias_shape, mask_shape, batch)
    feeds = _inputs(bias_shape, mask_shape, batch)
    got = _run(func, feeds)
    off = _run(func, feeds, disabled=["SinkBatchReshape"])
    np.testing.assert_allclose(got, _reference(**feeds, batch=batch), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, off, rtol=1e-6, atol=1e-6)


def _round_trip(middle):
    """reshape [6, 4, 5] -> [2, 3, 4, 5], middle(.), reshape back."""
    x = relay.var("x", shape=(6, 4, 5))
    b = relay.var("b", shape=(3,))
    r = relay.reshape(x, (2, 3, 4, 5))
    out = middle(r, b)
    body = relay.Tuple([relay.reshape(out[0], (6, 4, 5)), *out[1:]]) if isinstance(out, tuple) \
        else relay.reshape(out, (6, 4, 5))
    return relay.Function([x, b], body)


@pytest.mark.parametrize("middle", [
    lambda r, b: (relay.exp(r), r),                     # the first reshape has another reader
    lambda r, b: relay.nn.bias_add(r, b, axis=1),       # an axis attribute points into the batch axes
    lambda r, b: relay.nn.softmax(r, axis=1),           # softmax over a batch axis
    lambda r, b: relay.add(r, relay.reshape(b, (1, 3, 1, 1))),  # an operand that varies along axis 1 only
])
def test_chains_that_do_not_commute_stay_as_they_are(middle):
    func = _round_trip(middle)
    assert _ops(sink_batch_reshape(func)) == _ops(func)


def test_a_chain_that_commutes_loses_both_reshapes():
    func = _round_trip(lambda r, b: relay.nn.relu(relay.nn.softmax(relay.multiply(r, relay.const(2.0)), axis=3)))
    assert "reshape" not in _ops(sink_batch_reshape(func))
