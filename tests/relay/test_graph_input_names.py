"""The deployed graph sets inputs by name: a repeated name is numbered (with a warning), lifted
constants avoid users' names."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor


def test_two_parameters_with_one_name_are_numbered():
    """Classic Relay allows distinct variables of one name (apache/tvm's FuseOps tests build such
    graphs); the graph names the second x_1 and says so."""
    x, y = relay.var("x", shape=(2, 3)), relay.var("x", shape=(2, 3))
    with pytest.warns(UserWarning, match="several inputs are named 'x'; the graph names this one x_1"):
        lib = relay.build(tvm.IRModule.from_expr(relay.Function([x, y], relay.subtract(x, y))), target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    a, b = np.random.rand(2, 3).astype("float32"), np.random.rand(2, 3).astype("float32")
    m.set_input("x", a)
    m.set_input("x_1", b)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), a - b, rtol=1e-6)


def test_a_parameter_named_like_a_lifted_constant_keeps_its_value():
    p0 = relay.var("p0", shape=(2, 3))
    bias = np.random.rand(2, 3).astype("float32")
    lib = relay.build(tvm.IRModule.from_expr(relay.Function([p0], relay.add(p0, relay.const(bias)))), target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    x = np.random.rand(2, 3).astype("float32")
    m.set_input("p0", x)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), x + bias, rtol=1e-6)
