"""AlterOpLayout (CPU): conv2d -> NCHW16c conv with a packed kernel, dense -> packed-weight dense,
with the blocked layout carried between convolutions instead of converted back and forth."""

import re

import numpy as np
import pytest
from passes_ref import build_run, evaluate, ops_in, rand, run_passes

from tilecraft import relay
from tilecraft.relay.expr import Call, Constant
from tilecraft.relay.transform import AlterOpLayout, FoldConstant
from tilecraft.relay.transform.infer_type import RelayTypeError, infer_type
from tilecraft.relay.visitor import post_order

PASSES = [AlterOpLayout(), FoldConstant()]


def _runtime_transforms(g):
    """layout_transform calls left after folding (the constant ones became packed weights)."""
    return [(n.attrs["src_layout"], n.attrs["dst_layout"]) for n in post_order(g)
            if isinstance(n, Call) and n.op.name == "layout_transform"]


def _residual_net():
    x = relay.var("x", shape=(1, 16, 6, 6))
    skip = relay.var("skip", shape=(1, 32, 6, 6))
    w1, w2 = relay.const(rand(32, 16, 3, 3)), relay.const(rand(32, 32, 1, 1, seed=1))
    b = relay.const(rand(32, seed=2))
    y = relay.nn.relu(relay.nn.bias_add(relay.nn.conv2d(x, w1, padding=(1, 1)), b))
    y = relay.nn.conv2d(y * relay.const(rand(32, 1, 1, seed=3)), w2) + skip  # per-channel scale, residual
    y = relay.nn.relu(y) * relay.const(0.5)
    return relay.Function([x, skip], relay.Tuple([y, relay.sum(y, axis=1)]))


def test_blocked_layout_flows_between_convolutions():
    f = _residual_net()
    g = run_passes(f, PASSES)
    ops = ops_in(g)
    assert "nn.conv2d" not in ops and ops.count("nn.contrib_conv2d_NCHWc") == 2
    # into the first conv, the residual input in, and one way back for both readers of y
    assert sorted(_runtime_transforms(g)) == [("NCHW", "NCHW16c"), ("NCHW", "NCHW16c"), ("NCHW16c", "NCHW")]
    kernels = [n.args[1] for n in post_order(g) if isinstance(n, Call) and n.op.name == "nn.contrib_conv2d_NCHWc"]
    assert all(isinstance(k, Constant) and k.data.ndim == 6 for k in kernels)
    inputs = {"x": rand(1, 16, 6, 6, seed=4), "skip": rand(1, 32, 6, 6, seed=5)}
    want = evaluate(f, inputs)
    for got, ref in zip(evaluate(g, inputs), want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    for got, ref in zip(build_run(f, inputs, opt_level=3), want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_channels_without_a_block_keep_nchw():
    x = relay.var("x", shape=(1, 20, 4, 4))  # 20 input channels: neither 16 nor 8 divides, too many for one block
    f = relay.Function([x], relay.nn.conv2d(x, relay.const(rand(16, 20, 3, 3))))
    assert ops_in(run_passes(f, PASSES)) == ["nn.conv2d"]
    # a weight that is a graph input is not packed either
    w = relay.var("w", shape=(16, 16, 1, 1))
    y = relay.var("y", shape=(1, 16, 4, 4))
    assert ops_in(run_passes(relay.Function([y, w], relay.nn.conv2d(y, w)), PASSES)) == ["nn.conv2d"]


def test_an_rgb_input_is_one_channel_block():
    """Few input channels (3, an image) become one block (NCHW3c): the blocked kernel beats the
    direct one on a network's first layer."""
    x = relay.var("x", shape=(1, 3, 9, 9))
    f = relay.Function([x], relay.nn.relu(relay.nn.conv2d(x, relay.const(rand(16, 3, 3, 3)), strides=(2, 2))))
    g = run_passes(f, PASSES)
    convs = [n for n in post_order(g) if isinstance(n, Call) and n.op.name == "nn.contrib_conv2d_NCHWc"]
    assert [n.attrs["data_layout"] for n in convs] == ["NCHW3c"]
    inputs = {"x": rand(1, 3, 9, 9, seed=2)}
    (got,) = build_run(f, inputs, opt_level=3)
    np.testing.assert_allclose(got, evaluate(f, inputs), rtol=1e-4, atol=1e-4)


def test_dense_gets_a_packed_weight():
    x = relay.var("x", shape=(2, 3, 24))
    w = relay.const(rand(32, 24))
    f = relay.Function([x], relay.nn.relu(relay.nn.dense(x, w)))
    g = run_passes(f, PASSES)
    assert ops_in(g) == ["nn.contrib_dense_pack", "nn.relu"]
    packed = g.body.args[0].args[1]
    assert isinstance(packed, Constant) and packed.data.shape == (2, 24, 16)
    a = rand(2, 3, 24, seed=1)
    want = evaluate(f, {"x": a})
    np.testing.assert_allclose(evaluate(g, {"x": a}), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(build_run(f, {"x": a}, opt_level=3)[0], want, rtol=1e-5, atol=1e-5)


def test_only_at_opt_level_3_on_a_cpu_target():
    x = relay.var("x", shape=(1, 8, 4, 4))
    f = relay.Function([x], relay.nn.conv2d(x, relay.const(rand(8, 8, 1, 1))))
    assert ops_in(run_passes(f, [AlterOpLayout()], opt_level=2)) == ["nn.conv2d"]
    assert "nn.contrib_conv2d_NCHWc" in ops_in(run_passes(f, [AlterOpLayout()], opt_level=3))
    from tilecraft import IRModule, transform

    with transform.PassContext(opt_level=3):  # no target: nothing to pick layouts for
        mod = AlterOpLayout()(IRModule.from_expr(infer_type(f)))
    assert ops_in(mod["main"]) == ["nn.conv2d"]


def test_pooling_runs_in_the_blocked_layout():
    """ResNet's stem and head: conv -> relu -> max_pool (padded, strided, ceil_mode) -> conv ->
    avg_pool -> adaptive and global average pools -> flatten.  The pools take the conv's
    NCHW16c as it is (no transforms around them); one transform back, at the flatten."""
    x = relay.var("x", shape=(1, 3, 17, 17))
    y = relay.nn.relu(relay.nn.conv2d(x, relay.const(rand(16, 3, 3, 3)), padding=(1, 1)))
    y = relay.nn.max_pool2d(y, pool_size=(3, 3), strides=(2, 2), padding=(1, 1), ceil_mode=True)
    y = relay.nn.conv2d(y, relay.const(rand(32, 16, 1, 1, seed=1)))
    y = relay.nn.avg_pool2d(y, pool_size=(2, 2), strides=(1, 1), padding=(1, 1), count_include_pad=False)
    a = relay.nn.adaptive_avg_pool2d(y, output_size=(3, 2))
    g_ = relay.nn.global_max_pool2d(y)
    f = relay.Function([x], relay.Tuple([relay.nn.batch_flatten(g_), a]))
    g = run_passes(f, PASSES)
    pools = [n.attrs["layout"] for n in post_order(g) if isinstance(n, Call) and "pool2d" in n.op.name]
    assert pools == ["NCHW16c", "NCHW16c", "NCHW16c", "NCHW16c"]
    assert sorted(_runtime_transforms(g)) == [("NCHW", "NCHW3c"), ("NCHW16c", "NCHW"), ("NCHW16c", "NCHW")]
    inputs = {"x": rand(1, 3, 17, 17, seed=6)}
    want = build_run(f, inputs, opt_level=2)  # no AlterOpLayout below opt_level 3
    for got, ref in zip(build_run(f, inputs, opt_level=3), want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_grouped_convolutions_run_blocked():
    """RegNet's grouped 3x3 (group width 16 and 8, strided) and a group too narrow for a block:
    blocked where a block divides every group's channels, NCHW otherwise; same numbers."""
    x = relay.var("x", shape=(1, 32, 9, 9))
    y = relay.nn.relu(relay.nn.conv2d(x, relay.const(rand(32, 32, 1, 1)), channels=32))
    y = relay.nn.conv2d(y, relay.const(rand(32, 16, 3, 3, seed=1)), padding=(1, 1), groups=2, channels=32)
    y = relay.nn.conv2d(y, relay.const(rand(64, 8, 3, 3, seed=2)), strides=(2, 2), padding=(1, 1), groups=4,
                        channels=64)  # 8 in, 16 out per group: blocks of 8
    z = relay.nn.conv2d(y, relay.const(rand(64, 4, 3, 3, seed=3)), padding=(1, 1), groups=16, channels=64)
    f = relay.Function([x], relay.nn.relu(z) + relay.const(1.0))
    g = run_passes(f, PASSES)
    convs = [(n.attrs["groups"], n.attrs["data_layout"]) for n in post_order(g)
             if isinstance(n, Call) and n.op.name == "nn.contrib_conv2d_NCHWc"]
    assert convs == [(1, "NCHW16c"), (2, "NCHW16c"), (4, "NCHW8c")]
    assert ops_in(g).count("nn.conv2d") == 1  # 4 channels per group: no block divides it
    inputs = {"x": rand(1, 32, 9, 9, seed=4)}
    want = build_run(f, inputs, opt_level=2)
    for got, ref in zip(build_run(f, inputs, opt_level=3), want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def _lstm_reference(xw, w_hh, b_hh, h, c):
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    ys = []
    for x in xw:
        i, f, g, o = np.split(x + h @ w_hh.T + b_hh, 4, axis=1)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        ys.append(h)
    return np.stack(ys)


def test_a_recurrent_weight_is_packed_once_at_compile_time():
    """nn.recurrent's constant w_hh becomes the column panels its kernel reads (w_hh^T when no block
    divides the hidden size), folded at compile time; a w_hh computed at run time is packed inside
    the kernel; the numbers are the same."""
    T, B = 5, 2
    for hidden, layout, packed_shape in ((32, "NC32n", (4, 32, 32)), (20, "CN", (20, 80))):
        xw, h0, c0 = relay.var("xw", shape=(T, B, 4 * hidden)), relay.var("h0", shape=(B, hidden)), \
            relay.var("c0", shape=(B, hidden))
        w, b = rand(4 * hidden, hidden, seed=1) * 0.3, rand(4 * hidden, seed=2)
        wv = relay.var("w", shape=(4 * hidden, hidden))
        f = relay.Function([xw, h0, c0], relay.nn.recurrent(xw, relay.const(w), relay.const(b), h0, c0)[0])
        g = run_passes(f, PASSES)
        (call,) = [n for n in post_order(g) if isinstance(n, Call) and n.op.name == "nn.recurrent"]
        assert call.attrs["weight_layout"] == layout
        assert isinstance(call.args[1], Constant) and call.args[1].data.shape == packed_shape
        unpacked = relay.Function([xw, h0, c0, wv], relay.nn.recurrent(xw, wv, relay.const(b), h0, c0)[0])
        (call,) = [n for n in post_order(run_passes(unpacked, PASSES)) if isinstance(n, Call)
                   and n.op.name == "nn.recurrent"]
        assert call.attrs["weight_layout"] == "NC"
        inputs = {"xw": rand(T, B, 4 * hidden, seed=3), "h0": rand(B, hidden, seed=4), "c0": rand(B, hidden, seed=5)}
        want = _lstm_reference(inputs["xw"], w, b, inputs["h0"], inputs["c0"])
        np.testing.assert_allclose(build_run(f, inputs)[0], want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(build_run(unpacked, {**inputs, "w": w})[0], want, rtol=1e-5, atol=1e-5)


def test_a_recurrent_weight_layout_is_checked():
    xw, h0, c0 = relay.var("xw", shape=(3, 1, 64)), relay.var("h0", shape=(1, 16)), relay.var("c0", shape=(1, 16))
    for layout, shape, message in (("NC16n", (64, 16), "must have shape (4, 16, 16)"),
                                   ("NC7n", (64, 16), "weight_layout must be")):
        w = relay.var("w", shape=shape)
        f = relay.Function([xw, h0, c0, w], relay.nn.recurrent(xw, w, relay.const(rand(64)), h0, c0,
                                                               weight_layout=layout)[0])
        with pytest.raises(RelayTypeError, match=re.escape(message)):
            run_passes(f, [])
