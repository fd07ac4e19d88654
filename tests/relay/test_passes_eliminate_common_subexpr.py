"""EliminateCommonSubexpr: identical calls become one node."""

import numpy as np
from passes_ref import build_run, evaluate, ops_in, rand, run_passes

from tilecraft import relay
from tilecraft.relay.transform import EliminateCommonSubexpr


def test_duplicate_calls_merge():
    x, y = relay.var("x", shape=(4, 4)), relay.var("y", shape=(4, 4))
    a1 = relay.nn.relu(relay.add(x, y)) * relay.const(2.0)
    a2 = relay.nn.relu(relay.add(x, y)) * relay.const(2.0)  # same computation, separate nodes
    f = relay.Function([x, y], relay.Tuple([a1 - a2, relay.exp(a1), relay.exp(a2)]))
    g = run_passes(f, [EliminateCommonSubexpr()])
    assert sorted(ops_in(g)) == ["add", "exp", "multiply", "nn.relu", "subtract"]
    assert g.body.fields[1] is g.body.fields[2]
    inputs = {"x": rand(4, 4), "y": rand(4, 4, seed=1)}
    want = evaluate(f, inputs)
    for disabled in ((), ("EliminateCommonSubexpr",)):
        for got, ref in zip(build_run(f, inputs, disabled=disabled), want):
            np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_attributes_are_compared_by_value():
    x = relay.var("x", shape=(8,))
    same = relay.nn.leaky_relu(x, 0.1) + relay.nn.leaky_relu(x, 0.1)
    other = relay.nn.leaky_relu(x, 0.1) + relay.nn.leaky_relu(x, 0.2)
    g = run_passes(relay.Function([x], relay.Tuple([same, other])), [EliminateCommonSubexpr()])
    assert ops_in(g).count("nn.leaky_relu") == 2  # 0.1 once, 0.2 once
    big = np.arange(2000, dtype="float32")  # large constants: merged only when the same node
    h = run_passes(relay.Function([x], relay.Tuple([relay.Tuple([x]), relay.const(big), relay.const(big)])),
                   [EliminateCommonSubexpr()])
    assert h.body.fields[1] is not h.body.fields[2]


def test_fskip_and_opt_level():
    x = relay.var("x", shape=(3,))
    f = relay.Function([x], relay.exp(x) + relay.exp(x))
    assert ops_in(run_passes(f, [EliminateCommonSubexpr()], opt_level=2)).count("exp") == 2
    skip = EliminateCommonSubexpr(fskip=lambda c: c.op.name == "exp")
    assert ops_in(run_passes(f, [skip])).count("exp") == 2
    assert ops_in(run_passes(f, [EliminateCommonSubexpr()])).count("exp") == 1
