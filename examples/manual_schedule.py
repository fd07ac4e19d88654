"""Phase 2 — schedule primitives: watch the loop nest change after each one.

Run: python examples/manual_schedule.py
"""

import numpy as np

import tilecraft as tvm
from tilecraft import te

M = N = K = 256


def declare():
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def show(title, s, args):
    print(f"---- {title}")
    print(tvm.lower(s, args, simple_mode=True))
    print()


def main():
    A, B, C = declare()
    s = te.create_schedule(C.op)
    show("naive: three nested loops", s, [A, B, C])

    i, j = C.op.axis
    (k,) = C.op.reduce_axis
    io, ii = s[C].split(i, factor=32)
    show("split i by 32", s, [A, B, C])

    jo, ji = s[C].split(j, factor=32)
    s[C].reorder(io, jo, k, ii, ji)
    show("tile: split j, reorder to (io, jo, k, ii, ji) so a 32x32 block of C stays in cache", s, [A, B, C])

    s[C].vectorize(ji)
    show("vectorize the innermost, contiguous axis", s, [A, B, C])

    s[C].parallel(io)
    show("parallel over row blocks (OpenMP)", s, [A, B, C])

    f = tvm.build(s, [A, B, C], target="llvm")
    a = np.random.rand(M, K).astype("float32")
    b = np.random.rand(K, N).astype("float32")
    c = tvm.nd.empty((M, N))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4)
    print("scheduled matmul matches numpy")


if __name__ == "__main__":
    main()
