"""FoldScaleAxis: a per-channel scale after conv2d / dense moves into the weight."""

import numpy as np
import pytest
from passes_ref import build_run, build_run_or_skip, evaluate, ops_in, rand, run_passes

from tilecraft import relay
from tilecraft.relay.expr import Call, Constant
from tilecraft.relay.transform import FoldConstant, FoldScaleAxis, SimplifyInference
from tilecraft.relay.visitor import post_order

BN_FOLD = [SimplifyInference(), FoldConstant(), FoldScaleAxis(), FoldConstant()]


def _conv_bn_relu(cin=8, cout=16):
    x = relay.var("x", shape=(1, cin, 6, 6))
    w = relay.const(rand(cout, cin, 3, 3))
    stats = [relay.const(rand(cout, seed=1)), relay.const(rand(cout, seed=2)), relay.const(rand(cout, seed=3)),
             relay.const(np.abs(rand(cout, seed=4)) + 0.5)]
    y = relay.nn.batch_norm(relay.nn.conv2d(x, w, padding=(1, 1)), *stats)[0]
    return relay.Function([x], relay.nn.relu(y))


def test_batch_norm_folds_into_conv_weight():
    f = _conv_bn_relu()
    g = run_passes(f, BN_FOLD)
    assert ops_in(g) == ["nn.conv2d", "add", "nn.relu"]
    conv = next(n for n in post_order(g) if isinstance(n, Call) and n.op.name == "nn.conv2d")
    assert isinstance(conv.args[1], Constant)
    a = rand(1, 8, 6, 6, seed=9)
    want = evaluate(f, {"x": a})
    np.testing.assert_allclose(evaluate(g, {"x": a}), want, rtol=1e-4, atol=1e-4)
    for disabled in ((), ("FoldScaleAxis",)):  # opt_level 3 compiles conv2d as NCHW16c
        np.testing.assert_allclose(build_run(f, {"x": a}, disabled=disabled)[0], want, rtol=1e-4, atol=1e-4)


def test_dense_chain_with_bias_add_and_scales():
    x = relay.var("x", shape=(3, 12))
    w = relay.const(rand(8, 12))
    s1, t, s2 = relay.const(rand(8, seed=1)), relay.const(rand(8, seed=2)), relay.const(rand(1, 8, seed=3))
    y = relay.nn.bias_add(relay.nn.dense(x, w), relay.const(rand(8, seed=4)), axis=-1)
    f = relay.Function([x], relay.nn.relu((y * s1 + t) * s2) * relay.const(2.0))
    g = run_passes(f, [FoldScaleAxis(), FoldConstant()])
    assert ops_in(g) == ["nn.dense", "nn.bias_add", "add", "nn.relu", "multiply"]  # relu blocks the last one
    a = rand(3, 12, seed=5)
    np.testing.assert_allclose(evaluate(g, {"x": a}), evaluate(f, {"x": a}), rtol=1e-5, atol=1e-5)


def _count_mul(g):
    return ops_in(g).count("multiply")


def test_not_folded_when_scale_is_not_per_channel():
    x = relay.var("x", shape=(1, 4, 5, 5))
    conv = relay.nn.conv2d(x, relay.const(rand(8, 4, 1, 1)))
    f = relay.Function([x], conv * relay.const(rand(1, 1, 5, seed=1)))  # varies along W
    g = run_passes(f, [FoldScaleAxis()])
    assert _count_mul(g) == 1
    a = rand(1, 4, 5, 5, seed=2)
    np.testing.assert_allclose(evaluate(g, {"x": a}), evaluate(f, {"x": a}), rtol=1e-5)


def test_not_folded_when_conv_output_is_read_twice_or_weight_is_an_input():
    x = relay.var("x", shape=(1, 4, 5, 5))
    conv = relay.nn.conv2d(x, relay.const(rand(8, 4, 1, 1)))
    s = relay.const(rand(8, 1, 1, seed=1))
    assert _count_mul(run_passes(relay.Function([x], relay.Tuple([conv * s, conv])), [FoldScaleAxis()])) == 1
    w = relay.var("w", shape=(8, 4, 1, 1))
    assert _count_mul(run_passes(relay.Function([x, w], relay.nn.conv2d(x, w) * s), [FoldScaleAxis()])) == 1


@pytest.mark.parametrize("opt_level", [2, 3])
def test_pipeline_numbers_unchanged(opt_level):
    f = _conv_bn_relu(cin=16, cout=16)
    a = rand(1, 16, 6, 6, seed=3)
    got = build_run_or_skip(f, {"x": a}, opt_level=opt_level)[0]
    np.testing.assert_allclose(got, evaluate(f, {"x": a}), rtol=1e-4, atol=1e-4)
