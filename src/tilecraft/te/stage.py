"""A Stage is the schedule of one operation: its loop nest (split, fuse, reorder, annotations)
and where it is computed (compute_at, compute_inline, compute_root).

Every primitive checks its preconditions when called, so a mistake fails on the user's line
with the stage and axis named, never later inside lowering; every primitive that succeeds is
recorded in the schedule's trace (te/trace.py), so a schedule can be printed and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..error import TVMError
from ..ir.expr import IntImm, IterType, IterVar, PrimExpr, Range, Var, const, convert
from .tensor import Operation, PlaceholderOp
from .trace import primitive

if TYPE_CHECKING:
    from .schedule import Schedule


class ScheduleError(ValueError, TVMError):
    """A schedule primitive was used in a way that cannot be lowered.  A ValueError (tilecraft's
    own code catches that) and a TVMError/RuntimeError (classic TVM code catches those)."""


@dataclass(frozen=True, eq=False)
class Split:
    parent: IterVar
    outer: IterVar
    inner: IterVar
    factor: PrimExpr | None
    nparts: PrimExpr | None


@dataclass(frozen=True, eq=False)
class Fuse:
    outer: IterVar
    inner: IterVar
    fused: IterVar


@dataclass(frozen=True, eq=False)
class Singleton:
    """A loop of extent 1 made from nothing: what `fuse()` of no axes returns (classic TVM)."""

    iter_var: IterVar


@dataclass
class IterAttr:
    kind: str = "serial"  # serial | parallel | vectorized | unroll | thread_binding
    thread_tag: str = ""
    thread_iv: IterVar | None = None
    pragmas: list = field(default_factory=list)
    tensor_intrin: object = None  # a te.TensorIntrin replacing the loops from this one down (tensorize)

    def copy(self) -> IterAttr:
        return IterAttr(self.kind, self.thread_tag, self.thread_iv, list(self.pragmas), self.tensor_intrin)

    @property
    def iter_type(self) -> int:
        """The classic IterVar kind of the loop (IterVar.Unrolled, .Vectorized, ...)."""
        return {"parallel": IterVar.Parallelized, "vectorized": IterVar.Vectorized, "unroll": IterVar.Unrolled,
                "thread_binding": IterVar.ThreadIndex}.get(self.kind, IterVar.DataPar if self.tensor_intrin is None
                                                           else IterVar.Tensorized)

    @property
    def pragma_keys(self) -> list:
        from ..ir.expr import StringImm

        return [StringImm(k.removeprefix("pragma_")) for k, _ in self.pragmas]

    @property
    def pragma_values(self) -> list:
        return [v for _, v in self.pragmas]


def _is_reduce(iv: IterVar) -> bool:
    return iv.iter_type == IterType.COMM_REDUCE


class AttachType(str):
    """Where a stage is computed: "root", "inline" or "scope" (compute_at), and equal to classic's
    AttachType numbers too (kGroupRoot 1, kInline 2, kScope 4), which classic tests compare with."""

    _NUMBERS = {"root": 1, "inline": 2, "scope": 4}

    def __eq__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return self._NUMBERS.get(str.__str__(self)) == other
        return str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


class Stage:
    """The schedule of one operation: its loop nest and where it is computed."""

    def __init__(self, op: Operation, schedule: Schedule):
        self.op = op
        self.origin_op = op
        self.schedule = schedule
        self.all_iter_vars = list(op.axis) + list(op.reduce_axis)
        self.leaf_iter_vars = list(self.all_iter_vars)
        self.relations: list = []
        self.iter_var_attrs: dict = {}
        self.attach_type = "root"  # root | inline | scope (an AttachType)
        self.attach_stage: Stage | None = None
        self.attach_ivar: IterVar | None = None
        self.scope = ""  # storage scope; "" = inferred from where the stage is computed (see te/lower.py)
        self.storage_aligns: dict = {}  # root axis index -> (factor, offset)
        self.is_output = False
        self.dropped: dict = {}  # iter var -> why it is no longer an axis (cache_write reset the nest)
        self.store_predicate: PrimExpr | None = None  # stores happen only where it holds

    def _copy(self, schedule: Schedule) -> Stage:
        """This stage in `schedule` (a copy of ours; the caller maps `attach_stage` once every
        stage is copied).  Iter vars, relations and operations are immutable and shared;
        everything mutable is copied."""
        new = Stage.__new__(Stage)
        new.__dict__.update(self.__dict__)
        new.schedule = schedule
        new.all_iter_vars = list(self.all_iter_vars)
        new.leaf_iter_vars = list(self.leaf_iter_vars)
        new.relations = list(self.relations)
        new.iter_var_attrs = {iv: a.copy() for iv, a in self.iter_var_attrs.items()}
        new.storage_aligns = dict(self.storage_aligns)
        new.dropped = dict(self.dropped)
        return new

    # ------------------------------------------------------------------ helpers
    @property
    def name(self) -> str:
        return self.op.name

    @property
    def attach_type(self) -> AttachType:
        return self._attach_type

    @attach_type.setter
    def attach_type(self, value: str) -> None:
        self._attach_type = AttachType(value)

    def __repr__(self) -> str:
        return f"stage({self.op.name})"

    def _err(self, msg: str) -> ScheduleError:
        return ScheduleError(f"stage {self.op.name}: {msg}")

    def _describe(self, iv) -> str:
        return iv.var.name if isinstance(iv, IterVar) else repr(iv)

    def _check_compute(self, what: str) -> None:
        if isinstance(self.op, PlaceholderOp):
            raise self._err(f"cannot {what}: {self.op.name} is an input placeholder; it has no loops to schedule")

    def _check_leaf(self, iv, what: str) -> IterVar:
        self._check_compute(what)
        if not isinstance(iv, IterVar):
            raise self._err(f"cannot {what} {iv!r}: expected an axis (IterVar) such as "
                            f"{self.op.name}.op.axis[0]")
        if iv in self.leaf_iter_vars:
            return iv
        if iv in self.all_iter_vars:
            children = [r for r in self.relations if iv in _inputs_of(r)]
            made = ", ".join(v.var.name for r in children for v in _outputs_of(r))
            raise self._err(f"cannot {what} axis {iv.var.name}: it is no longer a leaf of the loop nest "
                            f"(it was split or fused into {made}); use those axes instead")
        if iv in self.dropped:
            raise self._err(f"cannot {what} axis {iv.var.name}: {self.dropped[iv]}")
        owner = self.schedule._owner_of(iv)
        hint = f"; it belongs to stage {owner.op.name} — use s[{owner.op.name}]" if owner else ""
        raise self._err(f"cannot {what} axis {iv.var.name}: it is not an axis of this stage "
                        f"(leaf axes: {', '.join(v.var.name for v in self.leaf_iter_vars)}){hint}")

    def _new_iv(self, name: str, like: IterVar) -> IterVar:
        iv = IterVar(None, Var(name, like.var.dtype), like.iter_type)
        self.all_iter_vars.append(iv)
        return iv

    def _attr(self, iv: IterVar) -> IterAttr:
        return self.iter_var_attrs.setdefault(iv, IterAttr())

    # ------------------------------------------------------------------ loop structure
    @primitive
    def split(self, parent: IterVar, factor=None, nparts=None):
        """Split `parent` into (outer, inner) with inner extent `factor` (or `nparts` outer parts)."""
        self._check_leaf(parent, "split")
        if (factor is None) == (nparts is None):
            raise self._err(f"split of {parent.var.name}: give exactly one of factor= or nparts=")
        what = "factor" if factor is not None else "nparts"
        amount = convert(factor if factor is not None else nparts)
        if not amount.dtype.startswith(("int", "uint")):
            raise TypeError(f"stage {self.op.name}: split of {parent.var.name}: {what} must be an integer, "
                            f"got {amount} of dtype {amount.dtype}")
        if isinstance(amount, IntImm) and amount.value <= 0:
            raise self._err(f"split of {parent.var.name}: {'factor' if factor is not None else 'nparts'} "
                            f"must be positive, got {amount.value}")
        if self.iter_var_attrs.get(parent, IterAttr()).kind != "serial":
            raise self._err(f"cannot split {parent.var.name}: it is already marked "
                            f"{self.iter_var_attrs[parent].kind}; split before annotating")
        outer = self._new_iv(f"{parent.var.name}_outer", parent)
        inner = self._new_iv(f"{parent.var.name}_inner", parent)
        self.relations.append(Split(parent, outer, inner, amount if factor is not None else None,
                                    amount if nparts is not None else None))
        k = self.leaf_iter_vars.index(parent)
        self.leaf_iter_vars[k:k + 1] = [outer, inner]
        return outer, inner

    @primitive
    def tile(self, x_parent, y_parent, x_factor, y_factor):
        """Split two axes and order them (xo, yo, xi, yi): the classic 2-D blocking."""
        xo, xi = self.split(x_parent, factor=x_factor)
        yo, yi = self.split(y_parent, factor=y_factor)
        self.reorder(xo, yo, xi, yi)
        return xo, yo, xi, yi

    @primitive
    def fuse(self, *args):
        """Fuse adjacent axes (outer first) into one."""
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        if not args:  # classic TVM: a new outermost loop of extent 1
            self._check_compute("fuse")
            iv = IterVar(Range(const(0), const(1)), Var("singleton", "int32"))
            self.relations.append(Singleton(iv))
            self.all_iter_vars.append(iv)
            self.leaf_iter_vars.insert(0, iv)
            return iv
        ivs = [self._check_leaf(a, "fuse") for a in args]
        fused = ivs[0]
        for inner in ivs[1:]:
            fused = self._fuse2(fused, inner)
        return fused

    def _fuse2(self, outer: IterVar, inner: IterVar) -> IterVar:
        if _is_reduce(outer) != _is_reduce(inner):
            raise self._err(f"cannot fuse {outer.var.name} with {inner.var.name}: one is a reduction axis "
                            f"and the other is not")
        po, pi = self.leaf_iter_vars.index(outer), self.leaf_iter_vars.index(inner)
        if pi != po + 1:
            raise self._err(f"cannot fuse {outer.var.name} and {inner.var.name}: they must be adjacent in the "
                            f"loop nest with {outer.var.name} directly outside {inner.var.name} "
                            f"(current order: {', '.join(v.var.name for v in self.leaf_iter_vars)}); "
                            "reorder first")
        fused = self._new_iv(f"{outer.var.name}_{inner.var.name}_fused", outer)
        self.relations.append(Fuse(outer, inner, fused))
        self.leaf_iter_vars[po:pi + 1] = [fused]
        return fused

    @primitive
    def reorder(self, *args):
        """Put the given axes in this order, in the positions they occupy now."""
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        ivs = [self._check_leaf(a, "reorder") for a in args]
        if len(set(ivs)) != len(ivs):
            raise self._err(f"reorder got an axis twice: {', '.join(v.var.name for v in ivs)}")
        pos = sorted(self.leaf_iter_vars.index(v) for v in ivs)
        order = list(self.leaf_iter_vars)
        for p, v in zip(pos, ivs):
            order[p] = v
        self._check_vector_nest(order)
        self.leaf_iter_vars = order

    # ------------------------------------------------------------------ vectorized loops
    # A vectorized loop's body runs once on all lanes.  The vectorizer keeps it a serial loop when
    # a parallel loop, or another vectorized loop of the same stage, is inside it: the user's
    # vectorize would be dropped silently, so such a nest is refused where it is made.  Serial
    # inner loops are fine (they stay loops around vector statements, as in classic TVM), and so
    # is a vectorized loop of a stage computed inside it (that inner one is the one kept).

    def _kind(self, iv, marking=None) -> str:
        if marking is not None and iv is marking[0]:
            return marking[1]
        return self.iter_var_attrs.get(iv, IterAttr()).kind

    def _leaf_of(self, iv: IterVar) -> IterVar:
        """The leaf loop axis `iv` became: itself, or if it was split or fused since, the innermost
        loop made from it (a stage computed at iv is computed there)."""
        while iv not in self.leaf_iter_vars:
            rel = next(r for r in self.relations if iv in _inputs_of(r))
            iv = rel.inner if isinstance(rel, Split) else rel.fused
        return iv

    def _loops_inside(self, after=None) -> list:
        """(stage, iv) of this stage's loops inside leaf `after` (all, if None), and of the stages
        computed at them, recursively."""
        leaves = self.leaf_iter_vars
        own = leaves[leaves.index(after) + 1:] if after is not None else leaves
        out = [(self, iv) for iv in own]
        for st in self.schedule.stages:
            if st.attach_type == "scope" and st.attach_stage is self and self._leaf_of(st.attach_ivar) in own:
                out.extend(st._loops_inside())
        return out

    def _enclosing_vectorized(self, scope=None) -> IterVar | None:
        """The vectorized loop around leaf `scope` of this stage (or around its attach point)."""
        leaves = self.leaf_iter_vars
        outer = leaves[:leaves.index(self._leaf_of(scope)) + 1] if scope is not None else []
        hit = next((iv for iv in outer if self._kind(iv) == "vectorized"), None)
        if hit is None and self.attach_type == "scope" and self.attach_stage is not None:
            return self.attach_stage._enclosing_vectorized(self.attach_ivar)
        return hit

    def _check_vector_nest(self, order, marking=None, where: str = "") -> None:
        """Refuse a loop nest (leaf order `order`, `marking` = (iv, kind) about to be set) with a
        parallel loop, or a second vectorized loop of one stage, inside a vectorized loop."""
        saved, self.leaf_iter_vars = self.leaf_iter_vars, order
        try:
            vec = self._enclosing_vectorized()
            if vec is not None:
                owner, loops = self.schedule._owner_of(vec), self._loops_inside()
            else:
                vec = next((iv for iv in order if self._kind(iv, marking) == "vectorized"), None)
                owner, loops = self, self._loops_inside(vec) if vec is not None else []
            for st, iv in loops:
                kind = st._kind(iv, marking if st is self else None)
                if kind == "parallel" or (kind == "vectorized" and st is owner):
                    place = iv.var.name if st is self else f"{st.op.name}.{iv.var.name}"
                    vplace = vec.var.name if owner is self else f"{owner.op.name}.{vec.var.name}"
                    raise self._err(f"{kind} loop {place} would be inside vectorized loop {vplace}"
                                    f"{' (' + where + ')' if where else ''}; the vectorize would be dropped. "
                                    "Vectorize the innermost loop and parallelize an outer one (reorder them)")
        finally:
            self.leaf_iter_vars = saved

    # ------------------------------------------------------------------ loop annotations
    def _annotate(self, iv, kind: str, what: str):
        self._check_leaf(iv, what)
        cur = self._attr(iv)
        if cur.kind not in ("serial", kind):
            raise self._err(f"cannot {what} {iv.var.name}: it is already marked {cur.kind}")
        cur.kind = kind

    @primitive
    def vectorize(self, iv):
        """Run this (innermost, constant-extent) loop as SIMD lanes."""
        self._check_leaf(iv, "vectorize")
        if _is_reduce(iv):
            raise self._err(f"cannot vectorize {iv.var.name}: it is a reduction axis, and its iterations "
                            "accumulate into the same element; vectorize a data-parallel axis (e.g. the "
                            "innermost output axis) and reorder the reduction outside it")
        self._check_vector_nest(self.leaf_iter_vars, (iv, "vectorized"))
        self._annotate(iv, "vectorized", "vectorize")

    @primitive
    def parallel(self, iv):
        """Run this loop's iterations on several cores (OpenMP)."""
        self._check_leaf(iv, "parallel")
        if _is_reduce(iv):
            raise self._err(f"cannot parallelize {iv.var.name}: it is a reduction axis (iterations would race "
                            "on the same output); use rfactor to make the reduction parallel")
        self._check_vector_nest(self.leaf_iter_vars, (iv, "parallel"))
        self._annotate(iv, "parallel", "parallelize")

    @primitive
    def unroll(self, iv):
        self._annotate(iv, "unroll", "unroll")

    @primitive
    def bind(self, iv, thread_iv: IterVar):
        """Map a loop to a GPU block or thread index (te.thread_axis("threadIdx.x"))."""
        self._check_leaf(iv, "bind")
        if not isinstance(thread_iv, IterVar) or thread_iv.iter_type != IterType.THREAD_INDEX:
            raise self._err(f"bind of {iv.var.name}: the second argument must be te.thread_axis(...)")
        if _is_reduce(iv):
            raise self._err(f"cannot bind reduction axis {iv.var.name} to {thread_iv.thread_tag}; "
                            "use rfactor first (cross-thread reduction)")
        # One loop per hardware index; virtual threads are loops, so each vthread IterVar is its own.
        virtual = thread_iv.thread_tag.startswith("vthread") or thread_iv.thread_tag == "cthread"
        for other, a in self.iter_var_attrs.items():
            same = a.thread_iv is thread_iv if virtual else a.thread_tag == thread_iv.thread_tag
            if a.kind == "thread_binding" and same and other is not iv:
                raise self._err(f"{thread_iv.thread_tag} {thread_iv.var.name!r} is already bound to axis "
                                f"{other.var.name}" if virtual else
                                f"{thread_iv.thread_tag} is already bound to axis {other.var.name}")
        self._annotate(iv, "thread_binding", "bind")
        a = self._attr(iv)
        a.thread_tag, a.thread_iv = thread_iv.thread_tag, thread_iv

    @primitive
    def tensorize(self, var, tensor_intrin):
        """Replace the loops from `var` down with `tensor_intrin` (te.decl_tensor_intrin), bound to
        the regions of the tensors they cover; lowering checks that those loops compute what the
        intrinsic declares (te/tensorize.py)."""
        from .tensorize import check_now, check_tensorize  # (same layer; tensorize needs the schedule)

        self._check_leaf(var, "tensorize")
        check_tensorize(self, var, tensor_intrin)
        before = {iv: a.tensor_intrin for iv, a in self.iter_var_attrs.items()}
        for a in self.iter_var_attrs.values():
            a.tensor_intrin = None  # one tensorized point per stage; the latest wins
        self._attr(var).tensor_intrin = tensor_intrin
        try:
            check_now(self)
        except ScheduleError:
            for iv, a in self.iter_var_attrs.items():
                a.tensor_intrin = before.get(iv)
            raise

    @primitive
    def pragma(self, iv, pragma_type: str, pragma_value=1):
        """Attach a pragma to a loop: auto_unroll_max_step, unroll_explicit, or any key for codegen;
        "vectorize", "unroll" and "parallel" mean the primitives of those names (as in classic TVM)."""
        self._check_leaf(iv, "pragma")
        if pragma_type in ("vectorize", "unroll", "parallel"):
            getattr(self, pragma_type)(iv)
            return
        v = pragma_value
        if isinstance(v, bool):
            v = int(v)
        self._attr(iv).pragmas.append((f"pragma_{pragma_type}", v))

    # ------------------------------------------------------------------ placement
    @primitive
    def compute_at(self, parent: Stage, scope: IterVar):
        """Compute this stage inside loop `scope` of `parent`, just where it is needed."""
        self._check_compute("compute_at")
        if not isinstance(parent, Stage):
            raise self._err("compute_at expects a stage, e.g. s[C].compute_at(s[D], D_axis)")
        if parent is self:
            raise self._err("cannot compute_at itself")
        if self.is_output:
            raise self._err("cannot compute_at: it is an output of the schedule and is computed at root")
        if scope not in parent.leaf_iter_vars:
            owner = self.schedule._owner_of(scope)
            hint = f"; it is an axis of stage {owner.op.name}" if owner is not None and owner is not parent \
                else ""
            raise ScheduleError(f"stage {self.op.name}: compute_at axis "
                                f"{getattr(getattr(scope, 'var', None), 'name', scope)} is not a leaf axis of "
                                f"stage {parent.op.name} (its loops: "
                                f"{', '.join(v.var.name for v in parent.leaf_iter_vars)}){hint}")
        p = parent
        while p is not None:
            if p is self:
                raise self._err(f"compute_at {parent.op.name} would create a cycle: {parent.op.name} is already "
                                f"computed inside {self.op.name}")
            p = p.attach_stage
        if self.schedule._consumer_chain_ok(self, parent) is False:
            raise self._err(f"cannot compute_at stage {parent.op.name}: {parent.op.name} does not consume "
                            f"{self.op.name}, directly or through other stages")
        old = self.attach_type, self.attach_stage, self.attach_ivar
        self.attach_type, self.attach_stage, self.attach_ivar = "scope", parent, scope
        try:
            self._check_vector_nest(self.leaf_iter_vars,
                                    where=f"{self.op.name} is computed at {parent.op.name}.{scope.var.name}")
        except ScheduleError:
            self.attach_type, self.attach_stage, self.attach_ivar = old
            raise

    @primitive
    def compute_inline(self):
        """Substitute this stage's expression into its consumers instead of storing it."""
        self._check_compute("compute_inline")
        if hasattr(self.op, "output_placeholders"):  # a te.extern stage
            raise self._err("cannot compute_inline an extern op: its body is a statement over whole "
                            "buffers, not an expression per element")
        if self.op.reduce_axis:
            raise self._err("cannot compute_inline a reduction; only element-wise/injective stages can be "
                            "inlined")
        if self.is_output:
            raise self._err("cannot compute_inline an output of the schedule")
        if self.op.num_outputs != 1:
            raise self._err("cannot compute_inline an operation with several outputs")
        self.attach_type, self.attach_stage, self.attach_ivar = "inline", None, None

    @primitive
    def compute_root(self):
        self._check_compute("compute_root")
        self.attach_type, self.attach_stage, self.attach_ivar = "root", None, None

    @primitive
    def storage_align(self, axis: IterVar, factor: int, offset: int):
        """Pad the row stride of `axis` so that stride % factor == offset (avoids cache conflicts)."""
        self._check_compute("storage_align")
        axes = list(self.op.axis)
        if axis not in axes:
            raise self._err(f"storage_align axis {self._describe(axis)} must be one of the operation's "
                            f"axes: {', '.join(v.var.name for v in axes)}")
        if axes.index(axis) == len(axes) - 1:
            raise self._err("storage_align applies to an outer axis (it pads the stride of the axis below "
                            "it); the innermost axis has stride 1")
        if factor <= 0 or not 0 <= offset < factor:
            raise self._err(f"storage_align needs factor > 0 and 0 <= offset < factor, got {factor}, {offset}")
        self.storage_aligns[axes.index(axis)] = (int(factor), int(offset))

    @primitive
    def set_store_predicate(self, predicate):
        """Store this stage's values only where `predicate` holds (over its axes, loops or bound
        threads; e.g. one thread of several writes the result).  Elsewhere the output keeps what
        it held."""
        self._check_compute("set_store_predicate")
        pred = convert(predicate)
        if pred.dtype != "bool":
            raise TypeError(f"stage {self.op.name}: set_store_predicate needs a condition (bool), got {pred} "
                            f"of dtype {pred.dtype}")
        self.store_predicate = pred

    @primitive
    def set_scope(self, scope: str):
        self.scope = scope


def _inputs_of(r) -> tuple:
    if isinstance(r, Singleton):
        return ()
    return (r.parent,) if isinstance(r, Split) else (r.outer, r.inner)


def _outputs_of(r) -> tuple:
    if isinstance(r, Singleton):
        return (r.iter_var,)
    return (r.outer, r.inner) if isinstance(r, Split) else (r.fused,)


