"""Barriers for the CUDA code generator: where a kernel needs `__syncthreads()`.

The kernel printer (cuda_c.py) asks SyncPlanner which statements of a kernel body (one of the
kernels cuda_split.py cut out of a PrimFunc) must be preceded by a barrier, and which conflicts
sit in thread-dependent control flow where no barrier can go.  A data-flow analysis over the
kernel's memory accesses, apart from the host/device split that produces the kernels.
"""

from __future__ import annotations

from ...ir import expr as E
from ...ir.functor import post_order_visit, structural_equal
from ...tir import stmt as S
from .cuda_split import binding_var_extent, is_launch_binding


class SyncPlanner:
    """Where a kernel needs `__syncthreads()` (TVM's ThreadSync, simplified).

    Memory visible to several threads (shared arrays, and global memory within a block) is
    tracked along statement sequences: a statement that reads what an earlier statement wrote
    since the last barrier (or writes what was read or written) gets a barrier before it.  Loop
    bodies are analysed twice, so the accesses at the end of one iteration meet the start of the
    next (the write-after-read at the top of a reduction loop that reloads a shared tile).
    Barriers are only placed where control flow is the same for every thread of the block; a
    conflict inside thread-dependent control flow is reported (`self.unsyncable`).

    Two accesses of one buffer with the same index expression made by the same thread are not a
    conflict (see `accesses`).
    """

    def __init__(self, body, launch: dict, per_thread: set, guarded_loops: set, defined: set):
        self.defined = defined  # vars bound inside the kernel (the rest are launch parameters)
        self.launch_threads = {t for t in launch if t.startswith("threadIdx")}
        self.per_thread = per_thread  # data vars of per-thread arrays (not tracked)
        self.guarded = guarded_loops  # ids of bound loops narrower than the launch (divergent)
        self.syncs: set = set()  # ids of statements preceded by a barrier
        self.unsyncable: list = []
        self._acc_cache: dict = {}
        self.nonuniform_vars: set = set()
        self._bounds: dict = {}
        self._bound_at(body, frozenset())
        self.plan(body, (), frozenset(), frozenset(), True)

    # An access is (kind "R"/"W", data var, index tuple or None, who): `who` names the threads
    # that make it -- the thread tags bound there when every thread makes it with its own index,
    # or the bound tags with the others pinned to 0 for a guarded store (and the reads feeding
    # it, whose values only that thread uses) -- or None when threads that differ only in an
    # unbound tag all make it.  Equal indices with equal `who` are the same thread's element.
    def _bound_at(self, s, bound) -> None:
        self._bounds[id(s)] = bound
        if isinstance(s, S.SeqStmt):
            for c in s.seq:
                self._bound_at(c, bound)
            return
        self._bounds[id(s)] = bound
        tag = is_launch_binding(s)
        if tag:
            bound = bound | {tag}
        for name in ("body", "then_case", "else_case"):
            c = getattr(s, name, None)
            if isinstance(c, S.Stmt):
                self._bound_at(c, bound)

    def accesses(self, s) -> tuple:
        key = id(s)
        got = self._acc_cache.get(key)
        if got is None:
            out: list = []
            self._collect(s, self._bounds.get(key, frozenset()), out)
            got = self._acc_cache[key] = _merge(out)
        return got

    def _loads(self, e, who, out) -> None:
        def f(n):
            if isinstance(n, E.BufferLoad) and n.buffer.data not in self.per_thread:
                out.append(("R", n.buffer.data, n.indices, who))

        post_order_visit(e, f)

    def _collect(self, s, bound, out) -> None:
        full = self.launch_threads <= bound
        if isinstance(s, S.SeqStmt):
            for c in s.seq:
                self._collect(c, bound, out)
            return
        if isinstance(s, S.BufferStore):
            tracked = s.buffer.data not in self.per_thread
            who = frozenset(bound) if full or tracked else None
            for x in (s.value, *s.indices):
                self._loads(x, who, out)
            if tracked:
                out.append(("W", s.buffer.data, s.indices, who))
            return
        who = frozenset(bound) if full else None
        tag = is_launch_binding(s)
        if tag:
            bound = bound | {tag}
        for name in ("min", "extent", "condition", "value"):
            x = getattr(s, name, None)
            if isinstance(x, E.PrimExpr):
                self._loads(x, who, out)
        for name in ("body", "then_case", "else_case"):
            c = getattr(s, name, None)
            if isinstance(c, S.Stmt):
                self._collect(c, bound, out)

    def conflict(self, pending, acc, scope) -> bool:
        if not pending or not acc:
            return False
        for k, v, idx, who in acc:
            for pk, pv, pidx, pwho in pending:
                if pv is not v or k == pk:  # read-after-read and write-after-write need no barrier
                    continue
                if (who is not None and who == pwho and idx is not None and pidx is not None
                        and structural_equal(idx, pidx) and _vars_in(idx, scope, self.defined)):
                    continue
                return True
        return False

    def is_uniform(self, e) -> bool:
        bad = False

        def f(n):
            nonlocal bad
            if isinstance(n, E.Var) and n in self.nonuniform_vars or isinstance(n, E.BufferLoad):
                bad = True

        post_order_visit(e, f)
        return not bad

    def plan(self, s, pending, bound, scope, record) -> tuple:
        """Walk `s` (in uniform control flow) with `pending` accesses since the last barrier."""
        if isinstance(s, S.SeqStmt):
            for c in s.seq:
                pending = self.child(c, pending, bound, scope, record)
            return pending
        return self.child(s, pending, bound, scope, record)

    def child(self, c, pending, bound, scope, record) -> tuple:
        """One statement of a sequence.  Compound statements in uniform control flow are walked
        into, so a barrier lands right before the statement that needs it."""
        if isinstance(c, S.SeqStmt):
            return self.plan(c, pending, bound, scope, record)
        tag = is_launch_binding(c)
        if tag:
            var, _, _ = binding_var_extent(c)
            if tag.startswith("threadIdx"):
                self.nonuniform_vars.add(var)
            if id(c) in self.guarded:
                return self.atomic(c, pending, bound | {tag}, scope | {var}, record)
            out = self.plan(c.body, pending, bound | {tag}, scope | {var}, record)
            return _forget(out, var)
        if isinstance(c, S.For):
            if not (self.is_uniform(c.min) and self.is_uniform(c.extent)):
                return self.atomic(c, pending, bound, scope, record)
            return self.loop(c, pending, bound, scope, record)
        if isinstance(c, S.LetStmt):
            if not self.is_uniform(c.value):
                self.nonuniform_vars.add(c.var)
            return _forget(self.plan(c.body, pending, bound, scope | {c.var}, record), c.var)
        if isinstance(c, (S.Allocate, S.AttrStmt)):
            return self.plan(c.body, pending, bound, scope, record)
        if isinstance(c, S.IfThenElse):
            if not self.is_uniform(c.condition):
                return self.atomic(c, pending, bound, scope, record)
            out = self.plan(c.then_case, pending, bound, scope, record)
            other = self.plan(c.else_case, pending, bound, scope, record) if c.else_case is not None else pending
            return _merge(out, other)
        if isinstance(c, S.AssertStmt):
            return self.plan(c.body, pending, bound, scope, record)
        return self.atomic(c, pending, bound, scope, record)

    def loop(self, c, pending, bound, scope, record) -> tuple:
        """A serial loop: the end of one iteration meets the start of the next.  A barrier that only
        the accesses before the loop need goes before the loop, not into every iteration."""
        acc = self.accesses(c)
        if not any(a[0] == "W" for a in acc) and not any(a[0] == "W" for a in pending):
            return _merge(pending, acc)  # nothing written: nothing to order
        inner = scope | {c.loop_var}
        carried = _forget(self.plan(c.body, (), bound, inner, False), c.loop_var)
        with_outer, alone = set(), set()
        self._dry(c.body, _merge(pending, carried), bound, inner, with_outer)
        self._dry(c.body, carried, bound, inner, alone)
        if with_outer != alone:
            if record:
                self.syncs.add(id(c))
            pending = ()
        out = self.plan(c.body, _merge(pending, carried), bound, inner, record)
        return _merge(pending, _forget(out, c.loop_var))

    def _dry(self, body, pending, bound, scope, into: set) -> None:
        saved = self.syncs
        self.syncs = into
        try:
            self.plan(body, pending, bound, scope, True)
        finally:
            self.syncs = saved

    def atomic(self, c, pending, bound, scope, record) -> tuple:
        """A leaf, or a statement in thread-dependent control flow: no barrier can go inside it."""
        acc = self.accesses(c)
        if self.conflict(pending, acc, scope):
            if record:
                self.syncs.add(id(c))
            pending = ()
        if not isinstance(c, (S.BufferStore, S.Evaluate)):
            inner = set()
            saved_uns = self.unsyncable
            self.unsyncable = []
            if isinstance(c, S.IfThenElse):
                self._dry(c.then_case, (), bound, scope, inner)
                if c.else_case is not None:
                    self._dry(c.else_case, (), bound, scope, inner)
            else:
                body = c.body if isinstance(c, (S.For, S.AttrStmt)) else c
                if isinstance(c, S.For):
                    scope = scope | {c.loop_var}
                self._dry(body, (), bound, scope, inner)
            self.unsyncable = saved_uns
            if inner and record:
                self.unsyncable.append(c)
        return _merge(pending, acc)


def _vars_in(idx, scope, defined) -> bool:
    """Whether every variable of the index tuple is in scope here (or a launch parameter)."""
    ok = True

    def f(n):
        nonlocal ok
        if isinstance(n, E.Var) and n in defined and n not in scope:
            ok = False

    for x in idx:
        post_order_visit(x, f)
    return ok


def _merge(*groups) -> tuple:
    """Concatenate access tuples, dropping repeats (same kind, buffer and index object)."""
    seen, out = set(), []
    for g in groups:
        for a in g:
            key = (a[0], id(a[1]), id(a[2]))
            if key not in seen:
                seen.add(key)
                out.append(a)
    return tuple(out)


def _uses(e, var) -> bool:
    hit = False

    def f(n):
        nonlocal hit
        if n is var:
            hit = True

    for x in e:
        post_order_visit(x, f)
    return hit


def _forget(pending, var) -> tuple:
    """Accesses leaving the scope of `var`: indices that use it no longer name one element."""
    return tuple((k, v, None if idx is not None and _uses(idx, var) else idx, who) for k, v, idx, who in pending)
