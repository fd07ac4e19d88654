"""Classic tensor syntax: `a + b` on whole tensors (topi's broadcasting operators, installed when
topi is imported), `A(i, j)` and `A[i][j]` for `A[i, j]`."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te, topi  # noqa: F401  (importing topi installs the tensor operators)


def _run(outs, ins, arrays):
    s = te.create_schedule([o.op for o in outs])
    f = tvm.build(s, [*ins, *outs], "llvm")
    res = [tvm.nd.empty(tuple(int(d) for d in o.shape), o.dtype) for o in outs]
    f(*[tvm.nd.array(x) for x in arrays], *res)
    return [r.numpy() for r in res]


def test_whole_tensor_arithmetic_broadcasts_like_numpy():
    rng = np.random.default_rng(0)
    a, b = te.placeholder((3, 4, 5), name="a"), te.placeholder((4, 5), name="b")
    x, y = rng.standard_normal((3, 4, 5)).astype("float32"), rng.uniform(0.5, 2, (4, 5)).astype("float32")
    outs = [a + b, a - b, a * b, a / b, 2.0 * a - 1.0, 1.0 / b, -a, a ** 2.0, a // b, a % b]
    refs = [x + y, x - y, x * y, x / y, 2 * x - 1, 1 / y, -x, x ** 2, x // y, x % y]
    for got, ref in zip(_run(outs, [a, b], [x, y]), refs):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_call_syntax_and_chained_indexing():
    rng = np.random.default_rng(1)
    A = te.placeholder((3, 4, 5), name="A")
    B = te.compute((3, 4), lambda i, j: A[i][j][0] + A(i, j, 4) * A[i, j][2], name="B")
    x = rng.standard_normal((3, 4, 5)).astype("float32")
    (got,) = _run([B], [A], [x])
    np.testing.assert_allclose(got, x[:, :, 0] + x[:, :, 4] * x[:, :, 2], rtol=1e-6)
    with pytest.raises(IndexError, match="3 dimensions, indexed with 4"):
        A[0, 1, 2, 3]
