"""Modules of several relay functions (classic GlobalVar calls): typed through the callee, printed
as @f(...), compiled and run with the calls inlined; recursion and unknown callees are refused."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.relay.transform.infer_type import RelayTypeError


def _module():
    a, b = relay.var("a", shape=(2, 3)), relay.var("b", shape=(2, 3))
    mod = tvm.IRModule()
    f = relay.GlobalVar("scaled_add")
    mod[f] = relay.Function([a, b], relay.multiply(relay.add(a, b), relay.const(2.0)))
    x, y = relay.var("x", shape=(2, 3)), relay.var("y", shape=(2, 3))
    mod["main"] = relay.Function([x, y], relay.nn.relu(f(x, relay.Call(f, [y, y]))))
    return mod


def test_types_flow_through_calls_and_print():
    mod = relay.transform.InferType()(_module())
    assert mod["main"].body.checked_type == relay.TensorType((2, 3), "float32")
    assert {gv.name_hint for gv in mod.get_global_vars()} == {"scaled_add", "main"}
    assert mod.get_global_var("scaled_add") == "scaled_add"
    assert "@scaled_add(" in mod.astext()


def test_build_and_evaluate_inline_the_calls():
    mod = _module()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 3)).astype("float32"), rng.standard_normal((2, 3)).astype("float32")
    want = np.maximum((x + (y + y) * 2) * 2, 0)
    out = relay.create_executor("graph", mod=mod, target="llvm").evaluate()(x, y)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, "llvm")
    m = tvm.contrib.graph_executor.GraphModule(lib["default"](tvm.cpu()))
    m.set_input("x", x)
    m.set_input("y", y)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), want, rtol=1e-6)


def test_recursion_and_unknown_callees_are_refused():
    x = relay.var("x", shape=(2,))
    mod = tvm.IRModule()
    f, g = relay.GlobalVar("f"), relay.GlobalVar("g")
    mod[f] = relay.Function([x], g(x))
    mod[g] = relay.Function([x], f(x))
    mod["main"] = relay.Function([x], f(x))
    with pytest.raises(RelayTypeError, match=r"recursive relay functions are not supported \(@f -> @g -> @f\)"):
        relay.transform.InferType()(mod)
    lone = tvm.IRModule.from_expr(relay.Function([x], relay.GlobalVar("nowhere")(x)))
    with pytest.raises(RelayTypeError, match="module has no function named 'nowhere'"):
        relay.transform.InferType()(lone)
