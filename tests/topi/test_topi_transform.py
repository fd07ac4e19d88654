"""Data movement (topi.transform) vs numpy: reshape, transpose, squeeze, expand_dims, concatenate,
stack, split, strided_slice, take, gather, gather_nd, flatten, tile, repeat, flip, arange."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.topi import elemwise
from tilecraft.topi import transform as T
from tilecraft.topi.x86.injective import schedule_injective

RNG = np.random.default_rng(11)


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    outs = [tvm.nd.empty(tuple(int(v.value) for v in t.shape), t.dtype) for t in args[len(inputs):]]
    f(*[tvm.nd.array(a) for a in inputs], *outs)
    return [o.numpy() for o in outs]


def test_transforms_against_numpy():
    a = RNG.standard_normal((2, 3, 4)).astype("float32")
    b = RNG.standard_normal((2, 1, 4)).astype("float32")
    ii = np.array([[0, 2, -1], [5, 1, 3]], "int32")
    g = RNG.integers(-3, 3, (2, 2, 4)).astype("int64")
    nd_idx = np.array([[0, 1, 1], [2, 0, 1]], "int32")
    A = te.placeholder(a.shape, name="A")
    Bp = te.placeholder(b.shape, name="B")
    ind = te.placeholder(ii.shape, "int32", name="I")
    G = te.placeholder(g.shape, "int64", name="G")
    ND = te.placeholder(nd_idx.shape, "int32", name="ND")
    cases = [
        (T.reshape(A, (4, -1)), a.reshape(4, -1)), (T.reshape(A, (0, 12)), a.reshape(2, 12)),
        (T.reshape(A, (24,)), a.reshape(24)), (T.transpose(A, (2, 0, 1)), a.transpose(2, 0, 1)),
        (T.transpose(A, (-1, 0, 1)), a.transpose(2, 0, 1)), (T.transpose(A), a.T),
        (T.squeeze(Bp), b.squeeze()), (T.squeeze(Bp, -2), b.squeeze(-2)),
        (T.expand_dims(A, -1), a[..., None]), (T.expand_dims(A, 1, 2), a[:, None, None]),
        (T.concatenate([A, Bp, A], 1), np.concatenate([a, b, a], 1)), (T.concatenate([A, A], -1),
                                                                         np.concatenate([a, a], -1)),
        (T.stack([A, A], -1), np.stack([a, a], -1)),
        (T.strided_slice(A, [1, -1, 3], [2, 0, 0], [1, -1, -2]), a[1:2, -1:0:-1, 3:0:-2]),
        (T.strided_slice(A, [0, 1], [10, -1]), a[0:10, 1:-1]),
        (T.strided_slice(A, [-10], [-1], [2], axes=[2]), a[:, :, -10:-1:2]),
        (T.strided_slice(A, [0, 0, 4], [2, 3, 0], [1, 1, -1]), a[0:2, 0:3, 4:0:-1]),
        (T.strided_slice(A, [1, 0], [-1, 2], slice_mode="size"), a[1:, 0:2]),
        (T.take(A, ind, axis=1, mode="wrap"), np.take(a, ii, axis=1, mode="wrap")),
        (T.take(A, ind, axis=-1, mode="clip"), np.take(a, ii, axis=2, mode="clip")),
        (T.take(A, ind, mode="clip"), np.take(a, ii, mode="clip")),
        (T.take(A, 2, axis=1), np.take(a, 2, axis=1)),
        (T.gather(A, 1, G), np.take_along_axis(a, np.where(g < 0, g + 3, g), 1)[:, :, :]),
        (T.gather_nd(A, ND), a[tuple(nd_idx)]),
        (T.flatten(A), a.reshape(2, -1)), (T.tile(A, (2, 1, 1, 2)), np.tile(a, (2, 1, 1, 2))),
        (T.tile(A, (2,)), np.tile(a, (2,))), (T.repeat(A, 2, -1), np.repeat(a, 2, -1)),
        (T.flip(A, 1), np.flip(a, 1)), (T.flip(A, (0, 2)), np.flip(a, (0, 2))),
        (T.arange(2, 9, 3), np.arange(2, 9, 3).astype("float32")),
    ]
    parts = T.split(A, [1, 3], axis=2) + T.split(A, 3, axis=1) + T.split(A, [1, 9], axis=0)
    cases += list(zip(parts, np.split(a, [1, 3], axis=2) + np.split(a, 3, axis=1) + np.split(a, [1, 9], axis=0)))
    outs = [c[0] for c in cases]
    got = run(te.create_schedule([o.op for o in outs]), [A, Bp, ind, G, ND] + outs, [a, b, ii, g, nd_idx])
    for k, ((o, r), gv) in enumerate(zip(cases, got)):
        assert gv.shape == r.shape, (k, o.op.name, gv.shape, r.shape)
        np.testing.assert_array_equal(gv, r, err_msg=f"case {k}: {o.op.name}")
        assert o.op.tag in ("injective", "elemwise")


def test_embedding_lookup_under_injective_schedule():
    table = RNG.standard_normal((50, 32)).astype("float32")
    ids = RNG.integers(0, 50, (4, 7)).astype("int64")
    W = te.placeholder(table.shape, name="W")
    ids_t = te.placeholder(ids.shape, "int64", name="ids")
    out = elemwise.relu(T.take(W, ids_t, axis=0))
    (got,) = run(schedule_injective(out), [W, ids_t, out], [table, ids])
    np.testing.assert_array_equal(got, np.maximum(table[ids], 0))


def test_transpose_reshape_chain_under_injective_schedule():
    a = RNG.standard_normal((2, 16, 12, 8)).astype("float32")  # (batch, seq, heads, head_dim)
    A = te.placeholder(a.shape, name="A")
    out = T.reshape(T.transpose(A, (0, 2, 1, 3)), (24, 16, 8))
    (got,) = run(schedule_injective(out), [A, out], [a])
    np.testing.assert_array_equal(got, a.transpose(0, 2, 1, 3).reshape(24, 16, 8))


def test_errors_name_the_operator():
    A = te.placeholder((2, 3), name="A")
    with pytest.raises(ValueError, match="reshape"):
        T.reshape(A, (4, -1))
    with pytest.raises(ValueError, match="squeeze"):
        T.squeeze(A, 0)
    with pytest.raises(ValueError, match="split"):
        T.split(A, 2, axis=1)
    with pytest.raises(ValueError, match="transpose"):
        T.transpose(A, (0, 0))


@pytest.mark.parametrize("shape", [(1, 9, 56, 56, 16), (2, 2, 5, 32, 8), (1, 3, 7, 7, 16)])
def test_unblocking_layout_transform_is_a_register_transpose(shape):
    """NCHW<b>c -> NCHW: a tile of b unrolled channel rows per vector of w (whole-vector loads, not
    a gather per lane) where the width has a vector width; the plain schedule otherwise; same numbers."""
    from tilecraft.topi.nn.conv2d import nchwc_to_nchw
    from tilecraft.topi.x86.injective import _schedule_unblock

    a = te.placeholder(shape, name="a")
    out = nchwc_to_nchw(a)
    assert _schedule_unblock(te.create_schedule(out.op), out) == (shape[3] % 8 == 0)
    f = tvm.build(schedule_injective([out]), [a, out], target="llvm")
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    n, cb, h, w, b = shape
    got = tvm.nd.empty((n, cb * b, h, w))
    f(tvm.nd.array(x), got)
    np.testing.assert_array_equal(got.numpy(), x.transpose(0, 1, 4, 2, 3).reshape(n, cb * b, h, w))
