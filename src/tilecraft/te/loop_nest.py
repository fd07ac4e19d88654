"""Stage -> loops: each computed stage becomes a nest over its leaf axes, with the guards a
non-dividing split or an overhanging region needs, the reduction init before the first reduction
loop, and the stages attached to each loop (with their allocations) inside it."""

from __future__ import annotations

from ..ir.expr import BufferLoad, IntImm, IterType, Reduce, StringImm, Var, const, logical_and
from ..ir.functor import Mutator, free_vars, substitute
from ..tir.stmt import AttrStmt, BufferStore, For, ForKind, IfThenElse, LetStmt, seq
from .access_check import checked_body
from .attachment import attach_leaf
from .extern import ExternOp, extern_body
from .inline import InlinedBodies
from .reduce import identity_of
from .scan import ScanOp
from .schedule import ScheduleError, Stage
from .storage import allocate
from .tensorize import plan as tensorize_plan


class LoopNests:
    """Builds the loop nest of every root stage; stages attached elsewhere are built in place."""

    def __init__(self, sch, stages: list, bounds: dict, storage: dict, bodies: InlinedBodies):
        self.sch, self.stages, self.bounds, self.storage, self.bodies = sch, stages, bounds, storage, bodies

    def build(self):
        roots = [s for s in self.stages if s in self.bounds and s.attach_type != "scope"]
        body = seq(*[self.nest(s) for s in roots])
        for st in reversed(roots):
            body = allocate(self.storage[st], body)
        return body

    def nest(self, st: Stage):
        b = self.bounds[st]
        leaves = st.leaf_iter_vars
        attached = {k: [c for c in self.stages if c.attach_type == "scope" and c.attach_stage is st
                        and attach_leaf(c) is iv] for k, iv in enumerate(leaves)}
        is_reduce = bool(st.op.reduce_axis)
        r = next((k for k, iv in enumerate(leaves) if iv.iter_type == IterType.COMM_REDUCE), None)
        guard_at: dict = {}
        for g in b.guards:
            guard_at.setdefault(_depth(g, leaves), []).append(g)
        tz = tensorize_plan(self, st)  # the loops from tz.point down become an intrinsic's statement
        body = self._provide(st) if tz is None else tz.body
        if tz is None:
            init = self._init_nest(st, r) if is_reduce else None
        else:
            init = None if tz.init is None else self._init_nest(st, r, tz.point, tz.init)
        for k in reversed(range(len(leaves) if tz is None else tz.point)):
            parts = [self.nest(c) for c in attached[k]]
            if init is not None and k == r - 1:
                parts.append(init)
            content = _guard(guard_at.get(k, []), seq(*parts, body))
            for c in reversed(attached[k]):
                content = allocate(self.storage[c], content)
            body = self._for(st, leaves[k], content)
        if init is not None and r == 0:
            body = seq(init, body)
        return _guard(guard_at.get(-1, []), body)

    def _for(self, st: Stage, iv, body):
        attr = st.iter_var_attrs.get(iv)
        kind = attr.kind if attr else ForKind.SERIAL
        ann = tuple(attr.pragmas) if attr else ()
        tag = attr.thread_tag if attr and kind == ForKind.THREAD_BINDING else ""
        imports = [v for k, v in ann if k == "pragma_import_llvm"]  # an AttrStmt outlives the loop (extent 1,
        ann = tuple(a for a in ann if a[0] != "pragma_import_llvm")  # unrolled) for codegen to find
        loop = For(iv.var, const(0, iv.var.dtype), self.bounds[st].ext[iv], kind, body, tag, ann)
        for code in reversed(imports):
            loop = AttrStmt(iv.var, "pragma_import_llvm", StringImm(code) if isinstance(code, str) else code, loop)
        return loop

    def _init_nest(self, st: Stage, r, stop=None, stmt=None):
        """The reduction's init over the data-parallel loops after leaf r (up to leaf `stop`): identity
        stores, or `stmt` (a tensorize intrinsic's reduce_init)."""
        b, buffers = self.bounds[st], self.storage[st].buffers
        leaves = st.leaf_iter_vars
        inner = [iv for k, iv in enumerate(leaves) if k > (r if r is not None else len(leaves))
                 and iv.iter_type != IterType.COMM_REDUCE and (stop is None or k < stop)]
        reduce_vars = {iv.var for iv in leaves if iv.iter_type == IterType.COMM_REDUCE}
        guards = [g for g in b.guards if not set(free_vars(g)) & reduce_vars
                  and _depth(g, leaves) >= (r if r is not None else 0)]
        guard_at: dict = {}
        for g in guards:
            guard_at.setdefault(_depth(g, inner), []).append(g)
        if stmt is not None:
            body = stmt
        else:
            idx = self._index(st)
            body = seq(*[BufferStore(buffers[i], identity_of(x), idx) for i, x in enumerate(st.op.body)])
            pred = self._store_predicate(st)
            if pred is not None and not set(free_vars(pred)) & reduce_vars:  # else: only the update (classic)
                body = IfThenElse(pred, body)
        for k in reversed(range(len(inner))):
            body = self._for(st, inner[k], _guard(guard_at.get(k, []), body))
        return _guard(guard_at.get(-1, []), body)

    def _index(self, st: Stage) -> tuple:
        values, offsets = self.bounds[st].values, self.storage[st].offsets
        return tuple(values[iv.var] - off for iv, off in zip(st.op.axis, offsets))

    def _provide(self, st: Stage):
        if isinstance(st.op, ExternOp):
            return extern_body(self.sch, st, self.storage)
        if isinstance(st.op, ScanOp):  # the stages attached to its loop store into its outputs
            return seq()
        buffers = self.storage[st].buffers
        conv = _ToBuffers(self, self.bounds[st].values)
        body = checked_body(st.op, self.bodies.body(st))
        idx = self._index(st)
        pred = self._store_predicate(st)
        if not st.op.reduce_axis:
            stores = seq(*[BufferStore(buffers[i], conv.visit(x), idx) for i, x in enumerate(body)])
            return stores if pred is None else IfThenElse(pred, stores)
        red: Reduce = body[0]
        comb = red.combiner
        olds = [BufferLoad(buffers[i], idx, x.dtype) for i, x in enumerate(body)]
        srcs = [conv.visit(s) for s in red.source]
        vmap = dict(zip(comb.lhs, olds))
        vmap.update(zip(comb.rhs, srcs))
        results = [substitute(x, vmap) for x in comb.result]
        if len(results) == 1:
            update = BufferStore(buffers[0], results[0], idx)
        else:
            tmps = [Var(f"{st.op.name}_v{i}", x.dtype) for i, x in enumerate(results)]
            update = seq(*[BufferStore(buffers[i], t, idx) for i, t in enumerate(tmps)])
            for t, x in reversed(list(zip(tmps, results))):
                update = LetStmt(t, x, update)
        cond = conv.visit(red.condition)
        if not (isinstance(cond, IntImm) and cond.value):
            update = IfThenElse(cond, update)
        return update if pred is None else IfThenElse(pred, update)

    def _store_predicate(self, st: Stage):
        """The stage's store predicate over its loops: root axes by their values, a thread axis by
        the loop bound to it (in this stage or a stage it is computed in)."""
        if st.store_predicate is None:
            return None
        threads, p = {}, st
        while p is not None:
            for iv, a in p.iter_var_attrs.items():
                if a.thread_iv is not None:
                    threads.setdefault(a.thread_iv.var, iv.var)
            p = p.attach_stage
        return _ToBuffers(self, self.bounds[st].values).visit(substitute(st.store_predicate, threads))


class _ToBuffers(Mutator):
    """Root vars -> their values in loop vars; tensor reads -> buffer reads."""

    def __init__(self, nests: LoopNests, values):
        self.nests, self.values = nests, values

    def visit_Var(self, v):
        return self.values.get(v, v)

    def visit_ProducerLoad(self, n):
        st = self.nests.sch.stage_map[n.producer.op]
        storage = self.nests.storage.get(st)
        if storage is None:
            raise ScheduleError(f"tensor {n.producer.name} is read but is neither an argument nor computed "
                                "by this schedule; add it to the argument list")
        idx = tuple(self.visit(i) - off for i, off in zip(n.indices, storage.offsets))
        return BufferLoad(storage.buffers[n.producer.value_index], idx, n.dtype)


def _depth(e, leaves) -> int:
    """Index of the innermost of `leaves` that e uses (-1: none)."""
    vs = set(free_vars(e))
    d = -1
    for k, iv in enumerate(leaves):
        if iv.var in vs:
            d = k
    return d


def _guard(conds, body):
    if not conds:
        return body
    c = conds[0]
    for x in conds[1:]:
        c = logical_and(c, x)
    return IfThenElse(c, body)
