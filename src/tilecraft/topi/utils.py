"""Helpers shared by operators and schedules (classic TVM `topi.utils`)."""

from __future__ import annotations

from .. import te
from ..arith import Analyzer
from ..ir.expr import IntImm, PrimExpr, convert
from . import tag as _tag


def get_const_int(x) -> int:
    """The Python int of a constant expression (or int); a clear error for symbolic ones."""
    if isinstance(x, int):
        return x
    x = convert(x)
    if not isinstance(x, IntImm):
        x = Analyzer().simplify(x)
    if not isinstance(x, IntImm):
        raise ValueError(f"expected a constant integer, got the symbolic expression `{x}`")
    return int(x.value)


def get_const_tuple(shape) -> tuple:
    """Shape entries as Python ints where constant; symbolic entries are kept as expressions."""
    out = []
    for s in shape:
        if isinstance(s, int):
            out.append(s)
            continue
        e = convert(s)
        if not isinstance(e, IntImm):
            e = Analyzer().simplify(e)
        out.append(int(e.value) if isinstance(e, IntImm) else e)
    return tuple(out)


def simplify(expr):
    return Analyzer().simplify(convert(expr)) if not isinstance(expr, int) else expr


def equal_const_int(expr, value: int) -> bool:
    if isinstance(expr, int):
        return expr == value
    e = simplify(expr)
    return isinstance(e, IntImm) and e.value == value


def prod(xs):
    out = 1
    for x in xs:
        out = out * x
    return out


def traverse_inline(s: te.Schedule, final_op, callback) -> None:
    """Walk a fused group from `final_op` (an output) towards its inputs through injective
    stages, compute_inline each one that is not an output, and call `callback(op)` on every
    stage reached (the callback picks the anchor by its tag, e.g. "dense" in op.tag).

    The walk does not pass through a non-injective stage, so the anchor's own inputs (a padded
    input, a packed weight) are left for the callback to schedule."""
    if isinstance(final_op, te.Tensor):
        final_op = final_op.op
    visited = set()
    outputs = set(s.outputs)

    def walk(op):
        if op in visited:
            return
        visited.add(op)
        if _tag.is_injective(op.tag):
            if op not in outputs and not isinstance(op, te.PlaceholderOp):
                s[op].compute_inline()
            for t in op.input_tensors:
                if isinstance(t.op, te.ComputeOp):
                    walk(t.op)
        callback(op)

    walk(final_op)


def schedule_anchor(outs, tags, schedule_fn) -> te.Schedule:
    """The schedule of a fused group built around one anchor stage: a schedule of `outs`, the
    group walked from outs[0] with traverse_inline (injective stages inlined), and
    `schedule_fn(s, C, outs)` called on the output C of the stage whose tag is `tags` (a tag or a
    collection of tags).  Returns the schedule.  The one entry of the per-operator schedules
    (schedule_dense, schedule_conv2d_NCHWc, ...): each supplies only its `schedule_fn`."""
    outs = as_list(outs)
    tags = (tags,) if isinstance(tags, str) else tuple(tags)
    s = te.create_schedule([o.op for o in outs])

    def callback(op):
        if op.tag in tags:
            schedule_fn(s, op.output(0), outs)

    traverse_inline(s, outs[0].op, callback)
    return s


def find_stage(out, tags):
    """The first tensor computed on the way from `out` to the inputs whose operation's tag is `tags`
    (a tag or a collection of tags), or None: how a schedule finds its anchor and helper stages."""
    tags = (tags,) if isinstance(tags, str) else tuple(tags)
    seen, todo = set(), [out.op if isinstance(out, te.Tensor) else out]
    while todo:
        op = todo.pop()
        if op in seen or not isinstance(op, te.ComputeOp):
            continue
        seen.add(op)
        if op.tag in tags:
            return op.output(0)
        todo += [t.op for t in op.input_tensors]
    return None


def inline_injective(s: te.Schedule, outs) -> None:
    """compute_inline every injective stage that is not an output (anywhere in the schedule)."""
    out_ops = {o.op for o in as_list(outs)}
    for st in s.stages:
        op = st.op
        if isinstance(op, te.ComputeOp) and op not in out_ops and _tag.is_injective(op.tag) \
                and st.attach_type != "inline" and op.num_outputs == 1:
            st.compute_inline()


def inlined_schedule(outs) -> te.Schedule:
    """A schedule of `outs` with every injective intermediate inlined: where the schedules that
    find their anchor with find_stage (reduction, pooling, softmax, norm) and the injective
    schedules start."""
    outs = as_list(outs)
    s = te.create_schedule([o.op for o in outs])
    inline_injective(s, outs)
    return s


def schedule_injective_group(outs, schedule_output) -> te.Schedule:
    """The schedule of an injective group: every injective intermediate inlined, then
    `schedule_output(s, out)` on each output (the target's loop layout: parallel + vector on a
    CPU, blocks x threads on a GPU)."""
    outs = as_list(outs)
    s = inlined_schedule(outs)
    for o in outs:
        schedule_output(s, o)
    return s


def as_list(outs) -> list:
    return list(outs) if isinstance(outs, (list, tuple)) else [outs]


def first_divisor(n, options, default=None):
    """The first of `options` that divides n (and is at most n), else `default`; for a symbolic n,
    `default`.  The one divisor picker of tile sizes, vector widths and channel blocks."""
    if isinstance(n, int):
        for o in options:
            if o <= n and n % o == 0:
                return o
    return default


def guarded_read(tensor, indices, fill, dims):
    """tensor[indices], or `fill` where the index of a dimension in `dims` leaves [0, size): the
    packing stages that pad blocks with zeros.  Those indices are clamped into range, so a
    vectorized read never leaves the tensor."""
    shape = get_const_tuple(tensor.shape)
    idx = [te.max(te.min(i, shape[d] - 1), 0) if d in dims else i for d, i in enumerate(indices)]
    if not dims:
        return tensor[tuple(idx)]
    inside = te.all(*(c for d in dims for c in (indices[d] >= 0, indices[d] < shape[d])))
    return te.if_then_else(inside, tensor[tuple(idx)], te.const(fill, tensor.dtype))


__all__ = ["get_const_int", "get_const_tuple", "simplify", "equal_const_int", "prod", "traverse_inline",
           "guarded_read", "schedule_anchor", "find_stage", "inline_injective", "inlined_schedule",
           "schedule_injective_group", "as_list", "first_divisor", "PrimExpr"]

