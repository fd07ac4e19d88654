"""The simplification engine behind `Analyzer`, one rule family per module.

Integer scalar expressions go through their canonical `Sum` form (canonical.py, sum_form.py):
like terms cancel, constants fold, and division/modulo rules (divmod.py) use interval bounds of
the terms (bound_rules.py).  Everything else -- comparisons, boolean logic, floats, vectors --
is simplified children first with a few local rules (local_rules.py).  This module holds what
the rules share: what is known of the variables, the atom table and the memos.

Sub-expressions the sum cannot see into (`x // 8`, `min(a, b)`, `A[i]`) become *atoms*,
hash-consed by structure in a table that lives as long as the engine, so equal atoms meet as
like terms.  Results are memoized per node until the engine's knowledge (variable ranges,
bindings, assumed conditions) changes, so shared subtrees are simplified once.
"""

from __future__ import annotations

from ..ir.expr import (
    EQ,
    LE,
    LT,
    Add,
    And,
    Call,
    CmpOp,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Not,
    Or,
    PrimExpr,
    StringImm,
    Sub,
    Var,
    cast,
    node_fields,
)
from ..ir.functor import Mutator
from . import const_bound as cb
from .bound_rules import BoundRules
from .canonical import Atom, CanonicalRules, is_int_scalar
from .const_bound import ConstIntBound
from .local_rules import LocalRules
from .sum_form import Sum

# Memo entries kept before a top-level call starts afresh.
_MEMO_LIMIT = 200_000


class _Children(Mutator):
    """Rebuild a node with every child expression simplified (untouched nodes stay shared)."""

    def __init__(self, eng):
        self.eng = eng

    def visit(self, node):
        return self.eng.simp(node) if isinstance(node, PrimExpr) else node


class Simplifier(CanonicalRules, BoundRules, LocalRules):
    """The engine: variable knowledge, the atom table and memos; the rules are its mixins."""

    def __init__(self):
        self.var_bound: dict = {}  # Var -> ConstIntBound
        self.var_value: dict = {}  # Var -> simplified PrimExpr it equals
        self.sym_lo: dict = {}  # Var -> symbolic lower bound (inclusive)
        self.sym_hi: dict = {}  # Var -> symbolic upper bound (inclusive)
        self.facts: dict = {}  # structural key of a simplified condition -> its truth
        self.atoms: list[Atom] = []
        self._atom_ids: dict = {}
        self._children = _Children(self)
        self._refining = False
        self.invalidate()

    # ------------------------------------------------------------------ knowledge
    def invalidate(self) -> None:
        self._canon: dict = {}
        self._simp: dict = {}
        self._keys: dict = {}
        self._atom_bound: dict = {}

    def trim(self) -> None:
        """Drop the memo once it is large; the atom table stays (assumed facts refer to it)."""
        if len(self._canon) + len(self._simp) > _MEMO_LIMIT:
            self.invalidate()

    def snapshot(self) -> tuple:
        return (dict(self.var_bound), dict(self.var_value), dict(self.sym_lo), dict(self.sym_hi),
                dict(self.facts))

    def restore(self, snap: tuple) -> None:
        self.var_bound, self.var_value, self.sym_lo, self.sym_hi, self.facts = (dict(x) for x in snap)
        self.invalidate()

    def bind_range(self, var: Var, mn: PrimExpr, extent: PrimExpr) -> None:
        """var ranges over [mn, mn + extent - 1]; an extent of one binds var to mn."""
        mn, extent = self.simp(cast(mn, var.dtype)), self.simp(cast(extent, var.dtype))
        if isinstance(extent, IntImm) and extent.value == 1:
            self.bind_value(var, mn)
            return
        mx = self.simp(Sub(Add(mn, extent, mn.dtype), IntImm(1, mn.dtype), mn.dtype))
        lo, hi = self.const_int_bound(mn).min_value, self.const_int_bound(mx).max_value
        self.var_value.pop(var, None)
        self.var_bound[var] = ConstIntBound(lo, max(lo, hi))
        for store, e in ((self.sym_lo, mn), (self.sym_hi, mx)):
            if isinstance(e, IntImm):
                store.pop(var, None)
            else:
                store[var] = e
        self.invalidate()

    def bind_value(self, var: Var, value: PrimExpr) -> None:
        value = self.simp(cast(value, var.dtype))
        self.var_value[var] = value
        for store in (self.var_bound, self.sym_lo, self.sym_hi):
            store.pop(var, None)
        self.invalidate()

    def forget(self, var: Var) -> None:
        """Drop everything bound to var (its range, value and symbolic bounds)."""
        for store in (self.var_bound, self.var_value, self.sym_lo, self.sym_hi):
            store.pop(var, None)
        self.invalidate()

    def bind_bound(self, var: Var, bound: ConstIntBound) -> None:
        """Narrow what is known of var's constant range (used for let-bound values)."""
        old = self.var_bound.get(var) or self._default_var_bound(var)
        self.var_bound[var] = cb.intersect(old, bound)
        self.invalidate()

    def assume(self, cond: PrimExpr, truth: bool = True) -> None:
        """From now on (until restore) treat `cond` as having the given truth value."""
        self._learn(self.simp(cond), truth)
        self.invalidate()

    def _learn(self, c: PrimExpr, truth: bool) -> None:
        if isinstance(c, IntImm):
            return
        if isinstance(c, And) and truth or isinstance(c, Or) and not truth:
            self._learn(c.a, truth)
            self._learn(c.b, truth)
            return
        if isinstance(c, Not):
            self._learn(c.a, not truth)
            return
        if isinstance(c, Call) and c.op == "likely" and len(c.args) == 1:
            self._learn(c.args[0], truth)
            return
        negated = None
        if isinstance(c, CmpOp) and is_int_scalar(c.a.dtype):
            negated = self.simp(Not(c, c.dtype))
        self.facts[self.key_of(c)] = truth
        if negated is not None:
            self.facts[self.key_of(negated)] = not truth
            self._tighten(c if truth else negated)

    def _tighten(self, c: PrimExpr) -> None:
        """Narrow a variable's range from a known `v < e`, `v <= e`, `e < v`, `v == e`."""
        if not isinstance(c, (LT, LE, EQ)):
            return
        strict = 1 if isinstance(c, LT) else 0
        for v, other, upper in ((c.a, c.b, True), (c.b, c.a, False)):
            if not isinstance(v, Var) or v in self.var_value:
                continue
            old = self.var_bound.get(v, self._default_var_bound(v))
            if isinstance(other, IntImm):
                k = other.value
                lo, hi = old
                if isinstance(c, EQ):
                    lo, hi = max(lo, k), min(hi, k)
                elif upper:
                    hi = min(hi, k - strict)
                else:
                    lo = max(lo, k + strict)
                self.var_bound[v] = ConstIntBound(lo, max(lo, hi))
            elif not isinstance(c, EQ):
                one = IntImm(strict, other.dtype)
                store = self.sym_hi if upper else self.sym_lo
                op = Sub if upper else Add
                store[v] = self.simp(op(other, one, other.dtype))
                b = self.const_int_bound(store[v])
                lo, hi = old
                if upper:
                    hi = min(hi, b.max_value)
                else:
                    lo = max(lo, b.min_value)
                self.var_bound[v] = ConstIntBound(lo, max(lo, hi))

    # ------------------------------------------------------------------ atoms
    def _atom(self, key, kind: str, args, make) -> int:
        aid = self._atom_ids.get(key)
        if aid is None:
            aid = len(self.atoms)
            self.atoms.append(Atom(make(), kind, args))
            self._atom_ids[key] = aid
        return aid

    def fdiv_atom(self, r: Sum, c: int) -> int:
        return self._atom(("fdiv", r.key(), c), "fdiv", (r, c),
                          lambda: FloorDiv(self.to_expr(r), IntImm(c, r.dtype), r.dtype))

    def fmod_atom(self, r: Sum, c: int) -> int:
        return self._atom(("fmod", r.key(), c), "fmod", (r, c),
                          lambda: FloorMod(self.to_expr(r), IntImm(c, r.dtype), r.dtype))

    def find_fdiv_atom(self, x: Sum, c: int) -> int | None:
        """The atom for x // c if one exists; x // c where x is itself y // d means y // (d*c)."""
        xa = x.single_atom()
        if xa is not None and self.atoms[xa].kind == "fdiv":
            y, d = self.atoms[xa].args
            return self._atom_ids.get(("fdiv", y.key(), d * c))
        return self._atom_ids.get(("fdiv", x.key(), c))

    def _pair_atom(self, kind: str, cls, sa: Sum, sb: Sum, dtype: str, commutative: bool) -> Sum:
        ka, kb = sa.key(), sb.key()
        key = (kind, frozenset((ka, kb)) if commutative else (ka, kb))
        aid = self._atom(key, kind, (sa, sb), lambda: cls(self.to_expr(sa), self.to_expr(sb), dtype))
        return Sum.of_atom(aid, dtype)

    def _opaque(self, e: PrimExpr) -> Sum:
        """An expression the sum cannot see into, with its children simplified."""
        e = self._children.generic_visit(e)
        aid = self._atom(self._struct_key(e), "opaque", None, lambda: e)
        return Sum.of_atom(aid, e.dtype)

    # ------------------------------------------------------------------ keys
    def key_of(self, e: PrimExpr):
        """Structural identity of a simplified expression (integer parts via their sums)."""
        k = self._keys.get(e)
        if k is None:
            if is_int_scalar(e.dtype):
                k = self.canon(e).key()
            elif isinstance(e, Var):
                k = e
            elif isinstance(e, (IntImm, FloatImm, StringImm)):
                k = (type(e), e.value, e.dtype)
            else:
                k = self._struct_key(e)
            self._keys[e] = k
        return k

    def _struct_key(self, e: PrimExpr) -> tuple:
        parts = [type(e)]
        for name in node_fields(type(e)):
            v = getattr(e, name)
            if isinstance(v, PrimExpr):
                parts.append(self.key_of(v))
            elif isinstance(v, tuple):
                parts.append(tuple(self.key_of(x) if isinstance(x, PrimExpr) else _leaf_key(x) for x in v))
            else:
                parts.append(_leaf_key(v))
        return tuple(parts)


def _leaf_key(v):
    """Non-expression fields (buffers, tensors, names) key by value, or by identity if unhashable."""
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return v
