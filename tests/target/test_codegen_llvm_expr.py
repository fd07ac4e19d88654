"""LLVM code generation of expressions, checked against numpy on random data.

Each case builds `out[i] = expr(x0[i], x1[i])` as a scalar loop and as a vector loop (Ramp
loads of 8 lanes), JIT-compiles it and compares with numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
from jit_harness import build, ramp, run_elementwise, vload

import tilecraft.ir.expr as E
from tilecraft.ir import dtype as dt
from tilecraft.ir.expr import Var, const, decl_buffer
from tilecraft.tir.stmt import BufferStore, For, PrimFunc, seq

rng = np.random.default_rng(42)
LANES = [1, 8]
N = 64


def rand(dtype, n=N, low=-100, high=100, nonzero=False):
    d = np.dtype(dtype)
    if d.kind == "f":
        x = rng.uniform(low, high, n).astype(d)
    elif d.kind == "b":
        x = rng.integers(0, 2, n).astype(bool)
    else:
        info = np.iinfo(d)
        x = rng.integers(max(low, info.min), min(high, info.max) + 1, n).astype(d)
    if nonzero:
        x[x == 0] = 1
    return x


def binop(cls):
    return lambda a, b: cls(a, b, a.dtype)


# ---------------------------------------------------------------------------- arithmetic

@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "int8", "uint8", "uint32"])
def test_add_sub_mul(dtype, lanes):
    a, b = rand(dtype), rand(dtype)
    for cls, ref in [(E.Add, np.add), (E.Sub, np.subtract), (E.Mul, np.multiply)]:
        with np.errstate(over="ignore"):
            expect = ref(a, b)
        got = run_elementwise(binop(cls), [a, b], dtype, lanes)
        np.testing.assert_allclose(got, expect, rtol=1e-6)


@pytest.mark.parametrize("lanes", LANES)
def test_float_div_and_mod(lanes):
    a, b = rand("float32"), rand("float32", nonzero=True)
    np.testing.assert_allclose(run_elementwise(binop(E.Div), [a, b], "float32", lanes), a / b, rtol=1e-6)
    np.testing.assert_allclose(run_elementwise(binop(E.Mod), [a, b], "float32", lanes), np.fmod(a, b),
                               rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("dtype", ["int32", "int64", "int8"])
def test_int_trunc_div_mod(dtype, lanes):
    a, b = rand(dtype), rand(dtype, low=-9, high=9, nonzero=True)
    q = (np.abs(a) // np.abs(b)) * np.sign(a) * np.sign(b)
    np.testing.assert_array_equal(run_elementwise(binop(E.Div), [a, b], dtype, lanes), q)
    np.testing.assert_array_equal(run_elementwise(binop(E.Mod), [a, b], dtype, lanes), np.fmod(a, b))


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("dtype", ["int32", "int64", "int16"])
def test_floordiv_floormod_negative_operands(dtype, lanes):
    a, b = rand(dtype), rand(dtype, low=-7, high=7, nonzero=True)
    np.testing.assert_array_equal(run_elementwise(binop(E.FloorDiv), [a, b], dtype, lanes), a // b)
    np.testing.assert_array_equal(run_elementwise(binop(E.FloorMod), [a, b], dtype, lanes), a % b)


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("divisor", [1, 3, 4, 8, 7, -3, -4])
def test_floordiv_floormod_constant_divisor(divisor, lanes):
    a = rand("int32", low=-1000, high=1000)

    def c(x):
        v = const(divisor, "int32")
        return v if dt.lanes(x.dtype) == 1 else E.Broadcast(v, lanes, x.dtype)

    got_q = run_elementwise(lambda x: E.FloorDiv(x, c(x), x.dtype), [a], "int32", lanes)
    got_r = run_elementwise(lambda x: E.FloorMod(x, c(x), x.dtype), [a], "int32", lanes)
    np.testing.assert_array_equal(got_q, a // divisor)
    np.testing.assert_array_equal(got_r, a % divisor)


def test_floordiv_of_loop_index_uses_unsigned_fast_path():
    """i // 8 with i >= 0 needs no sign fix-up: the optimized IR shifts."""
    from tilecraft.target.codegen.llvm import codegen_llvm

    n = 64
    out = decl_buffer((n,), "int32", "out")
    i = Var("i")
    f = PrimFunc((out,), For(i, const(0), const(n), "serial",
                             BufferStore(out, E.floordiv(i, 8) + E.floormod(i, 8) * 100, (i,))), "f")
    art = codegen_llvm(f, "llvm", optimize=False)
    assert "udiv" in art.source and "sdiv" not in art.source
    got = np.zeros(n, np.int32)
    build(f)(got)
    np.testing.assert_array_equal(got, np.arange(n) // 8 + np.arange(n) % 8 * 100)


@pytest.mark.parametrize("lanes", LANES)
def test_float_floordiv_floormod(lanes):
    a, b = rand("float64"), rand("float64", low=-5, high=5, nonzero=True)
    np.testing.assert_allclose(run_elementwise(binop(E.FloorDiv), [a, b], "float64", lanes), np.floor(a / b))
    np.testing.assert_allclose(run_elementwise(binop(E.FloorMod), [a, b], "float64", lanes),
                               a - np.floor(a / b) * b, atol=1e-9)


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("dtype", ["float32", "int32", "uint32", "int8"])
def test_min_max(dtype, lanes):
    low = 0 if dtype.startswith("u") else -100
    a, b = rand(dtype, low=low), rand(dtype, low=low)
    if dtype == "uint32":
        a[::3] += np.uint32(3_000_000_000)  # above 2**31: an unsigned comparison is needed
    np.testing.assert_array_equal(run_elementwise(binop(E.Min), [a, b], dtype, lanes), np.minimum(a, b))
    np.testing.assert_array_equal(run_elementwise(binop(E.Max), [a, b], dtype, lanes), np.maximum(a, b))


# ---------------------------------------------------------------------------- comparisons, logic

CMPS = [(E.EQ, np.equal), (E.NE, np.not_equal), (E.LT, np.less), (E.LE, np.less_equal),
        (E.GT, np.greater), (E.GE, np.greater_equal)]


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("dtype", ["float32", "int32", "uint32", "int64"])
def test_comparisons(dtype, lanes):
    low = 0 if dtype.startswith("u") else -5
    a, b = rand(dtype, low=low, high=5), rand(dtype, low=low, high=5)
    if dtype == "uint32":
        a[::4] = np.uint32(4_000_000_000)
    for cls, ref in CMPS:
        got = run_elementwise(lambda x, y, cls=cls: cls(x, y, dt.with_lanes("bool", dt.lanes(x.dtype))),
                              [a, b], "bool", lanes)
        np.testing.assert_array_equal(got, ref(a, b), err_msg=cls.__name__)


def test_float_compare_with_nan():
    a = np.array([np.nan, 1.0, np.nan, 2.0] * 2, np.float32)
    b = np.array([1.0, np.nan, np.nan, 2.0] * 2, np.float32)
    for cls, ref in CMPS:
        got = run_elementwise(lambda x, y, cls=cls: cls(x, y, "bool"), [a, b], "bool")
        np.testing.assert_array_equal(got, ref(a, b), err_msg=cls.__name__)


@pytest.mark.parametrize("lanes", LANES)
def test_and_or_not_select(lanes):
    p, q = rand("bool"), rand("bool")
    x, y = rand("float32"), rand("float32")
    b = dt.with_lanes("bool", lanes)
    np.testing.assert_array_equal(run_elementwise(lambda s, t: E.And(s, t, b), [p, q], "bool", lanes), p & q)
    np.testing.assert_array_equal(run_elementwise(lambda s, t: E.Or(s, t, b), [p, q], "bool", lanes), p | q)
    np.testing.assert_array_equal(run_elementwise(lambda s: E.Not(s, b), [p], "bool", lanes), ~p)
    got = run_elementwise(lambda s, u, v: E.Select(s, u, v, u.dtype), [p, x, y], "float32", lanes)
    np.testing.assert_array_equal(got, np.where(p, x, y))


def test_let_expression():
    a = rand("float32")
    v = Var("v", "float32")
    got = run_elementwise(lambda x: E.Let(v, x * 2.0, v * v + v, "float32"), [a], "float32")
    np.testing.assert_allclose(got, (2 * a) ** 2 + 2 * a, rtol=1e-6)


# ---------------------------------------------------------------------------- casts, constants

CASTS = [
    ("float32", "int32"), ("float32", "int8"), ("float32", "uint8"), ("int32", "float32"),
    ("int64", "float64"), ("uint32", "float32"), ("uint8", "int32"), ("int8", "int32"),
    ("int32", "int8"), ("int32", "uint16"), ("int64", "int32"), ("float64", "float32"),
    ("float32", "float64"), ("float32", "float16"), ("float16", "float32"), ("int32", "bool"),
    ("float32", "bool"), ("bool", "float32"), ("bool", "int32"), ("uint8", "float16"),
]


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("src,dst", CASTS)
def test_cast(src, dst, lanes):
    if np.dtype(src).kind == "f" and np.dtype(dst).kind in "iu":
        info = np.iinfo(dst)
        a = rand(src, low=max(info.min, -100), high=min(info.max, 100))
        a += np.asarray(0.75, src) * np.sign(a)  # fractional parts truncate towards zero
        expect = np.trunc(a).astype(dst)
    elif src == "uint32":
        a = rand(src, low=0, high=10**6)
        a[::3] += np.uint32(3_000_000_000)
        expect = a.astype(dst)
    else:
        a = rand(src, low=-300, high=300)
        with np.errstate(over="ignore"):
            expect = a.astype(dst)
    if src == "int32" and dst in ("int8", "uint16"):
        a = rand(src, low=-100000, high=100000)
        expect = a.astype(dst)
    got = run_elementwise(lambda x: E.Cast(dt.with_lanes(dst, lanes), x), [a], dst, lanes)
    np.testing.assert_array_equal(got, expect)


@pytest.mark.parametrize("dtype,value", [("float32", -1.5), ("float64", 1e300), ("float32", float("inf")),
                                         ("int8", -128), ("uint8", 255), ("int64", -(2**40)),
                                         ("uint64", 2**63 + 5), ("bool", True), ("float16", 0.333)])
def test_constants(dtype, value):
    a = np.zeros(8, np.float32)
    got = run_elementwise(lambda x: const(value, dtype), [a], dtype)
    np.testing.assert_array_equal(got, np.full(8, value, dtype=dtype))


def test_ramp_and_broadcast_values():
    a = rand("int32")
    i = Var("i")
    n = len(a)
    out = decl_buffer((n,), "int32", "out")
    x = decl_buffer((n,), "int32", "x")
    idx = ramp(i * 8, 8)
    # out[8i + l] = x[8i + l] + (8i + l) * 3 + broadcast(7)
    value = vload(x, idx) + E.Mul(ramp(i * 8, 8), E.Broadcast(const(3), 8, "int32x8"), "int32x8") \
        + E.Broadcast(i * 0 + 7, 8, "int32x8")
    f = PrimFunc((x, out), For(i, const(0), const(n // 8), "serial", BufferStore(out, value, (idx,))), "f")
    got = np.zeros(n, np.int32)
    assert build(f)(a, got) == 0
    np.testing.assert_array_equal(got, a + np.arange(n) * 3 + 7)


# ---------------------------------------------------------------------------- memory access forms

def test_gather_and_scatter_with_vector_index():
    n = 64
    src = rand("float32", n)
    perm = rng.permutation(n).astype(np.int32)
    x = decl_buffer((n,), "float32", "x")
    p = decl_buffer((n,), "int32", "p")
    g = decl_buffer((n,), "float32", "g")
    s = decl_buffer((n,), "float32", "s")
    i = Var("i")
    idx = ramp(i * 8, 8)
    perm_vec = vload(p, idx)  # an arbitrary int vector as an index: gather / scatter
    body = For(i, const(0), const(n // 8), "serial", BufferStore(g, vload(x, perm_vec), (idx,)))
    body2 = For(i, const(0), const(n // 8), "serial", BufferStore(s, vload(x, idx), (perm_vec,)))
    f = PrimFunc((x, p, g, s), seq(body, body2), "f")
    got_g, got_s = np.zeros(n, np.float32), np.zeros(n, np.float32)
    assert build(f)(src, perm, got_g, got_s) == 0
    np.testing.assert_array_equal(got_g, src[perm])
    expect_s = np.zeros(n, np.float32)
    expect_s[perm] = src
    np.testing.assert_array_equal(got_s, expect_s)


def test_strided_ramp_and_broadcast_index():
    n = 64
    src = rand("float32", 2 * n)
    x = decl_buffer((2 * n,), "float32", "x")
    out = decl_buffer((n,), "float32", "out")
    out2 = decl_buffer((n,), "float32", "out2")
    i = Var("i")
    idx = ramp(i * 8, 8)
    strided = vload(x, ramp(i * 16, 8, stride=2))  # every other element
    splat = vload(x, E.Broadcast(i, 8, "int32x8"))  # x[i] in every lane
    body = seq(BufferStore(out, strided, (idx,)), BufferStore(out2, splat, (idx,)))
    f = PrimFunc((x, out, out2), For(i, const(0), const(n // 8), "serial", body), "f")
    got, got2 = np.zeros(n, np.float32), np.zeros(n, np.float32)
    assert build(f)(src, got, got2) == 0
    np.testing.assert_array_equal(got, src[0::2][:n])
    np.testing.assert_array_equal(got2, np.repeat(src[: n // 8], 8))


# ---------------------------------------------------------------------------- intrinsic calls

UNARY = [
    ("exp", np.exp, (-5, 5)), ("exp2", np.exp2, (-5, 5)), ("log", np.log, (0.1, 50)),
    ("log2", np.log2, (0.1, 50)), ("log10", np.log10, (0.1, 50)), ("sqrt", np.sqrt, (0, 50)),
    ("fabs", np.abs, (-5, 5)), ("floor", np.floor, (-5, 5)), ("ceil", np.ceil, (-5, 5)),
    ("trunc", np.trunc, (-5, 5)), ("sin", np.sin, (-5, 5)), ("cos", np.cos, (-5, 5)),
    ("tanh", np.tanh, (-5, 5)), ("tan", np.tan, (-1, 1)), ("atan", np.arctan, (-5, 5)),
    ("log1p", np.log1p, (0, 5)), ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), (-5, 5)),
    ("rsqrt", lambda x: 1 / np.sqrt(x), (0.1, 5)), ("abs", np.abs, (-5, 5)),
]


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op,ref,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_math(op, ref, domain, dtype, lanes):
    a = rand(dtype, low=domain[0], high=domain[1])
    got = run_elementwise(lambda x: E.Call(x.dtype, op, (x,)), [a], dtype, lanes)
    np.testing.assert_allclose(got, ref(a), rtol=2e-6 if dtype == "float32" else 1e-12, atol=1e-6)


def test_erf_against_math():
    import math

    a = rand("float32", low=-3, high=3)
    got = run_elementwise(lambda x: E.Call(x.dtype, "erf", (x,)), [a], "float32", 8)
    np.testing.assert_allclose(got, [math.erf(v) for v in a], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("lanes", LANES)
def test_round_is_half_to_even(lanes):
    a = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 3.7] * 2, np.float32)
    got = run_elementwise(lambda x: E.Call(x.dtype, "round", (x,)), [a], "float32", lanes)
    np.testing.assert_array_equal(got, np.round(a))


@pytest.mark.parametrize("lanes", LANES)
def test_binary_and_ternary_math(lanes):
    a, b, c = rand("float32", low=0.5, high=3), rand("float32", low=-3, high=3), rand("float32")
    pw = run_elementwise(lambda x, y: E.Call(x.dtype, "pow", (x, y)), [a, b], "float32", lanes)
    np.testing.assert_allclose(pw, np.power(a, b), rtol=1e-5)
    cs = run_elementwise(lambda x, y: E.Call(x.dtype, "copysign", (x, y)), [a, b], "float32", lanes)
    np.testing.assert_array_equal(cs, np.copysign(a, b))
    fm = run_elementwise(lambda x, y, z: E.Call(x.dtype, "fma", (x, y, z)), [a, b, c], "float32", lanes)
    np.testing.assert_allclose(fm, a * b + c, rtol=1e-5, atol=1e-4)
    at = run_elementwise(lambda x, y: E.Call(x.dtype, "atan2", (x, y)), [a, b], "float32", lanes)
    np.testing.assert_allclose(at, np.arctan2(a, b), rtol=1e-6)


def test_float16_math():
    a = rand("float16", low=0.5, high=4)
    got = run_elementwise(lambda x: E.Call(x.dtype, "sqrt", (x,)) + E.Call(x.dtype, "tanh", (x,)),
                          [a], "float16", 8)
    np.testing.assert_allclose(got, np.sqrt(a) + np.tanh(a), rtol=2e-3)


def test_likely_reinterpret_and_bits():
    a = rand("float32")
    i32 = lambda x: dt.with_lanes("int32", dt.lanes(x.dtype))  # noqa: E731
    got = run_elementwise(lambda x: E.Call(i32(x), "reinterpret", (x,)), [a], "int32", 8)
    np.testing.assert_array_equal(got, a.view(np.int32))
    k = rand("int32", low=0, high=10**6)
    np.testing.assert_array_equal(
        run_elementwise(lambda x: E.Call("int32", "likely", (x,)), [k], "int32"), k)
    np.testing.assert_array_equal(
        run_elementwise(lambda x: E.Call(i32(x), "popcount", (x,)), [k], "int32", 8),
        [bin(v).count("1") for v in k])
    np.testing.assert_array_equal(
        run_elementwise(lambda x: E.Call("int32", "shift_left", (x, const(3))), [k], "int32"), k << 3)
    neg = rand("int32")
    np.testing.assert_array_equal(
        run_elementwise(lambda x: E.Call("int32", "shift_right", (x, const(2))), [neg], "int32"), neg >> 2)
    np.testing.assert_array_equal(
        run_elementwise(lambda x, y: E.Call("int32", "bitwise_xor", (x, y)), [k, neg], "int32"), k ^ neg)
    np.testing.assert_array_equal(
        run_elementwise(lambda x: E.Call(i32(x), "abs", (x,)), [neg], "int32", 8), np.abs(neg))


def test_isnan_isinf_isfinite():
    a = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0, -2.0, np.nan, 3.0], np.float32)
    for op, ref in [("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)]:
        got = run_elementwise(lambda x, op=op: E.Call(dt.with_lanes("bool", dt.lanes(x.dtype)), op, (x,)),
                              [a], "bool", 8)
        np.testing.assert_array_equal(got, ref(a), err_msg=op)


def test_if_then_else_is_lazy():
    """The untaken side reads 4 GiB past the buffer: evaluating it would crash the process."""
    n = 64
    a = rand("float32", n)
    x = decl_buffer((n,), "float32", "x")
    out = decl_buffer((n,), "float32", "out")
    i = Var("i")
    far = x[i * 0 + (2**30 - 1)]
    value = E.Call("float32", "if_then_else", (i < n, x[i], far))
    value2 = E.Call("float32", "if_then_else", (i >= n, far, x[i] * 2.0))
    f = PrimFunc((x, out), For(i, const(0), const(n), "serial", BufferStore(out, value + value2, (i,))), "f")
    got = np.zeros(n, np.float32)
    assert build(f)(a, got) == 0
    np.testing.assert_allclose(got, 3 * a, rtol=1e-6)


def test_if_then_else_guards_padding():
    """The classic use: pad reads outside [0, n) as zero."""
    n, pad = 32, 3
    a = rand("float32", n)
    x = decl_buffer((n,), "float32", "x")
    out = decl_buffer((n + 2 * pad,), "float32", "out")
    i = Var("i")
    j = i - pad
    value = E.Call("float32", "if_then_else", ((j >= 0) & (j < n), x[j], const(0.0)))
    f = PrimFunc((x, out), For(i, const(0), const(n + 2 * pad), "serial", BufferStore(out, value, (i,))), "f")
    got = np.full(n + 2 * pad, -1, np.float32)
    assert build(f)(a, got) == 0
    np.testing.assert_array_equal(got, np.pad(a, pad))


def test_unknown_intrinsic_is_a_clear_error():
    with pytest.raises(ValueError, match="no_such_op"):
        run_elementwise(lambda x: E.Call(x.dtype, "no_such_op", (x,)), [rand("float32")], "float32")


def test_int_argument_to_float_math_is_rejected():
    with pytest.raises(ValueError, match="cast to float"):
        run_elementwise(lambda x: E.Call(x.dtype, "exp", (x,)), [rand("int32")], "int32")


@pytest.mark.parametrize("lanes", LANES)
def test_call_extern_calls_the_c_library(lanes):
    a = rand("float64", low=-3, high=3)
    got = run_elementwise(lambda x: E.Call(x.dtype, "call_pure_extern", (E.StringImm("cbrt"), x)),
                          [a], "float64", lanes)
    np.testing.assert_allclose(got, np.cbrt(a), rtol=1e-12)


def test_vector_value_stored_at_a_scalar_index_is_rejected():
    x = decl_buffer((16,), "float32", "x")
    f = PrimFunc((x,), BufferStore(x, E.Broadcast(const(1.0), 8, "float32x8"), (const(0),)), "f")
    with pytest.raises(ValueError, match="Ramp index"):
        build(f)


def test_floor_division_property():
    """floordiv/floormod/truncdiv/truncmod agree with Python's integers on arbitrary int32s."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    ops = [E.FloorDiv, E.FloorMod, E.Div, E.Mod]
    n = 32
    x = decl_buffer((n,), "int32", "x")
    y = decl_buffer((n,), "int32", "y")
    outs = [decl_buffer((n,), "int32", f"o{k}") for k in range(len(ops))]
    i = Var("i")
    body = seq(*[BufferStore(o, op(x[i], y[i], "int32"), (i,)) for o, op in zip(outs, ops)])
    m = build(PrimFunc((x, y, *outs), For(i, const(0), const(n), "serial", body), "f"))
    i32 = st.integers(-(2**31) + 1, 2**31 - 1)
    nonzero = i32.filter(lambda v: v != 0)

    @settings(max_examples=30, deadline=None)
    @given(st.lists(i32, min_size=n, max_size=n), st.lists(nonzero, min_size=n, max_size=n))
    def check(a, b):
        xa, ya = np.array(a, np.int32), np.array(b, np.int32)
        res = [np.zeros(n, np.int32) for _ in ops]
        assert m(xa, ya, *res) == 0
        tq = [(abs(p) // abs(q)) * (1 if (p >= 0) == (q >= 0) else -1) for p, q in zip(a, b)]
        np.testing.assert_array_equal(res[0], [p // q for p, q in zip(a, b)])
        np.testing.assert_array_equal(res[1], [p % q for p, q in zip(a, b)])
        np.testing.assert_array_equal(res[2], tq)
        np.testing.assert_array_equal(res[3], [p - t * q for p, t, q in zip(a, tq, b)])

    check()
