"""Phase 1 — tensor expressions: declare *what* to compute; the schedule decides *how*.

Run: python examples/te_basics.py
"""

import numpy as np

import tilecraft as tvm
from tilecraft import te


def vector_add():
    n = te.var("n")  # a symbolic length: one compiled function serves every n
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    s = te.create_schedule(C.op)
    print(tvm.lower(s, [A, B, C], simple_mode=True))
    f = tvm.build(s, [A, B, C], target="llvm", name="vector_add")
    dev = tvm.cpu(0)
    for size in (7, 1024):
        a = tvm.nd.array(np.random.rand(size).astype("float32"), dev)
        b = tvm.nd.array(np.random.rand(size).astype("float32"), dev)
        c = tvm.nd.empty((size,), "float32", dev)
        f(a, b, c)
        np.testing.assert_allclose(c.numpy(), a.numpy() + b.numpy(), rtol=1e-6)
    print("vector add matches numpy for n = 7 and n = 1024\n")


def matmul_declaration(M=64, N=64, K=64):
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    print(tvm.lower(s, [A, B, C], simple_mode=True))
    f = tvm.build(s, [A, B, C], target="llvm", name="matmul")
    a = np.random.rand(M, K).astype("float32")
    b = np.random.rand(K, N).astype("float32")
    c = tvm.nd.empty((M, N), "float32")
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4)
    print(f"matmul {M}x{N}x{K} matches numpy")


if __name__ == "__main__":
    vector_add()
    matmul_declaration()
