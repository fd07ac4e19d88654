"""FuseOps rules from classic Relay: split's fields (TupleGetItem of an injective call) fuse with their
element-wise readers, softmax takes an element-wise epilogue, relay.annotation.stop_fusion ends a
kernel; each fused kernel computes the same numbers."""

import numpy as np

from tilecraft import relay
from tilecraft.relay.transform.fuse_ops import fuse_ops
from tilecraft.relay.visitor import post_order


def _primitive_calls(f):
    return [n for n in post_order(f.body) if isinstance(n, relay.Call) and isinstance(n.op, relay.Function)]


def _gates(dim=8):
    x = relay.var("x", shape=(2, dim))
    w = relay.var("w", shape=(3 * dim, dim))
    parts = relay.split(relay.nn.dense(x, w), indices_or_sections=3, axis=1)
    out = relay.sigmoid(parts[0]) + relay.tanh(parts[1]) * relay.exp(parts[2])
    return relay.Function([x, w], out)


def test_split_fields_and_their_readers_are_one_kernel():
    fused = fuse_ops(_gates())
    calls = _primitive_calls(fused)
    assert len(calls) == 2  # dense; split + sigmoid/tanh/exp + add
    names = {n.op.name for n in post_order(calls[-1].op.body) if isinstance(n, relay.Call)}
    assert {"split", "sigmoid", "tanh", "exp", "add", "multiply"} <= names


def test_fused_split_numbers():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8)).astype("float32")
    w = rng.standard_normal((24, 8)).astype("float32")
    got = relay.create_executor("graph", target="llvm").evaluate(_gates())(x, w).numpy()
    y = x @ w.T
    a, b, c = y[:, :8], y[:, 8:16], y[:, 16:]
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-a)) + np.tanh(b) * np.exp(c), rtol=1e-5, atol=1e-5)


def test_a_field_read_outside_its_group_and_an_opaque_tuple():
    x = relay.var("x", shape=(2, 6))
    parts = relay.split(x, indices_or_sections=2, axis=1)
    bn = relay.nn.batch_norm(x, *[relay.const(np.full(6, v, "float32")) for v in (1.0, 0.0, 0.0, 1.0)])
    out = relay.Tuple([relay.exp(parts[0]), parts[1], relay.nn.relu(bn[0])])
    f = relay.Function([x], out)
    data = np.random.default_rng(1).standard_normal((2, 6)).astype("float32")
    got = relay.create_executor("graph", target="llvm").evaluate(f)(data)
    np.testing.assert_allclose(got[0].numpy(), np.exp(data[:, :3]), rtol=1e-6)
    np.testing.assert_allclose(got[1].numpy(), data[:, 3:])
    np.testing.assert_allclose(got[2].numpy(), np.maximum(data / np.sqrt(1 + 1e-5), 0), rtol=1e-5)


def test_stop_fusion_ends_a_kernel_and_is_dropped():
    x = relay.var("x", shape=(3, 4))
    f = relay.Function([x], relay.exp(relay.annotation.stop_fusion(relay.add(x, relay.const(1.0)))))
    fused = fuse_ops(f)
    assert len(_primitive_calls(fused)) == 2
    assert "stop_fusion" not in relay.astext(fused)
    d = np.random.default_rng(2).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(relay.create_executor("graph", target="llvm").evaluate(f)(d).numpy(), np.exp(d + 1),
                               rtol=1e-6)


def test_softmax_with_an_elementwise_epilogue_is_one_kernel():
    x = relay.var("x", shape=(4, 7, 33))
    for axis in (-1, 1):
        f = relay.Function([x], relay.nn.log_softmax(x, axis=axis) * relay.const(2.0))
        assert len(_primitive_calls(fuse_ops(f))) == 1
        d = np.random.default_rng(3).standard_normal((4, 7, 33)).astype("float32")
        ref = 2 * (d - d.max(axis=axis, keepdims=True))
        ref -= 2 * np.log(np.exp(d - d.max(axis=axis, keepdims=True)).sum(axis=axis, keepdims=True))
        got = relay.create_executor("graph", target="llvm").evaluate(f)(d).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_a_target_argument_limit_splits_groups():
    xs = [relay.var(f"x{i}", shape=(4, 5)) for i in range(40)]
    out = relay.exp(xs[0] + relay.const(1.0))
    for x in xs[1:]:
        out = out + relay.exp(x + relay.const(1.0))
    f = relay.Function(xs, out)
    assert len(_primitive_calls(fuse_ops(f))) == 1  # no limit on the CPU
    split = fuse_ops(f, max_args=16)
    calls = _primitive_calls(split)
    assert len(calls) > 1 and all(len(c.op.params) + 1 <= 16 for c in calls)
    import tilecraft as tvm

    assert tvm.target.Target("opencl").max_function_args == 128 and tvm.target.Target("llvm").max_function_args == 0
    data = [np.random.default_rng(i).standard_normal((4, 5)).astype("float32") for i in range(40)]
    for fn in (f, split):  # the split groups compute the same numbers
        got = relay.create_executor("graph", target="llvm").evaluate(fn)(*data).numpy()
        np.testing.assert_allclose(got, sum(np.exp(d + 1) for d in data), rtol=1e-5)
