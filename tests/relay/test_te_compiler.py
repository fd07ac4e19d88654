"""The TE compiler lowers structurally identical fused groups once: a 12-layer stack of the same
layer (different weights) builds one kernel per distinct group, and still computes every layer."""

import numpy as np

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.relay.backend import te_compiler


def test_identical_groups_are_lowered_once(monkeypatch):
    rng = np.random.default_rng(0)
    layers = 12
    x = relay.var("x", shape=(2, 16))
    weights = [rng.standard_normal((16, 16)).astype("float32") * 0.3 for _ in range(layers)]
    y = x
    for w in weights:
        y = relay.nn.relu(relay.nn.dense(y, relay.const(w)))
    lowered = []
    real = te_compiler.lower_group

    def counting(func, name, target):
        lowered.append(name)
        return real(func, name, target)

    monkeypatch.setattr(te_compiler, "lower_group", counting)
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(tvm.IRModule.from_expr(relay.Function([x], y)), target="llvm")
    # one dense+relu kernel for the 12 layers (and one weight-packing kernel, run by FoldConstant)
    assert sum("dense" in n for n in lowered) == 1 and len(lowered) <= 2, lowered
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    data = rng.standard_normal((2, 16)).astype("float32")
    m.set_input("x", data)
    m.run()
    ref = data
    for w in weights:
        ref = np.maximum(ref @ w.T, 0)
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_unrolled_loop_steps_share_one_kernel(monkeypatch):
    # s_t = a[:, t] * s_{t-1} + b[:, t], as a traced recurrence unrolls it: the steps differ only in
    # the constant index they read, which is passed to the kernel, not compiled into it
    rng = np.random.default_rng(1)
    steps = 24
    a, b = relay.var("a", shape=(4, steps, 8)), relay.var("b", shape=(4, steps, 8))
    s, outs = relay.const(np.zeros((4, 8), "float32")), []
    for t in range(steps):
        i = relay.const(np.array(t, "int64"))
        s = relay.take(a, i, axis=1) * s + relay.take(b, i, axis=1)
        outs.append(s)
    lowered = []
    real = te_compiler.lower_group
    monkeypatch.setattr(te_compiler, "lower_group", lambda f, name, tgt: lowered.append(name) or real(f, name, tgt))
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(tvm.IRModule.from_expr(relay.Function([a, b], relay.stack(outs, axis=1))), target="llvm")
    assert len(lowered) <= 3, lowered  # the step (twice: the first reads the zero state) and the stack
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    da, db = rng.standard_normal((4, steps, 8)).astype("float32"), rng.standard_normal((4, steps, 8)).astype("float32")
    m.set_input("a", da)
    m.set_input("b", db)
    m.run()
    ref, state = [], np.zeros((4, 8), "float32")
    for t in range(steps):
        state = da[:, t] * state + db[:, t]
        ref.append(state)
    np.testing.assert_allclose(m.get_output(0).numpy(), np.stack(ref, axis=1), rtol=1e-5, atol=1e-5)
