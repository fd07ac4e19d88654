"""LoopPartition: a non-dividing split's guarded last iterations get a loop of their own, and the
guard-free part loses its guards; the numbers never change."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.ir.expr import Var, const, decl_buffer
from tilecraft.ir.functor import post_order_visit
from tilecraft.tir.stmt import BufferStore, For, ForKind, IfThenElse, PrimFunc, SeqStmt
from tilecraft.tir.transform import loop_partition, simplify


def _tile(cond_of, extent=5, inner=6):
    """for o in range(extent): for i in range(inner): for r in range(3): if cond(o, i): store."""
    o, i, r = Var("o"), Var("i"), Var("r")
    buf = decl_buffer((64,), "float32", "buf")
    store = BufferStore(buf, const(1.0, "float32"), (o * inner + i,))
    body = For(i, const(0), const(inner), ForKind.SERIAL,
               For(r, const(0), const(3), ForKind.SERIAL, IfThenElse(cond_of(o, i), store)))
    return PrimFunc((buf,), For(o, const(0), const(extent), ForKind.SERIAL, body), "f")


def _guards(stmt) -> int:
    found = []
    post_order_visit(stmt, lambda n: found.append(n) if isinstance(n, IfThenElse) else None)
    return len(found)


def test_the_guard_free_iterations_come_first_and_lose_their_guards():
    f = simplify(loop_partition(_tile(lambda o, i: o * 6 + i < 28)))
    assert isinstance(f.body, SeqStmt)
    head, tail = f.body.seq
    assert (head.min.value, head.extent.value) == (0, 4)  # 4 x 6 = 24 columns need no guard
    assert _guards(head) == 0
    assert _guards(tail) == 1  # the last chunk keeps `4*6 + i < 28`


def test_loops_without_a_removable_guard_stay_whole():
    for cond in (lambda o, i: o >= 1,  # a lower bound: not a tail
                 lambda o, i: o * o < 10,  # not linear
                 lambda o, i: o * 6 + i < 100,  # always true: Simplify's business
                 lambda o, i: o * 6 + i < 3):  # never true for a whole chunk: nothing to gain
        f = loop_partition(_tile(cond))
        assert isinstance(f.body, For) and f.body.extent.value == 5


def test_several_guards_take_the_smallest_guard_free_prefix():
    f = loop_partition(_tile(lambda o, i: (o * 6 + i < 28) & (o * 6 + i < 20)))
    assert f.body.seq[0].extent.value == 3


def test_parallel_and_vectorized_loops_are_left_alone():
    f = _tile(lambda o, i: o * 6 + i < 28)
    par = For(f.body.loop_var, f.body.min, f.body.extent, ForKind.PARALLEL, f.body.body)
    assert loop_partition(f.with_body(par)).body is par


@pytest.mark.parametrize("n,factor", [(28, 6), (14, 5), (7, 4), (30, 8), (9, 2)])
def test_non_dividing_splits_compute_the_same(n, factor):
    """A register tile with a cache stage at the split: the partitioned build matches numpy, and
    building without the pass gives the same numbers."""
    rng = np.random.default_rng(n * factor)
    k = te.reduce_axis((0, 16), "k")
    A = te.placeholder((n, 16), name="A")
    B = te.placeholder((16, 8), name="B")
    C = te.compute((n, 8), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    io, ii = s[C].split(C.op.axis[0], factor=factor)
    s[C].unroll(ii)
    s[C].vectorize(C.op.axis[1])
    s[CC].compute_at(s[C], io)
    a, b = rng.standard_normal((n, 16)).astype("float32"), rng.standard_normal((16, 8)).astype("float32")
    outs = []
    for disabled in ([], ["LoopPartition"]):
        with tvm.transform.PassContext(disabled_pass=disabled):
            f = tvm.build(s, [A, B, C], "llvm")
        c = tvm.nd.empty((n, 8))
        f(tvm.nd.array(a), tvm.nd.array(b), c)
        outs.append(c.numpy())
    np.testing.assert_allclose(outs[0], a @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(outs[0], outs[1])
