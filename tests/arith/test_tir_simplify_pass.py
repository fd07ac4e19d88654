"""tir.transform.simplify: loop knowledge simplifies indices, decided statements disappear, and
the function computes the same numbers before and after (checked with the TIR interpreter)."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tir"))

from tir_interp import run  # noqa: E402

from tilecraft.arith import Analyzer  # noqa: E402
from tilecraft.ir import expr as E  # noqa: E402
from tilecraft.tir.stmt import (  # noqa: E402
    Allocate,
    AttrStmt,
    BufferStore,
    Evaluate,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    PrimFunc,
    seq,
)
from tilecraft.tir.transform.simplify import simplify, simplify_stmt  # noqa: E402


def loop(v, extent, body, kind=ForKind.SERIAL, mn=0):
    return For(v, E.convert(mn), E.convert(extent), kind, body)


def same_numbers(func, *shapes):
    """Run func and simplify(func) on the same random inputs; return the simplified func."""
    out = simplify(func)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s).astype("float32") for s in shapes]
    a1, a2 = [a.copy() for a in args], [a.copy() for a in args]
    run(func, *a1)
    run(out, *a2)
    for x, y in zip(a1, a2):
        np.testing.assert_array_equal(x, y)
    return out


def test_split_loop_indices_and_guards():
    A = E.decl_buffer((100,), "float32", "A")
    B = E.decl_buffer((100,), "float32", "B")
    io, ii = E.Var("io"), E.Var("ii")
    idx = io * 32 + ii
    body = IfThenElse(idx < 100, BufferStore(B, A[(idx // 32) * 32 + idx % 32] * 2.0, (idx,)))
    func = PrimFunc((A, B), loop(io, 4, loop(ii, 32, body)))
    out = same_numbers(func, (100,), (100,))
    text = str(out)
    assert "B[io * 32 + ii] = A[io * 32 + ii] * 2.0" in text
    assert "if io * 32 + ii < 100:" in text


def test_provable_guard_is_dropped_and_else_taken():
    A = E.decl_buffer((128,), "float32", "A")
    io, ii = E.Var("io"), E.Var("ii")
    idx = io * 32 + ii
    keep = IfThenElse(idx < 128, BufferStore(A, A[idx] + 1.0, (idx,)))
    other = IfThenElse(idx >= 128, BufferStore(A, A[idx] * 0.0, (idx,)), BufferStore(A, A[idx] * 3.0, (idx,)))
    func = PrimFunc((A,), loop(io, 4, loop(ii, 32, seq(keep, other))))
    out = same_numbers(func, (128,))
    assert "if" not in str(out)


def test_unit_and_empty_loops():
    A = E.decl_buffer((16,), "float32", "A")
    i, k, z = E.Var("i"), E.Var("k"), E.Var("z")
    body = seq(
        loop(k, 1, BufferStore(A, A[i + k] * 2.0, (i + k,)), kind=ForKind.UNROLLED),
        loop(z, 0, BufferStore(A, A[i] * 0.0, (i,))),
        loop(z, 1, BufferStore(A, A[i] + 1.0, (z + i,)), kind=ForKind.PARALLEL, mn=3),
    )
    func = PrimFunc((A,), loop(i, 8, body))
    out = same_numbers(func, (16,))
    text = str(out)
    assert "for k" not in text and "for z" not in text
    assert "A[i] = A[i] * 2.0" in text and "A[i + 3] = A[i] + 1.0" in text


def test_thread_loops_of_extent_one_stay():
    A = E.decl_buffer((4,), "float32", "A")
    t = E.Var("threadIdx.x")
    func = PrimFunc((A,), loop(t, 1, BufferStore(A, A[t] + 1.0, (t,)), kind=ForKind.THREAD_BINDING))
    out = simplify(func)
    assert isinstance(out.body, For) and "A[0] = A[0] + 1.0" in str(out)


def test_nested_same_condition_folds():
    A = E.decl_buffer((16,), "float32", "A")
    i, n = E.Var("i"), E.SizeVar("n")
    inner = IfThenElse(i < n, BufferStore(A, A[i] + 1.0, (i,)), BufferStore(A, A[i] - 1.0, (i,)))
    outer = IfThenElse(i < n, inner, IfThenElse(n <= i, BufferStore(A, A[i] * 2.0, (i,))))
    out = simplify_stmt(loop(i, 16, outer))
    text = str(out)
    assert text.count("if") == 1 and "- 1.0" not in text and "else:" in text


def test_loop_range_against_symbolic_extent():
    A = E.decl_buffer((16,), "float32", "A")
    i, n = E.Var("i"), E.SizeVar("n")
    body = IfThenElse(i < n, BufferStore(A, A[i] + 1.0, (i,)))
    out = simplify_stmt(loop(i, n, body))
    assert "if" not in str(out)


def test_let_values_bound_their_variable():
    A = E.decl_buffer((16,), "float32", "A")
    i, t = E.Var("i"), E.Var("t")
    body = LetStmt(t, i % 4, BufferStore(A, A[t // 4 + t] + 1.0, (t,)))
    func = PrimFunc((A,), loop(i, 16, body))
    out = same_numbers(func, (16,))
    assert "A[t] = A[t] + 1.0" in str(out) and "t = i % 4" in str(out)


def test_thread_extent_attribute_binds_the_thread():
    A = E.decl_buffer((64,), "float32", "A")
    dom = E.Range.from_min_extent(0, 64)
    tx = E.IterVar(dom, E.Var("threadIdx.x"), E.IterType.THREAD_INDEX, "threadIdx.x")
    body = IfThenElse(tx.var < 64, BufferStore(A, A[tx.var] + 1.0, (tx.var,)))
    out = simplify_stmt(AttrStmt(tx, "thread_extent", E.convert(64), body))
    assert "if" not in str(out)


def test_empty_allocations_and_no_ops_vanish():
    A = E.decl_buffer((4,), "float32", "A")
    tmp = E.decl_buffer((4,), "float32", "tmp", scope="local")
    i = E.Var("i")
    dead = Allocate(tmp, loop(i, 0, BufferStore(tmp, A[i], (i,))))
    out = simplify_stmt(seq(dead, BufferStore(A, A[0] + 1.0, (E.convert(0),))))
    assert isinstance(out, BufferStore)
    assert isinstance(simplify_stmt(dead), Evaluate)


def test_buffers_are_kept_by_identity():
    A = E.decl_buffer((4,), "float32", "A")
    i = E.Var("i")
    func = PrimFunc((A,), loop(i, 4, BufferStore(A, A[i + 0] + 1.0, (i * 1,))))
    out = simplify(func)
    assert out.params[0] is A and out.body.body.buffer is A


def test_outer_analyzer_knowledge_is_used():
    A = E.decl_buffer((32,), "float32", "A")
    io, ii = E.Var("io"), E.Var("ii")
    ana = Analyzer()
    ana.bind(ii, E.Range.from_min_extent(0, 32))
    out = simplify_stmt(BufferStore(A, A[(io * 32 + ii) % 32] + 1.0, (ii,)), ana)
    assert str(out) == "A[ii] = A[ii] + 1.0"
