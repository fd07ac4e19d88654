"""Random valid schedules compute what numpy computes.

Each example declares a workload (matmul, a 2-D stencil, reductions, element-wise chains),
applies a random sequence of schedule primitives (split by factors that need not divide, nparts,
reorder, fuse, tile, compute_at, compute_inline, cache_read, cache_write, rfactor, vectorize,
parallel, unroll), builds it for the CPU and compares with numpy:
‖out − ref‖ / ‖ref‖ < 1e-5 in float32, on random inputs that are never zero.
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

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    try:
        f = tvm.build(s, args, target="llvm")
    except Exception:
        print("\n".join(log))
        raise
    dev = tvm.cpu(0)
    out = tvm.nd.array(np.full(ref.shape, np.nan, dtype="float32"), dev)
    f(*[tvm.nd.array(x, dev) for x in inputs], out)
    err = rel_err(out.numpy(), ref)
    if not err < RTOL:
        print("\n".join(log))
        print(tvm.lower(s, args, simple_mode=True))
    assert err < RTOL, err


def draw_factor(data, label):
    return data.draw(st.one_of(st.integers(1, 9), st.sampled_from([13, 16, 32, 50])), label=label)


def random_loop_ops(data, stage, log, max_ops=4):
    """Random split / nparts / reorder / fuse / tile on one stage's leaves (no annotations)."""
    n = data.draw(st.integers(0, max_ops), label=f"{stage.op.name}: number of loop ops")
    for _ in range(n):
        leaves = list(stage.leaf_iter_vars)
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
    """Parallel on the outermost leaf (root stages), vectorize the innermost, unroll a small loop."""
    leaves = stage.leaf_iter_vars
    ext = leaf_extents_static(stage) if at_root else None

    def small(iv):
        return ext is not None and isinstance(ext.get(iv), IntImm) and ext[iv].value <= 8

    if at_root and leaves[0].iter_type == DP and data.draw(st.booleans(), label="parallel"):
        stage.parallel(leaves[0])
        log.append(f"s[{stage.op.name}].parallel({leaves[0].var.name})")
    inner = leaves[-1]
    if inner.iter_type == DP and inner not in stage.iter_var_attrs and data.draw(st.booleans(), label="vec"):
        if ext is None or isinstance(ext.get(inner), IntImm):
            stage.vectorize(inner)
            log.append(f"s[{stage.op.name}].vectorize({inner.var.name})")
    cands = [iv for iv in leaves if iv not in stage.iter_var_attrs and small(iv)]
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
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    log = [f"matmul M={M} N={N} K={K}"]
    compute = s[C]
    if data.draw(st.booleans(), label="cache_write"):
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
    a, b = positive(rng, (M, K)), positive(rng, (K, N))
    build_and_check(s, [A, B, C], [a, b], a.astype("float64") @ b.astype("float64"), log)


@FAST
@given(st.data())
def test_matmul_random_schedule(data):
    matmul_case(data)


# ----------------------------------------------------------------------------- 2-D stencil

def stencil_case(data, dims=DIMS, max_ops=4):
    H, W = (data.draw(st.sampled_from(dims), label=x) for x in "HW")
    R, S = (data.draw(st.sampled_from([1, 2, 3, 5]), label=x) for x in "RS")
    pad = data.draw(st.booleans(), label="padding")
    log = [f"stencil H={H} W={W} R={R} S={S} pad={pad}"]
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
    a = positive(rng, tuple(int(x.value) for x in A.shape))
    w = positive(rng, (R, S))
    src_np = np.pad(a, ((R // 2, R - 1 - R // 2), (S // 2, S - 1 - S // 2))) if pad else a
    src_np = src_np.astype("float64")
    ref = np.zeros((H, W))
    for u in range(R):
        for v in range(S):
            ref += src_np[u:u + H, v:v + W] * w[u, v]
    build_and_check(s, [A, Wt, out], [a, w], ref, log)


@FAST
@given(st.data())
def test_stencil_random_schedule(data):
    stencil_case(data)


# ----------------------------------------------------------------------------- reductions

def reduction_case(data, dims=DIMS, max_ops=4):
    kind = data.draw(st.sampled_from(["row_sum", "row_max", "sum2"]), label="kind")
    rows, cols = (data.draw(st.sampled_from(dims), label=x) for x in ("rows", "cols"))
    log = [f"{kind} rows={rows} cols={cols}"]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    if kind == "sum2":
        depth = data.draw(st.sampled_from(SMALL), label="depth")
        A = te.placeholder((rows, cols, depth), name="A")
        k1 = te.reduce_axis((0, cols), name="k1")
        k2 = te.reduce_axis((0, depth), name="k2")
        Bt = te.compute((rows,), lambda i: te.sum(A[i, k1, k2], axis=[k1, k2]), name="B")
        a = positive(rng, (rows, cols, depth))
        ref = a.astype("float64").sum(axis=(1, 2))
        log[0] += f" depth={depth}"
    else:
        A = te.placeholder((rows, cols), name="A")
        k = te.reduce_axis((0, cols), name="k")
        if kind == "row_sum":
            Bt = te.compute((rows,), lambda i: te.sum(A[i, k], axis=k), name="B")
            a = positive(rng, (rows, cols))
            ref = a.astype("float64").sum(axis=1)
        else:
            Bt = te.compute((rows,), lambda i: te.max(A[i, k], axis=k), name="B")
            a = signed(rng, (rows, cols))
            ref = a.max(axis=1).astype("float64")
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
    build_and_check(s, [A, Bt], [a], ref, log)


@FAST
@given(st.data())
def test_reduction_random_schedule(data):
    reduction_case(data)


# ----------------------------------------------------------------------------- element-wise chains

def chain_case(data, dims=DIMS, max_ops=3):
    H, W = (data.draw(st.sampled_from(dims), label=x) for x in "HW")
    n = data.draw(st.integers(3, 5), label="stages")
    A = te.placeholder((H, W), name="A")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    a = positive(rng, (H, W))
    ref = a.astype("float64")
    a64 = ref
    tensors, log = [], [f"chain H={H} W={W} stages={n}"]
    prev = A
    for t in range(n):
        form = data.draw(st.sampled_from(["affine", "shift", "mix", "relu"]), label=f"S{t} form")
        c = float(t + 1)
        if form == "affine":
            T = te.compute((H, W), lambda i, j, p=prev, c=c: p[i, j] * 0.5 + c, name=f"S{t}")
            ref = ref * 0.5 + c
        elif form == "shift":
            # Reads a neighbour (clamped): bound inference must widen the producer's region.
            T = te.compute((H, W), lambda i, j, p=prev: p[i, j] + p[i, te.min(j + 1, W - 1)] * 0.25,
                           name=f"S{t}")
            ref = ref + ref[:, np.minimum(np.arange(W) + 1, W - 1)] * 0.25
        elif form == "mix":
            # Reads the input again and the transposed-in-rows producer (i, W-1-j).
            T = te.compute((H, W), lambda i, j, p=prev: p[i, W - 1 - j] - A[i, j] * 0.125, name=f"S{t}")
            ref = ref[:, ::-1] - a64 * 0.125
        else:
            T = te.compute((H, W), lambda i, j, p=prev: te.max(p[i, j] - 1.0, p[i, j] * 0.5), name=f"S{t}")
            ref = np.maximum(ref - 1.0, ref * 0.5)
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
    build_and_check(s, [A, prev], [a], ref, log)


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
