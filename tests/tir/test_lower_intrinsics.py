"""lower_intrinsics: the expansions agree with numpy / math on many points, scalar and vector."""

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from tir_interp import run  # noqa: E402

from tilecraft.ir import dtype as dt  # noqa: E402
from tilecraft.ir import expr as E  # noqa: E402
from tilecraft.ir.functor import post_order_visit  # noqa: E402
from tilecraft.tir.stmt import BufferStore, For, ForKind, PrimFunc  # noqa: E402
from tilecraft.tir.transform.lower_intrinsics import lower_intrinsics  # noqa: E402

KEPT = {"exp", "exp2", "log", "log2", "log10", "sqrt", "fabs", "floor", "ceil", "round", "trunc",
        "pow", "sin", "cos", "fma", "copysign", "if_then_else", "likely", "reinterpret"}


def _func(op: str, n: int, dtype: str, vector: bool, fast_math=False):
    """B[i] = op(A[i]) over n points: one n-lane vector statement, or a scalar loop."""
    A = E.decl_buffer((n,), dtype, "A")
    B = E.decl_buffer((n,), dtype, "B")
    if vector:
        idx = E.Ramp(E.const(0), E.const(1), n, f"int32x{n}")
        vt = dt.with_lanes(dtype, n)
        body = BufferStore(B, E.Call(vt, op, (E.BufferLoad(A, (idx,), vt),)), (idx,))
    else:
        i = E.Var("i")
        body = For(i, E.const(0), E.const(n), ForKind.SERIAL,
                   BufferStore(B, E.Call(dtype, op, (A[i],)), (i,)))
    return PrimFunc((A, B), body, "f", {"fast_math": fast_math} if fast_math else {})


def lowered(op, xs, vector=True, fast_math=False):
    """Lower op, check only codegen-known calls remain, and run it on xs."""
    g = lower_intrinsics(_func(op, len(xs), str(xs.dtype), vector, fast_math))
    ops = set()
    post_order_visit(g.body, lambda n: ops.add(n.op) if isinstance(n, E.Call) else None)
    kept = KEPT | ({"tanh", "erf"} if xs.dtype == np.float64 else set())  # float64 keeps libm's
    assert ops <= kept, ops - kept
    out = np.zeros_like(xs)
    run(g, xs, out)
    return out


def grid(lo, hi, n=20001, dtype="float32"):
    return np.linspace(lo, hi, n).astype(dtype)


def signed_logspace(lo=-30, hi=1.5, n=3000, dtype="float32"):
    m = np.logspace(lo, hi, n)
    return np.concatenate([-m, [0.0], m]).astype(dtype)


def test_sigmoid():
    xs = np.concatenate([grid(-100, 100), signed_logspace()])
    ref = 1 / (1 + np.exp(-xs.astype(np.float64)))
    got = lowered("sigmoid", xs)
    assert np.all(np.abs(got - ref) <= 2e-7 + 1e-6 * ref)
    assert got[0] == 0.0 and got[len(grid(0, 1)) - 1] == 1.0


def test_rsqrt():
    xs = np.logspace(-30, 30, 5000).astype("float32")
    np.testing.assert_allclose(lowered("rsqrt", xs), 1 / np.sqrt(xs.astype(np.float64)), rtol=3e-7)


def test_tanh_absolute_and_relative():
    xs = np.concatenate([grid(-30, 30), signed_logspace()])
    ref = np.tanh(xs.astype(np.float64))
    got = lowered("tanh", xs)
    assert np.max(np.abs(got - ref)) < 2e-7
    nz = ref != 0
    assert np.max(np.abs(got[nz] - ref[nz]) / np.abs(ref[nz])) < 5e-7
    assert np.all(np.signbit(got) == np.signbit(xs))


def test_erf_absolute_error():
    xs = np.concatenate([grid(-10, 10, 40001), signed_logspace(), [-1e30, 1e30]]).astype("float32")
    ref = np.array([math.erf(float(x)) for x in xs])
    assert np.max(np.abs(lowered("erf", xs) - ref)) < 1e-6


def test_log1p_and_expm1_keep_precision_near_zero():
    xs = np.concatenate([signed_logspace(-30, -0.01), grid(-0.999, 50)]).astype("float32")
    ref = np.log1p(xs.astype(np.float64))
    nz = ref != 0
    got = lowered("log1p", xs)
    assert np.max(np.abs(got[nz] - ref[nz]) / np.abs(ref[nz])) < 1e-6
    assert lowered("log1p", np.array([3e38, 0.0], "float32"))[0] == np.float32(np.log(3e38))

    ys = np.concatenate([signed_logspace(-30, 1.8), grid(-100, 88)]).astype("float32")
    ref = np.expm1(ys.astype(np.float64))
    got = lowered("expm1", ys)
    nz = ref != 0
    assert np.max(np.abs(got[nz] - ref[nz]) / np.abs(ref[nz])) < 1e-6


def test_tan_and_exp10():
    xs = grid(-1.5, 1.5)
    np.testing.assert_allclose(lowered("tan", xs), np.tan(xs.astype(np.float64)), rtol=1e-6, atol=1e-7)
    ys = grid(-30, 30)
    np.testing.assert_allclose(lowered("exp10", ys), 10.0 ** ys.astype(np.float64), rtol=1e-5)


def test_fast_exp_accuracy_and_range():
    xs = np.concatenate([grid(-110, 95, 200001), signed_logspace()]).astype("float32")
    with np.errstate(over="ignore"):
        ref = np.exp(xs.astype(np.float64))
    got = lowered("exp", xs, fast_math=True)
    normal = (ref > 1.2e-38) & (ref < 3.4e38)
    assert np.max(np.abs(got[normal] - ref[normal]) / ref[normal]) < 2e-7
    assert np.all(np.isinf(got[ref > 3.41e38]))
    assert np.max(np.abs(got[ref <= 1.2e-38] - ref[ref <= 1.2e-38])) < 1e-44


def test_fast_math_only_changes_float32_exp():
    f = _func("exp", 8, "float32", vector=False)
    assert lower_intrinsics(f).body is f.body  # plain scalar exp stays libm's
    g = lower_intrinsics(_func("exp", 8, "float32", vector=True, fast_math=True))
    ops = set()
    post_order_visit(g.body, lambda n: ops.add(n.op) if isinstance(n, E.Call) else None)
    assert "exp" not in ops and "reinterpret" in ops
    h = _func("exp", 8, "float64", vector=True, fast_math=True)
    assert lower_intrinsics(h).body is h.body


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "erf", "rsqrt", "log1p", "expm1"])
def test_scalar_loop_and_float64(op):
    xs = np.linspace(0.05, 3, 37)
    ref = {"sigmoid": lambda x: 1 / (1 + np.exp(-x)), "tanh": np.tanh, "rsqrt": lambda x: 1 / np.sqrt(x),
           "erf": np.vectorize(math.erf), "log1p": np.log1p, "expm1": np.expm1}[op](xs)
    np.testing.assert_allclose(lowered(op, xs.astype("float32"), vector=False), ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(lowered(op, xs, vector=False), ref, rtol=1e-6, atol=1e-6)


def test_nested_calls_are_bound_once():
    """tanh(erf(x)): the inner expansion is bound by a Let, not copied into every use."""
    A = E.decl_buffer((4,), "float32", "A")
    B = E.decl_buffer((4,), "float32", "B")
    i = E.Var("i")
    inner = E.call("erf", "float32", A[i])
    f = PrimFunc((A, B), For(i, E.const(0), E.const(4), ForKind.SERIAL,
                             BufferStore(B, E.call("tanh", "float32", inner), (i,))))
    g = lower_intrinsics(f)
    loads = []
    post_order_visit(g.body, lambda n: loads.append(n) if isinstance(n, E.BufferLoad) else None)
    assert len(loads) == 1
    xs = np.array([-2, -0.1, 0.3, 1.5], "float32")
    out = np.zeros(4, "float32")
    run(g, xs, out)
    np.testing.assert_allclose(out, np.tanh([math.erf(x) for x in xs.astype(float)]), rtol=1e-6)


def test_vector_exp_is_the_polynomial_with_libm_special_values():
    """float32 vectors: no per-lane libm call; exp's numbers, NaN kept, +-inf and overflow as exp."""
    f = _func("exp", 8, "float32", vector=True)
    ops = set()
    post_order_visit(lower_intrinsics(f).body, lambda n: ops.add(n.op) if isinstance(n, E.Call) else None)
    assert "exp" not in ops and "reinterpret" in ops
    special = np.array([np.nan, np.inf, -np.inf, 88.7, 89.0, -87.0, -104.0, 0.0], "float32")
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(np.isnan(lowered("exp", special)), np.isnan(special))
        ok = ~np.isnan(special)
        np.testing.assert_allclose(lowered("exp", special)[ok], np.exp(special)[ok], rtol=3e-7, atol=1e-38)
    xs = grid(-80, 80, 4096)
    np.testing.assert_allclose(lowered("exp", xs), np.exp(xs.astype("float64")), rtol=3e-7)
