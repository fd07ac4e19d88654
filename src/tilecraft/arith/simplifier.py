"""The simplification engine behind `Analyzer`.

Integer scalar expressions go through their canonical `Sum` form (sum_form.py): like terms
cancel, constants fold, and division/modulo rules (divmod.py) use interval bounds of the
terms.  Everything else -- comparisons, boolean logic, floats, vectors -- is simplified
children first with a few local rules.  Floats get constant folding and exact identities only:
reassociating them would change results.

Sub-expressions the sum cannot see into (`x // 8`, `min(a, b)`, `A[i]`) become *atoms*,
hash-consed by structure in a table that lives as long as the engine, so equal atoms meet as
like terms.  Results are memoized per node until the engine's knowledge (variable ranges,
bindings, assumed conditions) changes, so shared subtrees are simplified once.
"""

from __future__ import annotations

from functools import cache

from ..ir import dtype as dt
from ..ir.expr import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    Add,
    And,
    Broadcast,
    Call,
    Cast,
    CmpOp,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    Or,
    PrimExpr,
    Ramp,
    Select,
    SizeVar,
    StringImm,
    Sub,
    Var,
    binary,
    cast,
    node_fields,
)
from ..ir.functor import Mutator
from . import const_bound as cb
from . import divmod as dm
from .const_bound import NEG_INF, POS_INF, ConstIntBound
from .sum_form import Sum, accumulate

# Expanding a product of two sums is quadratic; past this many partial products keep it opaque.
_MAX_EXPANSION = 16
# Memo entries kept before a top-level call starts afresh.
_MEMO_LIMIT = 200_000


@cache
def is_int_scalar(dtype: str) -> bool:
    """Signed integer scalars get the canonical form (unsigned ones wrap, so they do not)."""
    d = dt.parse(dtype)
    return d.code == "int" and d.lanes == 1


class Atom:
    """An entry of the atom table: its expression, and what the rules need to know about it."""

    __slots__ = ("expr", "kind", "args")

    def __init__(self, expr: PrimExpr, kind: str, args):
        self.expr = expr
        self.kind = kind  # var fdiv fmod tdiv tmod sdiv smod min max select mul cast opaque
        self.args = args


class _Children(Mutator):
    """Rebuild a node with every child expression simplified (untouched nodes stay shared)."""

    def __init__(self, eng):
        self.eng = eng

    def visit(self, node):
        return self.eng.simp(node) if isinstance(node, PrimExpr) else node


class Simplifier:
    """The engine: variable knowledge, the atom table, memos, and the rewrite rules."""

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

    # ------------------------------------------------------------------ canonical form
    def canon(self, e: PrimExpr) -> Sum:
        s = self._canon.get(e)
        if s is None:
            s = _CANON.get(type(e), Simplifier._c_other)(self, e)
            self._canon[e] = s
        return s

    def _c_imm(self, e):
        return Sum.of_const(e.value, e.dtype)

    def _c_var(self, e):
        v = self.var_value.get(e)
        if v is not None:
            return self.canon(v)
        return Sum.of_atom(self._atom(e, "var", None, lambda: e), e.dtype)

    def _c_addsub(self, e):
        # Walk the left spine iteratively: long sums must not recurse once per term.
        parts = []
        node = e
        while type(node) in (Add, Sub) and node not in self._canon:
            parts.append((node.b, 1 if type(node) is Add else -1))
            node = node.a
        base = self.canon(node)
        terms, const = dict(base.terms), base.const
        for b, sign in reversed(parts):
            sb = self.canon(b)
            accumulate(terms, sb.terms, sign)
            const += sign * sb.const
        s = Sum(terms, const, e.dtype)
        return dm.merge_divmod(self, s) if dm.has_divmod(self, s) else s

    def _c_mul(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const:
            return sa.scale(sb.const)
        if sa.is_const:
            return sb.scale(sa.const)
        if (len(sa.terms) + (sa.const != 0)) * (len(sb.terms) + (sb.const != 0)) <= _MAX_EXPANSION:
            return sa.times(sb)
        return self._pair_atom("mul", Mul, sa, sb, e.dtype, commutative=True)

    def _c_floordiv(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const > 0:
            return dm.floordiv(self, sa, sb.const)
        if sb.is_const and sb.const < 0:  # floor(a / -c) == floor(-a / c)
            return dm.floordiv(self, sa.scale(-1), -sb.const)
        return self._sym_div(e, sa, sb, "sdiv", FloorDiv)

    def _c_floormod(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const > 0:
            return dm.floormod(self, sa, sb.const)
        if sb.is_const and sb.const < 0:  # a mod -c == -((-a) mod c)
            return dm.floormod(self, sa.scale(-1), -sb.const).scale(-1)
        return self._sym_div(e, sa, sb, "smod", FloorMod)

    def _c_truncdiv(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const != 0:
            c, sign = abs(sb.const), (1 if sb.const > 0 else -1)
            lo, hi = self.bound_sum(sa)
            if lo >= 0:
                return dm.floordiv(self, sa, c).scale(sign)
            if hi <= 0:  # trunc(a / c) == -floor(-a / c) for a <= 0
                return dm.floordiv(self, sa.scale(-1), c).scale(-sign)
            if -c < lo and hi < c:
                return Sum.of_const(0, e.dtype)
            r = sa if sign > 0 else sa.scale(-1)
            aid = self._atom(("tdiv", r.key(), c), "tdiv", (r, c),
                             lambda: Div(self.to_expr(r), IntImm(c, e.dtype), e.dtype))
            return Sum.of_atom(aid, e.dtype)
        return self._sym_div(e, sa, sb, "sdiv", Div)

    def _c_truncmod(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        if sb.is_const and sb.const != 0:
            c = abs(sb.const)  # the remainder takes the dividend's sign only
            lo, hi = self.bound_sum(sa)
            if lo >= 0:
                return dm.floormod(self, sa, c)
            if hi <= 0:
                return dm.floormod(self, sa.scale(-1), c).scale(-1)
            if -c < lo and hi < c:
                return sa
            aid = self._atom(("tmod", sa.key(), c), "tmod", (sa, c),
                             lambda: Mod(self.to_expr(sa), IntImm(c, e.dtype), e.dtype))
            return Sum.of_atom(aid, e.dtype)
        return self._sym_div(e, sa, sb, "smod", Mod)

    def _sym_div(self, e, sa: Sum, sb: Sum, kind: str, cls) -> Sum:
        """Division by a non-constant: only 0 <= a < b is resolved (quotient 0, remainder a)."""
        la = self.bound_sum(sa).min_value
        if la >= 0 and self._lo(sb - sa) >= 1:
            return Sum.of_const(0, e.dtype) if kind == "sdiv" else sa
        return self._pair_atom(kind + cls.__name__, cls, sa, sb, e.dtype, commutative=False)

    def _c_minmax(self, e):
        sa, sb = self.canon(e.a), self.canon(e.b)
        d = sa - sb
        is_min = type(e) is Min
        if self._hi(d) <= 0:
            return sa if is_min else sb
        if self._lo(d) >= 0:
            return sb if is_min else sa
        kind = "min" if is_min else "max"
        return self._pair_atom(kind, type(e), sa, sb, e.dtype, commutative=True)

    def _c_select(self, e):
        c = self.simp(e.condition)
        if isinstance(c, IntImm):
            return self.canon(e.true_value if c.value else e.false_value)
        st, sf = self.canon(e.true_value), self.canon(e.false_value)
        if st.key() == sf.key():
            return st
        key = ("select", self.key_of(c), st.key(), sf.key())
        aid = self._atom(key, "select", (st, sf),
                         lambda: Select(c, self.to_expr(st), self.to_expr(sf), e.dtype))
        return Sum.of_atom(aid, e.dtype)

    def _c_cast(self, e):
        inner = self.simp(e.value)
        if isinstance(inner, (IntImm, FloatImm)):
            folded = cast(inner, e.dtype)
            if isinstance(folded, IntImm):
                return Sum.of_const(folded.value, e.dtype)
        if inner.dtype == e.dtype:
            return self.canon(inner)
        node = Cast(e.dtype, inner)
        aid = self._atom(("cast", e.dtype, self.key_of(inner)), "cast", inner, lambda: node)
        return Sum.of_atom(aid, e.dtype)

    def _c_other(self, e):
        return self._opaque(e)

    # ------------------------------------------------------------------ back to expressions
    def to_expr(self, s: Sum) -> PrimExpr:
        """Print a sum: positive terms first (first-appearance order), then `- t`, then `+/- k`."""
        dtype = s.dtype
        e = None
        neg = []
        for mono, c in s.terms.items():
            if c > 0:
                t = self._mono_expr(mono, c, dtype)
                e = t if e is None else Add(e, t, dtype)
            else:
                neg.append((mono, -c))
        const = s.const
        if e is None and neg and const > 0:
            e, const = IntImm(const, dtype), 0
        for mono, c in neg:
            if e is None:
                e = self._mono_expr(mono, -c, dtype)
            else:
                e = Sub(e, self._mono_expr(mono, c, dtype), dtype)
        if e is None:
            return IntImm(const, dtype)
        if const > 0:
            return Add(e, IntImm(const, dtype), dtype)
        if const < 0:
            return Sub(e, IntImm(-const, dtype), dtype)
        return e

    def _mono_expr(self, mono: tuple, c: int, dtype: str) -> PrimExpr:
        atoms = self.atoms
        e = atoms[mono[0]].expr
        for aid in mono[1:]:
            e = Mul(e, atoms[aid].expr, dtype)
        return e if c == 1 else Mul(e, IntImm(c, dtype), dtype)

    # ------------------------------------------------------------------ bounds
    def const_int_bound(self, e: PrimExpr) -> ConstIntBound:
        if is_int_scalar(e.dtype):
            return self.bound_sum(self.canon(e))
        if dt.lanes(e.dtype) == 1 and (dt.is_bool(e.dtype) or dt.is_uint(e.dtype)):
            e = self.simp(e)
            if isinstance(e, IntImm):
                return ConstIntBound(e.value, e.value)
            return cb.of_dtype(e.dtype)
        return cb.EVERYTHING

    def bound_sum(self, s: Sum) -> ConstIntBound:
        # Hot path: plain integer sums, with the infinite ends tracked as flags.
        lo = hi = s.const
        lo_inf = hi_inf = False
        for mono, c in s.terms.items():
            b = self.bound_atom(mono[0])
            for aid in mono[1:]:
                b = cb.mul(b, self.bound_atom(aid))
            blo, bhi = b
            if c < 0:
                blo, bhi = bhi, blo
            if blo == NEG_INF or blo == POS_INF:
                lo_inf = True
            else:
                lo += c * blo
            if bhi == POS_INF or bhi == NEG_INF:
                hi_inf = True
            else:
                hi += c * bhi
        return ConstIntBound(NEG_INF if lo_inf else cb.sat(lo), POS_INF if hi_inf else cb.sat(hi))

    def bound_atom(self, aid: int) -> ConstIntBound:
        b = self._atom_bound.get(aid)
        if b is None:
            b = self._compute_atom_bound(self.atoms[aid])
            self._atom_bound[aid] = b
        return b

    def _default_var_bound(self, v: Var) -> ConstIntBound:
        b = cb.of_dtype(v.dtype)
        return ConstIntBound(0, b.max_value) if isinstance(v, SizeVar) else b

    def _compute_atom_bound(self, atom: Atom) -> ConstIntBound:
        k, args = atom.kind, atom.args
        if k == "var":
            v = atom.expr
            if v in self.var_value:
                return self.const_int_bound(self.var_value[v])
            return self.var_bound.get(v) or self._default_var_bound(v)
        if k == "fdiv":
            return cb.floordiv(self.bound_sum(args[0]), args[1])
        if k == "fmod":
            return cb.floormod(self.bound_sum(args[0]), args[1])
        if k == "tdiv":
            return cb.truncdiv(self.bound_sum(args[0]), args[1])
        if k == "tmod":
            return cb.truncmod(self.bound_sum(args[0]), args[1])
        if k in ("min", "max", "select", "mul"):
            x, y = self.bound_sum(args[0]), self.bound_sum(args[1])
            if k == "min":
                return ConstIntBound(min(x.min_value, y.min_value), min(x.max_value, y.max_value))
            if k == "max":
                return ConstIntBound(max(x.min_value, y.min_value), max(x.max_value, y.max_value))
            return cb.union(x, y) if k == "select" else cb.mul(x, y)
        if k.startswith(("sdiv", "smod")):
            return self._sym_div_bound(k, self.bound_sum(args[0]), self.bound_sum(args[1]), atom.expr.dtype)
        if k == "cast" and dt.parse(args.dtype).code in ("int", "uint", "bool"):
            inner, full = self.const_int_bound(args), cb.of_dtype(atom.expr.dtype)
            return inner if cb.intersect(inner, full) == inner else full
        return cb.of_dtype(atom.expr.dtype)

    @staticmethod
    def _sym_div_bound(kind: str, a: ConstIntBound, b: ConstIntBound, dtype: str) -> ConstIntBound:
        if b.min_value <= 0 or a.min_value < 0:
            return cb.of_dtype(dtype)
        if kind.startswith("sdiv"):
            hi = a.max_value if a.max_value == POS_INF else a.max_value // b.min_value
            return ConstIntBound(0, hi)
        hi = b.max_value if b.max_value == POS_INF else b.max_value - 1
        return ConstIntBound(0, min(hi, a.max_value))

    def _hi(self, s: Sum) -> int:
        """An upper bound of s, using symbolic variable bounds when constant ones fall short."""
        hi = self.bound_sum(s).max_value
        if (self.sym_hi or self.sym_lo) and not self._refining:
            hi = min(hi, self._refined(s, upper=True))
        return hi

    def _lo(self, s: Sum) -> int:
        lo = self.bound_sum(s).min_value
        if (self.sym_hi or self.sym_lo) and not self._refining:
            lo = max(lo, self._refined(s, upper=False))
        return lo

    def _refined(self, s: Sum, upper: bool) -> int:
        """Replace each variable term by its symbolic bound on the side that bounds s, then
        bound again: i - n with i in [0, n) gives (n - 1) - n == -1.  One round only: the
        bounds may mention each other (or the variable itself, from an assumed `x < f(x)`)."""
        self._refining = True
        try:
            return self._refined_once(s, upper)
        finally:
            self._refining = False

    def _refined_once(self, s: Sum, upper: bool) -> int:
        out = Sum({}, s.const, s.dtype)
        changed = False
        for mono, c in s.terms.items():
            repl = None
            if len(mono) == 1 and self.atoms[mono[0]].kind == "var":
                v = self.atoms[mono[0]].expr
                repl = (self.sym_hi if (c > 0) == upper else self.sym_lo).get(v)
            if repl is None:
                accumulate(out.terms, {mono: c}, 1)
            else:
                out = out + self.canon(repl).scale(c)
                changed = True
        if not changed:
            return POS_INF if upper else NEG_INF
        b = self.bound_sum(out)
        return b.max_value if upper else b.min_value

    # ------------------------------------------------------------------ simplify
    def simp(self, e: PrimExpr) -> PrimExpr:
        r = self._simp.get(e)
        if r is None:
            if type(e) is IntImm:
                return e
            if is_int_scalar(e.dtype):
                r = self.to_expr(self.canon(e))
            else:
                r = _SIMP.get(type(e), Simplifier._s_other)(self, e)
            self._simp[e] = r
        return r

    def _s_leaf(self, e):
        return e

    def _s_var(self, e):
        v = self.var_value.get(e)
        return e if v is None else v

    def _s_other(self, e):
        return self._children.generic_visit(e)

    def _s_cast(self, e):
        inner = self.simp(e.value)
        if isinstance(inner, (IntImm, FloatImm)) and dt.lanes(e.dtype) == 1:
            return cast(inner, e.dtype)
        if inner.dtype == e.dtype:
            return inner
        return e if inner is e.value else Cast(e.dtype, inner)

    def _s_cmp(self, e):
        if not is_int_scalar(e.a.dtype):
            return self._s_binary(e)
        cls = type(e)
        d = self.canon(e.a) - self.canon(e.b)
        if cls is GT:  # a > b  <=>  b - a < 0
            cls, d = LT, d.scale(-1)
        elif cls is GE:
            cls, d = LE, d.scale(-1)
        hi, lo = self._hi(d), self._lo(d)
        if cls is LT:
            truth = True if hi < 0 else False if lo >= 0 else None
        elif cls is LE:
            truth = True if hi <= 0 else False if lo > 0 else None
        else:
            g = d.coeff_gcd()
            if lo == hi == 0:
                eq = True
            elif lo > 0 or hi < 0 or (g > 1 and d.const % g):
                eq = False
            else:
                eq = None
            truth = eq if eq is None or cls is EQ else not eq
        if truth is not None:
            return IntImm(int(truth), "bool")
        r = self._cmp_expr(cls, d)
        if self.facts:
            known = self.facts.get(self.key_of(r))
            if known is not None:
                return IntImm(int(known), "bool")
        return r

    def _cmp_expr(self, cls, d: Sum) -> PrimExpr:
        """`d <op> 0` written as `positive terms <op> negated negative terms - constant`."""
        if cls in (EQ, NE) and not any(c > 0 for c in d.terms.values()):
            d = d.scale(-1)
        pos = {m: c for m, c in d.terms.items() if c > 0}
        neg = {m: -c for m, c in d.terms.items() if c < 0}
        if pos:
            lhs, rhs = Sum(pos, 0, d.dtype), Sum(neg, -d.const, d.dtype)
        else:
            lhs, rhs = Sum({}, d.const, d.dtype), Sum(neg, 0, d.dtype)
        return cls(self.to_expr(lhs), self.to_expr(rhs), "bool")

    def _s_and_or(self, e):
        is_and = type(e) is And
        a = self.simp(e.a)
        if isinstance(a, IntImm) and dt.lanes(a.dtype) == 1:
            if bool(a.value) != is_and:  # False and _, True or _
                return a
            return self.simp(e.b)
        b = self.simp(e.b)
        if isinstance(b, IntImm) and dt.lanes(b.dtype) == 1:
            return a if bool(b.value) == is_and else b
        if self.key_of(a) == self.key_of(b):
            return a
        if a is e.a and b is e.b:
            return e
        return type(e)(a, b, e.dtype)

    def _s_not(self, e):
        a = self.simp(e.a)
        if isinstance(a, IntImm):
            return IntImm(int(not a.value), a.dtype)
        if isinstance(a, Not):
            return a.a
        if isinstance(a, CmpOp) and is_int_scalar(a.a.dtype):  # exact for integers (no NaN)
            flip = {LT: (LE, True), LE: (LT, True), EQ: (NE, False), NE: (EQ, False)}.get(type(a))
            if flip is not None:
                cls, swap = flip
                return self.simp(cls(a.b, a.a, "bool") if swap else cls(a.a, a.b, "bool"))
        return e if a is e.a else Not(a, e.dtype)

    def _s_select(self, e):
        c = self.simp(e.condition)
        if isinstance(c, IntImm):
            return self.simp(e.true_value if c.value else e.false_value)
        t, f = self.simp(e.true_value), self.simp(e.false_value)
        if self.key_of(t) == self.key_of(f):
            return t
        if c is e.condition and t is e.true_value and f is e.false_value:
            return e
        return Select(c, t, f, e.dtype)

    def _s_call(self, e):
        r = self._children.generic_visit(e)
        if r.op == "likely" and len(r.args) == 1 and isinstance(r.args[0], IntImm):
            return r.args[0]
        return r

    def _s_ramp(self, e):
        base, stride = self.simp(e.base), self.simp(e.stride)
        if isinstance(stride, IntImm) and stride.value == 0:
            return Broadcast(base, e.lanes, e.dtype)
        if base is e.base and stride is e.stride:
            return e
        return Ramp(base, stride, e.lanes, e.dtype)

    def _s_binary(self, e):
        """Float, unsigned, bool and vector arithmetic: fold constants, exact identities only."""
        cls = type(e)
        a, b = self.simp(e.a), self.simp(e.b)
        if dt.lanes(e.dtype) > 1 or dt.lanes(a.dtype) > 1:
            v = self._vector_binary(cls, a, b, e.dtype)
            if v is not None:
                return v
        elif isinstance(a, (IntImm, FloatImm)) and isinstance(b, (IntImm, FloatImm)):
            folded = _fold_cmp(cls, a, b) if issubclass(cls, CmpOp) else binary(cls, a, b)
            if isinstance(folded, (IntImm, FloatImm)):
                return folded
        elif dt.is_float(e.dtype):
            if cls in (Mul, Div) and _is_value(b, 1) or cls is Sub and _is_value(b, 0):
                return a  # exact: x*1, x/1 and x-0 are x for every float, -0.0 and NaN included
            if cls is Mul and _is_value(a, 1):
                return b
        if a is e.a and b is e.b:
            return e
        return cls(a, b, e.dtype)

    def _vector_binary(self, cls, a, b, dtype):
        """Broadcast(x) op Broadcast(y) -> Broadcast(x op y); ramps absorb additions, scaling."""
        lanes = dt.lanes(dtype)
        elem = dt.element_of(dtype)
        if isinstance(a, Broadcast) and isinstance(b, Broadcast):
            return Broadcast(self.simp(cls(a.value, b.value, elem)), lanes, dtype)
        if not is_int_scalar(elem):
            return None
        ra, rb = isinstance(a, Ramp), isinstance(b, Ramp)
        if cls in (Add, Sub) and (ra or rb) and isinstance(a, (Ramp, Broadcast)) \
                and isinstance(b, (Ramp, Broadcast)):
            base = self.simp(cls(a.base if ra else a.value, b.base if rb else b.value, elem))
            zero = IntImm(0, elem)
            stride = self.simp(cls(a.stride if ra else zero, b.stride if rb else zero, elem))
            return self._s_ramp(Ramp(base, stride, lanes, dtype))
        if cls is Mul and (ra and isinstance(b, Broadcast) or rb and isinstance(a, Broadcast)):
            r, k = (a, b.value) if ra else (b, a.value)
            return self._s_ramp(Ramp(self.simp(Mul(r.base, k, elem)), self.simp(Mul(r.stride, k, elem)),
                                     lanes, dtype))
        if cls in (FloorDiv, FloorMod) and ra and isinstance(b, Broadcast) \
                and isinstance(b.value, IntImm) and b.value.value > 0 \
                and isinstance(a.stride, IntImm) and a.stride.value >= 0:
            c = b.value
            last = Add(a.base, IntImm(a.stride.value * (lanes - 1), elem), elem)
            first_q, last_q = self.canon(FloorDiv(a.base, c, elem)), self.canon(FloorDiv(last, c, elem))
            spread = last_q - first_q
            if spread.is_const and spread.const == 0:  # no lane crosses a multiple of c
                if cls is FloorDiv:
                    return Broadcast(self.to_expr(first_q), lanes, dtype)
                return Ramp(self.simp(FloorMod(a.base, c, elem)), a.stride, lanes, dtype)
        return None


def _leaf_key(v):
    """Non-expression fields (buffers, tensors, names) key by value, or by identity if unhashable."""
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return v


def _is_value(e, v) -> bool:
    return isinstance(e, (IntImm, FloatImm)) and e.value == v


def _fold_cmp(cls, a, b) -> PrimExpr:
    x, y = a.value, b.value
    r = {EQ: x == y, NE: x != y, LT: x < y, LE: x <= y, GT: x > y, GE: x >= y}[cls]
    return IntImm(int(r), "bool")


_CANON = {
    IntImm: Simplifier._c_imm, Var: Simplifier._c_var, SizeVar: Simplifier._c_var,
    Add: Simplifier._c_addsub, Sub: Simplifier._c_addsub, Mul: Simplifier._c_mul,
    FloorDiv: Simplifier._c_floordiv, FloorMod: Simplifier._c_floormod,
    Div: Simplifier._c_truncdiv, Mod: Simplifier._c_truncmod,
    Min: Simplifier._c_minmax, Max: Simplifier._c_minmax,
    Select: Simplifier._c_select, Cast: Simplifier._c_cast,
}

_SIMP = {
    IntImm: Simplifier._s_leaf, FloatImm: Simplifier._s_leaf, StringImm: Simplifier._s_leaf,
    Var: Simplifier._s_var, SizeVar: Simplifier._s_var, Cast: Simplifier._s_cast,
    EQ: Simplifier._s_cmp, NE: Simplifier._s_cmp, LT: Simplifier._s_cmp, LE: Simplifier._s_cmp,
    GT: Simplifier._s_cmp, GE: Simplifier._s_cmp, And: Simplifier._s_and_or, Or: Simplifier._s_and_or,
    Not: Simplifier._s_not, Select: Simplifier._s_select, Call: Simplifier._s_call,
    Ramp: Simplifier._s_ramp,
    **{c: Simplifier._s_binary for c in (Add, Sub, Mul, Div, Mod, FloorDiv, FloorMod, Min, Max)},
}
