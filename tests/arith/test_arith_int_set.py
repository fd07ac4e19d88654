"""eval_set and IntervalSet: the regions bound inference asks for, with constant extents."""

import pytest

from tilecraft import arith
from tilecraft.ir import expr as E


def V(name):
    return E.Var(name)


def S(lo, hi):
    return arith.IntervalSet(lo, hi)


def show(s) -> str:
    return f"[{s.min_value}, {s.max_value}]"


def test_split_inner_region_has_constant_extent():
    io, ii = V("io"), V("ii")
    s = arith.eval_set(io * 32 + ii, {ii: S(0, 31)})
    assert show(s) == "[io * 32, io * 32 + 31]"
    ext = s.extent()
    assert isinstance(ext, E.IntImm) and ext.value == 32


def test_whole_domain_of_a_split():
    io, ii = V("io"), V("ii")
    s = arith.eval_set(io * 32 + ii, {io: S(0, 3), ii: S(0, 31)})
    assert show(s) == "[0, 127]" and s.extent().value == 128


def test_ranges_are_accepted_in_dom():
    i, j = V("i"), V("j")
    s = arith.eval_set(i * 4 + j, {j: E.Range.from_min_extent(0, 4)})
    assert s.extent().value == 4


def test_fused_axis_division_and_modulo():
    f, fo = V("f"), V("fo")
    dom = {f: S(fo * 16, fo * 16 + 15)}
    q = arith.eval_set(f // 8, dom)
    assert show(q) == "[fo * 2, fo * 2 + 1]" and q.extent().value == 2
    r = arith.eval_set(f % 8, dom)
    assert show(r) == "[0, 7]"
    within = arith.eval_set(f % 32, {f: S(fo * 32, fo * 32 + 7)})
    assert show(within) == "[0, 7]"


def test_free_variables_are_points():
    n, i = E.SizeVar("n"), V("i")
    s = arith.eval_set(n * 2 + 1, {i: S(0, 9)})
    assert s.is_single_point() and str(s.min_value) == "n * 2 + 1"


def test_multiplication_by_a_symbolic_non_negative_factor():
    n, i = E.SizeVar("n"), V("i")
    s = arith.eval_set(i * n, {i: S(0, 9)})
    assert show(s) == "[0, n * 9]"
    s = arith.eval_set(i * V("w"), {i: S(0, 9)})  # sign unknown
    assert s.is_everything()


def test_negative_scale_swaps_ends():
    i = V("i")
    s = arith.eval_set(10 - i * 2, {i: S(0, 4)})
    assert show(s) == "[2, 10]"


def test_min_max_select_cast():
    i, n = V("i"), E.SizeVar("n")
    assert show(arith.eval_set(E.min_(i, n), {i: S(0, 9)})) == "[0, T.min(9, n)]"
    assert show(arith.eval_set(E.max_(i, 3), {i: S(0, 9)})) == "[3, 9]"
    sel = E.Select(i < 5, i, i + 20, "int32")
    assert show(arith.eval_set(sel, {i: S(0, 9)})) == "[0, 29]"
    c = arith.eval_set(E.Cast("int64", i), {i: S(0, 9)})
    assert c.min_value.dtype == "int64" and c.extent().value == 10


def test_truncating_division_and_remainder():
    i = V("i")
    assert show(arith.eval_set(E.Div(i, E.IntImm(4), "int32"), {i: S(0, 15)})) == "[0, 3]"
    assert show(arith.eval_set(E.Mod(i, E.IntImm(4), "int32"), {i: S(0, 15)})) == "[0, 3]"
    assert show(arith.eval_set(E.Mod(i, E.IntImm(4), "int32"), {i: S(-5, 15)})) == "[-3, 3]"


def test_unbounded_sides():
    i = V("i")
    half = arith.IntervalSet(0, None)
    s = arith.eval_set(i + 1, {i: half})
    assert str(s.min_value) == "1" and not s.has_upper_bound()
    with pytest.raises(ValueError, match="unbounded"):
        s.extent()


def test_interval_set_helpers():
    a, b = S(0, 3), S(2, 9)
    u = a.union(b)
    assert show(u) == "[0, 9]" and u.extent().value == 10
    io = V("io")
    r = arith.IntervalSet.from_range(E.Range(io * 4, E.IntImm(4)))
    assert show(r) == "[io * 4, io * 4 + 3]"
    assert r.to_range().extent.value == 4
    assert arith.IntervalSet.point(io).is_single_point()
    assert not r.is_single_point()


def test_analyzer_knowledge_is_used():
    ana = arith.Analyzer()
    j, i = V("j"), V("i")
    ana.bind(j, E.Range.from_min_extent(0, 4))
    s = ana.int_set((i * 4 + j) // 4 + j, {i: S(0, 7)})
    assert show(s) == "[j, j + 7]"


def test_correlated_terms_are_simplified_before_interval_arithmetic():
    fo, fi = V("fo"), V("fi")
    f = fo + fi
    s = arith.eval_set(0 - ((f // 2) * 2 + f % 2), {fi: S(0, 1)})
    assert show(s) == "[fo * -1 - 1, fo * -1]" and s.extent().value == 2


def test_dom_overrides_what_the_analyzer_knows():
    ana = arith.Analyzer()
    io, ii = V("io"), V("ii")
    ana.bind(ii, E.Range.from_min_extent(0, 32))
    s = arith.eval_set((io * 32 + ii) // 32, {ii: S(0, 63)}, ana)
    assert show(s) == "[io, io + 1]"
    assert ana.simplify((io * 32 + ii) // 32) is io  # the analyzer's own facts are intact
