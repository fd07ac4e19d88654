"""LLVM 22's loop vectorizer miscompiled `C[i] += A[i // 4 * K + k] * B[k * 4 + i % 4]` inside a
loop over k (found by the schedule fuzzer: reorder(k, i, j) + fuse(i, j) of a matmul): it loaded
B[k*4 : k*4 + 16] as if `i % 4` were `i`.  Loops taking their variable modulo a power of two are
kept from LLVM's loop vectorizer; this is the fuzzer's case over sizes that triggered it."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te


@pytest.mark.parametrize("K, N", [(17, 4), (17, 8), (17, 16), (32, 4), (32, 8), (32, 16), (3, 5)])
@pytest.mark.parametrize("symbolic", [False, True])
def test_reordered_fused_matmul_matches_numpy(K, N, symbolic):
    m = te.size_var("m") if symbolic else 6
    A = te.placeholder((m, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((m, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    i, j = C.op.axis
    s[C].reorder(k, i, j)
    s[C].fuse(i, j)
    f = tvm.build(s, [A, B, C])
    rng = np.random.default_rng(0)
    for rows in ([6, 13] if symbolic else [6]):
        a = rng.random((rows, K), dtype="float32")
        b = rng.random((K, N), dtype="float32")
        c = tvm.nd.empty((rows, N))
        f(tvm.nd.array(a), tvm.nd.array(b), c)
        np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-5)
