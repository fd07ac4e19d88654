"""DeadCodeElimination: unused lets go, let-bound values are inlined (shared, not copied)."""

import numpy as np
from passes_ref import evaluate, ops_in, rand

from tilecraft import relay
from tilecraft.relay.expr import Let
from tilecraft.relay.transform import DeadCodeElimination
from tilecraft.relay.transform.dead_code_elimination import dead_code_elimination
from tilecraft.relay.visitor import post_order


def _lets(g):
    return [n for n in post_order(g) if isinstance(n, Let)]


def test_unused_binding_removed_used_ones_inlined():
    x = relay.var("x", shape=(2, 3))
    dead = relay.var("dead", shape=(2, 3))
    once = relay.var("once", shape=(2, 3))
    twice = relay.var("twice", shape=(2, 3))
    body = relay.Let(twice, relay.exp(once), twice * twice + x)
    f = relay.Function([x], relay.Let(dead, relay.sqrt(x), relay.Let(once, x + x, body)))
    g = dead_code_elimination(f)  # (InferType first would give the lets fresh variables: a known bug)
    assert not _lets(g)
    assert sorted(ops_in(g)) == ["add", "add", "exp", "multiply"]  # exp computed once, read twice
    a = rand(2, 3)
    np.testing.assert_allclose(evaluate(g, {"x": a}), evaluate(f, {"x": a}), rtol=1e-6)


def test_inline_once_false_only_drops_dead_bindings():
    x = relay.var("x", shape=(4,))
    dead, used = relay.var("dead", shape=(4,)), relay.var("used", shape=(4,))
    f = relay.Function([x], relay.Let(dead, relay.exp(x), relay.Let(used, x * x, used + used)))
    g = dead_code_elimination(f, inline_once=False)
    assert [n.var for n in _lets(g)] == [used]
    a = rand(4)
    np.testing.assert_allclose(evaluate(g, {"x": a}), evaluate(f, {"x": a}))
    assert DeadCodeElimination().opt_level == 1
