"""flatten_buffer: every access becomes 1-D, memory identity is kept, and results do not change."""

import os
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))

from tir_interp import run  # noqa: E402

from tilecraft.ir import expr as E  # noqa: E402
from tilecraft.ir.functor import post_order_visit  # noqa: E402
from tilecraft.tir.stmt import Allocate, BufferStore, For, ForKind, PrimFunc, seq  # noqa: E402
from tilecraft.tir.transform.flatten_buffer import flatten_buffer, index_add, index_mul  # noqa: E402


def loop_nest(shape, make_body, names="ijkl"):
    """for i0 in range(shape[0]): for i1 ...: make_body(i0, i1, ...)."""
    vars_ = [E.Var(names[k]) for k in range(len(shape))]
    body = make_body(*vars_)
    for v, n in reversed(list(zip(vars_, shape))):
        body = For(v, E.const(0), E.convert(n), ForKind.SERIAL, body)
    return body


def accesses(stmt):
    found = []
    post_order_visit(stmt, lambda n: found.append(n) if isinstance(n, (E.BufferLoad, BufferStore)) else None)
    return found


def copy_through_temp(shape, pad: int):
    """B = A * 2 + 1, staged through an intermediate T whose rows are padded by `pad` elements."""
    A = E.decl_buffer(shape, "float32", "A")
    B = E.decl_buffer(shape, "float32", "B")
    strides = ()
    if pad:
        strides = [1, shape[-1] + pad][:len(shape)]  # storage_align: rows padded to shape[-1] + pad
        for n in reversed(shape[1:-1]):
            strides.append(strides[-1] * n)
        strides = tuple(E.const(s) for s in reversed(strides))
    T = E.decl_buffer(shape, "float32", "T", scope="local", strides=strides)
    fill = loop_nest(shape, lambda *ix: BufferStore(T, A[ix] * 2.0 + 1.0, ix))
    read = loop_nest(shape, lambda *ix: BufferStore(B, T[ix], ix), names="pqrs")
    return PrimFunc((A, B), Allocate(T, seq(fill, read)), "f"), T


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), pad=st.integers(0, 3),
       seed=st.integers(0, 99))
def test_flatten_preserves_results(shape, pad, seed):
    shape = tuple(shape)
    f, T = copy_through_temp(shape, pad)
    g = flatten_buffer(f)
    assert g.params == f.params
    for a in accesses(g.body):
        assert len(a.indices) == 1
    alloc = g.body
    assert isinstance(alloc, Allocate) and alloc.buffer.data is T.data
    assert len(alloc.buffer.shape) == 1 and alloc.buffer.strides == ()
    expected = int(np.prod(shape))
    if pad and len(shape) > 1:
        expected = (shape[-1] + pad) * int(np.prod(shape[:-1]))
    assert alloc.buffer.shape[0].value == expected

    a = np.random.default_rng(seed).standard_normal(shape).astype("float32")
    b0, b1 = np.zeros_like(a), np.zeros_like(a)
    run(f, a, b0)
    run(g, a, b1)
    np.testing.assert_array_equal(b0, a * 2 + 1)
    np.testing.assert_array_equal(b1, b0)


def test_one_flat_twin_per_buffer_and_same_data_var():
    f, _ = copy_through_temp((3, 4), 0)
    g = flatten_buffer(f)
    by_data = {}
    for acc in accesses(g.body):
        by_data.setdefault(acc.buffer.data, set()).add(id(acc.buffer))
    assert {d.name for d in by_data} == {"A", "B", "T"}
    assert all(len(s) == 1 for s in by_data.values())
    assert {d for d in by_data} == {p.data for p in f.params} | {f.body.buffer.data}


def test_compact_1d_buffer_is_left_alone():
    A = E.decl_buffer((8,), "float32", "A")
    i = E.Var("i")
    f = PrimFunc((A,), For(i, E.const(0), E.const(8), ForKind.SERIAL, BufferStore(A, A[i] + 1.0, (i,))))
    assert flatten_buffer(f).body is f.body


def test_symbolic_shape():
    n = E.Var("n")
    A = E.decl_buffer((n, 3), "int32", "A")
    body = loop_nest((n, 3), lambda i, j: BufferStore(A, A[i, j] * 10 + i * 3 + j, (i, j)))
    f = PrimFunc((A, n), body)
    g = flatten_buffer(f)
    for k in (1, 5):
        a = np.arange(3 * k, dtype="int32").reshape(k, 3)
        a0, a1 = a.copy(), a.copy()
        run(f, a0, k)
        run(g, a1, k)
        np.testing.assert_array_equal(a0, a * 11)
        np.testing.assert_array_equal(a1, a0)


def test_elem_offset_is_folded_into_the_index():
    A = E.Buffer(E.Var("A", "handle"), "A", (E.const(2), E.const(3)), "float32", (), "global", E.const(4))
    body = loop_nest((2, 3), lambda i, j: BufferStore(A, E.cast(i * 3 + j, "float32"), (i, j)))
    g = flatten_buffer(PrimFunc((A,), body))
    mem = np.full(10, -1, "float32")
    run(g, mem)
    np.testing.assert_array_equal(mem, [-1, -1, -1, -1, 0, 1, 2, 3, 4, 5])


def test_vector_last_dimension_stays_a_ramp():
    """A[i, jo*4 : jo*4+4] accesses (a vectorized inner loop) flatten to Ramp(i*8 + jo*4, 1, 4)."""
    A = E.decl_buffer((3, 8), "float32", "A")
    B = E.decl_buffer((3, 8), "float32", "B")

    def body(i, jo):
        r = E.Ramp(jo * 4, E.const(1), 4, "int32x4")
        return BufferStore(B, E.BufferLoad(A, (i, r), "float32x4") * E.const(3.0, "float32x4"), (i, r))

    f = PrimFunc((A, B), loop_nest((3, 2), body))
    g = flatten_buffer(f)
    for acc in accesses(g.body):
        assert isinstance(acc.indices[0], E.Ramp)
        assert isinstance(acc.indices[0].stride, E.IntImm) and acc.indices[0].stride.value == 1
    a = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    b = np.zeros_like(a)
    run(g, a, b)
    np.testing.assert_array_equal(b, a * 3)


def test_vector_first_dimension_and_gather():
    """A Ramp in a leading dimension scales its stride; a general vector index stays a gather."""
    A = E.decl_buffer((4, 5), "float32", "A")
    B = E.decl_buffer((4, 5), "float32", "B")
    j = E.Var("j")
    rows = E.Ramp(E.const(0), E.const(1), 4, "int32x4")
    rev = E.Ramp(E.const(3), E.const(-1), 4, "int32x4") // E.const(1, "int32x4")
    body = For(j, E.const(0), E.const(5), ForKind.SERIAL,
               BufferStore(B, E.BufferLoad(A, (rev, j), "float32x4"), (rows, j)))
    g = flatten_buffer(PrimFunc((A, B), body))
    store = g.body.body
    assert isinstance(store.indices[0], E.Ramp) and store.indices[0].stride.value == 5
    a = np.random.default_rng(1).standard_normal((4, 5)).astype("float32")
    b = np.zeros_like(a)
    run(g, a, b)
    np.testing.assert_array_equal(b, a[::-1])


def test_index_arithmetic_on_ramps():
    x = E.Var("x")
    r = E.Ramp(x, E.const(2), 4, "int32x4")
    m = index_mul(r, E.const(3))
    assert isinstance(m, E.Ramp) and m.lanes == 4 and m.stride.value == 6
    s = index_add(E.const(5), index_add(r, E.const(7)))
    assert isinstance(s, E.Ramp) and s.stride.value == 2
    rr = index_add(r, E.Ramp(E.const(0), E.const(-2), 4, "int32x4"))
    assert isinstance(rr, E.Broadcast)
