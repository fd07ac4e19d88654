"""LLVM code generation of statements: loops, parallel loops on OpenMP, allocations, control
flow, asserts, the calling convention, and the errors for TIR a CPU cannot run."""

from __future__ import annotations

import time

import numpy as np
import pytest
from jit_harness import build, ramp, vload

import tilecraft.ir.expr as E
from tilecraft.ir.expr import Buffer, IterVar, Range, SizeVar, Var, const, decl_buffer
from tilecraft.runtime.artifact import Artifact
from tilecraft.target.codegen.llvm import codegen_llvm
from tilecraft.tir.stmt import (
    Allocate,
    AssertStmt,
    AttrStmt,
    BufferStore,
    Evaluate,
    For,
    IfThenElse,
    IRModule,
    LetStmt,
    PrimFunc,
    seq,
)

rng = np.random.default_rng(7)


def loop(var, extent, body, kind="serial", mn=0, annotations=()):
    return For(var, E.convert(mn), E.convert(extent), kind, body, annotations=annotations)


# ---------------------------------------------------------------------------- loops

def test_symbolic_extent_nonzero_min_and_shape_vars():
    n = SizeVar("n")
    x = decl_buffer((n,), "float32", "x")
    y = decl_buffer((n,), "float32", "y")
    i = Var("i")
    f = PrimFunc((x, y), loop(i, n - 2, BufferStore(y, x[i] * 2.0 + x[i - 1], (i,)), mn=1), "shift")
    art = codegen_llvm(f, "llvm")
    (info,) = art.functions
    assert info.shape_vars == (("n", "int32"),)
    assert [p.shape for p in info.params] == [("n",), ("n",)]
    m = build(f)
    for size in (0, 1, 2, 3, 100):
        a = rng.standard_normal(size).astype(np.float32)
        out = np.zeros(size, np.float32)
        assert m(a, out) == 0
        expect = np.zeros(size, np.float32)
        expect[1:size - 1] = a[1:size - 1] * 2 + a[:max(0, size - 2)]
        np.testing.assert_allclose(out, expect, rtol=1e-6)


def test_int64_loop_variable_and_scalar_params():
    n = 50
    x = decl_buffer((n,), "float64", "x")
    i = Var("i", "int64")
    alpha = Var("alpha", "float64")
    off = Var("off", "int64")
    flag = Var("flag", "bool")
    body = BufferStore(x, E.Select(flag, x[i] * alpha + E.cast(i + off, "float64"), x[i], "float64"), (i,))
    f = PrimFunc((x, alpha, off, flag), For(i, const(0, "int64"), const(n, "int64"), "serial", body), "axpy")
    a = rng.standard_normal(n)
    got = a.copy()
    assert build(f)(got, 3.0, 10, True) == 0
    np.testing.assert_allclose(got, a * 3.0 + np.arange(n) + 10)
    got = a.copy()
    assert build(f)(got, 3.0, 10, False) == 0
    np.testing.assert_array_equal(got, a)


@pytest.mark.parametrize("kind,ann", [("unroll", ()), ("vectorized", ()),
                                      ("serial", (("llvm.loop.unroll.full", 1),))])
def test_leftover_loop_kinds_get_loop_metadata(kind, ann):
    n = 16
    x = decl_buffer((n,), "float32", "x")
    i = Var("i")
    f = PrimFunc((x,), loop(i, n, BufferStore(x, x[i] + 1.0, (i,)), kind, annotations=ann), "f")
    raw = codegen_llvm(f, "llvm", optimize=False).source
    key = "llvm.loop.vectorize.enable" if kind == "vectorized" else "llvm.loop.unroll.full"
    assert key in raw and "!llvm.loop" in raw and "distinct" in raw
    a = rng.standard_normal(n).astype(np.float32)
    got = a.copy()
    assert build(f)(got) == 0
    np.testing.assert_allclose(got, a + 1)


def test_nested_loops_matrix_transpose_add():
    m, n = 13, 17
    A = decl_buffer((m, n), "float32", "A")
    B = decl_buffer((n, m), "float32", "B")
    Af = Buffer(A.data, "A", (m * n,), "float32")
    Bf = Buffer(B.data, "B", (n * m,), "float32")
    i, j = Var("i"), Var("j")
    body = loop(i, m, loop(j, n, BufferStore(Bf, Af[i * n + j] + 1.0, (j * m + i,))))
    f = PrimFunc((A, B), body, "t")
    a = rng.standard_normal((m, n)).astype(np.float32)
    b = np.zeros((n, m), np.float32)
    assert build(f)(a, b) == 0
    np.testing.assert_allclose(b, a.T + 1)


# ---------------------------------------------------------------------------- parallel

def _parallel_sum_rows(rows, cols, nested=False):
    """out[r] = sum_c x[r, c] * s + bias, with a per-iteration stack accumulator."""
    X = decl_buffer((rows, cols), "float32", "X")
    out = decl_buffer((rows,), "float32", "out")
    Xf = Buffer(X.data, "X", (rows * cols,), "float32")
    s = Var("s", "float32")
    r, c = Var("r"), Var("c")
    acc = decl_buffer((1,), "float32", "acc", scope="local")
    bias = Var("bias", "float32")
    inner_kind = "parallel" if nested else "serial"
    body = Allocate(acc, seq(
        BufferStore(acc, const(0.0), (const(0),)),
        loop(c, cols, BufferStore(acc, acc[const(0)] + Xf[r * cols + c] * s, (const(0),)), inner_kind),
        BufferStore(out, acc[const(0)] + bias, (r,))))
    return PrimFunc((X, out, s), loop(r, rows, LetStmt(bias, s * 0.5, body), "parallel"), "rowsum")


@pytest.mark.parametrize("rows", [1, 2, 7, 1001])
@pytest.mark.parametrize("cores", [None, 2, 3])
def test_parallel_loop_results(rows, cores):
    cols = 33
    f = _parallel_sum_rows(rows, cols)
    target = "llvm" if cores is None else f"llvm -num-cores={cores}"
    art = codegen_llvm(f, target)
    assert ("GOMP_parallel" in art.source) == (rows > 1)
    assert art.extra["needs_openmp"] == (rows > 1)
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    out = np.zeros(rows, np.float32)
    assert build(f, target)(x, out, 2.0) == 0
    np.testing.assert_allclose(out, x.sum(1) * 2 + 1.0, rtol=1e-4, atol=1e-4)


def test_nested_parallel_runs_inner_serially():
    f = _parallel_sum_rows(64, 40, nested=True)
    art = codegen_llvm(f, "llvm -num-cores=2")
    assert art.source.count("call void @GOMP_parallel") == 1
    x = rng.standard_normal((64, 40)).astype(np.float32)
    out = np.zeros(64, np.float32)
    assert build(f, "llvm -num-cores=2")(x, out, 1.0) == 0
    np.testing.assert_allclose(out, x.sum(1) + 0.5, rtol=1e-4, atol=1e-4)


def test_parallel_assert_failure_returns_error():
    n = 100
    x = decl_buffer((n,), "float32", "x")
    i = Var("i")
    limit = Var("limit")
    body = AssertStmt(i < limit, "i out of range", BufferStore(x, x[i] + 1.0, (i,)))
    f = PrimFunc((x, limit), loop(i, n, body, "parallel"), "f")
    m = build(f, "llvm -num-cores=2")
    a = np.zeros(n, np.float32)
    assert m(a, n) == 0
    np.testing.assert_array_equal(a, 1)
    assert m(a, 50) == -2  # the code of the module's first check: the runtime names its message


def test_two_threads_beat_one():
    """Timing is printed, not asserted: the machine may be shared."""
    n, work = 1 << 14, 200
    x = decl_buffer((n,), "float32", "x")
    i, k = Var("i"), Var("k")
    acc = decl_buffer((1,), "float32", "acc", scope="local")
    body = Allocate(acc, seq(
        BufferStore(acc, x[i], (const(0),)),
        loop(k, work, BufferStore(acc, E.Call("float32", "sqrt", (acc[const(0)] * acc[const(0)] + 1.0,)),
                                  (const(0),))),
        BufferStore(x, acc[const(0)], (i,))))
    f = PrimFunc((x,), loop(i, n, body, "parallel"), "f")
    times = {}
    for cores in (1, 2):
        m = build(f, f"llvm -num-cores={cores}")
        a = np.ones(n, np.float32)
        m(a)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            m(a)
            best = min(best, time.perf_counter() - t0)
        times[cores] = best
    print(f"\nparallel loop: 1 thread {times[1] * 1e3:.2f} ms, 2 threads {times[2] * 1e3:.2f} ms, "
          f"speed-up {times[1] / times[2]:.2f}x")


# ---------------------------------------------------------------------------- allocation

@pytest.mark.parametrize("count", [16, 300_000])  # stack, and heap above 1 MiB
def test_allocate_constant(count):
    x = decl_buffer((count,), "float32", "x")
    tmp = decl_buffer((count,), "float32", "tmp", scope="global")
    i = Var("i")
    body = Allocate(tmp, seq(
        loop(i, count, BufferStore(tmp, x[i] * 3.0, (i,))),
        loop(i, count, BufferStore(x, tmp[count - 1 - i], (i,)))))
    f = PrimFunc((x,), body, "f")
    raw = codegen_llvm(f, "llvm", optimize=False).source
    assert ("posix_memalign" in raw) == (count * 4 > 1 << 20)
    if count == 16:
        assert "alloca [16 x float], align 64" in raw
    a = rng.standard_normal(count).astype(np.float32)
    got = a.copy()
    assert build(f)(got) == 0
    np.testing.assert_allclose(got, a[::-1] * 3, rtol=1e-6)


def test_allocate_symbolic_size_and_bool():
    n = SizeVar("n")
    x = decl_buffer((n,), "int32", "x")
    tmp = decl_buffer((n * 2,), "int32", "tmp")
    mask = decl_buffer((n,), "bool", "mask")
    i = Var("i")
    body = Allocate(tmp, Allocate(mask, seq(
        loop(i, n, BufferStore(mask, x[i] > 0, (i,))),
        loop(i, n * 2, BufferStore(tmp, i, (i,))),
        loop(i, n, BufferStore(x, E.Select(mask[i], tmp[i * 2 + 1], const(-1), "int32"), (i,))))))
    f = PrimFunc((x,), body, "f")
    m = build(f)
    for size in (5, 1000):
        a = rng.integers(-5, 5, size).astype(np.int32)
        got = a.copy()
        assert m(got) == 0
        np.testing.assert_array_equal(got, np.where(a > 0, np.arange(size) * 2 + 1, -1))


def test_register_tile_accumulators_stay_in_registers():
    """A 4 x 16 accumulator tile with vector loads/stores is promoted out of memory."""
    from gemm_kernel import gemm_func

    art = codegen_llvm(gemm_func(64, 64, 64), "llvm -mcpu=znver3")
    assert "alloca" not in art.source


# ---------------------------------------------------------------------------- control flow

def test_if_then_else_let_evaluate_attr():
    n = 40
    x = decl_buffer((n,), "float32", "x")
    y = decl_buffer((n,), "float32", "y")
    i = Var("i")
    t = Var("t", "float32")
    body = LetStmt(t, x[i] * 2.0, seq(
        Evaluate(const(0)),
        AttrStmt(None, "pragma_whatever", const(1), IfThenElse(
            t > 0.0, BufferStore(y, t, (i,)), BufferStore(y, -t * 10.0, (i,)))),
        IfThenElse(E.floormod(i, 3) == 0, BufferStore(y, y[i] + 1000.0, (i,)))))
    f = PrimFunc((x, y), loop(i, n, body), "f")
    a = rng.standard_normal(n).astype(np.float32)
    got = np.zeros(n, np.float32)
    assert build(f)(a, got) == 0
    expect = np.where(a > 0, 2 * a, -20 * a) + np.where(np.arange(n) % 3 == 0, 1000, 0)
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_assert_returns_its_own_code():
    x = decl_buffer((4,), "float32", "x")
    v = Var("v")
    body = AssertStmt(v > 0, "v must be positive", BufferStore(x, const(1.0), (const(0),)))
    f = PrimFunc((x, v), body, "f")
    art = codegen_llvm(f, "llvm")
    assert art.extra["asserts"] == ["v must be positive"]
    m = build(f)
    a = np.zeros(4, np.float32)
    assert m(a, 0) == -2 and a[0] == 0  # -2 - k for the module's k-th check
    assert m(a, 3) == 0 and a[0] == 1


# ---------------------------------------------------------------------------- module and convention

def test_module_with_two_functions_and_meta_roundtrip():
    n = 8
    x = decl_buffer((n,), "float32", "x")
    i = Var("i")
    f1 = PrimFunc((x,), loop(i, n, BufferStore(x, x[i] + 1.0, (i,))), "inc")
    x2 = decl_buffer((n,), "float32", "x")
    f2 = PrimFunc((x2,), loop(i, n, BufferStore(x2, x2[i] * 2.0, (i,))), "dbl")
    art = codegen_llvm(IRModule({"inc": f1, "dbl": f2}), "llvm -mcpu=znver3 -fast-math")
    assert art.kind == "llvm" and art.entry == "inc"
    assert [fi.name for fi in art.functions] == ["inc", "dbl"]
    back = Artifact.from_meta_json(art.meta_json(), art.source)
    assert back.functions == art.functions and back.target == art.target
    assert '"target-cpu"="znver3"' in art.source
    from jit_harness import JitModule

    m = JitModule(art)
    a = np.ones(n, np.float32)
    assert m["dbl"](a) == 0 and m["inc"](a) == 0
    np.testing.assert_array_equal(a, 3)


def test_fast_math_flags_follow_the_target():
    n = 8
    x = decl_buffer((n,), "float32", "x")
    i = Var("i")
    f = PrimFunc((x,), loop(i, n, BufferStore(x, x[i] * 3.0 + 1.0, (i,))), "f")
    plain = codegen_llvm(f, "llvm", optimize=False).source
    fast = codegen_llvm(f, "llvm -fast-math", optimize=False).source
    assert "fmul contract" in plain and "fast" not in plain
    assert "fmul fast" in fast


def test_params_are_noalias():
    x = decl_buffer((4,), "float32", "x")
    f = PrimFunc((x,), BufferStore(x, const(1.0), (const(0),)), "f")
    src = codegen_llvm(f, "llvm").source
    assert "noalias" in src and "captures(none)" in src


def test_vector_store_of_vector_load_is_a_plain_vector_access():
    n = 64
    x = decl_buffer((n,), "float32", "x")
    i = Var("i")
    idx = ramp(i * 16, 16)
    two = E.Broadcast(const(2.0), 16, "float32x16")
    f = PrimFunc((x,), loop(i, n // 16, BufferStore(x, vload(x, idx) * two, (idx,))), "f")
    raw = codegen_llvm(f, "llvm", optimize=False).source
    assert "load <16 x float>" in raw and "store <16 x float>" in raw and "align 4" in raw
    a = rng.standard_normal(n).astype(np.float32)
    got = a.copy()
    assert build(f)(got) == 0
    np.testing.assert_allclose(got, 2 * a)


# ---------------------------------------------------------------------------- errors

def test_thread_binding_is_rejected():
    x = decl_buffer((32,), "float32", "x")
    tx = Var("threadIdx.x")
    f = PrimFunc((x,), For(tx, const(0), const(32), "thread_binding", BufferStore(x, const(1.0), (tx,)),
                           thread_tag="threadIdx.x"), "f")
    with pytest.raises(ValueError, match="threadIdx.x.*bound to a GPU thread; build for target 'cuda'"):
        codegen_llvm(f, "llvm")


def test_thread_extent_attr_is_rejected():
    x = decl_buffer((32,), "float32", "x")
    bx = Var("blockIdx.x")
    iv = IterVar(Range(const(0), const(32)), bx, 1, "blockIdx.x")
    f = PrimFunc((x,), AttrStmt(iv, "thread_extent", const(32), BufferStore(x, const(1.0), (bx,))), "f")
    with pytest.raises(ValueError, match="blockIdx.x.*remove the bind"):
        codegen_llvm(f, "llvm")


def test_unflattened_access_and_unbound_var_errors():
    A = decl_buffer((4, 4), "float32", "A")
    i = Var("i")
    f = PrimFunc((A,), loop(i, 4, BufferStore(A, const(1.0), (i, i))), "f")
    with pytest.raises(ValueError, match="flattened"):
        codegen_llvm(f, "llvm")
    ghost = Var("ghost")
    g = PrimFunc((A,), BufferStore(Buffer(A.data, "A", (16,), "float32"), const(1.0), (ghost,)), "g")
    with pytest.raises(ValueError, match="ghost"):
        codegen_llvm(g, "llvm")


def test_non_llvm_target_is_rejected():
    x = decl_buffer((4,), "float32", "x")
    f = PrimFunc((x,), BufferStore(x, const(1.0), (const(0),)), "f")
    with pytest.raises(ValueError, match="'llvm' targets"):
        codegen_llvm(f, "c")
