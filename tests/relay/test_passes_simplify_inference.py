"""SimplifyInference: batch_norm becomes x * scale + shift (and folds to two constants)."""

import numpy as np
import pytest
from passes_ref import build_run, evaluate, ops_in, rand, run_passes

from tilecraft import relay
from tilecraft.relay.expr import Call, Constant
from tilecraft.relay.transform import FoldConstant, SimplifyInference
from tilecraft.relay.visitor import post_order


def _bn_inputs(c, seed=0):
    return {"g": rand(c, seed=seed), "b": rand(c, seed=seed + 1), "m": rand(c, seed=seed + 2),
            "v": np.abs(rand(c, seed=seed + 3)) + 0.1}


def _numpy_bn(x, p, axis, eps, center=True, scale=True):
    shape = [1] * x.ndim
    shape[axis] = -1
    y = (x - p["m"].reshape(shape)) / np.sqrt(p["v"].reshape(shape) + eps)
    if scale:
        y = y * p["g"].reshape(shape)
    if center:
        y = y + p["b"].reshape(shape)
    return y


@pytest.mark.parametrize("shape,axis,center,scale", [((2, 8, 5, 5), 1, True, True), ((3, 6), -1, True, True),
                                                     ((2, 4, 3), 1, False, False)])
def test_batch_norm_becomes_arithmetic(shape, axis, center, scale):
    c = shape[axis]
    x = relay.var("x", shape=shape)
    ps = [relay.var(n, shape=(c,)) for n in "gbmv"]
    bn = relay.nn.batch_norm(x, *ps, axis=axis, epsilon=1e-3, center=center, scale=scale)
    f = relay.Function([x, *ps], relay.nn.relu(bn[0]))
    g = run_passes(f, [SimplifyInference()], opt_level=0)
    assert "nn.batch_norm" not in ops_in(g)
    inputs = {"x": rand(*shape, seed=7), **_bn_inputs(c)}
    want = np.maximum(_numpy_bn(inputs["x"], inputs, axis % len(shape), 1e-3, center, scale), 0)
    np.testing.assert_allclose(evaluate(g, inputs), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(build_run(f, inputs, opt_level=0)[0], want, rtol=1e-5, atol=1e-5)


def test_mean_and_variance_fields_pass_through():
    x = relay.var("x", shape=(2, 4))
    ps = [relay.var(n, shape=(4,)) for n in "gbmv"]
    bn = relay.nn.batch_norm(x, *ps, axis=1)
    f = relay.Function([x, *ps], relay.Tuple([bn[0], bn[1], bn[2]]))
    g = run_passes(f, [SimplifyInference()], opt_level=0)
    assert g.body.fields[1] is g.params[3] and g.body.fields[2] is g.params[4]
    inputs = {"x": rand(2, 4), **_bn_inputs(4)}
    outs = evaluate(g, inputs)
    np.testing.assert_allclose(outs[0], _numpy_bn(inputs["x"], inputs, 1, 1e-5), rtol=1e-5, atol=1e-5)


def test_constant_statistics_fold_to_one_scale_and_one_shift():
    x = relay.var("x", shape=(1, 16, 4, 4))
    p = _bn_inputs(16, seed=3)
    bn = relay.nn.batch_norm(x, *(relay.const(p[k]) for k in "gbmv"))
    f = relay.Function([x], bn[0])
    g = run_passes(f, [SimplifyInference(), FoldConstant()])
    calls = [n for n in post_order(g) if isinstance(n, Call)]
    assert [c.op.name for c in calls] == ["multiply", "add"]
    assert all(isinstance(c.args[1], Constant) and c.args[1].data.shape == (16, 1, 1) for c in calls)
    a = rand(1, 16, 4, 4, seed=1)
    np.testing.assert_allclose(evaluate(g, {"x": a}), _numpy_bn(a, p, 1, 1e-5), rtol=1e-5, atol=1e-5)


def test_dropout_is_identity():
    x = relay.var("x", shape=(2, 3))
    g = run_passes(relay.Function([x], relay.exp(relay.nn.dropout(x, 0.3))), [SimplifyInference()], opt_level=0)
    assert ops_in(g) == ["exp"]
