"""LoopPartition: a non-dividing split's guarded last iterations get a loop of their own, and the
guard-free part loses its guards; the numbers never change."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.arith import simplify as simplify_expr
from tilecraft.ir.expr import Var, const, decl_buffer
from tilecraft.ir.functor import post_order_visit, substitute
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


def test_parallel_loops_are_not_split():
    f = _tile(lambda o, i: o * 6 + i < 28)
    par = For(f.body.loop_var, f.body.min, f.body.extent, ForKind.PARALLEL, f.body.body)
    out = loop_partition(f.with_body(par)).body
    assert isinstance(out, For) and out.kind == ForKind.PARALLEL and out.extent.value == 5


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


def test_guards_on_the_parallel_loop_are_unswitched_out_of_the_tile():
    """`p % 50 * 4 + i < 198` is not linear in the parallel p: the serial loop under p is run
    guard-free when the guard holds for every i, and as before otherwise."""
    p, j, i = Var("p"), Var("j"), Var("i")
    buf = decl_buffer((256,), "float32", "buf")
    store = BufferStore(buf, const(1.0, "float32"), (p % 50 * 4 + i,))
    guarded = IfThenElse(p % 50 * 4 + i < 198, store)
    serial = For(j, const(0), const(8), ForKind.SERIAL, For(i, const(0), const(4), ForKind.UNROLLED, guarded))
    f = loop_partition(PrimFunc((buf,), For(p, const(0), const(150), ForKind.PARALLEL, serial), "f"))
    switch = f.body.body
    assert isinstance(switch, IfThenElse) and switch.else_case is serial
    assert _guards(switch.then_case) == 0
    for block, holds in ((0, True), (48, True), (49, False)):  # rows 196..199 overhang 198
        assert simplify_expr(substitute(switch.condition, {p: const(block)})).value == holds


@pytest.mark.parametrize("rows", [197, 198, 45])
def test_dense_with_a_partial_row_block_computes_the_same(rows):
    from tilecraft import relay
    from tilecraft.contrib import graph_executor

    rng = np.random.default_rng(rows)
    w = rng.standard_normal((48, 32)).astype("float32")
    x = relay.var("x", shape=(rows, 32))
    mod = tvm.IRModule.from_expr(relay.Function([x], relay.nn.dense(x, relay.const(w))))
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm")
    gm = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    a = rng.standard_normal((rows, 32)).astype("float32")
    gm.set_input("x", a)
    gm.run()
    np.testing.assert_allclose(gm.get_output(0).numpy(), a @ w.T, rtol=1e-4, atol=1e-4)
