"""Broadcasting binary operators (topi.broadcast) vs numpy: rank promotion, size-1 stretching,
rank-0 tensors and Python scalars, integer semantics, comparisons and logic, where, broadcast_to."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.topi import broadcast as B
from tilecraft.topi.x86.injective import schedule_injective

RNG = np.random.default_rng(3)


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    outs = [tvm.nd.empty(tuple(int(v.value) for v in t.shape), t.dtype) for t in args[len(inputs):]]
    f(*[tvm.nd.array(a) for a in inputs], *outs)
    return [o.numpy() for o in outs]


FLOAT_OPS = [
    (B.add, np.add), (B.subtract, np.subtract), (B.multiply, np.multiply), (B.divide, np.divide),
    (B.floor_divide, np.floor_divide), (B.floor_mod, np.mod), (B.mod, np.fmod), (B.maximum, np.maximum),
    (B.minimum, np.minimum), (B.power, lambda a, b: np.power(np.abs(a), b)), (B.equal, np.equal),
    (B.not_equal, np.not_equal), (B.less, np.less), (B.less_equal, np.less_equal), (B.greater, np.greater),
    (B.greater_equal, np.greater_equal),
]


@pytest.mark.parametrize("sa,sb", [((2, 3, 4, 5), (5,)), ((2, 1, 4, 1), (3, 1, 6)), ((4, 1), ()),
                                   ((), (2, 3)), ((1,), (2, 3, 1, 2))])
def test_float_ops_broadcast(sa, sb):
    a = np.asarray(RNG.standard_normal(sa) * 3, dtype="float32")
    b = np.asarray(RNG.standard_normal(sb) * 2 + 0.5, dtype="float32")
    b[np.abs(b) < 0.1] = 0.7  # keep divisors away from zero
    a.flat[0] = b.flat[0]  # one equal pair for the comparisons
    A = te.placeholder(sa, name="A")
    Bt = te.placeholder(sb, name="B")
    outs = []
    for op, _ in FLOAT_OPS:
        if op is B.power:
            outs.append(op(te.compute(sa, lambda *i: te.abs(A[i]), name="absA"), Bt))
        else:
            outs.append(op(A, Bt))
    got = run(te.create_schedule([o.op for o in outs]), [A, Bt] + outs, [a, b])
    for (op, ref), g in zip(FLOAT_OPS, got):
        r = ref(a, b)
        assert g.shape == r.shape, (op.__name__, g.shape, r.shape)
        np.testing.assert_allclose(g, r, rtol=2e-5, atol=1e-5, err_msg=op.__name__)
    stretched = tuple(sa) != tuple(np.broadcast_shapes(sa, sb)) or tuple(sb) != tuple(np.broadcast_shapes(sa, sb))
    assert outs[0].op.tag == ("broadcast" if stretched else "elemwise")


def test_python_scalars_and_integer_semantics():
    a = np.array([[7, -7, 6, -1], [0, 5, -9, 3]], "int32")
    A = te.placeholder(a.shape, "int32", name="A")
    outs = [B.add(A, 2), B.subtract(10, A), B.multiply(A, 3), B.divide(A, 2), B.floor_divide(A, 2),
            B.mod(A, 3), B.floor_mod(A, 3), B.maximum(A, 0),
            B.multiply(A, 0.5), B.less(A, 1), B.logical_and(A, B.greater(A, 0)), B.logical_or(A, 0),
            B.logical_xor(A, 1), B.logical_not(A), B.where(A, A, -100), B.truncate_divide(A, -2)]
    got = run(te.create_schedule([o.op for o in outs]), [A] + outs, [a])
    refs = [a + 2, 10 - a, a * 3, np.trunc(a / 2), a // 2, np.fmod(a, 3), a % 3, np.maximum(a, 0),
            a * 0.5, a < 1, (a != 0) & (a > 0), a != 0, (a != 0) ^ True, a == 0, np.where(a != 0, a, -100),
            np.trunc(a / -2)]
    for g, r, o in zip(got, refs, outs):
        np.testing.assert_array_equal(g, r, err_msg=o.op.name)
    assert outs[0].dtype == "int32" and outs[8].dtype == "float32" and outs[9].dtype == "bool"
    e = B.add(2, 3.5)  # two scalars: the expression itself
    assert isinstance(e, tvm.tir.PrimExpr)


def test_where_and_broadcast_to():
    c = RNG.random((3, 1)) > 0.5
    x = RNG.standard_normal((1, 4)).astype("float32")
    y = RNG.standard_normal((2, 3, 4)).astype("float32")
    C = te.placeholder(c.shape, "bool", name="C")
    X = te.placeholder(x.shape, name="X")
    Y = te.placeholder(y.shape, name="Y")
    outs = [B.where(C, X, Y), B.where(C, X, 0.0), B.broadcast_to(X, (2, 3, 4)), B.broadcast_to(1.5, (2, 2))]
    got = run(te.create_schedule([o.op for o in outs]), [C, X, Y] + outs, [c, x, y])
    refs = [np.where(c, x, y), np.where(c, x, 0.0), np.broadcast_to(x, (2, 3, 4)), np.full((2, 2), 1.5)]
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r)


def test_incompatible_shapes_raise():
    A = te.placeholder((2, 3), name="A")
    Bt = te.placeholder((4,), name="B")
    with pytest.raises(ValueError, match="cannot be broadcast"):
        B.add(A, Bt)
    with pytest.raises(ValueError, match="broadcast_to"):
        B.broadcast_to(A, (2, 4))


def test_broadcast_under_injective_schedule():
    a = RNG.standard_normal((8, 1, 32)).astype("float32")
    b = RNG.standard_normal((6, 1)).astype("float32")
    A = te.placeholder(a.shape, name="A")
    Bt = te.placeholder(b.shape, name="B")
    out = B.maximum(B.multiply(B.add(A, Bt), Bt), 0.0)
    (got,) = run(schedule_injective(out), [A, Bt, out], [a, b])
    np.testing.assert_allclose(got, np.maximum((a + b) * b, 0), rtol=1e-6)
