"""Random valid schedules compute what numpy computes.

Each example declares a workload (matmul, a 2-D stencil, reductions, element-wise chains),
applies a random sequence of schedule primitives (split by factors that need not divide, nparts,
reorder, fuse, tile, compute_at, compute_inline, cache_read, cache_write, rfactor, vectorize,
parallel, unroll), builds it for the CPU and compares with numpy:
‖out − ref‖ / ‖ref‖ < 1e-5 in float32, on random inputs that are never zero.  Every schedule is
also replayed from its trace and copied: both must lower to the same loop IR (what a tuner relies
on when it records a candidate and rebuilds the winner).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tilecraft as tvm
from tilecraft import te
from tilecraft.te.bound import leaf_extents_static
from tilecraft.tir import IntImm

RTOL = 1e-5
DIMS = [1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17, 19, 23, 29, 31, 32, 37, 40]
SMALL = [1, 2, 3, 5, 7, 8, 13]

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DP, RED = 0, 2


# ----------------------------------------------------------------------------- helpers

def rel_err(out, ref) -> float:
    out, ref = np.asarray(out, "float64"), np.asarray(ref, "float64")
    return float(np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-30))


def positive(rng, shape):
    return (rng.random(shape) + 0.5).astype("float32")


def signed(rng, shape):
    x = rng.standard_normal(shape).astype("float32")
    return np.where(np.abs(x) < 0.05, 0.5, x).astype("float32")


def build_and_check(s, args, inputs, ref, log):
    """Build, run on `inputs` (numpy) and compare the last argument with `ref`."""
    check_cases(s, args, [(inputs, ref)], log)


def check_replay(s, args, log):
    """The trace replayed on a fresh schedule, and a copy, lower to the same IR as `s`."""
    text = str(tvm.lower(s, args, simple_mode=True))
    fresh = te.create_schedule(list(s.trace().outputs))
    s.trace().apply(fresh)
    for other in (fresh, s.copy()):
        if str(tvm.lower(other, args, simple_mode=True)) != text:
            print("\n".join(log), "\ntrace:\n", s.trace())
        assert str(tvm.lower(other, args, simple_mode=True)) == text


def check_cases(s, args, cases, log):
    """Build once, then run every (inputs, ref) case: symbolic shapes take several sizes."""
    check_replay(s, args, log)
    try:
        f = tvm.build(s, args, target="llvm")
    except Exception:
        print("\n".join(log))
        raise
    dev = tvm.cpu(0)
    for inputs, ref in cases:
        out = tvm.nd.array(np.full(ref.shape, np.nan, dtype="float32"), dev)
        f(*[tvm.nd.array(x, dev) for x in inputs], out)
        err = rel_err(out.numpy(), ref)
        if not err < RTOL:
            print("\n".join(log), f"\nfailed for output shape {ref.shape}")
            print(tvm.lower(s, args, simple_mode=True))
        assert err < RTOL, err


def draw_rows(data, dims, label):
    """A row count and the sizes to run: half the time symbolic (te.size_var), built once and
    run for two sizes."""
    n = data.draw(st.sampled_from(dims), label=label)
    if data.draw(st.booleans(), label=f"symbolic {label}"):
        return te.size_var(label.lower()), [n, data.draw(st.sampled_from(dims), label=f"second {label}")]
    return n, [n]


def draw_factor(data, label):
    return data.draw(st.one_of(st.integers(1, 9), st.sampled_from([13, 16, 32, 50])), label=label)


def random_loop_ops(data, stage, log, max_ops=4, data_parallel_only=False):
    """Random split / nparts / reorder / fuse / tile on one stage's leaves (no annotations)."""
    n = data.draw(st.integers(0, max_ops), label=f"{stage.op.name}: number of loop ops")
    for _ in range(n):
        leaves = [iv for iv in stage.leaf_iter_vars if not data_parallel_only or iv.iter_type == DP]
        kind = data.draw(st.sampled_from(["split", "nparts", "reorder", "fuse", "tile"]), label="op")
        if kind in ("split", "nparts"):
            iv = data.draw(st.sampled_from(leaves), label="axis")
            amount = draw_factor(data, "amount")
            if kind == "split":
                stage.split(iv, factor=amount)
            else:
                stage.split(iv, nparts=amount)
            log.append(f"s[{stage.op.name}].split({iv.var.name}, "
                       f"{'factor' if kind == 'split' else 'nparts'}={amount})")
        elif kind == "reorder":
            perm = data.draw(st.permutations(leaves), label="order")
            stage.reorder(*perm)
            log.append(f"s[{stage.op.name}].reorder({', '.join(v.var.name for v in perm)})")
        elif kind == "fuse":
            pairs = [(a, b) for a, b in zip(leaves, leaves[1:]) if a.iter_type == b.iter_type]
            if pairs:
                a, b = data.draw(st.sampled_from(pairs), label="pair")
                stage.fuse(a, b)
                log.append(f"s[{stage.op.name}].fuse({a.var.name}, {b.var.name})")
        else:
            pairs = [(a, b) for a, b in zip(leaves, leaves[1:]) if a.iter_type == b.iter_type == DP]
            if pairs:
                a, b = data.draw(st.sampled_from(pairs), label="pair")
                fx, fy = draw_factor(data, "fx"), draw_factor(data, "fy")
                stage.tile(a, b, fx, fy)
                log.append(f"s[{stage.op.name}].tile({a.var.name}, {b.var.name}, {fx}, {fy})")


def random_annotations(data, stage, log, at_root=True):
    """Parallel on the outermost leaf (root stages), vectorize the innermost (at most 64 lanes),
    unroll a small loop.  Extents come from the operation's domain: for a stage computed inside
    another they bound the real extents from above."""
    leaves = stage.leaf_iter_vars
    ext = leaf_extents_static(stage) or {}

    def at_most(iv, n):
        e = ext.get(iv)
        return isinstance(e, IntImm) and e.value <= n

    if at_root and leaves[0].iter_type == DP and data.draw(st.booleans(), label="parallel"):
        stage.parallel(leaves[0])
        log.append(f"s[{stage.op.name}].parallel({leaves[0].var.name})")
    inner = leaves[-1]
    if inner.iter_type == DP and inner not in stage.iter_var_attrs and at_most(inner, 64) \
            and data.draw(st.booleans(), label="vec"):
        stage.vectorize(inner)
        log.append(f"s[{stage.op.name}].vectorize({inner.var.name})")
    cands = [iv for iv in leaves if iv not in stage.iter_var_attrs and at_most(iv, 8)]
    if cands and data.draw(st.booleans(), label="unroll"):
        iv = data.draw(st.sampled_from(cands), label="unroll axis")
        stage.unroll(iv)
        log.append(f"s[{stage.op.name}].unroll({iv.var.name})")


def place(data, s, stage, parent, log, allow_inline=False):
    """Leave `stage` at root, inline it, or compute it at a random leaf of `parent`."""
    choices = ["root", "at"] + (["inline"] if allow_inline else [])
    where = data.draw(st.sampled_from(choices), label=f"{stage.op.name} placement")
    if where == "at":
        iv = data.draw(st.sampled_from(list(parent.leaf_iter_vars)), label="attach axis")
        stage.compute_at(parent, iv)
        log.append(f"s[{stage.op.name}].compute_at(s[{parent.op.name}], {iv.var.name})")
    elif where == "inline":
        stage.compute_inline()
        log.append(f"s[{stage.op.name}].compute_inline()")
    return where


# ----------------------------------------------------------------------------- matmul

def matmul_case(data, dims=DIMS, max_ops=4):
    M, N, K = (data.draw(st.sampled_from(dims), label=x) for x in "MNK")
    # A symbolic row count: built once, run for several sizes.
    sizes = [M]
    if data.draw(st.booleans(), label="symbolic M"):
        sizes.append(data.draw(st.sampled_from(dims), label="second M"))
        M = te.size_var("m")
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    log = [f"matmul M={M} (sizes {sizes}) N={N} K={K}"]
    compute = s[C]
    cache = data.draw(st.sampled_from(["none", "before", "after split"]), label="cache_write")
    if cache == "after split":  # the cache takes C's split loops as its axes (classic re-layout)
        random_loop_ops(data, s[C], log, max_ops, data_parallel_only=True)
    if cache != "none":
        CC = s.cache_write(C, "local")
        log.append("CC = s.cache_write(C, 'local')")
        compute = s[CC]
    caches = []
    for T in (A, B):
        if data.draw(st.booleans(), label=f"cache_read {T.name}"):
            caches.append(s.cache_read(T, "global", [compute.op.output(0)]))
            log.append(f"s.cache_read({T.name}, 'global', [{compute.op.name}])")
    random_loop_ops(data, s[C], log, max_ops)
    if compute is not s[C]:
        place(data, s, compute, s[C], log)
        random_loop_ops(data, compute, log, max_ops)
    for T in caches:
        place(data, s, s[T], compute, log)
    random_annotations(data, s[C], log)
    if compute is not s[C]:
        random_annotations(data, compute, log, at_root=compute.attach_type == "root")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    cases = []
    for m in sizes:
        a, b = positive(rng, (m, K)), positive(rng, (K, N))
        cases.append(([a, b], a.astype("float64") @ b.astype("float64")))
    check_cases(s, [A, B, C], cases, log)


@FAST
@given(st.data())
def test_matmul_random_schedule(data):
    matmul_case(data)


# ----------------------------------------------------------------------------- 2-D stencil

def stencil_case(data, dims=DIMS, max_ops=4):
    H, sizes = draw_rows(data, dims, "H")
    W = data.draw(st.sampled_from(dims), label="W")
    R, S = (data.draw(st.sampled_from([1, 2, 3, 5]), label=x) for x in "RS")
    pad = data.draw(st.booleans(), label="padding")
    log = [f"stencil H={H} (sizes {sizes}) W={W} R={R} S={S} pad={pad}"]
    if pad:
        # out has the input's size: the input is padded by a stage that may be inlined or cached.
        A = te.placeholder((H, W), name="A")
        ph, pw = R // 2, S // 2
        P = te.compute((H + R - 1, W + S - 1), lambda y, x: tvm.tir.if_then_else(
            tvm.tir.all(y >= ph, y < H + ph, x >= pw, x < W + pw), A[y - ph, x - pw], 0.0), name="P")
        src = P
    else:
        A = te.placeholder((H + R - 1, W + S - 1), name="A")
        src = A
    Wt = te.placeholder((R, S), name="Wt")
    di = te.reduce_axis((0, R), name="di")
    dj = te.reduce_axis((0, S), name="dj")
    out = te.compute((H, W), lambda i, j: te.sum(src[i + di, j + dj] * Wt[di, dj], axis=[di, dj]), name="out")
    s = te.create_schedule(out.op)
    cache = None
    if data.draw(st.booleans(), label="cache_read"):
        cache = s.cache_read(src, "global", [out])
        log.append(f"s.cache_read({src.name}, 'global', [out])")
    random_loop_ops(data, s[out], log, max_ops)
    if pad:
        place(data, s, s[P], s[cache] if cache is not None else s[out], log, allow_inline=True)
    if cache is not None:
        place(data, s, s[cache], s[out], log)
    random_annotations(data, s[out], log)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    w = positive(rng, (R, S))
    cases = []
    for h in sizes:
        a = positive(rng, (h, W) if pad else (h + R - 1, W + S - 1))
        src_np = np.pad(a, ((R // 2, R - 1 - R // 2), (S // 2, S - 1 - S // 2))) if pad else a
        src_np = src_np.astype("float64")
        ref = np.zeros((h, W))
        for u in range(R):
            for v in range(S):
                ref += src_np[u:u + h, v:v + W] * w[u, v]
        cases.append(([a, w], ref))
    check_cases(s, [A, Wt, out], cases, log)


@FAST
@given(st.data())
def test_stencil_random_schedule(data):
    stencil_case(data)


# ----------------------------------------------------------------------------- reductions

def reduction_case(data, dims=DIMS, max_ops=4):
    kind = data.draw(st.sampled_from(["row_sum", "row_max", "sum2"]), label="kind")
    rows, sizes = draw_rows(data, dims, "rows")
    cols = data.draw(st.sampled_from(dims), label="cols")
    log = [f"{kind} rows={rows} (sizes {sizes}) cols={cols}"]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    if kind == "sum2":
        depth = data.draw(st.sampled_from(SMALL), label="depth")
        A = te.placeholder((rows, cols, depth), name="A")
        k1 = te.reduce_axis((0, cols), name="k1")
        k2 = te.reduce_axis((0, depth), name="k2")
        Bt = te.compute((rows,), lambda i: te.sum(A[i, k1, k2], axis=[k1, k2]), name="B")
        inputs = [positive(rng, (r, cols, depth)) for r in sizes]
        cases = [([a], a.astype("float64").sum(axis=(1, 2))) for a in inputs]
        log[0] += f" depth={depth}"
    else:
        A = te.placeholder((rows, cols), name="A")
        k = te.reduce_axis((0, cols), name="k")
        if kind == "row_sum":
            Bt = te.compute((rows,), lambda i: te.sum(A[i, k], axis=k), name="B")
            inputs = [positive(rng, (r, cols)) for r in sizes]
            cases = [([a], a.astype("float64").sum(axis=1)) for a in inputs]
        else:
            Bt = te.compute((rows,), lambda i: te.max(A[i, k], axis=k), name="B")
            inputs = [signed(rng, (r, cols)) for r in sizes]
            cases = [([a], a.max(axis=1).astype("float64")) for a in inputs]
    s = te.create_schedule(Bt.op)
    stages = [s[Bt]]
    if data.draw(st.booleans(), label="rfactor"):
        r = Bt.op.reduce_axis[0]
        f = draw_factor(data, "rfactor split")
        ko, ki = s[Bt].split(r, factor=f)
        which = data.draw(st.sampled_from(["outer", "inner"]), label="rfactor axis")
        BF = s.rfactor(Bt, ko if which == "outer" else ki)
        log.append(f"ko, ki = s[B].split({r.var.name}, factor={f}); BF = s.rfactor(B, k{which[0]})")
        random_loop_ops(data, s[BF], log, max_ops)
        random_loop_ops(data, s[Bt], log, max_ops)
        if place(data, s, s[BF], s[Bt], log) == "root":
            stages.append(s[BF])
        else:
            random_annotations(data, s[BF], log, at_root=False)
    else:
        random_loop_ops(data, s[Bt], log, max_ops)
    for x in stages:
        random_annotations(data, x, log)
    check_cases(s, [A, Bt], cases, log)


@FAST
@given(st.data())
def test_reduction_random_schedule(data):
    reduction_case(data)


# ----------------------------------------------------------------------------- element-wise chains

def chain_case(data, dims=DIMS, max_ops=3):
    H, sizes = draw_rows(data, dims, "H")
    W = data.draw(st.sampled_from(dims), label="W")
    n = data.draw(st.integers(3, 5), label="stages")
    A = te.placeholder((H, W), name="A")
    tensors, refs, log = [], [], [f"chain H={H} (sizes {sizes}) W={W} stages={n}"]
    shift = np.minimum(np.arange(W) + 1, W - 1)
    prev = A
    for t in range(n):
        form = data.draw(st.sampled_from(["affine", "shift", "mix", "relu"]), label=f"S{t} form")
        c = float(t + 1)
        if form == "affine":
            T = te.compute((H, W), lambda i, j, p=prev, c=c: p[i, j] * 0.5 + c, name=f"S{t}")
            refs.append(lambda r, a, c=c: r * 0.5 + c)
        elif form == "shift":
            # Reads a neighbour (clamped): bound inference must widen the producer's region.
            T = te.compute((H, W), lambda i, j, p=prev: p[i, j] + p[i, te.min(j + 1, W - 1)] * 0.25,
                           name=f"S{t}")
            refs.append(lambda r, a: r + r[:, shift] * 0.25)
        elif form == "mix":
            # Reads the input again and the producer mirrored in each row (i, W-1-j).
            T = te.compute((H, W), lambda i, j, p=prev: p[i, W - 1 - j] - A[i, j] * 0.125, name=f"S{t}")
            refs.append(lambda r, a: r[:, ::-1] - a * 0.125)
        else:
            T = te.compute((H, W), lambda i, j, p=prev: te.max(p[i, j] - 1.0, p[i, j] * 0.5), name=f"S{t}")
            refs.append(lambda r, a: np.maximum(r - 1.0, r * 0.5))
        log.append(f"S{t}: {form}")
        tensors.append(T)
        prev = T
    s = te.create_schedule(prev.op)
    random_loop_ops(data, s[prev], log, max_ops)
    # From the output back: each producer is inlined, at root, or computed at its nearest
    # non-inlined consumer (which is already placed).
    consumer = s[prev]
    for T in reversed(tensors[:-1]):
        where = place(data, s, s[T], consumer, log, allow_inline=True)
        if where != "inline":
            random_loop_ops(data, s[T], log, 2)
            random_annotations(data, s[T], log, at_root=where == "root")
            consumer = s[T]
    random_annotations(data, s[prev], log)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    cases = []
    for h in sizes:
        a = positive(rng, (h, W))
        ref = a64 = a.astype("float64")
        for f in refs:
            ref = f(ref, a64)
        cases.append(([a], ref))
    check_cases(s, [A, prev], cases, log)


@FAST
@given(st.data())
def test_elementwise_chain_random_schedule(data):
    chain_case(data)


# ----------------------------------------------------------------------------- heavier variant

@pytest.mark.slow
@SLOW
@given(st.data(), st.sampled_from([matmul_case, stencil_case, reduction_case, chain_case]))
def test_random_schedules_slow(data, case):
    case(data, max_ops=6)


# ----------------------------------------------------------------------------- regressions found here

def test_regression_attached_region_starting_before_domain():
    """A producer computed inside a consumer whose reads (reversed, clamped) start before index 0:
    the region's extent was capped at the domain size while its start stayed negative, so the
    in-domain end of the region was never computed (read as garbage)."""
    H, W = 4, 5
    A = te.placeholder((H, W), name="A")
    S0 = te.compute((H, W), lambda i, j: A[i, j] * 0.5 + 1.0, name="S0")
    S1 = te.compute((H, W), lambda i, j: S0[i, j] + S0[i, te.min(j + 1, W - 1)] * 0.25, name="S1")
    S2 = te.compute((H, W), lambda i, j: S1[i, W - 1 - j] - A[i, j] * 0.125, name="S2")
    S3 = te.compute((H, W), lambda i, j: S2[i, j] + S2[i, te.min(j + 1, W - 1)] * 0.25, name="S3")
    s = te.create_schedule(S3.op)
    jo, ji = s[S3].split(S3.op.axis[1], nparts=2)
    s[S2].compute_at(s[S3], ji)
    s[S1].compute_inline()
    s[S0].compute_at(s[S2], s[S2].op.axis[0])
    rng = np.random.default_rng(0)
    a = positive(rng, (H, W))
    shift = np.minimum(np.arange(W) + 1, W - 1)
    r = a.astype("float64") * 0.5 + 1
    r = r + r[:, shift] * 0.25
    r = r[:, ::-1] - a * 0.125
    r = r + r[:, shift] * 0.25
    build_and_check(s, [A, S3], [a], r, ["regression"])


# ----------------------------------------------------------------------------- fixed schedules

def _run(s, args, inputs, ref):
    build_and_check(s, args, inputs, ref, ["fixed schedule"])


def test_softmax_compute_at_in_any_order():
    # Producers attached before their own readers are: compute_at calls come in any order.
    n, m = 7, 33
    A = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    mx = te.compute((n,), lambda i: te.max(A[i, k], axis=k), name="mx")
    e = te.compute((n, m), lambda i, j: te.exp(A[i, j] - mx[i]), name="e")
    k2 = te.reduce_axis((0, m), name="k2")
    sm = te.compute((n,), lambda i: te.sum(e[i, k2], axis=k2), name="sm")
    out = te.compute((n, m), lambda i, j: e[i, j] / sm[i], name="out")
    s = te.create_schedule(out.op)
    row = out.op.axis[0]
    s[mx].compute_at(s[out], row)  # mx is read by e, which is not attached yet
    s[e].compute_at(s[out], row)
    s[sm].compute_at(s[out], row)
    s[out].parallel(row)
    s[out].vectorize(out.op.axis[1])
    a = signed(np.random.default_rng(0), (n, m))
    ref = np.exp(a - a.max(axis=1, keepdims=True))
    _run(s, [A, out], [a], ref / ref.sum(axis=1, keepdims=True))


def test_parallel_loop_with_private_cache():
    # The local cache is allocated inside the parallel loop: every thread needs its own.
    M = N = K = 96
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    AA = s.cache_read(A, "global", [CC])
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 8, 16)
    f = s[C].fuse(xo, yo)
    s[C].parallel(f)
    s[CC].compute_at(s[C], f)
    s[AA].compute_at(s[CC], s[CC].op.reduce_axis[0])
    s[CC].vectorize(s[CC].op.axis[1])
    rng = np.random.default_rng(1)
    a, b = positive(rng, (M, K)), positive(rng, (K, N))
    for _ in range(3):
        _run(s, [A, B, C], [a, b], a.astype("float64") @ b)


def test_compute_at_then_split_attach_axis():
    M, N, K = 30, 20, 10
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    i = C.op.axis[0]
    s[CC].compute_at(s[C], i)
    s[C].split(i, factor=7)  # the attach point moves to i_inner
    rng = np.random.default_rng(2)
    a, b = positive(rng, (M, K)), positive(rng, (K, N))
    _run(s, [A, B, C], [a, b], a.astype("float64") @ b)


@pytest.mark.parametrize("factor_axis", [0, 1])
def test_rfactor_computed_at_consumer(factor_axis):
    A = te.placeholder((8, 61), name="A")
    k = te.reduce_axis((0, 61), name="k")
    B = te.compute((8,), lambda i: te.sum(A[i, k], axis=k), name="B")
    s = te.create_schedule(B.op)
    ko, ki = s[B].split(k, factor=16)
    BF = s.rfactor(B, ki, factor_axis=factor_axis)
    assert [d.value for d in BF.shape] == ([16, 8] if factor_axis == 0 else [8, 16])
    s[BF].compute_at(s[B], B.op.axis[0])
    s[B].parallel(B.op.axis[0])
    a = positive(np.random.default_rng(3), (8, 61))
    _run(s, [A, B], [a], a.astype("float64").sum(axis=1))


def test_rfactor_of_tuple_reduction():
    def fcombine(x, y):
        take = x[1] >= y[1]
        return tvm.tir.Select(take, x[0], y[0]), tvm.tir.Select(take, x[1], y[1])

    argmax = te.comm_reducer(fcombine, lambda t0, t1: (tvm.tir.const(-1, t0), te.min_value(t1)), name="argmax")
    A = te.placeholder((5, 40), name="A")
    k = te.reduce_axis((0, 40), name="k")
    idx, val = te.compute((5,), lambda i: argmax((k.var, A[i, k]), axis=k), name="T")
    s = te.create_schedule(idx.op)
    ko, ki = s[idx].split(k, factor=8)
    s.rfactor(idx, ki)
    f = tvm.build(s, [A, idx, val], target="llvm")
    a = signed(np.random.default_rng(4), (5, 40))
    i_out, v_out = tvm.nd.empty((5,), "int32"), tvm.nd.empty((5,))
    f(tvm.nd.array(a), i_out, v_out)
    np.testing.assert_array_equal(i_out.numpy(), a.argmax(axis=1))
    np.testing.assert_array_equal(v_out.numpy(), a.max(axis=1))


def test_cache_read_with_two_readers():
    A = te.placeholder((20,), name="A")
    B = te.compute((20,), lambda i: A[i] * 2.0, name="B")
    C = te.compute((20,), lambda i: A[i] + B[19 - i], name="C")
    s = te.create_schedule(C.op)
    s.cache_read(A, "global", [B, C])
    a = positive(np.random.default_rng(5), (20,))
    _run(s, [A, C], [a], a + 2.0 * a[::-1])


def test_tuple_output_stage_computed_at_consumer():
    def fcombine(x, y):
        take = x[1] >= y[1]
        return tvm.tir.Select(take, x[0], y[0]), tvm.tir.Select(take, x[1], y[1])

    argmax = te.comm_reducer(fcombine, lambda t0, t1: (tvm.tir.const(-1, t0), te.min_value(t1)), name="argmax")
    A = te.placeholder((5, 40), name="A")
    k = te.reduce_axis((0, 40), name="k")
    idx, val = te.compute((5,), lambda i: argmax((k.var, A[i, k]), axis=k), name="T")
    O = te.compute((5,), lambda i: idx[i].astype("float32") + val[i], name="O")
    s = te.create_schedule(O.op)
    s[idx].compute_at(s[O], O.op.axis[0])
    a = signed(np.random.default_rng(6), (5, 40))
    _run(s, [A, O], [a], a.argmax(axis=1) + a.max(axis=1).astype("float64"))


def test_regression_symbolic_region_is_not_the_int32_range():
    """A cache of a symbolic-size input computed inside a loop: its extent `m` has no constant
    bound but the int32 range, which was taken as a constant extent (2147483647 iterations)."""
    m = te.size_var("m")
    N, K = 5, 16
    A = te.placeholder((m, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((m, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    AA = s.cache_read(A, "global", [CC])
    s[CC].reorder(s[CC].op.axis[1], s[CC].op.reduce_axis[0], s[CC].op.axis[0])
    s[AA].compute_at(s[CC], s[CC].op.reduce_axis[0])
    text = str(tvm.lower(s, [A, B, C], simple_mode=True))
    assert "2147483647" not in text and "T.allocate([m, 1], 'float32'" in text
    rng = np.random.default_rng(8)
    cases = []
    for rows in (1, 3, 17):
        a, b = positive(rng, (rows, K)), positive(rng, (K, N))
        cases.append(([a, b], a.astype("float64") @ b))
    check_cases(s, [A, B, C], cases, ["regression"])


def test_regression_symbolic_extent_not_replaced_by_type_range_bound():
    """nparts split of a symbolic axis: the cache's extent (h + 12) // 13 + 2 has a constant
    bound only through the int32 range of h (165191052), which was used as its size."""
    H = te.size_var("h")
    A = te.placeholder((H + 2, 7), name="A")
    k = te.reduce_axis((0, 3), name="k")
    out = te.compute((H, 7), lambda i, j: te.sum(A[i + k, j], axis=k), name="out")
    s = te.create_schedule(out.op)
    AG = s.cache_read(A, "global", [out])
    io, ii = s[out].split(out.op.axis[0], nparts=13)
    s[AG].compute_at(s[out], io)
    text = str(tvm.lower(s, [A, out], simple_mode=True))
    assert "T.allocate([(h + 12) // 13 + 2, 7]" in text, text
    rng = np.random.default_rng(9)
    cases = []
    for h in (3, 13, 37):
        a = positive(rng, (h + 2, 7))
        cases.append(([a], a[:-2].astype("float64") + a[1:-1] + a[2:]))
    check_cases(s, [A, out], cases, ["regression"])


def test_regression_unbounded_read_interval_covers_whole_axis():
    """A producer computed at an nparts split of a fused symbolic nest: interval analysis finds no
    bound for the column read (a floormod by a symbolic stride), which crashed bound inference."""
    H, W = te.size_var("h"), 13
    A = te.placeholder((H, W), name="A")
    S0 = te.compute((H, W), lambda i, j: A[i, j] * 0.5 + 1.0, name="S0")
    S1 = te.compute((H, W), lambda i, j: S0[i, j] + S0[i, te.min(j + 1, W - 1)] * 0.25, name="S1")
    s = te.create_schedule(S1.op)
    fo, fi = s[S1].split(s[S1].fuse(*S1.op.axis), nparts=50)
    s[S0].compute_at(s[S1], fo)
    rng = np.random.default_rng(10)
    shift = np.minimum(np.arange(W) + 1, W - 1)
    cases = []
    for h in (1, 32, 37):
        a = positive(rng, (h, W))
        r = a.astype("float64") * 0.5 + 1
        cases.append(([a], r + r[:, shift] * 0.25))
    check_cases(s, [A, S1], cases, ["regression"])
