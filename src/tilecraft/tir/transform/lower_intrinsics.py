"""LowerIntrinsics: rewrite math Calls that LLVM has no intrinsic for into arithmetic.

Codegen maps these Call ops straight to LLVM intrinsics and they are left alone: exp, exp2,
log, log2, log10, sqrt, fabs, floor, ceil, round, trunc, pow, sin, cos, fma, copysign, plus the
control ops if_then_else and likely.  This pass expands:

    sigmoid(x)  1 / (1 + exp(-x))               (saturates cleanly to 0 and 1)
    rsqrt(x)    1 / sqrt(x)
    tanh(x)     Cephes: odd polynomial for |x| < 0.625, else copysign(1 - 2/(exp(2|x|) + 1), x)
    erf(x)      Eigen's rational approximation on x clamped to [-4, 4] (|error| < 5e-7 in float32)
    log1p(x)    log(u) * x / (u - 1) with u = 1 + x (Goldberg; exact for tiny x)
    expm1(x)    (u - 1) * x / log(u) with u = exp(x) (Kahan)
    exp10(x)    exp2(x * log2(10));  tan(x)  sin(x) / cos(x)
    fast_exp(x) Cephes expf, see below; fast_tanh, fast_erf: as tanh and erf

On float32 vectors `exp` (and the exps of the expansions above) is that polynomial with NaN
passed through, since LLVM would call libm's expf once per lane; scalars keep libm.  When the
function attribute "fast_math" is set, every float32 `exp` becomes fast_exp: range
reduction n = floor(x * log2(e) + 0.5), r = x - n * ln2 (ln2 in two parts, so r is exact), a
degree-6 polynomial for exp(r), then scaling by 2^n built from exponent bits.  2^n is applied as
two factors 2^(n//2) * 2^(n - n//2) so every factor is a normal float over the whole range
(results overflow to inf above ~88.72 and underflow through the subnormals, as exp does).
Relative error < 1e-7; like any fast-math mode it does not promise to propagate NaN.  The
bit-cast is the Call op "reinterpret": one argument, result of the Call's dtype with the same
total width (codegen emits an LLVM bitcast).

Everything works lane-wise on vector dtypes: constants are built through the expression
constructors, which broadcast them to the operand's lanes.  An operand used more than once is
bound once with a Let, so nested calls do not blow the expression up.
"""

from __future__ import annotations

import math

from ...ir import dtype as dt
from ...ir import expr as E
from ...ir.functor import Mutator
from ..stmt import PrimFunc
from .function_pass import prim_func_pass

# Cephes tanhf, for |x| < 0.625: tanh(x) = x + x^3 * P(x^2).
_TANH_P = (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1)
# Eigen generic_fast_erf_float: erf(x) = x * A(x^2) / B(x^2) on [-4, 4].
_ERF_A = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
          -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
_ERF_B = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
          -1.42647390514189e-02)
# Cephes expf: exp(r) = 1 + r + r^2 * Q(r) for |r| <= ln2 / 2.
_EXP_Q = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
          5.0000001201e-1)
_LN2_HI, _LN2_LO = 0.693359375, -2.12194440e-4

# Beyond this x, exp(x) - 1 == exp(x) to working precision (and Kahan's formula would give nan).
_EXPM1_BIG = {16: 10.0, 32: 80.0, 64: 700.0}


def _c(value: float, like: E.PrimExpr) -> E.PrimExpr:
    """A constant of `like`'s dtype, broadcast to its lanes."""
    return E.const(value, like.dtype)


def _call(op: str, x: E.PrimExpr) -> E.PrimExpr:
    return E.Call(x.dtype, op, (x,))


def _poly(x: E.PrimExpr, coeffs) -> E.PrimExpr:
    """Horner: coeffs[0] * x^(n-1) + ... + coeffs[-1]."""
    acc = _c(coeffs[0], x)
    for k in coeffs[1:]:
        acc = acc * x + _c(k, x)
    return acc


def _is_leaf(x) -> bool:
    if isinstance(x, E.Broadcast):
        x = x.value
    return isinstance(x, (E.Var, E.IntImm, E.FloatImm))


def _let(x: E.PrimExpr, name: str, build) -> E.PrimExpr:
    """build(x) with x bound once: a Let unless x is already a variable or a constant."""
    if _is_leaf(x):
        return build(x)
    v = E.Var(name, x.dtype)
    body = build(v)
    return E.Let(v, x, body, body.dtype)


def sigmoid(x, exp=None):
    exp = exp or (lambda y: _call("exp", y))
    return _c(1, x) / (_c(1, x) + exp(-x))


def rsqrt(x):
    return _c(1, x) / _call("sqrt", x)


def tanh(x, exp=None):
    exp = exp or (lambda y: _call("exp", y))

    def build(x):
        ax = _call("fabs", x)

        def small(z):
            return _poly(z, _TANH_P) * z * x + x

        big = E.Call(x.dtype, "copysign", (_c(1, x) - _c(2, x) / (exp(ax * _c(2, x)) + _c(1, x)), x))
        return E.select(ax < _c(0.625, x), _let(x * x, "tanh_z", small), big)

    return _let(x, "tanh_x", build)


def erf(x):
    def build(x):
        return _let(x * x, "erf_x2", lambda z: x * _poly(z, _ERF_A) / _poly(z, _ERF_B))

    return _let(E.min_(E.max_(x, _c(-4, x)), _c(4, x)), "erf_x", build)


def log1p(x):
    def build(x):
        def with_u(u):
            log_u = _call("log", u)
            general = log_u * (x / (u - _c(1, x)))
            return E.select(u == _c(1, x), x, E.select(u == x, log_u, general))

        return _let(x + _c(1, x), "log1p_u", with_u)

    return _let(x, "log1p_x", build)


def expm1(x, exp=None):
    exp = exp or (lambda y: _call("exp", y))
    big = _EXPM1_BIG[dt.parse(x.dtype).bits]

    def build(x):
        def with_u(u):
            um1 = u - _c(1, x)
            general = um1 * (x / _call("log", u))
            return E.select(u == _c(1, x), x,
                            E.select(um1 == _c(-1, x), um1, E.select(x > _c(big, x), u, general)))

        return _let(exp(x), "expm1_u", with_u)

    return _let(x, "expm1_x", build)


def fast_exp(x):
    """Cephes expf with exponent-bit scaling; float32 (scalar or vector) only."""
    if dt.element_of(x.dtype) != "float32":
        raise TypeError(f"fast_exp is defined for float32, not {x.dtype}")
    lanes = dt.lanes(x.dtype)
    i32 = dt.with_lanes("int32", lanes)

    def pow2(k):  # 2^k for integral float k in [-126, 127]
        bits = (E.cast(k, i32) + E.const(127, i32)) * E.const(1 << 23, i32)
        return E.Call(x.dtype, "reinterpret", (bits,))

    def build(xc):
        def with_n(n):
            def with_r(r):
                y = _poly(r, _EXP_Q) * (r * r) + r + _c(1, x)
                return _let(_call("floor", n * _c(0.5, x)), "exp_n1",
                            lambda n1: y * pow2(n1) * pow2(n - n1))

            return _let(xc - n * _c(_LN2_HI, x) - n * _c(_LN2_LO, x), "exp_r", with_r)

        return _let(_call("floor", xc * _c(1 / math.log(2), x) + _c(0.5, x)), "exp_n", with_n)

    return _let(E.min_(E.max_(x, _c(-104, x)), _c(89, x)), "exp_x", build)


class _Lowerer(Mutator):
    def __init__(self, fast_math: bool):
        self.fast_math = fast_math
        exp = self.exp
        self.rules = {
            "sigmoid": lambda x: sigmoid(x, exp),
            "rsqrt": rsqrt,
            # The tanh/erf polynomials are float32-accurate; float64 keeps libm's tanh/erf.
            "tanh": lambda x: tanh(x, exp) if not _is_f64(x) else None,
            "fast_tanh": lambda x: tanh(x, exp),
            "erf": lambda x: erf(x) if not _is_f64(x) else None,
            "fast_erf": erf,
            "log1p": log1p,
            "expm1": lambda x: expm1(x, exp),
            "exp10": lambda x: _call("exp2", x * _c(math.log2(10), x)),
            "tan": lambda x: _let(x, "tan_x", lambda v: _call("sin", v) / _call("cos", v)),
            "fast_exp": lambda x: fast_exp(x) if _is_f32(x) else _call("exp", x),
        }
        self.rules["exp"] = self.polynomial_exp

    def polynomial_exp(self, x):
        """The exp polynomial where it replaces libm's: fast_exp under fast_math; on float32 vectors
        too, NaN kept (LLVM has no vector expf: llvm.exp.v16f32 becomes sixteen libm calls, which
        made a SiLU epilogue 5x slower than its convolution).  None: libm's exp (scalars, float64)."""
        if not _is_f32(x):
            return None
        if self.fast_math:
            return fast_exp(x)
        if dt.lanes(x.dtype) > 1:
            return _let(x, "exp_in", lambda v: E.select(v != v, v, fast_exp(v)))
        return None

    def exp(self, x):
        """exp for the expansions above."""
        poly = self.polynomial_exp(x)
        return _call("exp", x) if poly is None else poly

    def visit_Call(self, op):
        args = tuple(self.visit(a) for a in op.args)
        rule = self.rules.get(op.op)
        if rule is not None and len(args) == 1 and args[0].dtype == op.dtype and dt.is_float(op.dtype):
            new = rule(args[0])
            if new is not None:
                return new
        if all(a is b for a, b in zip(args, op.args)):
            return op
        return E.Call(op.dtype, op.op, args)


def _is_f32(x) -> bool:
    return dt.element_of(x.dtype) == "float32"


def _is_f64(x) -> bool:
    return dt.element_of(x.dtype) == "float64"


def lower_intrinsics(func: PrimFunc) -> PrimFunc:
    """Expand the math Calls codegen cannot map to an LLVM intrinsic (see the module docstring)."""
    return func.with_body(_Lowerer(bool(func.attrs.get("fast_math"))).visit(func.body))


def LowerIntrinsics():  # noqa: N802  (tilecraft's; classic TVM lowers intrinsics in LowerIntrin)
    return prim_func_pass(lambda f, mod, ctx: lower_intrinsics(f), 0, "LowerIntrinsics")
