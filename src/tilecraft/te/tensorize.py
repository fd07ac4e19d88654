"""tensorize: the loops of a stage below one of its axes become a tensor intrinsic's statement.

    s[C].tensorize(yi, gemv)      # gemv = te.decl_tensor_intrin(c.op, fcompute, binds=...)

Lowering (te/loop_nest.py asks `plan` for the stage) does what classic TVM's MakeTensorize does:

1. region: with the loops outside the tensorized axis fixed and the ones below it ranging, each
   root axis of the stage covers [min, min + extent) and each input tensor a region (interval
   analysis over the loop values bound inference found);
2. match: the stage's expression, with its axes renamed to the intrinsic's (axis = intrinsic
   axis + region min; extra leading axes must cover one point) and its inputs read relative to
   their regions, must be the intrinsic's declared expression; every axis must cover exactly the
   intrinsic's extent.  A mismatch is a ScheduleError naming stage, axis and intrinsic;
3. bind: each intrinsic buffer stands for its tensor's region: data pointer, elem_offset (the
   region's first element) and strides (the tensor's) replace the variables the intrinsic
   declared (`te.var("s1")` strides, `<name>_elem_offset`); constant ones must agree;
4. statement: the intrinsic's body if the whole reduction lies below the axis, else
   reduce_init where the reduction's init goes and reduce_update in place of the loops (without
   reduce_init: the body on the first iteration of the outer reduction loops, the update after).
"""

from __future__ import annotations

from types import SimpleNamespace

from ..arith import Analyzer, IntervalSet, eval_set
from ..ir.expr import (
    Buffer,
    BufferLoad,
    CommReducer,
    IntImm,
    IterType,
    Node,
    ProducerLoad,
    Range,
    Reduce,
    Select,
    Var,
    const,
    logical_and,
    max_,
    min_,
    node_fields,
)
from ..ir.functor import Mutator, free_vars, substitute
from ..tir.stmt import AssertStmt, BufferStore, For, IfThenElse, LetStmt
from ..tir.transform.flatten_buffer import compact_strides
from .bound_inference import infer_stage_bounds
from .inline import InlinedBodies
from .stage import ScheduleError
from .tensor import ComputeOp, Tensor, collect_input_tensors
from .tensor_intrin import TensorIntrin


def tensorized_point(st) -> int | None:
    """Position of the stage's tensorized leaf axis, or None."""
    for k, iv in enumerate(st.leaf_iter_vars):
        a = st.iter_var_attrs.get(iv)
        if a is not None and a.tensor_intrin is not None:
            return k
    return None


def check_tensorize(st, iv, intrin) -> None:
    """What `s[C].tensorize(axis, intrin)` can check on the user's line, before any region is known."""
    if not isinstance(intrin, TensorIntrin):
        raise TypeError(f"stage {st.op.name}: tensorize expects a te.decl_tensor_intrin(...), got "
                        f"{type(intrin).__name__}")
    if not isinstance(st.op, ComputeOp):
        raise ScheduleError(f"stage {st.op.name}: only a te.compute stage can be tensorized")
    op, iop = st.op, intrin.op
    for what, mine, theirs in (("axes", op.axis, iop.axis), ("reduction axes", op.reduce_axis, iop.reduce_axis)):
        if len(theirs) > len(mine):
            raise ScheduleError(f"stage {op.name}: cannot tensorize with intrinsic {intrin.name!r}: it declares "
                                f"{len(theirs)} {what}, the stage has {len(mine)}")
    if len(op.body) != len(iop.body):
        raise ScheduleError(f"stage {op.name}: cannot tensorize with intrinsic {intrin.name!r}: it computes "
                            f"{len(iop.body)} output(s), the stage {len(op.body)}")
    leaves = st.leaf_iter_vars
    for other in leaves[leaves.index(iv) + 1:]:
        a = st.iter_var_attrs.get(other)
        if a is not None and a.kind == "thread_binding":
            raise ScheduleError(f"stage {op.name}: cannot tensorize at {iv.var.name}: loop {other.var.name} below "
                                f"it is bound to {a.thread_tag}")


class Plan:
    """The tensorized statements of one stage (see the module docstring): `point` (leaf position),
    `body` (in place of the loops from `point` on), `init` (the reduce_init statement or None)."""

    def __init__(self, nests, st, point: int, check_only: bool = False):
        self.nests, self.st, self.point = nests, st, point
        self.leaves = st.leaf_iter_vars
        self.intrin: TensorIntrin = st.iter_var_attrs[self.leaves[point]].tensor_intrin
        self.bound = nests.bounds[st]
        self.ana = Analyzer()
        for iv in self.leaves:
            self.ana.bind(iv.var, Range(const(0, iv.var.dtype), self.bound.ext[iv]))
        self.inner = {iv.var: IntervalSet(const(0, iv.var.dtype), self.bound.ext[iv] - 1)
                      for iv in self.leaves[point:]}
        self._check_scope()
        self.region = {iv: self._cover(self.bound.values[iv.var]) for iv in st.op.axis + st.op.reduce_axis}
        self.inputs = collect_input_tensors(nests.bodies.body(st))
        self.in_region = {t: self._tensor_region(t) for t in self.inputs}
        self.ext_vars: dict = {}  # intrinsic axis extents declared as variables -> the real extents
        self._match()
        if check_only:
            return
        self.vmap, self.bufmap, self.asserts = {}, {}, []
        for t, buf in zip(self.inputs, self.intrin.buffers):
            self._bind(buf, t, self.in_region[t])
        out_region = [self.region[iv] for iv in st.op.axis]
        for i, buf in enumerate(self.intrin.buffers[len(self.inputs):]):
            self._bind(buf, st.op.output(i), out_region)
        self.body, self.init = self._statements()

    # ------------------------------------------------------------------ helpers
    def _err(self, msg: str) -> ScheduleError:
        return ScheduleError(f"stage {self.st.op.name}: tensorize at {self.leaves[self.point].var.name} with "
                             f"intrinsic {self.intrin.name!r}: {msg}")

    def _check_scope(self) -> None:
        below = {iv.var for iv in self.leaves[self.point:]}
        for c in self.nests.stages:
            if c.attach_type == "scope" and c.attach_stage is self.st and c.attach_ivar in self.leaves[self.point:]:
                raise self._err(f"stage {c.op.name} is computed at loop {c.attach_ivar.var.name}, which the "
                                "intrinsic replaces; compute it further out")
        for g in self.bound.guards:
            if set(free_vars(g)) & below:
                raise self._err(f"the loops it replaces need the bound check `{g}` (a split that does not divide "
                                "the axis); choose factors that divide the extents")
        if self.st.store_predicate is not None:
            raise self._err("a stage with a store predicate cannot be tensorized")

    def _cover(self, e) -> tuple:
        s = eval_set(e, self.inner, self.ana)
        if s.min_value is None or s.max_value is None:
            raise self._err(f"cannot bound `{e}` over the loops below the axis")
        return s.min_value, self.ana.simplify(s.max_value - s.min_value + 1)

    def _tensor_region(self, t: Tensor) -> list:
        lo: list = [None] * len(t.shape)
        hi: list = [None] * len(t.shape)
        for n in self.nests.bodies.reads(self.st):
            if n.producer is not t:
                continue
            for d, idx in enumerate(n.indices):
                s = eval_set(substitute(idx, self.bound.values), self.inner, self.ana)
                if s.min_value is None or s.max_value is None:
                    raise self._err(f"cannot bound the index `{idx}` of {t.name} over the loops below the axis")
                lo[d] = s.min_value if lo[d] is None else self.ana.simplify(min_(lo[d], s.min_value))
                hi[d] = s.max_value if hi[d] is None else self.ana.simplify(max_(hi[d], s.max_value))
        return [(mn, self.ana.simplify(mx - mn + 1)) for mn, mx in zip(lo, hi)]

    # ------------------------------------------------------------------ match
    def _match(self) -> None:
        op, iop = self.st.op, self.intrin.op
        vmap, axis_map = {}, {}
        for what, mine, theirs in (("axis", op.axis, iop.axis), ("reduction axis", op.reduce_axis, iop.reduce_axis)):
            if len(theirs) > len(mine):
                raise self._err(f"it declares {len(theirs)} {what}s, the stage has {len(mine)}")
            lead = len(mine) - len(theirs)
            for iv in mine[:lead]:
                mn, ext = self.region[iv]
                if not self.ana.can_prove_equal(ext, 1):
                    raise self._err(f"{what} {iv.var.name} covers {ext} iterations below the tensorized axis, but "
                                    f"the intrinsic has no {what} for it (only {len(theirs)}); split it so that one "
                                    "point lies below the axis, or declare the intrinsic with more axes")
                vmap[iv.var] = mn
            for iv, jv in zip(mine[lead:], theirs):
                mn, ext = self.region[iv]
                want = jv.dom.extent
                if isinstance(want, Var):
                    self.ext_vars[want] = ext
                elif not self.ana.can_prove_equal(ext, want):
                    raise self._err(f"{what} {iv.var.name} covers {ext} iterations below the tensorized axis, but "
                                    f"the intrinsic's {what} {jv.var.name} has extent {want}; split the loops so "
                                    "that the part below the axis matches the intrinsic, or declare it with that "
                                    "extent")
                vmap[iv.var] = jv.var + mn
                axis_map[iv] = jv
        if len(self.inputs) != len(self.intrin.inputs):
            raise self._err(f"the stage reads {len(self.inputs)} tensor(s) "
                            f"({', '.join(t.name for t in self.inputs)}), the intrinsic declares "
                            f"{len(self.intrin.inputs)} ({', '.join(t.name for t in self.intrin.inputs)})")
        loads = {}
        for t, it in zip(self.inputs, self.intrin.inputs):
            reg = self.in_region[t]
            lead = len(reg) - len(it.shape)
            if lead < 0 or not all(self.ana.can_prove_equal(e, 1) for _, e in reg[:lead]):
                raise self._err(f"input {t.name} is read over region {_region_text(reg)}, which does not fit the "
                                f"intrinsic's input {it.name} of shape {_shape_text(it.shape)}")
            loads[t] = (it, [mn for mn, _ in reg], lead)
        mine = _Remap(vmap, axis_map, loads, self.ana)
        theirs = _Remap({}, {}, {}, self.ana, rename_axes=False)
        scalars = {p: mine.visit(x) for p, x in zip(self.intrin.scalar_params, self._scalar_inputs())}
        for a, b in zip(self.nests.bodies.body(self.st), iop.body):
            if a.dtype != b.dtype:
                raise self._err(f"the stage computes {a.dtype}, the intrinsic declares {b.dtype}")
            lhs, rhs = mine.visit(a), substitute(theirs.visit(b), scalars)
            if not _same(lhs, rhs, {}):
                raise self._err(f"the computation below the axis does not match the intrinsic's declaration:\n"
                                f"  stage (in the intrinsic's terms): {lhs}\n  intrinsic declares:               "
                                f"{rhs}")

    def _scalar_inputs(self) -> tuple:
        """The values of the intrinsic's scalar_params: given where the stage calls the intrinsic."""
        if not self.intrin.scalar_params:
            return ()
        call = self.st.op.attrs.get("tensor_intrin_call")
        if call is None or call[0] is not self.intrin:
            raise self._err("the intrinsic has scalar_params, whose values come from calling it inside te.compute "
                            "(te.compute(shape, lambda i: intrin(A[i, 0:n], x, ...)))")
        return call[3]

    # ------------------------------------------------------------------ bind
    def _bind(self, buf: Buffer, t: Tensor, region: list) -> None:
        st = self.nests.sch.stage_map[t.op]
        storage = self.nests.storage[st]
        real = storage.buffers[t.value_index]
        strides = list(real.strides) if real.strides else compact_strides(real.shape)
        offset = real.elem_offset if real.elem_offset is not None else const(0, strides[0].dtype if strides else
                                                                                  "int32")
        for (mn, _), off, stride in zip(region, storage.offsets, strides):
            offset = offset + (mn - off) * stride
        offset = self.ana.simplify(offset)
        lead = len(region) - len(buf.shape)
        extents = [e for _, e in region[lead:]]
        strides = strides[lead:]
        what = f"buffer {buf.name!r} (bound to {t.name}{_region_text(region)})"
        for d, (want, have) in enumerate(zip(buf.shape, extents)):
            self._equate(want, have, f"{what}: shape[{d}]")
        if buf.strides:
            for d, (want, have) in enumerate(zip(buf.strides, strides)):
                self._equate(want, have, f"{what}: strides[{d}]")
        else:
            for d, (want, have) in enumerate(zip(compact_strides(buf.shape), strides)):
                if not self.ana.can_prove_equal(substitute(want, self.vmap), have):
                    raise self._err(f"{what} is declared compact, but the region has stride {have} in dimension {d} "
                                    f"(compact: {want}); declare the buffer with strides=[te.var(...), ..., 1]")
        if buf.elem_offset is not None:
            self._equate(buf.elem_offset, offset, f"{what}: elem_offset")
        if buf.offset_factor > 1:
            cond = self.ana.simplify(offset % buf.offset_factor == 0)
            if isinstance(cond, IntImm) and not cond.value:
                raise self._err(f"{what}: the region starts at element {offset}, not a multiple of offset_factor "
                                f"{buf.offset_factor}")
            if not isinstance(cond, IntImm):
                self.asserts.append((cond, f"tensorize {self.intrin.name}: {buf.name} offset is not a multiple of "
                                           f"{buf.offset_factor}"))
        self.vmap[buf.data] = real.data
        self.bufmap[buf] = (real, [self.ana.simplify(mn - off) for (mn, _), off in zip(region, storage.offsets)],
                            lead)

    def _equate(self, want, have, what: str) -> None:
        if isinstance(want, Var) and want not in self.vmap:
            self.vmap[want] = have
        elif not self.ana.can_prove_equal(substitute(want, self.vmap), have):
            raise self._err(f"{what} is declared {want}, but the region gives {have}")

    # ------------------------------------------------------------------ statements
    def _instantiate(self, stmt):
        if stmt is None:
            return None
        vmap = dict(self.vmap)
        vmap.update(self.ext_vars)
        vmap.update((p, substitute(x, self.bound.values)) for p, x in zip(self.intrin.scalar_params,
                                                                          self._scalar_inputs()))
        out = _Rebind(vmap, self.bufmap).visit(stmt)
        for cond, msg in reversed(self.asserts):
            out = AssertStmt(cond, msg, out)
        return out

    def _statements(self):
        intrin, leaves = self.intrin, self.leaves
        r = next((k for k, iv in enumerate(leaves) if iv.iter_type == IterType.COMM_REDUCE), None)
        if r is None or r >= self.point:
            if intrin.body is None:
                raise self._err("the intrinsic has no body statement (fcompute returned None for it)")
            return self._instantiate(intrin.body), None
        if intrin.reduce_update is None:
            raise self._err(f"reduction loop {leaves[r].var.name} is outside the tensorized axis, so the intrinsic "
                            "needs a reduce_update statement: return (body, reduce_reset, reduce_update) from fcompute")
        update = self._instantiate(intrin.reduce_update)
        if intrin.reduce_init is not None:
            return update, self._instantiate(intrin.reduce_init)
        if intrin.body is None:
            raise self._err("the intrinsic has neither a reduce_reset nor a body to start the reduction with")
        outer = [iv for iv in leaves[:self.point] if iv.iter_type == IterType.COMM_REDUCE]
        first = outer[0].var == 0
        for iv in outer[1:]:
            first = logical_and(first, iv.var == 0)
        return IfThenElse(first, self._instantiate(intrin.body), update), None


def check_now(st) -> None:
    """Match the stage against its intrinsic with the schedule as it is now, so that a mismatch
    fails on the user's `tensorize` line; a schedule that cannot be bounded yet is left to lowering."""
    sch = st.schedule
    bodies = InlinedBodies(sch)
    try:
        needed = bodies.needed_stages([sch.stage_map[o] for o in sch.outputs])
        stages = [s for s in sch.stages if s in needed]
        bounds = infer_stage_bounds(sch, stages, bodies)
    except Exception:  # noqa: BLE001  (incomplete schedules are checked again when lowered)
        return
    if st in bounds:
        Plan(SimpleNamespace(sch=sch, stages=stages, bounds=bounds, bodies=bodies), st, tensorized_point(st),
             check_only=True)


def plan(nests, st) -> Plan | None:
    """The tensorize plan of a stage in a loop nest being built, or None if it is not tensorized."""
    k = tensorized_point(st)
    return None if k is None else Plan(nests, st, k)


class _Remap(Mutator):
    """The stage's expression in the intrinsic's terms: root vars -> intrinsic axes + region min,
    reads of its inputs -> reads of the intrinsic's placeholders relative to the region."""

    def __init__(self, vmap, axis_map, loads, ana, rename_axes: bool = True):
        self.vmap, self.axis_map, self.loads, self.ana = vmap, axis_map, loads, ana
        self.rename_axes = rename_axes

    def visit_Var(self, v):
        return self.vmap.get(v, v)

    def visit_ProducerLoad(self, n):
        idx = [self.visit(i) for i in n.indices]
        entry = self.loads.get(n.producer)
        if entry is None:
            return ProducerLoad(n.producer, tuple(self.ana.simplify(i) for i in idx), n.dtype)
        tensor, mins, lead = entry
        return ProducerLoad(tensor, tuple(self.ana.simplify(i - mn) for i, mn in zip(idx[lead:], mins[lead:])),
                            n.dtype)

    def visit_Call(self, c):
        """if_then_else(c, a, b) reads as Select(c, a, b): the same values (cache_write guards with
        the one, classic intrinsics are declared with the other)."""
        if c.op in ("if_then_else", "tir.if_then_else") and len(c.args) == 3:
            cond, t, f = (self.visit(x) for x in c.args)
            return Select(cond, t, f, c.dtype)
        return self.generic_visit(c)

    def visit_Reduce(self, r):
        axis = tuple(self.axis_map[iv] for iv in r.axis if iv in self.axis_map) if self.rename_axes else r.axis
        return Reduce(r.combiner, tuple(self.visit(s) for s in r.source), axis, self.ana.simplify(
            self.visit(r.condition)), r.value_index, tuple(self.visit(x) for x in r.init), r.dtype)


class _Rebind(Mutator):
    """The intrinsic's statement over the real buffers: its variables replaced, and an access to
    an intrinsic buffer an access to the tensor's buffer at the region's start plus the index."""

    def __init__(self, vmap, bufmap):
        self.vmap, self.bufmap = vmap, bufmap

    def visit_Var(self, v):
        return self.vmap.get(v, v)

    def _at(self, buf, indices):
        indices = tuple(self.visit(i) for i in indices)
        view = self.bufmap.get(buf)
        if view is None:
            return buf, indices
        real, mins, lead = view
        if len(indices) != len(mins) - lead:
            raise ScheduleError(f"tensor intrinsic accesses buffer {buf.name!r} with {len(indices)} indices; it has "
                                f"{len(mins) - lead} dimensions")
        return real, tuple(mins[:lead]) + tuple(mn + i for mn, i in zip(mins[lead:], indices))

    def _fresh(self, v: Var) -> Var:
        """Each instance of the statement defines its own loop and let variables (TIR stays SSA)."""
        new = Var(v.name, v.dtype)
        self.vmap[v] = new
        return new

    def visit_For(self, s):
        var = self._fresh(s.loop_var)
        return For(var, self.visit(s.min), self.visit(s.extent), s.kind, self.visit(s.body), s.thread_tag,
                   s.annotations)

    def visit_LetStmt(self, s):
        value = self.visit(s.value)
        return LetStmt(self._fresh(s.var), value, self.visit(s.body))

    def visit_BufferLoad(self, n):
        buf, idx = self._at(n.buffer, n.indices)
        return BufferLoad(buf, idx, n.dtype)

    def visit_BufferStore(self, s):
        buf, idx = self._at(s.buffer, s.indices)
        return BufferStore(buf, self.visit(s.value), idx)


def _same(a, b, pairs: dict) -> bool:
    """Structural equality where reducers match by what they compute (their lhs/rhs variables
    paired up) and everything else by identity of variables, axes and tensors."""
    if a is b:
        return True
    if isinstance(a, Var) and isinstance(b, Var):
        return pairs.get(a) is b
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y, pairs) for x, y in zip(a, b))
    if isinstance(a, CommReducer):
        if len(a.lhs) != len(b.lhs):
            return False
        inner = dict(pairs)
        inner.update(zip(a.lhs + a.rhs, b.lhs + b.rhs))
        return _same(a.result, b.result, inner) and _same(a.identity_element, b.identity_element, pairs)
    if isinstance(a, Node) and (a.walked or isinstance(a, Reduce)):
        return all(_same(getattr(a, f), getattr(b, f), pairs) for f in node_fields(type(a)))
    if isinstance(a, (Node, Tensor)):
        return False
    return a == b


def _region_text(region) -> str:
    return "[" + ", ".join(f"{mn}:{mn + e}" if not isinstance(e, IntImm) or e.value != 1 else f"{mn}"
                           for mn, e in region) + "]"


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"
