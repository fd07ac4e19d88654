"""Property tests: on random integer expressions over bounded variables, the simplified
expression has the same value, constant bounds contain every value, and eval_set's interval
contains every value, for random assignments within the bounds."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tilecraft import arith
from tilecraft.ir import expr as E

I32 = "int32"
X, Y, Z, W = E.Var("x"), E.Var("y"), E.Var("z"), E.Var("w")
N = E.SizeVar("n")
# Bound variables (the analyzer knows these ranges) and one free variable w.
RANGES = {X: (0, 31), Y: (0, 7), Z: (-8, 8), N: (0, 100)}
FREE = {W: (-50, 50)}


def _tdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def ev(e, env):
    """Reference semantics with Python ints: floor for FloorDiv/FloorMod, trunc for Div/Mod."""
    t = type(e)
    if t is E.IntImm:
        return e.value
    if isinstance(e, E.Var):
        return env[e]
    if t is E.Select:
        return ev(e.true_value, env) if ev(e.condition, env) else ev(e.false_value, env)
    if t is E.Not:
        return int(not ev(e.a, env))
    if t is E.Cast:
        return ev(e.value, env)
    a, b = ev(e.a, env), ev(e.b, env)
    return {
        E.Add: lambda: a + b, E.Sub: lambda: a - b, E.Mul: lambda: a * b,
        E.FloorDiv: lambda: a // b, E.FloorMod: lambda: a % b,
        E.Div: lambda: _tdiv(a, b), E.Mod: lambda: a - _tdiv(a, b) * b,
        E.Min: lambda: min(a, b), E.Max: lambda: max(a, b),
        E.LT: lambda: int(a < b), E.LE: lambda: int(a <= b), E.GT: lambda: int(a > b),
        E.GE: lambda: int(a >= b), E.EQ: lambda: int(a == b), E.NE: lambda: int(a != b),
        E.And: lambda: int(bool(a) and bool(b)), E.Or: lambda: int(bool(a) or bool(b)),
    }[t]()


def _affine(a, b, c, u, v):
    """u*a + v*b + c: the shape of split and fused loop indices."""
    mul = lambda t, k: E.Mul(t, E.IntImm(k, I32), I32)
    return E.Add(E.Add(mul(u, a), mul(v, b), I32), E.IntImm(c, I32), I32)


coeffs = st.sampled_from([-4, -1, 1, 2, 3, 4, 8, 16, 32])
leaves = st.one_of(
    st.sampled_from([X, Y, Z, W, N]),
    st.integers(-10, 40).map(lambda v: E.IntImm(v, I32)),
    st.builds(_affine, coeffs, coeffs, st.integers(-5, 40), st.sampled_from([X, Z, W]),
              st.sampled_from([Y, N, Z])),
)
pos_const = st.sampled_from([1, 2, 3, 4, 5, 7, 8, 16, 32]).map(lambda v: E.IntImm(v, I32))
any_const = st.sampled_from([-8, -3, -1, 1, 2, 3, 4, 8, 32]).map(lambda v: E.IntImm(v, I32))
CMPS = [E.LT, E.LE, E.GT, E.GE, E.EQ, E.NE]


def extend(kids):
    def bin_(cls):
        return st.builds(lambda a, b: cls(a, b, I32), kids, kids)

    def by(cls, consts):
        return st.builds(lambda a, c: cls(a, c, I32), kids, consts)

    cmp = st.builds(lambda cls, a, b: cls(a, b, "bool"), st.sampled_from(CMPS), kids, kids)
    return st.one_of(
        bin_(E.Add), bin_(E.Sub), bin_(E.Mul), by(E.Mul, any_const),
        by(E.FloorDiv, pos_const), by(E.FloorMod, pos_const), by(E.FloorDiv, any_const),
        by(E.FloorMod, any_const), by(E.Div, any_const), by(E.Mod, any_const),
        bin_(E.Min), bin_(E.Max),
        st.builds(lambda c, a, b: E.Select(c, a, b, I32), cmp, kids, kids),
    )


int_exprs = st.recursive(leaves, extend, max_leaves=14)
bool_exprs = st.recursive(
    st.builds(lambda cls, a, b: cls(a, b, "bool"), st.sampled_from(CMPS), int_exprs, int_exprs),
    lambda kids: st.one_of(
        st.builds(lambda a, b: E.And(a, b, "bool"), kids, kids),
        st.builds(lambda a, b: E.Or(a, b, "bool"), kids, kids),
        st.builds(lambda a: E.Not(a, "bool"), kids),
    ),
    max_leaves=4,
)


def assignment():
    return st.fixed_dictionaries({v: st.integers(lo, hi) for v, (lo, hi) in {**RANGES, **FREE}.items()})


def bound_analyzer():
    ana = arith.Analyzer()
    for v, (lo, hi) in RANGES.items():
        ana.bind(v, E.Range.from_min_extent(lo, hi - lo + 1))
    return ana


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(int_exprs, st.lists(assignment(), min_size=1, max_size=6))
def test_simplify_keeps_integer_values(e, envs):
    ana = bound_analyzer()
    s = ana.simplify(e)
    assert s.dtype == e.dtype
    for env in envs:
        assert ev(s, env) == ev(e, env), f"{e}  ->  {s}  at {env}"
    assert all(ev(ana.simplify(s), env) == ev(e, env) for env in envs)


@settings(SETTINGS, max_examples=80)
@given(bool_exprs, st.lists(assignment(), min_size=1, max_size=6))
def test_simplify_keeps_truth_values(e, envs):
    ana = bound_analyzer()
    s = ana.simplify(e)
    for env in envs:
        assert bool(ev(s, env)) == bool(ev(e, env)), f"{e}  ->  {s}  at {env}"
    if ana.can_prove(e):
        assert all(ev(e, env) for env in envs)


@SETTINGS
@given(int_exprs, st.lists(assignment(), min_size=1, max_size=6))
def test_const_int_bound_contains_every_value(e, envs):
    b = bound_analyzer().const_int_bound(e)
    for env in envs:
        assert b.min_value <= ev(e, env) <= b.max_value, f"{e} not in {b} at {env}"


@SETTINGS
@given(int_exprs, st.lists(assignment(), min_size=1, max_size=6))
def test_eval_set_contains_every_value(e, envs):
    # x and y range; z, n and w stay fixed symbols, so the bounds may mention them.
    dom = {X: arith.IntervalSet(0, 31), Y: arith.IntervalSet(0, 7)}
    s = arith.eval_set(e, dom)
    for env in envs:
        v = ev(e, env)
        if s.min_value is not None:
            assert ev(s.min_value, env) <= v, f"{e}: {s} at {env}"
        if s.max_value is not None:
            assert v <= ev(s.max_value, env), f"{e}: {s} at {env}"


# Guards as lowering writes them: a variable against a constant or another variable.
guards = st.builds(lambda cls, a, b: cls(a, b, "bool"), st.sampled_from(CMPS),
                   st.sampled_from([X, Y, Z, W, N]),
                   st.one_of(st.sampled_from([X, Y, Z, W, N]), st.integers(-10, 40).map(E.convert)))


@settings(SETTINGS, max_examples=80)
@given(st.one_of(guards, bool_exprs), int_exprs, st.lists(assignment(), min_size=4, max_size=12))
def test_assumed_conditions_are_used_soundly(cond, e, envs):
    ana = bound_analyzer()
    with ana.constraint_scope(cond):
        s = ana.simplify(e)
        b = ana.const_int_bound(e)
    for env in envs:
        if ev(cond, env):
            v = ev(e, env)
            assert ev(s, env) == v, f"assuming {cond}: {e} -> {s} at {env}"
            assert b.min_value <= v <= b.max_value
