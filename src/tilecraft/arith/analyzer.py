"""`Analyzer`: what is known about variables, and the questions passes ask about expressions.

Passes bind loop variables to their ranges as they walk into loops, then ask for simplified
expressions, constant bounds, or proofs.  Proofs are conservative: `can_prove` is True only
when the simplifier reduced the condition to true; False means "not known".
"""

from __future__ import annotations

from contextlib import contextmanager

from ..ir.expr import IntImm, PrimExpr, Range, Var, convert, sub
from .canonical import is_int_scalar
from .const_bound import ConstIntBound
from .simplifier import Simplifier


class Analyzer:
    """Simplifier, bound analysis and prover sharing one set of variable facts.

    For example, after `ana.bind(ii, Range(0, 32))`, `ana.simplify((io*32 + ii) // 32)` is `io`
    and `ana.can_prove(ii < 32)` is True.  Results are memoized until the facts change; the
    memo is dropped when it grows large, so a long-lived analyzer does not hold on to every
    expression it ever saw.
    """

    def __init__(self):
        self._eng = Simplifier()

    # ------------------------------------------------------------------ facts
    def bind(self, var: Var, value) -> None:
        """A `Range` value means var ranges over [min, min + extent - 1]; anything else
        (an expression or a number) means var equals it.  A later bind replaces an earlier one."""
        if isinstance(value, Range):
            self._eng.bind_range(var, convert(value.min), convert(value.extent))
        else:
            self._eng.bind_value(var, convert(value, var.dtype))

    def bind_bound(self, var: Var, bound: ConstIntBound) -> None:
        """Narrow var's constant range without fixing its value (e.g. a let-bound index)."""
        self._eng.bind_bound(var, bound)

    @contextmanager
    def scope(self):
        """Undo every bind and assumption made inside the `with` block when it exits."""
        snap = self._eng.snapshot()
        try:
            yield self
        finally:
            self._eng.restore(snap)

    @contextmanager
    def constraint_scope(self, cond):
        """Within the block, `cond` is assumed true (the then-branch of an `if`)."""
        with self.scope():
            self._eng.assume(convert(cond))
            yield self

    def assume(self, cond, truth: bool = True) -> None:
        """Record that `cond` has the given truth value (until the enclosing `scope` exits)."""
        self._eng.assume(convert(cond), truth)

    # ------------------------------------------------------------------ questions
    def simplify(self, expr) -> PrimExpr:
        self._eng.trim()
        return self._eng.simp(convert(expr))

    def const_int_bound(self, expr) -> ConstIntBound:
        self._eng.trim()
        return self._eng.const_int_bound(convert(expr))

    def can_prove(self, cond) -> bool:
        self._eng.trim()
        r = self._eng.simp(convert(cond))
        return isinstance(r, IntImm) and r.value != 0

    def can_prove_equal(self, a, b) -> bool:
        a, b = convert(a), convert(b)
        if a is b:
            return True
        if is_int_scalar(a.dtype) and is_int_scalar(b.dtype):
            d = self._eng.simp(sub(a, b))
            return isinstance(d, IntImm) and d.value == 0
        eng = self._eng
        return a.dtype == b.dtype and eng.key_of(eng.simp(a)) == eng.key_of(eng.simp(b))

    def int_set(self, expr, dom: dict):
        """The interval of expr as the variables in dom range over their sets (see eval_set)."""
        from .int_set import eval_set

        return eval_set(expr, dom, self)


def simplify(expr, dom: dict | None = None) -> PrimExpr:
    """Simplify one expression, with optional variable ranges {var: Range}."""
    ana = Analyzer()
    for v, r in (dom or {}).items():
        ana.bind(v, r)
    return ana.simplify(expr)
