"""batch_matmul: the compute (all transpose flags, batch broadcast) and the x86 schedule
(with and without an element-wise epilogue) against numpy."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tilecraft as tvm
import tilecraft.topi.nn.batch_matmul  # noqa: F401
import tilecraft.topi.x86.batch_matmul  # noqa: F401
from tilecraft import te
from tilecraft.topi import tag

nn = sys.modules["tilecraft.topi.nn.batch_matmul"]
x86 = sys.modules["tilecraft.topi.x86.batch_matmul"]
RNG = np.random.default_rng(2)


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    nd = [tvm.nd.array(a) for a in inputs] + [tvm.nd.empty(tuple(int(v.value) for v in args[-1].shape))]
    f(*nd)
    return nd[-1].numpy()


def operands(B, M, N, K, ta, tb, BA=None, BB=None):
    a, b = rand(BA or B, M, K), rand(BB or B, K, N)
    A = te.placeholder(((BA or B), K, M) if ta else ((BA or B), M, K), name="A")
    Bt = te.placeholder(((BB or B), N, K) if tb else ((BB or B), K, N), name="B")
    an = a.transpose(0, 2, 1).copy() if ta else a
    bn = b.transpose(0, 2, 1).copy() if tb else b
    return a, b, A, Bt, an, bn


@pytest.mark.parametrize("ta,tb", [(False, False), (False, True), (True, False), (True, True)])
def test_batch_matmul_compute(ta, tb):
    a, b, A, Bt, an, bn = operands(3, 5, 7, 4, ta, tb)
    out = nn.batch_matmul(A, Bt, transpose_a=ta, transpose_b=tb)
    assert out.op.tag == "batch_matmul"
    got = run(te.create_schedule(out.op), [A, Bt, out], [an, bn])
    np.testing.assert_allclose(got, a @ b, rtol=1e-4, atol=1e-4)


def test_batch_matmul_broadcasts_a_batch_of_one():
    a, b, A, Bt, an, bn = operands(4, 6, 5, 3, False, True, BA=1)
    out = nn.batch_matmul(A, Bt)
    got = run(x86.schedule_batch_matmul([out]), [A, Bt, out], [an, bn])
    np.testing.assert_allclose(got, a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("B,M,N,K", [(3, 16, 32, 24), (2, 13, 20, 9), (4, 2, 48, 16)])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("epilogue", [False, True])
def test_schedule_batch_matmul(B, M, N, K, tb, epilogue):
    a, b, A, Bt, an, bn = operands(B, M, N, K, False, tb)
    c = nn.batch_matmul(A, Bt, transpose_b=tb)
    ref = a @ b
    if epilogue:
        out = te.compute(c.shape, lambda i, j, k: te.max(c[i, j, k] * 0.125, te.const(0.0, "float32")),
                         name="scale_relu", tag=tag.ELEMWISE)
        ref = np.maximum(ref * 0.125, 0)
    else:
        out = c
    got = run(x86.schedule_batch_matmul([out]), [A, Bt, out], [an, bn])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_batch_matmul_shape_errors():
    with pytest.raises(ValueError, match="reduction"):
        nn.batch_matmul(te.placeholder((2, 3, 4), name="x"), te.placeholder((2, 5, 6), name="y"))
    with pytest.raises(ValueError, match="batch"):
        nn.batch_matmul(te.placeholder((2, 3, 4), name="x"), te.placeholder((3, 5, 4), name="y"))


@pytest.mark.parametrize("B, M, N, K, BB", [(3, 197, 197, 64, None), (2, 33, 40, 17, 1), (4, 8, 12, 16, None)])
def test_template_lays_a_transposed_b_out_as_rows(B, M, N, K, BB):
    """The x86 template on B [batch, N, K]: with at least 16 columns B is transposed inside the
    kernel (a stage of its own) and the row-reading tile used; fewer keep the k-vector tile."""
    a, b, A, Bt, an, bn = operands(B, M, N, K, False, True, BB=BB)
    out = x86.batch_matmul(A, Bt, None, None, False, True)
    transposed = [t for t in out.op.input_tensors if t.op.tag == x86._TRANSPOSE_TAG]
    assert bool(transposed) == (N >= 16)
    got = run(x86.schedule_batch_matmul([out]), [A, Bt, out], [an, bn])
    np.testing.assert_allclose(got, a @ b, rtol=1e-4, atol=1e-4)
