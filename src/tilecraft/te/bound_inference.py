"""Bound inference: the range of every iteration variable of a schedule.

Consumers first: a stage computed at root covers its whole domain; a stage computed at `P.axis`
covers what its readers touch while the loops outside that point are fixed (interval analysis over
the loops inside it).  From each stage's region, its split/fuse relations give every loop's extent.

`infer_bound(sch)` is the public face (classic `te.schedule.InferBound`): tuners call it to read
loop extents without lowering.  Lowering calls `infer_stage_bounds`, the same computation, and
also keeps the per-stage facts the loop nest needs (where each root axis is, which guards a
non-dividing split or an overhanging region needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..arith import Analyzer, IntervalSet, eval_set
from ..ir.expr import IntImm, Range, const, logical_and, max_, min_
from ..ir.functor import free_vars, substitute
from ..ir.op import max_value
from .attachment import relaxed_by_scope, scope_loops, storage_scope
from .bound import leaf_extents, root_values
from .inline import InlinedBodies
from .schedule import Schedule, ScheduleError, Stage
from .tensor import PlaceholderOp


@dataclass
class StageBound:
    """What bound inference knows about one computed stage."""

    region: list = field(default_factory=list)  # (min, extent) per op axis
    ext: dict = field(default_factory=dict)  # iter var (root and derived) -> extent
    values: dict = field(default_factory=dict)  # root var -> absolute value in leaf loop vars
    guards: list = field(default_factory=list)  # conditions the innermost statement needs


def infer_bound(sch: Schedule) -> dict:
    """{IterVar: Range} for every loop of every stage the outputs need (root axes, split/fuse
    results and leaves), as classic TVM's `te.schedule.InferBound`.

    Leaf and derived loops run from 0; a root axis' range is the region of the tensor the stage
    computes (its whole domain at root, what the readers touch when computed at another stage's
    loop; the min is then an expression in the enclosing loop variables).  Inlined stages have no
    loops and no entries."""
    bodies = InlinedBodies(sch)
    needed = bodies.needed_stages([sch.stage_map[o] for o in sch.outputs])
    bounds = infer_stage_bounds(sch, [s for s in sch.stages if s in needed], bodies)
    out = {}
    for st, b in bounds.items():
        roots = dict(zip(st.op.axis, b.region))
        for iv in st.all_iter_vars:
            if iv in roots:
                mn, ext = roots[iv]
                out[iv] = Range(mn, ext)
            elif iv in st.op.reduce_axis:
                out[iv] = Range(iv.dom.min, b.ext[iv])
            elif iv in b.ext:
                out[iv] = Range(const(0, iv.var.dtype), b.ext[iv])
    return out


def infer_stage_bounds(sch: Schedule, stages: list, bodies: InlinedBodies) -> dict:
    """{Stage: StageBound} for the computed stages among `stages` (in schedule order)."""
    return _Inference(sch, stages, bodies).run()


class _Inference:
    def __init__(self, sch: Schedule, stages: list, bodies: InlinedBodies):
        self.sch, self.stages, self.bodies = sch, stages, bodies
        self.ana = Analyzer()
        self.bounds: dict = {}

    def run(self) -> dict:
        for st in reversed(self.stages):
            if not isinstance(st.op, PlaceholderOp):
                self._infer(st)
        return self.bounds

    def _infer(self, st: Stage) -> None:
        op = st.op
        b = StageBound()
        self.bounds[st] = b
        if st.attach_type != "scope":  # the whole domain (a scan's time axis starts after its init rows)
            b.region = [(iv.dom.min, iv.dom.extent) for iv in op.axis]
        else:
            b.region = self._needed_region(st)
        root_ext = {iv: e for iv, (_, e) in zip(op.axis, b.region)}
        for iv in op.reduce_axis:
            root_ext[iv] = iv.dom.extent
        b.ext = leaf_extents(st, root_ext, self.ana)
        for iv in st.leaf_iter_vars:
            self.ana.bind(iv.var, Range(const(0, iv.var.dtype), b.ext[iv]))
        rel, guards = root_values(st, b.ext, self.ana)
        for iv, (mn, _) in zip(op.axis, b.region):
            b.values[iv.var] = mn + rel[iv]
        for iv in op.reduce_axis:
            b.values[iv.var] = iv.dom.min + rel[iv]
        if st.attach_type == "scope":
            # The region may overhang the domain (a split consumer, a constant-size cover): guard it.
            for iv in op.axis:
                v = b.values[iv.var]
                guards.append(logical_and(v >= 0, v < iv.dom.extent))
        b.guards = [g for g in (self.ana.simplify(g) for g in guards)
                    if not (isinstance(g, IntImm) and g.value)]
        b.guards = [g for g in b.guards if not self.ana.can_prove(g)]

    def _needed_region(self, st: Stage) -> list:
        sch = self.sch
        scope = scope_loops(st)
        relaxed = [iv for iv in scope if relaxed_by_scope(sch, iv, storage_scope(sch, st))]
        lo = [None] * len(st.op.axis)
        hi = [None] * len(st.op.axis)
        whole = set()  # axes whose reads interval analysis cannot bound
        for c in self.stages:
            if c is st or c not in self.bounds:
                continue
            loads = [n for n in self.bodies.reads(c) if sch.stage_map.get(n.producer.op) is st]
            if not loads:
                continue
            around = scope_loops(c) + c.leaf_iter_vars
            if around[:len(scope)] != scope:
                raise ScheduleError(
                    f"stage {st.op.name} is computed at {st.attach_stage.op.name}.{st.attach_ivar.var.name}, "
                    f"but its reader {c.op.name} is computed outside that loop; compute_at {c.op.name} inside "
                    f"it too, or attach {st.op.name} further out")
            ranging = relaxed + around[len(scope):]
            dom = {iv.var: IntervalSet(const(0, iv.var.dtype), self._ext_of(iv) - 1) for iv in ranging}
            if hasattr(c.op, "spatial_ranges"):  # a scan stores whole rows of its updates
                dom.update({v: IntervalSet(r.min, r.min + r.extent - 1) for v, r in c.op.spatial_ranges().items()})
            cb = self.bounds[c]
            for n in loads:
                for d, idx in enumerate(n.indices):
                    s = self._eval(substitute(idx, cb.values), dom)
                    if s is None:
                        whole.add(d)
                        continue
                    lo[d] = s.min_value if lo[d] is None else self.ana.simplify(min_(lo[d], s.min_value))
                    hi[d] = s.max_value if hi[d] is None else self.ana.simplify(max_(hi[d], s.max_value))
        const_loop_vars = {v.var for b in self.bounds.values() for v, e in b.ext.items()
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
                        mn = self.ana.simplify(max_(mn, const(0, mn.dtype)))
                if bound < _max_value(ext.dtype):  # a real bound, not just the range of the type
                    ext = const(int(bound), ext.dtype)
            region.append((mn, ext))
        return region

    def _ext_of(self, iv):
        for b in self.bounds.values():
            if iv in b.ext:
                return b.ext[iv]
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


def _max_value(dtype: str) -> int:
    return max_value(dtype).value
