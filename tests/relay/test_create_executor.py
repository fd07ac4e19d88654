"""relay.create_executor and relay.analysis, as classic tests and tutorials use them."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay


def _func():
    x, y = relay.var("x", shape=(2, 3)), relay.var("y", shape=(2, 3))
    return relay.Function([x, y], relay.Tuple([relay.add(x, y), relay.multiply(x, y)])), x, y


@pytest.mark.parametrize("kind", ["debug", "graph", "vm"])
def test_evaluate_main_with_positional_and_keyword_inputs(kind):
    f, _, _ = _func()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)).astype("float32"), rng.standard_normal((2, 3)).astype("float32")
    run = relay.create_executor(kind, mod=tvm.IRModule.from_expr(f), device=tvm.cpu(0), target="llvm").evaluate()
    s, p = run(a, y=b)
    np.testing.assert_allclose(s.numpy(), a + b, rtol=1e-6)
    np.testing.assert_allclose(p.numpy(), a * b, rtol=1e-6)


def test_evaluate_expressions_binds_and_params():
    x = relay.var("x", shape=(3,))
    w = relay.var("w", shape=(3,))
    data = np.random.default_rng(1).standard_normal(3).astype("float32")
    ex = relay.create_executor("graph", target="llvm", params={"w": data})
    out = ex.evaluate(relay.Function([x, w], relay.subtract(x, w)))(data * 3)
    np.testing.assert_allclose(out.numpy(), data * 2, rtol=1e-6)
    closed = ex.evaluate(relay.exp(x), binds={x: data})  # a closed expression: its value
    np.testing.assert_allclose(closed.numpy(), np.exp(data), rtol=1e-6)
    with pytest.raises(ValueError, match=r"free variables \['x'\]"):
        ex.evaluate(relay.exp(x))
    with pytest.raises(ValueError, match="unknown kind 'jit'"):
        relay.create_executor("jit")


def test_free_bound_and_all_vars():
    f, x, y = _func()
    z = relay.var("z", shape=(2, 3))
    body = relay.add(f.body.fields[0], z)
    assert relay.analysis.free_vars(body) == [x, y, z]
    assert relay.analysis.free_vars(relay.Function([x, y, z], body)) == []
    assert relay.analysis.bound_vars(f) == [x, y] and relay.analysis.all_vars(f) == [x, y]


def test_function_with_attr_is_a_copy():
    x = relay.var("x", shape=(2,))
    f = relay.Function([x], relay.exp(x))
    g = f.with_attr("Primitive", 1).with_attr({"Compiler": "none"})
    assert g.attrs == {"Primitive": 1, "Compiler": "none"} and f.attrs == {} and g.body is f.body


def test_post_order_visit_sees_each_node_once_producers_first():
    x = relay.var("x", shape=(2,))
    y = relay.exp(x)
    seen = []
    relay.analysis.post_order_visit(relay.add(y, y), seen.append)
    assert seen[0] is x and seen[1] is y and len(seen) == 3


def test_classic_spellings_tupletype_from_a_list_constant_value_and_contrib_attribute():
    t = relay.TensorType((2,), "float32")
    assert relay.TupleType([t, t]) == relay.TupleType((t, t))
    value = relay.create_executor().evaluate(relay.const(np.float32(2.5)))
    assert float(value.numpy()) == 2.5
    assert tvm.contrib.graph_executor.GraphModule is not None  # reachable after `import tvm.relay`
