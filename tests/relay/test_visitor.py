"""Graph walks cost the graph's size: a mutator asked for many nodes of one graph (as FuseOps asks
for every group's inputs) walks each node once, not once per request."""

import numpy as np

from tilecraft import relay
from tilecraft.relay import visitor
from tilecraft.relay.transform.fuse_ops import fuse_ops
from tilecraft.relay.transform.infer_type import infer_type


def _long_chain(n):
    x = relay.var("x", shape=(4,))
    nodes, y = [], x
    for i in range(n):
        y = relay.add(y, relay.const(np.float32(i)))
        nodes.append(y)
    return x, nodes


def _count_children(monkeypatch):
    calls = [0]
    real = visitor.children

    def counting(e):
        calls[0] += 1
        return real(e)

    monkeypatch.setattr(visitor, "children", counting)
    return calls


def test_post_order_stops_at_visited_nodes():
    x, nodes = _long_chain(5)
    seen = {id(n) for n in visitor.post_order(nodes[2])}
    rest = visitor.post_order(nodes[4], seen)
    assert {id(n) for n in rest} == {id(nodes[3]), id(nodes[3].args[1]), id(nodes[4]), id(nodes[4].args[1])}
    assert rest[-1] is nodes[4]


def test_mutator_visiting_every_node_is_linear(monkeypatch):
    n = 2000
    x, nodes = _long_chain(n)
    calls = _count_children(monkeypatch)
    m = visitor.ExprMutator()
    for node in nodes:  # each request only walks what is new
        assert m.visit(node) is node
    assert calls[0] < 4 * n  # was n * n / 2 walks before


def test_fuse_ops_on_a_long_graph_is_linear(monkeypatch):
    # a chain of reductions: every one is its own group, each group asks for its input
    n = 600
    x = relay.var("x", shape=(4, 4))
    y = x
    for _ in range(n):
        y = relay.expand_dims(relay.sum(y, axis=[1]), axis=1) * relay.const(np.ones((4, 4), "float32"))
    func = infer_type(relay.Function([x], y))
    calls = _count_children(monkeypatch)
    fused = fuse_ops(func)
    assert calls[0] < 60 * n
    assert sum(1 for c in visitor.post_order(fused.body) if isinstance(c, relay.Call)) >= n


def test_infer_type_computes_each_type_relation_once(monkeypatch):
    from tilecraft.relay.op import transform as op_transform

    calls = [0]
    real = op_transform._placeholders  # what take's type relation (its topi compute) starts with

    def counting(types):
        calls[0] += 1
        return real(types)

    monkeypatch.setattr(op_transform, "_placeholders", counting)
    x = relay.var("x", shape=(2, 50, 3))
    outs = [relay.take(x, relay.const(i, "int64"), axis=1) for i in range(50)]
    outs.append(relay.take(x, relay.const(1, "int64"), axis=2))
    typed = infer_type(relay.Function([x], relay.Tuple(outs)))
    assert calls[0] == 2  # 50 identical signatures, then axis=2
    assert typed.body.fields[0].ty.shape == (2, 3) and typed.body.fields[-1].ty.shape == (2, 50)


def test_infer_type_keeps_typed_nodes_and_types_only_what_changed():
    x, nodes = _long_chain(50)
    typed = infer_type(relay.Function([x], nodes[-1]))
    assert infer_type(typed) is typed  # nothing rebuilt, nothing re-inferred
    body = relay.nn.relu(typed.body)  # a pass adds a node on top of a typed graph
    again = infer_type(relay.Function(typed.params, body))
    assert again.body.args[0] is typed.body and again.body.ty.shape == (4,)
