"""FoldConstant: constant subexpressions become constants, computed by one compile."""

import numpy as np
from passes_ref import build_run, evaluate, ops_in, rand, run_passes

from tilecraft import relay
from tilecraft.relay.expr import Constant
from tilecraft.relay.transform import FoldConstant
from tilecraft.relay.transform import fold_constant as fc


def _fold(f, **kw):
    before = fc.stats["builds"]
    g = run_passes(f, [FoldConstant()], **kw)
    return g, fc.stats["builds"] - before


def test_folds_every_constant_part_with_one_build():
    x = relay.var("x", shape=(4, 8))
    c1, c2, c3 = relay.const(rand(4, 8)), relay.const(rand(4, 8, seed=1)), relay.const(rand(8, seed=2))
    f = relay.Function([x], relay.Tuple([x + (c1 * c2 + relay.exp(c3)), relay.sqrt(relay.exp(c1)) * x,
                                         relay.negative(c2)]))
    g, builds = _fold(f)
    assert builds == 1
    assert sorted(ops_in(g)) == ["add", "multiply"]
    a = rand(4, 8, seed=5)
    want = evaluate(f, {"x": a})
    for got, ref in zip(evaluate(g, {"x": a}), want):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    # and through relay.build, with and without the pass
    for disabled in ((), ("FoldConstant",)):
        for got, ref in zip(build_run(f, {"x": a}, opt_level=2, disabled=disabled), want):
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_nothing_constant_means_no_build():
    x = relay.var("x", shape=(3,))
    g, builds = _fold(relay.Function([x], relay.exp(x) + x))
    assert builds == 0 and sorted(ops_in(g)) == ["add", "exp"]


def test_keeps_results_much_larger_than_their_inputs():
    x = relay.var("x", shape=(256, 256))
    col, row = relay.const(rand(256, 1)), relay.const(rand(1, 256, seed=1))
    big = relay.exp(col) * row  # 512 constant values -> 65536: stays a kernel
    f = relay.Function([x], x + big)
    g, builds = _fold(f)
    assert builds == 1  # exp(col) is still folded
    assert sorted(ops_in(g)) == ["add", "multiply"]
    mul = next(n for n in relay.visitor.post_order(g) if getattr(getattr(n, "op", None), "name", "") == "multiply")
    assert all(isinstance(a, Constant) for a in mul.args)
    a = rand(256, 256, seed=3)
    np.testing.assert_allclose(evaluate(g, {"x": a}), evaluate(f, {"x": a}), rtol=1e-5, atol=1e-6)


def test_tuple_fields_and_shared_constants():
    x = relay.var("x", shape=(2, 3))
    c = relay.const(rand(2, 3))
    s = c * c  # read by two consumers and by a tuple literal
    f = relay.Function([x], relay.Tuple([relay.Tuple([s + x, x])[0], s * x, relay.exp(s)]))
    g, builds = _fold(f)
    assert builds == 1 and sorted(ops_in(g)) == ["add", "multiply"]
    a = rand(2, 3, seed=1)
    for got, ref in zip(evaluate(g, {"x": a}), evaluate(f, {"x": a})):
        np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_respects_pass_context():
    x = relay.var("x", shape=(2,))
    f = relay.Function([x], x + relay.exp(relay.const(np.ones(2, "float32"))))
    assert "exp" in ops_in(_fold(f, disabled=["FoldConstant"])[0])
    assert "exp" in ops_in(_fold(f, opt_level=1)[0])
    assert "exp" not in ops_in(_fold(f, opt_level=2)[0])
