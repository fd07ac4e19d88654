"""A cheap structural proof that an integer expression is >= 0, shared by the code generators:
when it holds, floor division and modulo can use the plain (unsigned, shift) forms."""

from __future__ import annotations

from ...ir import dtype as dt
from ...ir import expr as E


def positive_const(e) -> bool:
    if isinstance(e, E.Broadcast):
        e = e.value
    return isinstance(e, E.IntImm) and e.value > 0


def is_nonneg(e, nonneg_vars) -> bool:
    """True only if e >= 0 follows from its structure (loop variables start at 0: `nonneg_vars`)."""
    t = type(e)
    if t is E.IntImm:
        return e.value >= 0
    if t is E.SizeVar or dt.is_uint(e.dtype):
        return True
    if t is E.Var:
        return e in nonneg_vars
    if t in (E.Add, E.Mul, E.Min, E.Div, E.FloorDiv):
        return is_nonneg(e.a, nonneg_vars) and is_nonneg(e.b, nonneg_vars)
    if t is E.Max:
        return is_nonneg(e.a, nonneg_vars) or is_nonneg(e.b, nonneg_vars)
    if t is E.FloorMod:
        return positive_const(e.b) or is_nonneg(e.a, nonneg_vars) and is_nonneg(e.b, nonneg_vars)
    if t is E.Mod:
        return is_nonneg(e.a, nonneg_vars)
    if t is E.Cast:
        s, d = dt.parse(e.value.dtype), dt.parse(e.dtype)
        return s.code in ("int", "uint") and d.code in ("int", "uint") and d.bits >= s.bits \
            and is_nonneg(e.value, nonneg_vars)
    if t is E.Ramp:
        return is_nonneg(e.base, nonneg_vars) and is_nonneg(e.stride, nonneg_vars)
    if t is E.Broadcast:
        return is_nonneg(e.value, nonneg_vars)
    return False


def is_const(e, v) -> bool:
    """e is the integer constant v."""
    return isinstance(e, E.IntImm) and e.value == v
