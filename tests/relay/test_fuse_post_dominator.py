"""FuseOps fuses along post-dominators, as classic Relay: a value read by several operators that
meet again is fused with all of them; a tuple read only by concatenate is fused with its fields."""

from __future__ import annotations

import numpy as np

import tilecraft as tvm
from tilecraft import relay
from tilecraft.relay.expr import Call, Function


def _groups(body, *params):
    mod = relay.transform.FuseOps(fuse_opt_level=2)(
        relay.transform.InferType()(tvm.IRModule.from_expr(relay.Function(list(params), body))))
    calls = []

    def walk(e):
        if isinstance(e, Call):
            if isinstance(e.op, Function) and all(e.op is not f for f in calls):
                calls.append(e.op)
            for a in e.args:
                walk(a)
        for f in getattr(e, "fields", ()):
            walk(f)

    walk(mod["main"].body)
    return mod, calls


def _run(mod, *arrays):
    lib = relay.build(mod, target="llvm")
    m = tvm.contrib.graph_executor.GraphModule(lib["default"](tvm.cpu()))
    for i, a in enumerate(arrays):
        m.set_input(i, a)
    m.run()
    return m.get_output(0).numpy()


def test_diamond_after_dense_is_one_kernel():
    """GELU written out: the dense output is read twice and the reads meet in the last multiply."""
    x, w = relay.var("x", shape=(4, 16)), relay.var("w", shape=(8, 16))
    d = relay.nn.dense(x, w)
    gelu = relay.multiply(relay.multiply(d, relay.const(0.5)),
                          relay.add(relay.const(1.0), relay.erf(relay.multiply(d, relay.const(0.7071067811865476)))))
    mod, fused = _groups(gelu, x, w)
    assert len(fused) == 1
    xs, ws = np.random.rand(4, 16).astype("float32"), np.random.rand(8, 16).astype("float32")
    ref = xs @ ws.T
    from math import erf
    expect = 0.5 * ref * (1 + np.vectorize(erf)(ref / np.sqrt(2)))
    np.testing.assert_allclose(_run(relay.transform.InferType()(tvm.IRModule.from_expr(
        relay.Function([x, w], gelu))), xs, ws), expect, rtol=1e-5, atol=1e-6)


def test_parallel_injective_branches_join():
    x = relay.var("x", shape=(10, 20))
    y = relay.add(x, relay.const(1.0))
    z = relay.squeeze(y)
    u = relay.transpose(y, axes=[0, 1])
    _, fused = _groups(relay.add(z, u), x)
    assert len(fused) == 1


def test_value_that_leaves_the_graph_is_not_fused_away():
    x = relay.var("x", shape=(8,))
    y = relay.exp(x)
    body = relay.Tuple([y, relay.add(y, relay.const(1.0))])
    _, fused = _groups(body, x)
    assert len(fused) == 2
