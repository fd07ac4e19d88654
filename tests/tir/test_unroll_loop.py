"""unroll_loop: explicit replication, annotation-only unrolling, auto-unroll budgets; same numbers."""

import os
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))

from tir_interp import run  # noqa: E402

from tilecraft.ir import expr as E  # noqa: E402
from tilecraft.ir.functor import post_order_visit  # noqa: E402
from tilecraft.tir.stmt import Allocate, BufferStore, For, ForKind, IfThenElse, PrimFunc, seq  # noqa: E402
from tilecraft.tir.transform.unroll_loop import MAX_EXPLICIT_STATEMENTS, UNROLL_FULL, unroll_loop  # noqa: E402

S, U = ForKind.SERIAL, ForKind.UNROLLED


def loops(stmt):
    """The For loops of a loop chain, outermost first."""
    found = []
    post_order_visit(stmt, lambda n: found.append(n) if isinstance(n, For) else None)
    return found[::-1]


def stores(stmt):
    found = []
    post_order_visit(stmt, lambda n: found.append(n) if isinstance(n, BufferStore) else None)
    return found


def same_numbers(f, g, n, m=None, extra=()):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype("float32")
    outs = []
    for fn in (f, g):
        b = np.zeros(m or n, "float32")
        run(fn, a, b, *extra)
        outs.append(b)
    np.testing.assert_array_equal(outs[1], outs[0])
    return outs[1]


def nest(extents, kinds, annotations=(), name="A"):
    """B[flat index] = A[flat index] * 2 + (sum of loop vars) over a nest of loops."""
    n = int(np.prod(extents))
    A = E.decl_buffer((n,), "float32", "A")
    B = E.decl_buffer((n,), "float32", "B")
    vs = [E.Var(f"i{k}") for k in range(len(extents))]
    flat = E.const(0)
    for v, e in zip(vs, extents):
        flat = flat * e + v
    body = BufferStore(B, A[flat] * 2.0 + E.cast(sum(vs[1:], vs[0]), "float32"), (flat,))
    for k in reversed(range(len(extents))):
        body = For(vs[k], E.const(0), E.const(extents[k]), kinds[k], body,
                   annotations=annotations if k == 0 else ())
    return PrimFunc((A, B), body), n


def test_unroll_kind_is_replicated_in_order():
    f, n = nest([3, 4], [S, U])
    g = unroll_loop(f)
    (outer,) = loops(g.body)
    assert outer.kind == S and len(outer.body.seq) == 4
    # i1 substituted by 0, 1, 2, 3 and folded: the stores' indices are i0 * 4 + const
    idx = [s.indices[0] for s in outer.body.seq]
    assert isinstance(idx[0], E.Mul) and [x.b.value for x in idx[1:]] == [1, 2, 3]
    same_numbers(f, g, n)


def test_non_explicit_unroll_keeps_an_annotated_loop():
    f, n = nest([3, 4], [S, U])
    g = unroll_loop(f, explicit=False)
    inner = loops(g.body)[1]
    assert inner.kind == S and UNROLL_FULL in inner.annotations
    same_numbers(f, g, n)


def test_unroll_kind_with_symbolic_extent_becomes_serial():
    A = E.decl_buffer((8,), "float32", "A")
    B = E.decl_buffer((8,), "float32", "B")
    i, m = E.Var("i"), E.Var("m")
    f = PrimFunc((A, B, m), For(i, E.const(0), m, U, BufferStore(B, A[i], (i,))))
    g = unroll_loop(f)
    assert loops(g.body)[0].kind == S
    same_numbers(f, g, 8, extra=(5,))


def test_auto_unroll_budget_from_pragma():
    """A budget of 16 inside the annotated loop unrolls 4x4 but not 4x8; the pragma loop stays."""
    ann = (("pragma_auto_unroll_max_step", 16),)
    f, n = nest([2, 4, 4], [S, S, S], ann)
    g = unroll_loop(f)
    assert [x.loop_var.name for x in loops(g.body)] == ["i0"] and len(stores(g.body)) == 16
    same_numbers(f, g, n)

    f, n = nest([2, 4, 8], [S, S, S], ann)
    g = unroll_loop(f)
    assert [x.loop_var.name for x in loops(g.body)] == ["i0", "i1"] and len(stores(g.body)) == 8
    same_numbers(f, g, n)


def test_auto_unroll_with_explicit_zero_annotates():
    ann = (("pragma_auto_unroll_max_step", 64), ("pragma_unroll_explicit", 0))
    f, n = nest([2, 4, 4], [S, S, S], ann)
    g = unroll_loop(f)
    outer, mid, inner = loops(g.body)
    assert UNROLL_FULL not in outer.annotations
    assert UNROLL_FULL in mid.annotations and UNROLL_FULL in inner.annotations
    same_numbers(f, g, n)


def test_global_auto_max_step():
    f, n = nest([3, 5], [S, S])
    g = unroll_loop(f, auto_max_step=5)
    assert [x.loop_var.name for x in loops(g.body)] == ["i0"]
    assert not loops(unroll_loop(f, auto_max_step=15).body)
    same_numbers(f, g, n)


def test_explicit_unrolling_is_capped():
    f, n = nest([MAX_EXPLICIT_STATEMENTS + 1], [U])
    g = unroll_loop(f)
    (only,) = loops(g.body)
    assert UNROLL_FULL in only.annotations
    same_numbers(f, g, n)


def test_allocate_inside_is_not_replicated():
    A = E.decl_buffer((4,), "float32", "A")
    B = E.decl_buffer((4,), "float32", "B")
    T = E.decl_buffer((1,), "float32", "T", scope="local")
    i = E.Var("i")
    zero = (E.const(0),)
    body = Allocate(T, seq(BufferStore(T, A[i] + 1.0, zero), BufferStore(B, T[zero], (i,))))
    f = PrimFunc((A, B), For(i, E.const(0), E.const(4), U, body))
    g = unroll_loop(f)
    assert UNROLL_FULL in loops(g.body)[0].annotations
    same_numbers(f, g, 4)


def test_constant_guards_fold_away():
    A = E.decl_buffer((6,), "float32", "A")
    B = E.decl_buffer((6,), "float32", "B")
    i = E.Var("i")
    body = IfThenElse(i * 2 < 5, BufferStore(B, A[i], (i,)), BufferStore(B, -A[i], (i,)))
    f = PrimFunc((A, B), For(i, E.const(0), E.const(6), U, body))
    g = unroll_loop(f)
    assert not loops(g.body) and len(stores(g.body)) == 6
    found = []
    post_order_visit(g.body, lambda x: found.append(x) if isinstance(x, IfThenElse) else None)
    assert not found
    out = same_numbers(f, g, 6)
    a = np.random.default_rng(6).standard_normal(6).astype("float32")
    np.testing.assert_array_equal(out, np.where(np.arange(6) < 3, a, -a))


@settings(max_examples=40, deadline=None)
@given(extents=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       kinds=st.lists(st.sampled_from([S, U]), min_size=3, max_size=3),
       step=st.sampled_from([0, 4, 16, 64]), explicit=st.booleans(), lo=st.integers(0, 2))
def test_random_nests_agree(extents, kinds, step, explicit, lo):
    n = int(np.prod(extents))
    A = E.decl_buffer((n + lo,), "float32", "A")
    B = E.decl_buffer((n + lo,), "float32", "B")
    vs = [E.Var(f"i{k}") for k in range(len(extents))]
    flat = E.const(0)
    for v, e in zip(vs, extents):
        flat = flat * e + (v - lo)
    flat = flat + lo
    body = BufferStore(B, B[flat] + A[flat] * E.cast(vs[-1], "float32"), (flat,))
    for k in reversed(range(len(extents))):
        body = For(vs[k], E.const(lo), E.const(extents[k]), kinds[k], body)
    f = PrimFunc((A, B), body)
    g = unroll_loop(f, auto_max_step=step, explicit=explicit)
    assert all(x.kind == S for x in loops(g.body))
    same_numbers(f, g, n + lo)
