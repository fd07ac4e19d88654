"""vectorize_loop: vector code where the lanes are independent, a serial loop otherwise; same numbers."""

import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))

from tir_interp import run  # noqa: E402

from tilecraft.ir import expr as E  # noqa: E402
from tilecraft.ir.functor import post_order_visit  # noqa: E402
from tilecraft.tir.stmt import (  # noqa: E402
    Allocate,
    BufferStore,
    Evaluate,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    PrimFunc,
    seq,
)
from tilecraft.tir.transform.flatten_buffer import flatten_buffer  # noqa: E402
from tilecraft.tir.transform.vectorize_loop import vectorize_loop  # noqa: E402

V, S = ForKind.VECTORIZED, ForKind.SERIAL


def loop(v, extent, body, kind=S, lo=0):
    return For(v, E.convert(lo), E.convert(extent), kind, body)


def nodes(stmt, cls):
    found = []
    post_order_visit(stmt, lambda n: found.append(n) if isinstance(n, cls) else None)
    return found


def loops(stmt, kind=None):
    return [f for f in nodes(stmt, For) if kind is None or f.kind == kind]


def is_vector(stmt) -> bool:
    return any(E.Ramp is type(n) or isinstance(n, E.Broadcast) for n in nodes(stmt, E.PrimExpr))


def check_same(f, g, *args, seed=0):
    """Run f and g on the same random inputs (buffers in `args` are shapes) and compare."""
    rng = np.random.default_rng(seed)
    ins = [rng.standard_normal(a).astype("float32") if isinstance(a, tuple) else a for a in args]
    outs = []
    for fn in (f, g):
        bufs = [x.copy() if isinstance(x, np.ndarray) else x for x in ins]
        run(fn, *bufs)
        outs.append(bufs)
    for x, y in zip(*outs):
        if isinstance(x, np.ndarray):
            np.testing.assert_allclose(y, x, rtol=1e-6, atol=1e-6)
    return outs[1]


def both_orders(f):
    """vectorize alone, and flatten then vectorize (the build pipeline's order)."""
    return [vectorize_loop(f), vectorize_loop(flatten_buffer(f))]


# ----------------------------------------------------------------------------- vectorized

VALUES = {
    "scale": lambda A, io, ii, L, c: A[io, ii] * 2.0 + c,
    "reverse": lambda A, io, ii, L, c: A[io, L - 1 - ii],
    "gather": lambda A, io, ii, L, c: A[io, (ii * 5 + 1) % L],
    "pairs": lambda A, io, ii, L, c: A[io, ii // 2 * 2],
    "select": lambda A, io, ii, L, c: E.select(ii % 3 == 0, A[io, ii], -A[io, ii]),
    "cast": lambda A, io, ii, L, c: E.cast(ii + io, "float32") * c,
    "call": lambda A, io, ii, L, c: E.call("exp", "float32", A[io, ii] * 0.5),
    "max": lambda A, io, ii, L, c: E.max_(A[io, ii], E.const(0.0)),
    "invariant": lambda A, io, ii, L, c: A[io, 0] * c,
    "other_row": lambda A, io, ii, L, c: A[(io + 1) % 3, ii],
    "guarded": lambda A, io, ii, L, c: E.select((ii > 1) & (ii < L - 1), A[io, ii], E.const(7.0)),
}


def elementwise(L, names, lo=0):
    A = E.decl_buffer((3, L + lo), "float32", "A")
    B = E.decl_buffer((3, L + lo), "float32", "B")
    c = E.Var("c", "float32")
    io, ii = E.Var("io"), E.Var("ii")
    value = sum((VALUES[n](A, io, ii, L, c) for n in names[1:]), VALUES[names[0]](A, io, ii, L, c))
    body = loop(io, 3, loop(ii, L, BufferStore(B, value, (io, ii)), V, lo))
    return PrimFunc((A, B, c), body, "f"), (3, L + lo)


@settings(max_examples=60, deadline=None)
@given(L=st.sampled_from([2, 3, 4, 5, 7, 8, 11, 13, 16, 17]),
       names=st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=4),
       lo=st.integers(0, 3), seed=st.integers(0, 999))
def test_elementwise_loops_vectorize_and_agree(L, names, lo, seed):
    if lo and {"reverse", "gather", "pairs"} & set(names):
        lo = 0  # these index A relative to the loop range itself
    f, shape = elementwise(L, names, lo)
    for g in both_orders(f):
        assert not loops(g.body, V)
        assert len(loops(g.body)) == 1 and is_vector(g.body)
        check_same(f, g, shape, shape, np.float32(1.5), seed=seed)


def test_contiguous_access_stays_a_ramp_after_flatten():
    f, shape = elementwise(8, ["scale"])
    g = vectorize_loop(flatten_buffer(f))
    for acc in nodes(g.body, (E.BufferLoad, BufferStore)):
        assert isinstance(acc.indices[0], E.Ramp) and acc.indices[0].stride.value == 1
        assert acc.indices[0].lanes == 8
    load = nodes(g.body, E.BufferLoad)[0]
    assert load.dtype == "float32x8"


def test_loop_invariant_values_stay_scalar():
    f, shape = elementwise(8, ["invariant"])
    g = vectorize_loop(f)
    load = nodes(g.body, E.BufferLoad)[0]
    assert load.dtype == "float32" and isinstance(nodes(g.body, E.Broadcast)[0].value, E.Mul)


def test_reduction_over_inner_loop():
    """C[i] = 0; for k: C[i] += A[k, i] with i vectorized: the k loop stays, around vector code."""
    K, L = 5, 8
    A = E.decl_buffer((K, L), "float32", "A")
    C = E.decl_buffer((L,), "float32", "C")
    i, k = E.Var("i"), E.Var("k")
    body = loop(i, L, seq(BufferStore(C, E.const(0.0), (i,)),
                          loop(k, K, BufferStore(C, C[i] + A[k, i], (i,)))), V)
    f = PrimFunc((A, C), body)
    for g in both_orders(f):
        assert [x.loop_var for x in loops(g.body)] == [k] and is_vector(g.body)
        out = check_same(f, g, (K, L), (L,))
        assert out[1].shape == (L,)


def test_let_bound_vector_values():
    L = 6
    A = E.decl_buffer((L,), "float32", "A")
    B = E.decl_buffer((L,), "float32", "B")
    i, t, u = E.Var("i"), E.Var("t", "float32"), E.Var("u", "float32")
    value = E.Let(u, t * t, u + t, "float32")
    f = PrimFunc((A, B), loop(i, L, LetStmt(t, A[i] * 2.0, BufferStore(B, value, (i,))), V))
    g = vectorize_loop(f)
    assert not loops(g.body) and g.body.var.dtype == "float32x6"
    check_same(f, g, (L,), (L,))


def test_if_then_else_without_loads_becomes_a_select():
    A = E.decl_buffer((8,), "float32", "A")
    i = E.Var("i")
    mask = E.call("if_then_else", "float32", i % 3 == 1, E.const(2.0), E.cast(i, "float32"))
    f = PrimFunc((A,), loop(i, 8, BufferStore(A, A[i] * mask, (i,)), V))
    g = vectorize_loop(f)
    assert not loops(g.body) and nodes(g.body, E.Select)
    check_same(f, g, (8,))


def test_write_only_scatter_with_repeated_indices():
    """B[i // 2] = A[i]: lanes are stored in order, so the last iteration wins as in the loop."""
    A = E.decl_buffer((8,), "float32", "A")
    B = E.decl_buffer((4,), "float32", "B")
    i = E.Var("i")
    f = PrimFunc((A, B), loop(i, 8, BufferStore(B, A[i], (i // 2,)), V))
    g = vectorize_loop(f)
    assert not loops(g.body)
    out = check_same(f, g, (8,), (4,))
    assert out[1].shape == (4,)


def test_invariant_store_of_invariant_value_runs_once():
    A = E.decl_buffer((4,), "float32", "A")
    flag = E.decl_buffer((1,), "float32", "flag")
    i = E.Var("i")
    f = PrimFunc((A, flag), loop(i, 4, seq(BufferStore(flag, E.const(1.0), (E.const(0),)),
                                           BufferStore(A, A[i] + 1.0, (i,))), V))
    g = vectorize_loop(f)
    assert not loops(g.body)
    check_same(f, g, (4,), (1,))


def test_nested_vectorized_loops_vectorize_the_inner_one():
    A = E.decl_buffer((4, 8), "float32", "A")
    i, j = E.Var("i"), E.Var("j")
    f = PrimFunc((A,), loop(i, 4, loop(j, 8, BufferStore(A, A[i, j] * 3.0, (i, j)), V), V))
    g = vectorize_loop(f)
    assert [(x.loop_var, x.kind) for x in loops(g.body)] == [(i, S)] and is_vector(g.body)
    check_same(f, g, (4, 8))


# ----------------------------------------------------------------------------- fallbacks

def _fallback_cases():
    L = 8
    A = E.decl_buffer((L,), "float32", "A")
    B = E.decl_buffer((L,), "float32", "B")
    acc = E.decl_buffer((1,), "float32", "acc")
    i, k, n = E.Var("i"), E.Var("k"), E.Var("n")
    T = E.decl_buffer((2,), "float32", "T", scope="local")
    return {
        "symbolic extent": (PrimFunc((A, B, n), loop(i, n, BufferStore(B, A[i] + 1.0, (i,)), V)), [L]),
        "if not affine in the var": (
            PrimFunc((A, B), loop(i, L, IfThenElse(i % 3 < 1, BufferStore(B, A[i], (i,))), V)), []),
        "if with an else": (
            PrimFunc((A, B), loop(i, L, IfThenElse(i < 3, BufferStore(B, A[i], (i,)),
                                                   BufferStore(B, E.const(1.0), (i,))), V)), []),
        "horizontal reduction": (
            PrimFunc((A, acc), loop(i, L, BufferStore(acc, acc[0] + A[i], (E.const(0),)), V)), []),
        "inner extent depends": (
            PrimFunc((A, B), loop(i, L, loop(k, i, BufferStore(B, B[i] + A[k], (i,))), V)), []),
        "allocate inside": (
            PrimFunc((A, B), loop(i, L, Allocate(T, seq(BufferStore(T, A[i], (E.const(0),)),
                                                        BufferStore(B, T[0] * 2.0, (i,)))), V)), []),
        "if_then_else on the var": (
            PrimFunc((A, B), loop(i, L, BufferStore(
                B, E.call("if_then_else", "float32", i > 0, A[i - 1], E.const(0.0)), (i,)), V)), []),
        "loop-carried dependence": (
            PrimFunc((A, B), loop(i, L - 1, BufferStore(B, B[i - 1] + A[i], (i,)), V, lo=1)), []),
        "read after write elsewhere": (
            PrimFunc((A, B), loop(i, L - 1, seq(BufferStore(A, A[i] * 2.0, (i + 1,)),
                                                BufferStore(B, A[i], (i,))), V)), []),
        "opaque call": (
            PrimFunc((A, B), loop(i, L, seq(Evaluate(E.call("print", "int32", i)),
                                            BufferStore(B, A[i], (i,))), V)), None),
        "non-elementwise call": (
            PrimFunc((A, B), loop(i, L, BufferStore(B, E.call("my_op", "float32", A[i]), (i,)), V)), None),
        "extent one": (PrimFunc((A, B), loop(i, 1, BufferStore(B, A[i], (i,)), V)), []),
    }


@pytest.mark.parametrize("case", sorted(_fallback_cases()))
def test_unsafe_loops_fall_back_to_serial(case):
    f, extra = _fallback_cases()[case]
    for g in both_orders(f):
        assert not loops(g.body, V) and not is_vector(g.body)
        assert loops(g.body, S)[0].body is not None
        if extra is not None:  # the interpreter knows no opaque calls
            shapes = [tuple(int(s.value) for s in p.shape) for p in f.params if isinstance(p, E.Buffer)]
            check_same(f, g, *shapes, *extra)


def test_fallback_loop_keeps_vectorizing_inside():
    """A loop that must stay serial still gets its inner vectorized loops vectorized."""
    A = E.decl_buffer((4, 8), "float32", "A")
    i, j, n = E.Var("i"), E.Var("j"), E.Var("n")
    f = PrimFunc((A, n), loop(i, n, loop(j, 8, BufferStore(A, A[i, j] + 1.0, (i, j)), V), V))
    g = vectorize_loop(f)
    assert [x.loop_var for x in loops(g.body)] == [i] and is_vector(g.body)
    check_same(f, g, (4, 8), 4)


def test_build_pass_order_end_to_end():
    """flatten -> vectorize -> unroll -> lower_intrinsics on sigmoid over a 2-D buffer vs numpy."""
    from tilecraft.tir.transform.lower_intrinsics import lower_intrinsics
    from tilecraft.tir.transform.unroll_loop import unroll_loop

    A = E.decl_buffer((4, 16), "float32", "A")
    B = E.decl_buffer((4, 16), "float32", "B")
    i, jo, ji = E.Var("i"), E.Var("jo"), E.Var("ji")
    value = E.call("sigmoid", "float32", A[i, jo * 8 + ji])
    body = loop(i, 4, loop(jo, 2, loop(ji, 8, BufferStore(B, value, (i, jo * 8 + ji)), V), ForKind.UNROLLED))
    f = PrimFunc((A, B), body, "f", {"fast_math": True})
    g = lower_intrinsics(unroll_loop(vectorize_loop(flatten_buffer(f))))
    assert [x.loop_var for x in loops(g.body)] == [i] and is_vector(g.body)
    a = np.random.default_rng(3).standard_normal((4, 16)).astype("float32") * 5
    b = np.zeros_like(a)
    run(g, a, b)
    np.testing.assert_allclose(b, 1 / (1 + np.exp(-a.astype(np.float64))), rtol=1e-6)


# ----------------------------------------------------------------------------- tails

def test_split_tail_is_vector_code_with_a_serial_remainder():
    """`if (o*8 + i < 13)` (a split of 13 by 8): the first chunk runs as vector code, the second
    chunk, where some lanes fail, as the guarded serial loop; same numbers as the serial nest."""
    A = E.decl_buffer((13,), "float32", "A")
    B = E.decl_buffer((13,), "float32", "B")
    o, i = E.Var("o"), E.Var("i")
    idx = o * 8 + i
    f = PrimFunc((A, B), loop(o, 2, loop(i, 8, IfThenElse(idx < 13, BufferStore(B, A[idx] * 3.0, (idx,))), V)))
    for g in both_orders(f):
        (version,) = nodes(g.body, IfThenElse)[-1:]
        assert is_vector(version.then_case) and not is_vector(version.else_case)
        assert loops(version.else_case, S) and not loops(g.body, V)
        out = check_same(f, g, (13,), (13,))
        np.testing.assert_allclose(out[1], out[0] * 3.0, rtol=1e-6)


@given(st.integers(1, 40), st.integers(2, 16), st.integers(-3, 3))
@settings(max_examples=60, deadline=None)
def test_guarded_vector_loops_match_serial(n, lanes, shift):
    """Any affine guard (here lo <= o*lanes + i + shift < n, two comparisons) gives the serial numbers."""
    A = E.decl_buffer((64,), "float32", "A")
    B = E.decl_buffer((64,), "float32", "B")
    o, i = E.Var("o"), E.Var("i")
    idx = o * lanes + i
    cond = E.And(idx + shift < n, idx + shift >= 2, "bool")
    body = IfThenElse(cond, BufferStore(B, A[idx] + 1.0, (idx,)))
    f = PrimFunc((A, B), loop(o, -(-64 // lanes) - 1, loop(i, lanes, body, V)))
    for g in both_orders(f):
        check_same(f, g, (64,), (64,))
