"""TightenLoopExtents and the unroll code-size cap: what reaches LLVM stays small."""

from __future__ import annotations

import numpy as np

import tilecraft as tvm
from tilecraft import te
from tilecraft.ir.expr import Var, const, decl_buffer
from tilecraft.tir.stmt import BufferStore, For, ForKind, IfThenElse, PrimFunc
from tilecraft.tir.transform import tighten_loop_extents, unroll_loop
from tilecraft.tir.transform.unroll_loop import MAX_UNROLLED_STATEMENTS


def _guarded_loop(cond_of, extent=40, kind=ForKind.SERIAL):
    x = Var("x")
    y = Var("y")
    buf = decl_buffer((64,), "float32", "buf")
    inner = For(x, const(0), const(extent), kind,
                IfThenElse(cond_of(x, y), BufferStore(buf, const(1.0, "float32"), (x + y,))))
    return PrimFunc((buf,), For(y, const(0), const(4), ForKind.SERIAL, inner), "f")


def _inner_extent(func):
    return func.body.body.extent.value


def test_guard_bounds_the_loop():
    assert _inner_extent(tighten_loop_extents(_guarded_loop(lambda x, y: x < 1))) == 1
    assert _inner_extent(tighten_loop_extents(_guarded_loop(lambda x, y: x * 3 + y <= 10))) == 4  # y >= 0
    assert _inner_extent(tighten_loop_extents(_guarded_loop(lambda x, y: (y < 2) & (7 > x)))) == 7


def test_guards_that_do_not_bound_the_loop_leave_it():
    for cond in (lambda x, y: x >= 3, lambda x, y: x < 100, lambda x, y: x * x < 10, lambda x, y: y - x < 2):
        assert _inner_extent(tighten_loop_extents(_guarded_loop(cond))) == 40


def test_tightened_loop_computes_the_same():
    f = _guarded_loop(lambda x, y: x * 2 + y < 9)
    outs = []
    for func in (f, tighten_loop_extents(f)):
        buf = tvm.nd.array(np.zeros(64, "float32"))
        tvm.build(func)(buf)
        outs.append(buf.numpy())
    np.testing.assert_array_equal(*outs)
    assert outs[0].sum() > 0


def test_unroll_request_beyond_the_code_size_cap_stays_a_loop():
    n = MAX_UNROLLED_STATEMENTS * 2
    A = te.placeholder((n,), name="A")
    B = te.compute((n,), lambda i: A[i] + 1.0, name="B")
    s = te.create_schedule(B.op)
    s[B].unroll(B.op.axis[0])
    body = unroll_loop(tvm.lower(s, [A, B])["main"]).body
    assert isinstance(body, For) and body.extent.value == n
