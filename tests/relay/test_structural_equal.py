"""tvm.ir.structural_equal as classic pass tests use it (expected graph vs. pass output), and the
defects found running classic FuseOps tests: relay.build of an already fused module, reductions of a
0-d tensor, `tir.IntImm("int32", 1)` (dtype first)."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay, te
from tilecraft.contrib import graph_executor
from tilecraft.relay import transform


def _graph(name="x"):
    x = relay.var(name, shape=(10, 20))
    return relay.Function([x], relay.squeeze(relay.exp(relay.add(x, relay.const(1, "float32")))))


def _typed(f):
    return transform.InferType()(tvm.IRModule.from_expr(f))["main"]


def test_bound_variables_match_by_position_free_ones_by_identity():
    assert tvm.ir.structural_equal(_graph("x"), _graph("renamed"))  # alpha-equivalent
    a, b = relay.var("a", shape=(2,)), relay.var("a", shape=(2,))
    assert not tvm.ir.structural_equal(relay.exp(a), relay.exp(b))
    assert tvm.ir.structural_equal(relay.exp(a), relay.exp(b), map_free_vars=True)
    c = relay.var("c", shape=(3,))
    assert not tvm.ir.structural_equal(relay.exp(a), relay.exp(c), map_free_vars=True)  # types differ
    assert not tvm.ir.structural_equal(relay.add(a, relay.const(1.0)), relay.add(a, relay.const(2.0)))
    with pytest.raises(ValueError, match="different constant data"):
        tvm.ir.assert_structural_equal(relay.add(a, relay.const(1.0)), relay.add(a, relay.const(2.0)))


def test_fuse_ops_output_equals_the_classic_expected_graph():
    fused = transform.FuseOps()(tvm.IRModule.from_expr(_typed(_graph())))["main"]
    p = relay.var("p", shape=(10, 20))
    inner = relay.Function([p], relay.squeeze(relay.exp(relay.add(p, relay.const(1, "float32")))))
    inner = inner.with_attr("Primitive", tvm.tir.IntImm("int32", 1))  # classic argument order
    x = relay.var("x", shape=(10, 20))
    assert tvm.ir.structural_equal(fused, _typed(relay.Function([x], relay.Call(inner, [x]))))


def test_tir_loops_compare_by_structure():
    def lowered():
        A = te.placeholder((8,), name="A")
        B = te.compute((8,), lambda i: A[i] * 2.0, name="B")
        return tvm.lower(te.create_schedule(B.op), [A, B])["main"]

    assert tvm.ir.structural_equal(lowered().body.loop_var, lowered().body.loop_var) is False
    assert tvm.ir.structural_equal(lowered(), lowered())  # buffers, loop variables matched


def test_building_an_already_fused_module_and_reducing_a_0d_tensor():
    x = relay.var("x", shape=(), dtype="int32")
    f = relay.Function([x], relay.min(relay.less(x, relay.const(10, "int32"))))
    mod = transform.FuseOps(fuse_opt_level=2)(transform.InferType()(tvm.IRModule.from_expr(f)))
    lib = relay.build(mod, "llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for v, want in ((3, True), (12, False)):
        m.set_input("x", np.array(v, "int32"))
        m.run()
        assert bool(m.get_output(0).numpy()) is want


def test_intimm_takes_either_argument_order():
    assert tvm.tir.IntImm("int32", 7).value == 7 == tvm.tir.IntImm(7, "int32").value
    assert tvm.tir.FloatImm("float32", 0.5).dtype == "float32"
