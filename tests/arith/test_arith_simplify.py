"""The simplifier on the patterns lowering produces: split and fused indices, bounds-decided
comparisons and min/max, float caution, vectors, dtypes and speed."""

import time

import pytest

from tilecraft import arith
from tilecraft.ir import expr as E
from tilecraft.ir.functor import structural_equal


def V(name, dtype="int32"):
    return E.Var(name, dtype)


def ana_with(**ranges):
    """An analyzer with each named variable in [0, extent); returns (analyzer, vars...)."""
    ana = arith.Analyzer()
    vs = []
    for name, ext in ranges.items():
        v = V(name)
        ana.bind(v, E.Range.from_min_extent(0, ext))
        vs.append(v)
    return (ana, *vs)


def text(e) -> str:
    return str(e)


# ---------------------------------------------------------------- canonical sums

def test_like_terms_cancel_and_constants_fold():
    x, y = V("x"), V("y")
    s = arith.simplify
    assert text(s(x * 32 + y - x * 32)) == "y"
    assert text(s(E.Add(x, E.IntImm(-3), "int32"))) == "x - 3"
    assert text(s(E.Add(E.Mul(x, E.IntImm(1), "int32"), E.IntImm(0), "int32"))) == "x"
    assert text(s((x + 1) * 3 - x * 3)) == "3"
    assert text(s(x - y + y * 2 - x)) == "y"
    assert text(s(E.Sub(E.IntImm(0), x, "int32") + 3)) == "3 - x"
    assert text(s(x * 2 + x * 3)) == "x * 5"


def test_products_of_sums_expand_so_extents_cancel():
    x, n = V("x"), E.SizeVar("n")
    assert text(arith.simplify((x + 1) * n - x * n)) == "n"
    assert text(arith.simplify(x * n - n * x)) == "0"


def test_long_sums_do_not_recurse_per_term():
    xs = [V(f"x{i}") for i in range(3000)]
    e = xs[0]
    for v in xs[1:]:
        e = E.Add(e, v, "int32")
    for v in xs:
        e = E.Sub(e, v, "int32")
    assert text(arith.simplify(e)) == "0"


# ---------------------------------------------------------------- division and modulo

def test_split_indices_recombine():
    ana, io, ii = ana_with(io=32, ii=32)
    assert ana.simplify((io * 32 + ii) // 32) is io
    assert ana.simplify((io * 32 + ii) % 32) is ii
    assert text(ana.simplify(ii // 32)) == "0"
    assert ana.simplify(ii % 32) is ii


def test_division_by_a_factor_of_the_coefficient():
    x, y = V("x"), V("y")
    assert text(arith.simplify((x * 8 + y) // 4)) == "x * 2 + y // 4"
    assert text(arith.simplify((x * 8 + 6) // 4)) == "x * 2 + 1"
    assert text(arith.simplify((x * 8 + y) % 4)) == "y % 4"


def test_fused_indices_recombine():
    f, x = V("f"), V("x")
    assert arith.simplify((f // 8) * 8 + f % 8) is f
    assert arith.simplify(f % 8 + (f // 8) * 8) is f
    assert text(arith.simplify(((f // 8) * 8 + f % 8) * 2)) == "f * 2"
    three_level = (f // 32) * 32 + ((f // 8) % 4) * 8 + f % 8
    assert arith.simplify(three_level) is f
    assert text(arith.simplify(x - (x // 8) * 8)) == "x % 8"


def test_split_of_a_fused_axis():
    ana, fi = ana_with(fi=4)
    fo = V("fo")
    assert text(ana.simplify((fo * 4 + fi) // 32)) == "fo // 8"
    assert text(ana.simplify((fo * 4 + fi) % 32)) == "fo % 8 * 4 + fi"


def test_nested_division_and_modulo():
    x, a = V("x"), V("a")
    s = arith.simplify
    assert text(s((x // 4) // 8)) == "x // 32"
    assert text(s((x % 32) % 8)) == "x % 8"
    assert text(s((x % 32) // 8)) == "x % 32 // 8"
    assert text(s((a % 8) // 8)) == "0"
    assert text(s((x // 4 + 1) // 2)) == "(x + 4) // 8"


def test_bounded_quotients_and_remainders():
    ana, x = ana_with(x=6)
    assert text(ana.simplify(x // 6)) == "0"
    assert ana.simplify(x % 6) is x
    assert text(ana.simplify((x + 6) // 6)) == "1"
    assert text(ana.simplify((x + 6) % 6)) == "x"


def test_size_vars_are_non_negative():
    n = E.SizeVar("n")
    assert text(arith.simplify(E.Div(n * 4 + 3, E.IntImm(4), "int32"))) == "n"
    assert text(arith.simplify(E.Mod(n * 4 + 3, E.IntImm(4), "int32"))) == "3"


def test_truncating_division_of_possibly_negative_values_stays():
    x = V("x")
    e = E.Div(x * 4 + 3, E.IntImm(4), "int32")
    r = arith.simplify(e)
    assert isinstance(r, E.Div)


def test_division_by_symbolic_divisor_only_when_bounded():
    n = E.SizeVar("n")
    i = V("i")
    ana = arith.Analyzer()
    ana.bind(i, E.Range(E.IntImm(0), n))
    assert text(ana.simplify(i // n)) == "0"
    assert ana.simplify(i % n) is i
    assert isinstance(arith.simplify(i // n), E.FloorDiv)


# ---------------------------------------------------------------- comparisons, min, max, logic

def test_comparisons_decided_by_bounds():
    ana, io, ii = ana_with(io=32, ii=32)
    assert ana.can_prove(io * 32 + ii < 1024)
    assert not ana.can_prove(io * 32 + ii < 1023)
    assert text(ana.simplify(io * 32 + ii >= 1024)) == "False"
    assert text(ana.simplify(io * 32 + ii < 1000)) == "io * 32 + ii < 1000"


def test_comparisons_against_symbolic_loop_bounds():
    n = E.SizeVar("n")
    i = V("i")
    ana = arith.Analyzer()
    ana.bind(i, E.Range(E.IntImm(0), n))
    assert ana.can_prove(i < n)
    assert ana.can_prove(i + 1 <= n)
    assert not ana.can_prove(i + 1 < n)


def test_comparison_normal_form():
    x, y, n = V("x"), V("y"), V("n")
    assert text(arith.simplify(x - y < 0)) == "x < y"
    assert text(arith.simplify(x + 1 < n)) == "x < n - 1"
    assert text(arith.simplify(x > y)) == "y < x"
    assert text(arith.simplify(x * 2 == y * 2 + 1)) == "False"


def test_min_max_by_bounds():
    ana, i = ana_with(i=10)
    x = V("x")
    assert ana.simplify(E.min_(x, x + 1)) is x
    assert text(ana.simplify(E.max_(x, x + 1))) == "x + 1"
    assert ana.simplify(E.max_(0, i)) is i
    assert text(ana.simplify(E.min_(i, 16))) == "i"
    assert isinstance(ana.simplify(E.min_(i, 5)), E.Min)


def test_logic():
    ana, i = ana_with(i=10)
    c = V("c", "bool")
    assert text(ana.simplify(E.logical_and(i < 10, c))) == "c"
    assert text(ana.simplify(E.logical_or(i < 5, i >= 5))) == "i < 5 or 5 <= i"
    assert text(ana.simplify(E.logical_not(i < 5))) == "5 <= i"
    assert ana.simplify(E.Not(E.Not(c, "bool"), "bool")) is c
    assert text(ana.simplify(E.Select(i < 10, i, i + 1, "int32"))) == "i"
    sel = ana.simplify(E.Select(c, i + 1, 1 + i, "int32"))
    assert text(sel) == "i + 1"


def test_assumptions_decide_repeated_guards():
    x, n = V("x"), V("n")
    ana = arith.Analyzer()
    with ana.constraint_scope(x < n):
        assert ana.can_prove(x < n)
        assert ana.can_prove(x - n < 0)
        assert text(ana.simplify(n <= x)) == "False"
    assert not ana.can_prove(x < n)
    with ana.constraint_scope(x < 8):
        assert ana.const_int_bound(x).max_value == 7
        assert text(ana.simplify(x // 8)) == "x // 8"  # x may still be negative
    with ana.scope():
        ana.bind(x, E.Range.from_min_extent(0, 100))
        with ana.constraint_scope(x < 8):
            assert text(ana.simplify(x // 8)) == "0"


# ---------------------------------------------------------------- analyzer API

def test_const_int_bound():
    ana, i = ana_with(i=10)
    b = ana.const_int_bound(i * 3 - 2)
    assert (b.min_value, b.max_value) == (-2, 25)
    assert ana.const_int_bound(V("free")).max_value == 2**31 - 1
    b = ana.const_int_bound(E.SizeVar("n", "int64") * 2)
    assert b.min_value == 0 and b.max_value == arith.ConstIntBound.POS_INF
    assert ana.const_int_bound(i % 4) == (0, 3)


def test_bind_to_value_and_to_unit_range():
    x, y = V("x"), V("y")
    ana = arith.Analyzer()
    ana.bind(x, 5)
    ana.bind(y, E.Range.from_min_extent(x + 1, 1))
    assert text(ana.simplify(x * 2 + y)) == "16"


def test_can_prove_equal():
    x, y = V("x"), V("y")
    ana = arith.Analyzer()
    assert ana.can_prove_equal((x + y) * 2, y * 2 + x * 2)
    assert not ana.can_prove_equal(x, y)
    f = V("f", "float32")
    assert ana.can_prove_equal(f * 2.0, f * 2.0)


def test_simplify_with_dom():
    io, ii = V("io"), V("ii")
    r = arith.simplify((io * 32 + ii) % 32, {ii: E.Range.from_min_extent(0, 32)})
    assert r is ii


# ---------------------------------------------------------------- floats, vectors, dtypes

def test_floats_only_fold_constants_and_exact_identities():
    f, g = V("f", "float32"), V("g", "float32")
    one = E.FloatImm(1.0)
    zero = E.FloatImm(0.0)
    assert arith.simplify(E.Mul(f, one, "float32")) is f
    assert arith.simplify(E.Sub(f, zero, "float32")) is f
    plus_zero = E.Add(f, zero, "float32")  # f + 0.0 is 0.0, not f, for f == -0.0
    assert arith.simplify(plus_zero) is plus_zero
    assoc = E.Sub(E.Add(f, g, "float32"), g, "float32")  # not f: rounding
    assert structural_equal(arith.simplify(assoc), assoc)
    folded = arith.simplify(E.Add(E.FloatImm(1.5), E.FloatImm(2.0), "float32"))
    assert isinstance(folded, E.FloatImm) and folded.value == 3.5
    idx = V("i")
    cast = E.Cast("float32", E.Add(idx, E.IntImm(0), "int32"))
    assert arith.simplify(cast).value is idx


def test_vectors():
    x = V("x")
    lanes = 4
    b = lambda v: E.Broadcast(E.convert(v), lanes, f"int32x{lanes}")
    ramp = E.Ramp(x * 8, E.IntImm(1), lanes, "int32x4")
    r = arith.simplify(E.Add(b(x), b(3), "int32x4"))
    assert isinstance(r, E.Broadcast) and text(r.value) == "x + 3"
    r = arith.simplify(E.Add(ramp, b(2), "int32x4"))
    assert isinstance(r, E.Ramp) and text(r.base) == "x * 8 + 2"
    r = arith.simplify(E.Mul(ramp, b(2), "int32x4"))
    assert isinstance(r, E.Ramp) and text(r.base) == "x * 16" and r.stride.value == 2
    r = arith.simplify(E.FloorDiv(ramp, b(8), "int32x4"))
    assert isinstance(r, E.Broadcast) and r.value is x
    r = arith.simplify(E.FloorMod(ramp, b(8), "int32x4"))
    assert isinstance(r, E.Ramp) and text(r.base) == "0"
    crossing = E.FloorDiv(E.Ramp(x * 8 + 6, E.IntImm(1), 4, "int32x4"), b(8), "int32x4")
    assert isinstance(arith.simplify(crossing), E.FloorDiv)


def test_int64_stays_int64():
    i = V("i", "int64")
    e = E.FloorDiv(i * E.IntImm(32, "int64") + E.IntImm(5, "int64"), E.IntImm(32, "int64"), "int64")
    r = arith.simplify(e, {i: E.Range(E.IntImm(0, "int64"), E.IntImm(10, "int64"))})
    assert r is i
    r = arith.simplify(i * E.IntImm(2, "int64") + E.IntImm(1, "int64"))
    assert r.dtype == "int64" and r.b.dtype == "int64"
    j = V("j")
    four = E.IntImm(4, "int64")
    mixed = arith.simplify(E.Cast("int64", j) * four - E.Cast("int64", j) * four)
    assert isinstance(mixed, E.IntImm) and mixed.dtype == "int64" and mixed.value == 0


def test_opaque_terms_cancel_structurally():
    buf = E.decl_buffer((8,), "int32", "idx")
    i = V("i")
    assert text(arith.simplify(buf[i] * 2 - buf[i + 0] * 2 + 1)) == "1"


# ---------------------------------------------------------------- speed

@pytest.mark.parametrize("n", [10_000])
def test_ten_thousand_index_expressions_are_fast(n):
    vs = [V(f"v{i}") for i in range(8)]

    def make(k):
        io, ii, jo, ji = vs[k % 4], vs[4 + k % 4], vs[(k + 1) % 4], vs[4 + (k + 2) % 4]
        return [
            (io * 32 + ii) * 1024 + jo * 32 + ji,
            ((io * 32 + ii) // 32) * 1024 + (io * 32 + ii) % 32,
            io * 32 + ii < 1000,
            (io * 16 + ji) * 512 + k % 7,
        ][k % 4]

    exprs = [make(k) for k in range(n)]
    ana = arith.Analyzer()
    for v in vs[:4]:
        ana.bind(v, E.Range.from_min_extent(0, 32))
    for v in vs[4:]:
        ana.bind(v, E.Range.from_min_extent(0, 32))
    t = time.process_time()
    for e in exprs:
        ana.simplify(e)
    assert time.process_time() - t < 1.5  # about 0.3 s on a quiet machine; generous for CI noise
