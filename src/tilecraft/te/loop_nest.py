"""Schedule -> loop nest (tir.PrimFunc).

1. inline: compute_inline stages are substituted into their readers' expressions;
2. bound inference, consumers first: a stage computed at root covers its whole domain; a stage
   computed at `P.axis` covers what its readers touch while the loops outside that point are
   fixed (interval analysis over the loops inside it);
3. each stage becomes loops over its leaf axes, guarded where a split does not divide or a region
   overhangs the domain, with reduction init placed before the first reduction loop and attached
   stages (with their allocations) inside the loop they are attached to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..arith import Analyzer, IntervalSet, eval_set
from ..ir.expr import (
    Buffer,
    BufferLoad,
    IntImm,
    IterType,
    ProducerLoad,
    Range,
    Reduce,
    Var,
    const,
    logical_and,
)
from ..ir.functor import Mutator, free_vars, post_order_visit, substitute
from ..tir.stmt import Allocate, BufferStore, For, ForKind, IfThenElse, LetStmt, PrimFunc, seq
from .bound import leaf_extents, root_values
from .reduce import identity_of
from .schedule import Schedule, ScheduleError, Split, Stage
from .tensor import PlaceholderOp, Tensor


@dataclass
class _Info:
    region: list = field(default_factory=list)  # (min, extent) per op axis
    ext: dict = field(default_factory=dict)  # iter var -> extent
    values: dict = field(default_factory=dict)  # root var -> absolute value in leaf loop vars
    guards: list = field(default_factory=list)
    buffers: list = field(default_factory=list)
    offsets: list = field(default_factory=list)  # buffer index = absolute index - offset
    is_param: bool = False
    allocated: list = field(default_factory=list)  # per buffer: True if lowering allocates it (default all)


class _Inliner(Mutator):
    def __init__(self, low):
        self.low = low

    def visit_ProducerLoad(self, n):
        idx = tuple(self.visit(i) for i in n.indices)
        st = self.low.sch.stage_map.get(n.producer.op)
        if st is not None and st.attach_type == "inline":
            body = self.low.effective_body(st)[n.producer.value_index]
            return substitute(body, {iv.var: i for iv, i in zip(st.op.axis, idx)})
        return n if all(a is b for a, b in zip(idx, n.indices)) else ProducerLoad(n.producer, idx, n.dtype)


class _ToBuffers(Mutator):
    """Root vars -> their values in loop vars; tensor reads -> buffer reads."""

    def __init__(self, low, values):
        self.low, self.values = low, values

    def visit_Var(self, v):
        return self.values.get(v, v)

    def visit_ProducerLoad(self, n):
        st = self.low.sch.stage_map[n.producer.op]
        info = self.low.info.get(st)
        if info is None:
            raise ScheduleError(f"tensor {n.producer.name} is read but is neither an argument nor computed "
                                "by this schedule; add it to the argument list")
        idx = tuple(self.visit(i) - off for i, off in zip(n.indices, info.offsets))
        return BufferLoad(info.buffers[n.producer.value_index], idx, n.dtype)


class Lowering:
    def __init__(self, sch: Schedule, args, name: str):
        self.sch, self.name = sch, name
        self.ana = Analyzer()
        self.info: dict = {}
        self._bodies: dict = {}
        self.args = list(args)
        self.arg_stage: dict = {}
        self.unused_args: dict = {}  # tensors the schedule never touches: still parameters, as in classic TVM
        for a in self.args:
            if isinstance(a, Tensor):
                if a not in sch:
                    self.unused_args[a] = self._param_buffer(a)
                    continue
                self.arg_stage.setdefault(sch[a], {})[a.value_index] = a
            elif not isinstance(a, Var):
                raise TypeError(f"arguments must be tensors or te.var scalars, got {a!r}")

    # ------------------------------------------------------------------ helpers
    def effective_body(self, st: Stage) -> tuple:
        b = self._bodies.get(st)
        if b is None:
            b = tuple(_Inliner(self).visit(x) for x in st.op.body)
            self._bodies[st] = b
        return b

    def reads(self, st: Stage) -> list:
        """ProducerLoads in st's effective body."""
        out = []

        def f(n):
            if isinstance(n, ProducerLoad):
                out.append(n)

        for b in self.effective_body(st):
            post_order_visit(b, f)
        return out

    def scope_loops(self, st: Stage) -> list:
        if st.attach_type != "scope":
            return []
        p = st.attach_stage
        return self.scope_loops(p) + p.leaf_iter_vars[:p.leaf_iter_vars.index(attach_leaf(st)) + 1]

    def storage_scope(self, st: Stage) -> str:
        """The stage's scope, or (unset) the one its attach point implies, as classic TVM infers it:
        inside threadIdx loops a value is per-thread ("local"), inside blockIdx loops only it is
        per-block ("shared"), elsewhere "global"."""
        if st.scope:
            return st.scope
        rank = -1
        for iv in self.scope_loops(st):
            owner = self.sch._owner_of(iv)
            attr = owner.iter_var_attrs.get(iv) if owner is not None else None
            if attr is not None and attr.kind == "thread_binding":
                rank = max(rank, 0 if attr.thread_tag.startswith("blockIdx") else 1)
        return {-1: "global", 0: "shared", 1: "local"}[rank]

    # ------------------------------------------------------------------ main
    def run(self) -> PrimFunc:
        needed = self._needed_stages()
        self.stages = [s for s in self.sch.stages if s in needed]
        for st in self.stages:
            if isinstance(st.op, PlaceholderOp):
                if st not in self.arg_stage:
                    readers = [r.op.name for r in self.stages if r in self.sch.readers(st)]
                    raise ScheduleError(f"input {st.op.name} (read by {', '.join(readers)}) is missing from the "
                                        "argument list; pass it to lower/build")
                buf = self._param_buffer(st.op.output(0))
                self.info[st] = _Info(buffers=[buf], offsets=[const(0)] * len(st.op.shape), is_param=True)
        computes = [s for s in self.stages if not isinstance(s.op, PlaceholderOp)]
        for st in reversed(computes):
            self._infer(st)
        for st in computes:
            self._make_buffers(st)
        roots = [s for s in computes if s.attach_type != "scope"]
        body = seq(*[self._nest(s) for s in roots])
        for st in reversed(roots):
            body = self._allocate(st, body)
        params = []
        for a in self.args:
            if isinstance(a, Tensor):
                params.append(self.unused_args.get(a) or self.info[self.sch[a]].buffers[a.value_index])
            else:
                params.append(a)
        return PrimFunc(tuple(params), body, self.name)

    def _needed_stages(self) -> set:
        needed, todo = set(), [self.sch.stage_map[o] for o in self.sch.outputs]
        todo += list(self.arg_stage)
        while todo:
            st = todo.pop()
            if st in needed:
                continue
            needed.add(st)
            if st.attach_type == "scope" and st.attach_stage is not None:
                todo.append(st.attach_stage)
            for n in (self.reads(st) if not isinstance(st.op, PlaceholderOp) else []):
                todo.append(self.sch.stage_map[n.producer.op])
        return {s for s in needed if s.attach_type != "inline"}

    def _param_buffer(self, t: Tensor) -> Buffer:
        return Buffer(Var(t.name, "handle"), t.name, tuple(t.shape), t.dtype)

    # ------------------------------------------------------------------ bound inference
    def _infer(self, st: Stage) -> None:
        op = st.op
        info = _Info(is_param=st in self.arg_stage)
        self.info[st] = info
        if st.attach_type != "scope":
            info.region = [(const(0, iv.dom.extent.dtype), iv.dom.extent) for iv in op.axis]
        else:
            info.region = self._needed_region(st)
        root_ext = {iv: e for iv, (_, e) in zip(op.axis, info.region)}
        for iv in op.reduce_axis:
            root_ext[iv] = iv.dom.extent
        info.ext = leaf_extents(st, root_ext, self.ana)
        for iv in st.leaf_iter_vars:
            self.ana.bind(iv.var, Range(const(0, iv.var.dtype), info.ext[iv]))
        rel, guards = root_values(st, info.ext, self.ana)
        info.values = {}
        for iv, (mn, _) in zip(op.axis, info.region):
            info.values[iv.var] = mn + rel[iv]
        for iv in op.reduce_axis:
            info.values[iv.var] = iv.dom.min + rel[iv]
        if st.attach_type == "scope":
            # The region may overhang the domain (a split consumer, a constant-size cover): guard it.
            for iv in op.axis:
                v = info.values[iv.var]
                guards.append(logical_and(v >= 0, v < iv.dom.extent))
        info.guards = [g for g in (self.ana.simplify(g) for g in guards)
                       if not (isinstance(g, IntImm) and g.value)]
        info.guards = [g for g in info.guards if not self.ana.can_prove(g)]

    def _needed_region(self, st: Stage) -> list:
        scope = self.scope_loops(st)
        relaxed = [iv for iv in scope if _relaxed_by_scope(self.sch, iv, self.storage_scope(st))]
        lo = [None] * len(st.op.axis)
        hi = [None] * len(st.op.axis)
        whole = set()  # axes whose reads interval analysis cannot bound
        for c in self.stages:
            if c is st or isinstance(c.op, PlaceholderOp) or c not in self.info:
                continue
            loads = [n for n in self.reads(c) if self.sch.stage_map.get(n.producer.op) is st]
            if not loads:
                continue
            around = self.scope_loops(c) + c.leaf_iter_vars
            if around[:len(scope)] != scope:
                raise ScheduleError(
                    f"stage {st.op.name} is computed at {st.attach_stage.op.name}.{st.attach_ivar.var.name}, "
                    f"but its reader {c.op.name} is computed outside that loop; compute_at {c.op.name} inside "
                    f"it too, or attach {st.op.name} further out")
            ranging = relaxed + around[len(scope):]
            dom = {iv.var: IntervalSet(const(0, iv.var.dtype), self._ext_of(iv) - 1) for iv in ranging}
            cinfo = self.info[c]
            for n in loads:
                for d, idx in enumerate(n.indices):
                    s = self._eval(substitute(idx, cinfo.values), dom)
                    if s is None:
                        whole.add(d)
                        continue
                    lo[d] = s.min_value if lo[d] is None else self.ana.simplify(_min(lo[d], s.min_value))
                    hi[d] = s.max_value if hi[d] is None else self.ana.simplify(_max(hi[d], s.max_value))
        const_loop_vars = {v.var for info in self.info.values() for v, e in info.ext.items()
                           if isinstance(e, IntImm)}
        region = []
        for d, iv in enumerate(st.op.axis):
            if lo[d] is None or d in whole:
                region.append((const(0, iv.dom.extent.dtype), iv.dom.extent))
                continue
            mn = lo[d]
            ext = self.ana.simplify(hi[d] - mn + 1)
            if not isinstance(ext, IntImm):
                # A constant cover from the constant extents of the loops; a bound that comes from
                # a symbolic shape only reflects the range of its type, so the extent stays symbolic.
                bound = self.ana.const_int_bound(ext).max_value
                if not set(free_vars(ext)) <= const_loop_vars:
                    bound = _max_value(ext.dtype)
                dom_ext = iv.dom.extent
                if isinstance(dom_ext, IntImm) and bound > dom_ext.value:
                    # A region never needs more than the whole domain, but [mn, mn + dom) covers
                    # the in-domain part [max(mn, 0), hi] only if it starts inside the domain.
                    bound = dom_ext.value
                    if not self.ana.can_prove(mn >= 0):
                        mn = self.ana.simplify(_max(mn, const(0, mn.dtype)))
                if bound < _max_value(ext.dtype):  # a real bound, not just the range of the type
                    ext = const(int(bound), ext.dtype)
            region.append((mn, ext))
        return region

    def _ext_of(self, iv):
        for info in self.info.values():
            if iv in info.ext:
                return info.ext[iv]
        raise ScheduleError(f"no extent known for loop {iv.var.name}")

    def _eval(self, e, dom):
        """Interval of e over dom, repeated until no ranging variable is left in the bounds;
        None where interval analysis finds no bound (the caller then covers the whole axis)."""
        s = eval_set(e, dom, self.ana)
        for _ in range(5):
            if s.min_value is None or s.max_value is None:
                return None
            vs = set(free_vars(s.min_value)) | set(free_vars(s.max_value))
            if not vs & set(dom):
                return s
            s = IntervalSet(eval_set(s.min_value, dom, self.ana).min_value,
                            eval_set(s.max_value, dom, self.ana).max_value)
        return None

    # ------------------------------------------------------------------ buffers
    def _make_buffers(self, st: Stage) -> None:
        info = self.info[st]
        if info.is_param:
            outs = self.arg_stage[st]
            info.buffers = [self._param_buffer(outs[i]) if i in outs else
                            Buffer(Var(t.name, "handle"), t.name, tuple(t.shape), t.dtype, (), self.storage_scope(st))
                            for i, t in enumerate(st.op._outputs)]
            info.allocated = [i not in outs for i in range(len(info.buffers))]
            info.offsets = [const(0)] * len(st.op.axis)
            return
        shape = tuple(e for _, e in info.region)
        strides = ()
        if st.storage_aligns:
            if not all(isinstance(s, IntImm) for s in shape):
                raise ScheduleError(f"stage {st.op.name}: storage_align needs a constant-size buffer")
            acc, out = 1, []
            for d in reversed(range(len(shape))):
                out.append(acc)
                acc *= shape[d].value
                if d - 1 in st.storage_aligns:
                    factor, offset = st.storage_aligns[d - 1]
                    acc += (offset - acc % factor) % factor
            strides = tuple(const(s) for s in reversed(out))
        info.buffers = [Buffer(Var(t.name, "handle"), t.name, shape, t.dtype, strides, self.storage_scope(st))
                        for t in st.op._outputs]
        info.offsets = [mn for mn, _ in info.region]

    def _allocate(self, st: Stage, body):
        info = self.info[st]
        for buf, own in reversed(list(zip(info.buffers, info.allocated or [True] * len(info.buffers)))):
            if own:
                body = Allocate(buf, body)
        return body

    # ------------------------------------------------------------------ loop nests
    def _depth(self, e, leaves) -> int:
        vs = set(free_vars(e))
        d = -1
        for k, iv in enumerate(leaves):
            if iv.var in vs:
                d = k
        return d

    def _for(self, st: Stage, iv, body):
        info = self.info[st]
        attr = st.iter_var_attrs.get(iv)
        kind = attr.kind if attr else ForKind.SERIAL
        ext = info.ext[iv]
        ann = tuple(attr.pragmas) if attr else ()
        tag = attr.thread_tag if attr and kind == ForKind.THREAD_BINDING else ""
        return For(iv.var, const(0, iv.var.dtype), ext, kind, body, tag, ann)

    def _nest(self, st: Stage):
        info = self.info[st]
        leaves = st.leaf_iter_vars
        attached = {k: [c for c in self.stages if c.attach_type == "scope" and c.attach_stage is st
                        and attach_leaf(c) is iv] for k, iv in enumerate(leaves)}
        is_reduce = bool(st.op.reduce_axis)
        r = next((k for k, iv in enumerate(leaves) if iv.iter_type == IterType.COMM_REDUCE), None)
        guard_at: dict = {}
        for g in info.guards:
            guard_at.setdefault(self._depth(g, leaves), []).append(g)
        body = self._provide(st)
        init = self._init_nest(st, r) if is_reduce else None
        for k in reversed(range(len(leaves))):
            parts = [self._nest(c) for c in attached[k]]
            if init is not None and k == r - 1:
                parts.append(init)
            content = _guard(guard_at.get(k, []), seq(*parts, body))
            for c in reversed(attached[k]):
                content = self._allocate(c, content)
            body = self._for(st, leaves[k], content)
        if init is not None and r == 0:
            body = seq(init, body)
        return _guard(guard_at.get(-1, []), body)

    def _init_nest(self, st: Stage, r):
        info = self.info[st]
        leaves = st.leaf_iter_vars
        inner = [iv for k, iv in enumerate(leaves) if k > (r if r is not None else len(leaves))
                 and iv.iter_type != IterType.COMM_REDUCE]
        reduce_vars = {iv.var for iv in leaves if iv.iter_type == IterType.COMM_REDUCE}
        guards = [g for g in info.guards if not set(free_vars(g)) & reduce_vars
                  and self._depth(g, leaves) >= (r if r is not None else 0)]
        guard_at: dict = {}
        for g in guards:
            guard_at.setdefault(self._depth(g, inner), []).append(g)
        idx = tuple(info.values[iv.var] - off for iv, off in zip(st.op.axis, info.offsets))
        body = seq(*[BufferStore(info.buffers[i], identity_of(b), idx) for i, b in enumerate(st.op.body)])
        for k in reversed(range(len(inner))):
            body = self._for(st, inner[k], _guard(guard_at.get(k, []), body))
        return _guard(guard_at.get(-1, []), body)

    def _provide(self, st: Stage):
        info = self.info[st]
        conv = _ToBuffers(self, info.values)
        body = self.effective_body(st)
        idx = tuple(info.values[iv.var] - off for iv, off in zip(st.op.axis, info.offsets))
        if not st.op.reduce_axis:
            return seq(*[BufferStore(info.buffers[i], conv.visit(b), idx) for i, b in enumerate(body)])
        red: Reduce = body[0]
        comb = red.combiner
        olds = [BufferLoad(info.buffers[i], idx, b.dtype) for i, b in enumerate(body)]
        srcs = [conv.visit(s) for s in red.source]
        vmap = dict(zip(comb.lhs, olds))
        vmap.update(zip(comb.rhs, srcs))
        results = [substitute(x, vmap) for x in comb.result]
        if len(results) == 1:
            update = BufferStore(info.buffers[0], results[0], idx)
        else:
            tmps = [Var(f"{st.op.name}_v{i}", x.dtype) for i, x in enumerate(results)]
            update = seq(*[BufferStore(info.buffers[i], t, idx) for i, t in enumerate(tmps)])
            for t, x in reversed(list(zip(tmps, results))):
                update = LetStmt(t, x, update)
        cond = conv.visit(red.condition)
        if not (isinstance(cond, IntImm) and cond.value):
            update = IfThenElse(cond, update)
        return update


def attach_leaf(st: Stage):
    """The loop a stage is computed in.  If the axis given to compute_at was split or fused
    afterwards, that is the innermost loop made from it (still inside the original loop)."""
    iv, parent = st.attach_ivar, st.attach_stage
    while iv not in parent.leaf_iter_vars:
        rel = next(r for r in parent.relations
                   if (r.parent is iv if isinstance(r, Split) else iv in (r.outer, r.inner)))
        iv = rel.inner if isinstance(rel, Split) else rel.fused
    return iv


_SCOPE_RANK = {"global": 0, "shared": 1, "warp": 2, "local": 3}


def _relaxed_by_scope(sch, iv, scope: str) -> bool:
    """A buffer in `scope` is shared by all threads of the thread loops at or below its rank: a shared
    cache inside threadIdx loops holds what the whole block needs (classic TVM's NeedRelax)."""
    owner = sch._owner_of(iv)
    attr = owner.iter_var_attrs.get(iv) if owner is not None else None
    if attr is None or attr.kind != "thread_binding":
        return False
    rank = 0 if attr.thread_tag.startswith("blockIdx") else 1
    return rank >= _SCOPE_RANK.get(scope.split(".")[0], 0)


def _guard(conds, body):
    if not conds:
        return body
    c = conds[0]
    for x in conds[1:]:
        c = logical_and(c, x)
    return IfThenElse(c, body)


def _min(a, b):
    from ..ir.expr import min_

    return min_(a, b)


def _max_value(dtype: str) -> int:
    from ..ir.op import max_value

    return max_value(dtype).value


def _max(a, b):
    from ..ir.expr import max_

    return max_(a, b)


def lower_schedule(sch: Schedule, args, name: str = "main") -> PrimFunc:
    return Lowering(sch, args, name).run()
