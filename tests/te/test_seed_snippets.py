"""The tensor-expression snippets of the TVM learning guide (seed 003), run with
`import tilecraft as tvm` and checked against numpy.

Every snippet that runs is compared with numpy on fresh random inputs (never zeros) with a
relative error below 1e-5 for float32.  The GPU snippets are lowered (not built): the loop IR
must show the thread bindings.
"""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te

RTOL = 1e-5


def rel_err(out, ref) -> float:
    out, ref = np.asarray(out, dtype="float64"), np.asarray(ref, dtype="float64")
    return float(np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-30))


def rand(rng, *shape):
    # Values in [0.5, 1.5): never zero, never all equal.
    return (rng.random(shape) + 0.5).astype("float32")


def run(f, arrays, out_shape, out_dtype="float32"):
    dev = tvm.cpu(0)
    args = [tvm.nd.array(a, dev) for a in arrays]
    out = tvm.nd.empty(out_shape, out_dtype, dev)
    f(*args, out)
    return out.numpy()


def matmul(M, N, K):
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def check_matmul(s, A, B, C, M, N, K, seed=0):
    f = tvm.build(s, [A, B, C], target="llvm")
    rng = np.random.default_rng(seed)
    a, b = rand(rng, M, K), rand(rng, K, N)
    c = run(f, [a, b], (M, N))
    assert rel_err(c, a.astype("float64") @ b.astype("float64")) < RTOL
    return f


# ----------------------------------------------------------------------------- core concepts

def test_vector_add_symbolic_length_built_once():
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    s = te.create_schedule(C.op)
    f = tvm.build(s, [A, B, C], target="llvm")
    rng = np.random.default_rng(1)
    for size in (1, 2, 7, 13, 31, 64, 97, 1024, 1031):
        a, b = rand(rng, size), rand(rng, size)
        c = run(f, [a, b], (size,))
        assert rel_err(c, a + b) < RTOL, size


def test_vector_add_split_parallel_vectorize_symbolic():
    # Schedule section of the seed: split by 32, parallel outer, vectorize inner, n symbolic.
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=32)
    s[C].parallel(xo)
    s[C].vectorize(xi)
    text = str(tvm.lower(s, [A, B, C], simple_mode=True))
    assert "T.parallel" in text and "T.vectorized(32)" in text
    f = tvm.build(s, [A, B, C], target="llvm")
    rng = np.random.default_rng(2)
    for size in (1, 5, 31, 32, 33, 67, 127, 1024, 1031):
        a, b = rand(rng, size), rand(rng, size)
        c = run(f, [a, b], (size,))
        assert rel_err(c, a + b) < RTOL, size


def test_vector_add_numpy_arrays_direct():
    # Section "Build and Execute": 1024 random normals through tvm.nd.array on tvm.cpu(0).
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    s = te.create_schedule(C.op)
    func = tvm.build(s, [A, B, C], target="llvm")
    dev = tvm.cpu(0)
    rng = np.random.default_rng(3)
    a = tvm.nd.array(rng.standard_normal(1024).astype(np.float32), dev)
    b = tvm.nd.array(rng.standard_normal(1024).astype(np.float32), dev)
    c = tvm.nd.array(np.zeros(1024, dtype=np.float32), dev)
    func(a, b, c)
    assert rel_err(c.numpy(), a.numpy() + b.numpy()) < RTOL


def test_matmul_declaration_default_schedule():
    M, N, K = 33, 17, 29
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    check_matmul(s, A, B, C, M, N, K)


# ----------------------------------------------------------------------------- primitives

@pytest.mark.parametrize("size", [128, 100, 37])
def test_split(size):
    A = te.placeholder((size,), name="A")
    C = te.compute((size,), lambda i: A[i] * 2.0 + 1.0, name="C")
    s = te.create_schedule(C.op)
    x = C.op.axis[0]
    xo, xi = s[C].split(x, factor=32)
    text = str(tvm.lower(s, [A, C], simple_mode=True))
    assert "i_outer" in text and "i_inner" in text
    f = tvm.build(s, [A, C], target="llvm")
    a = rand(np.random.default_rng(size), size)
    assert rel_err(run(f, [a], (size,)), a * 2 + 1) < RTOL


@pytest.mark.parametrize("M,N,K", [(64, 64, 64), (45, 39, 23)])
def test_tile(M, N, K):
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    x, y = C.op.axis
    xo, yo, xi, yi = s[C].tile(x, y, x_factor=32, y_factor=32)
    assert s[C].leaf_iter_vars[:4] == [xo, yo, xi, yi]
    check_matmul(s, A, B, C, M, N, K)


@pytest.mark.parametrize("M,N,K", [(64, 64, 64), (41, 35, 19)])
def test_reorder_with_split_reduction(M, N, K):
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    x, y = C.op.axis
    (k,) = C.op.reduce_axis
    xo, xi = s[C].split(x, factor=8)
    yo, yi = s[C].split(y, factor=8)
    ko, ki = s[C].split(k, factor=4)
    s[C].reorder(xo, yo, ko, xi, yi, ki)
    assert s[C].leaf_iter_vars == [xo, yo, ko, xi, yi, ki]
    check_matmul(s, A, B, C, M, N, K)


def test_bind_lowered_only():
    n = 1024
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=64)
    s[C].bind(xo, te.thread_axis("blockIdx.x"))
    s[C].bind(xi, te.thread_axis("threadIdx.x"))
    text = str(tvm.lower(s, [A, B, C], simple_mode=True))
    assert "blockIdx.x" in text and "threadIdx.x" in text


@pytest.mark.parametrize("N", [64, 50])
def test_vectorize(N):
    M, K = 16, 12
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    yo, yi = s[C].split(C.op.axis[1], factor=16)
    (k,) = C.op.reduce_axis
    s[C].reorder(C.op.axis[0], yo, k, yi)
    s[C].vectorize(yi)
    assert "T.vectorized(16)" in str(tvm.lower(s, [A, B, C], simple_mode=True))
    check_matmul(s, A, B, C, M, N, K)


@pytest.mark.parametrize("M", [64, 61])
def test_parallel(M):
    N, K = 24, 16
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=8)
    s[C].parallel(xo)
    assert "T.parallel" in str(tvm.lower(s, [A, B, C], simple_mode=True))
    check_matmul(s, A, B, C, M, N, K)


@pytest.mark.parametrize("K", [32, 30])
def test_unroll(K):
    M, N = 12, 20
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    (k,) = C.op.reduce_axis
    ko, ki = s[C].split(k, factor=4)
    s[C].unroll(ki)
    assert "T.unroll(4)" in str(tvm.lower(s, [A, B, C], simple_mode=True))
    check_matmul(s, A, B, C, M, N, K)


@pytest.mark.parametrize("M,N,K", [(32, 32, 32), (29, 37, 13)])
def test_cache_read_cache_write(M, N, K):
    # Section 8 of the seed, on the CPU: cache A and B for C, accumulate C in a local buffer.
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    AA = s.cache_read(A, "shared", [CC])
    BB = s.cache_read(B, "shared", [CC])
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 8)
    s[CC].compute_at(s[C], yo)
    ko, ki = s[CC].split(s[CC].op.reduce_axis[0], factor=4)
    s[AA].compute_at(s[CC], ko)
    s[BB].compute_at(s[CC], ko)
    text = str(tvm.lower(s, [A, B, C], simple_mode=True))
    assert "'local'" in text and "'shared'" in text
    check_matmul(s, A, B, C, M, N, K)


def test_cache_read_cache_write_at_root():
    # The seed's two lines exactly, nothing else: the caches are computed at root.
    M = N = K = 24
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    AA = s.cache_read(A, "shared", [C])  # noqa: F841
    CC = s.cache_write(C, "local")  # noqa: F841
    check_matmul(s, A, B, C, M, N, K)


# ----------------------------------------------------------------------------- GPU pattern

def gpu_schedule(M, N, K, tile=64, inner=8, kfactor=8):
    """The seed's "Typical GPU Schedule Pattern", completed: split k into ko/ki and compute the
    shared-memory caches of A and B at ko, cooperatively."""
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    AA = s.cache_read(A, "shared", [C])
    BB = s.cache_read(B, "shared", [C])
    x, y = C.op.axis
    (k,) = C.op.reduce_axis
    xo, xi = s[C].split(x, factor=tile)
    yo, yi = s[C].split(y, factor=tile)
    s[C].bind(xo, te.thread_axis("blockIdx.x"))
    s[C].bind(yo, te.thread_axis("blockIdx.y"))
    xii, xiii = s[C].split(xi, factor=inner)
    yii, yiii = s[C].split(yi, factor=inner)
    s[C].bind(xii, te.thread_axis("threadIdx.x"))
    s[C].bind(yii, te.thread_axis("threadIdx.y"))
    ko, ki = s[C].split(k, factor=kfactor)
    s[C].reorder(xo, yo, xii, yii, ko, ki, xiii, yiii)
    s[AA].compute_at(s[C], ko)
    s[BB].compute_at(s[C], ko)
    return s, (A, B, C), (AA, BB)


def test_gpu_schedule_pattern_lowers_with_thread_bindings():
    s, (A, B, C), (AA, BB) = gpu_schedule(256, 256, 256)
    text = str(tvm.lower(s, [A, B, C]))
    for tag in ("blockIdx.x", "blockIdx.y", "threadIdx.x", "threadIdx.y"):
        assert tag in text
    # Shared memory is per block: the caches cover the block's whole 64-row (column) tile, not the
    # 8 rows of one thread, although they are computed inside the thread loops.
    assert "A_shared = T.allocate([64, 8], 'float32', 'shared')" in text
    assert "B_shared = T.allocate([8, 64], 'float32', 'shared')" in text
    # The caches are filled inside the k_outer loop.
    assert text.index("k_outer") < text.index("A_shared[")


def test_gpu_schedule_pattern_lowers_for_cuda_target():
    s, (A, B, C), _ = gpu_schedule(128, 128, 64)
    with tvm.target.Target("cuda"):
        text = str(tvm.lower(s, [A, B, C]))
    assert "blockIdx.x" in text and "threadIdx.x" in text


def test_gpu_schedule_pattern_numerics_on_cpu_interpretation():
    # Without the thread bindings the same loop structure must compute the matmul: this checks
    # the cache placement and bounds of the pattern (the bindings are only a mapping).
    M, N, K = 48, 40, 24
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    AA = s.cache_read(A, "shared", [C])
    BB = s.cache_read(B, "shared", [C])
    x, y = C.op.axis
    (k,) = C.op.reduce_axis
    xo, xi = s[C].split(x, factor=16)
    yo, yi = s[C].split(y, factor=16)
    xii, xiii = s[C].split(xi, factor=8)
    yii, yiii = s[C].split(yi, factor=8)
    ko, ki = s[C].split(k, factor=8)
    s[C].reorder(xo, yo, xii, yii, ko, ki, xiii, yiii)
    s[AA].compute_at(s[C], ko)
    s[BB].compute_at(s[C], ko)
    check_matmul(s, A, B, C, M, N, K)


# ----------------------------------------------------------------------------- seed 002 phases

def test_phase2_manual_schedule_tir_changes_after_each_primitive():
    # Phase 2 of the practice: split, reorder, vectorize, parallel, inspecting the TIR each time.
    M = N = K = 64
    A, B, C = matmul(M, N, K)
    s = te.create_schedule(C.op)
    texts = [str(tvm.lower(s, [A, B, C], simple_mode=True))]
    i, j = C.op.axis
    (k,) = C.op.reduce_axis
    io, ii = s[C].split(i, factor=32)
    texts.append(str(tvm.lower(s, [A, B, C], simple_mode=True)))
    jo, ji = s[C].split(j, factor=32)
    s[C].reorder(io, jo, k, ii, ji)
    texts.append(str(tvm.lower(s, [A, B, C], simple_mode=True)))
    s[C].vectorize(ji)
    texts.append(str(tvm.lower(s, [A, B, C], simple_mode=True)))
    s[C].parallel(io)
    texts.append(str(tvm.lower(s, [A, B, C], simple_mode=True)))
    assert len(set(texts)) == len(texts)
    assert "i_outer" not in texts[0] and "i_outer" in texts[1]
    assert "T.vectorized(32)" in texts[3] and "T.parallel(2)" in texts[4]
    check_matmul(s, A, B, C, M, N, K)


@pytest.mark.parametrize("variant", ["naive", "tiled", "tiled+vectorized", "tiled+vectorized+parallel"])
def test_phase3_schedule_variants_agree(variant):
    n = 48
    A, B, C = matmul(n, n, n)
    s = te.create_schedule(C.op)
    if variant != "naive":
        io, jo, ii, ji = s[C].tile(C.op.axis[0], C.op.axis[1], 16, 16)
        ko, ki = s[C].split(C.op.reduce_axis[0], factor=4)
        s[C].reorder(io, jo, ko, ki, ii, ji)
        if "vectorized" in variant:
            s[C].vectorize(ji)
        if "parallel" in variant:
            s[C].parallel(io)
    f = check_matmul(s, A, B, C, n, n, n)
    dev = tvm.cpu(0)
    rng = np.random.default_rng(7)
    a, b = tvm.nd.array(rand(rng, n, n), dev), tvm.nd.array(rand(rng, n, n), dev)
    c = tvm.nd.empty((n, n), "float32", dev)
    timer = f.time_evaluator(f.entry_name, dev, number=2, repeat=2)
    assert timer(a, b, c).mean > 0
    assert rel_err(c.numpy(), a.numpy().astype("float64") @ b.numpy()) < RTOL


def test_thread_axis_with_range():
    n = 256
    A = te.placeholder((n,), name="A")
    C = te.compute((n,), lambda i: A[i] * 2.0, name="C")
    s = te.create_schedule(C.op)
    bx, tx = s[C].split(C.op.axis[0], factor=64)
    s[C].bind(bx, te.thread_axis("blockIdx.x"))
    s[C].bind(tx, te.thread_axis((0, 64), "threadIdx.x"))
    text = str(tvm.lower(s, [A, C], simple_mode=True))
    assert "thread='threadIdx.x'" in text and "thread='blockIdx.x'" in text
