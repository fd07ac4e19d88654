"""optimization_passes(): the graph pipeline of relay.build; every pass keeps the numbers."""

import numpy as np
import pytest
from passes_ref import build_run_or_skip, evaluate, rand

from tilecraft import relay
from tilecraft.relay.transform import optimization_passes

ORDER = [("SimplifyInference", 0), ("Legalize", 0), ("SinkBatchReshape", 2), ("FoldConstant", 2), ("FoldScaleAxis", 3),
         ("EliminateCommonSubexpr", 3), ("DeadCodeElimination", 1), ("AlterOpLayout", 3), ("FoldConstant", 2)]


def test_order_and_levels():
    assert [(p.name, p.opt_level) for p in optimization_passes()] == ORDER


def _net():
    x = relay.var("x", shape=(2, 16, 5, 5))
    stats = [relay.const(rand(16, seed=s)) for s in (1, 2, 3)] + [relay.const(np.abs(rand(16, seed=4)) + 0.5)]
    y = relay.nn.conv2d(x, relay.const(rand(16, 16, 3, 3)), padding=(1, 1))
    y = relay.nn.relu(relay.nn.batch_norm(y, *stats)[0])
    z = relay.nn.relu(relay.nn.batch_norm(y, *stats)[0])  # the same batch norm twice: CSE shares the scale
    return relay.Function([x], relay.Tuple([y + z, relay.exp(relay.const(rand(16, seed=9))) * relay.const(2.0)]))


@pytest.mark.parametrize("disabled", [None, *sorted({n for n, _ in ORDER})])
def test_each_pass_keeps_the_outputs(disabled):
    f = _net()
    a = rand(2, 16, 5, 5, seed=7)
    want = evaluate(f, {"x": a})
    got = build_run_or_skip(f, {"x": a}, opt_level=3, disabled=[disabled] if disabled else [])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
