"""tvm.ir.save_json / load_json: IR round-trips with shared nodes and variables kept, and a file
cannot make load_json create anything but tilecraft objects."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay, te


def _schedule():
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] * 2.0 + 1.0, name="B")
    s = te.create_schedule(B.op)
    s[B].split(B.op.axis[0], 8)
    return s, A, B


def test_primfunc_and_expression_round_trip():
    s, A, B = _schedule()
    f = tvm.lower(s, [A, B])["main"]
    g = tvm.ir.load_json(tvm.ir.save_json(f))
    assert tvm.ir.structural_equal(f, g) and str(f) == str(g)
    n = te.var("n")
    e = tvm.ir.load_json(tvm.ir.save_json(n * n + 1))
    assert e.a.a is e.a.b  # one variable, still one after loading


def test_schedule_round_trip_builds_and_computes():
    s, A, B = _schedule()
    s2 = tvm.ir.load_json(tvm.ir.save_json(s))
    assert isinstance(s2, te.Schedule) and str(s2.outputs[0].body) == str(s.outputs[0].body)
    B2 = s2.outputs[0].output(0)
    f = tvm.build(s2, [B2.op.input_tensors[0], B2], "llvm")
    a = np.random.default_rng(0).standard_normal(20).astype("float32")
    b = tvm.nd.empty((20,))
    f(tvm.nd.array(a), b)
    np.testing.assert_allclose(b.numpy(), a * 2 + 1, rtol=1e-6)


def test_relay_function_with_constants_round_trips():
    x = relay.var("x", shape=(2, 3))
    w = np.random.default_rng(1).standard_normal((2, 3)).astype("float32")
    f = relay.Function([x], relay.nn.relu(relay.add(x, relay.const(w))))
    g = tvm.ir.load_json(tvm.ir.save_json(f))
    assert tvm.ir.structural_equal(f, g)
    out = relay.create_executor("graph").evaluate(g)(w)
    np.testing.assert_allclose(out.numpy(), np.maximum(2 * w, 0), rtol=1e-6)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(TypeError, match="not tilecraft IR"):
        tvm.ir.save_json({"f": len})
    with pytest.raises(ValueError, match="refusing to create 'os:system'"):
        tvm.ir.load_json('{"format": "tilecraft-ir-json/1", "root": {"ref": 0}, '
                         '"nodes": [{"type": "os:system", "attrs": {}}]}')
    with pytest.raises(ValueError, match="not written by tilecraft"):
        tvm.ir.load_json('{"a": 1}')
    with pytest.raises(ValueError, match="malformed"):
        tvm.ir.load_json('{"format": "tilecraft-ir-json/1", "root": {"ref": 3}, "nodes": []}')
