"""CPU schedule for element-wise, broadcast and injective groups (topi.x86.schedule_injective).

Every injective intermediate is inlined into the output, so a chain like x * 2 + 1 -> gelu is one
loop nest reading x once.  The output's innermost axis is split by the vector width (16 lanes,
two AVX2 registers per op, or 8) and vectorized; the remaining axes and the outer part of the
split are fused into one parallel loop.  Small outputs stay on one core (starting a parallel
region costs more than it saves).
"""

from __future__ import annotations

from ... import te
from .. import tag as _tag
from ..utils import first_divisor, get_const_tuple, inline_injective, schedule_injective_group

# Below this many output elements a parallel region costs more than it gains.
PARALLEL_MIN_ELEMENTS = 4096


def vector_width(n) -> int:
    """Lanes to vectorize an innermost axis of extent n with: 16 or 8 when they divide it, else 0."""
    return first_divisor(n, (16, 8), 0)


def row_vector_width(n, fused_axes: int = 1) -> int:
    """vector_width, or 16 for a row of at least 16 it does not divide (a 197-long attention row):
    VectorizeLoop runs the whole vectors as vector code and the tail as a loop.  For row kernels
    (reductions, softmax, norms) over one axis, whose indices stay affine; over several fused axes,
    as in an injective group's fused and reshaped indices, a non-dividing split turns them into
    per-lane divisions (a gather), so those keep vector_width."""
    if fused_axes > 1:
        return vector_width(n)
    return first_divisor(n, (16, 8), 16 if isinstance(n, int) and n >= 16 else 0)


def _schedule_unblock(s: te.Schedule, out: te.Tensor) -> bool:
    """NCHW<b>c -> NCHW (a layout transform back to the plain layout): vectors along w would read
    the input with a stride of b floats, a gather per lane.  Instead each (channel block, row, vector
    of w) is a tile of b unrolled channel rows, which LLVM turns into whole-vector loads and a
    register transpose (1x144x56x56: 0.141 -> 0.038 ms).  False when `out` is not such a transform
    or its width has no vector width."""
    srcs = out.op.input_tensors if out.op.tag == _tag.LAYOUT_TRANSFORM else []
    if len(srcs) != 1 or len(out.shape) != 4 or len(srcs[0].shape) != 5:
        return False
    src = srcs[0]
    (n, c, h, w), b = get_const_tuple(out.shape), get_const_tuple(src.shape)[-1]
    vec = vector_width(w)
    if not isinstance(b, int) or c != get_const_tuple(src.shape)[1] * b or not vec:
        return False
    st = s[out]
    an, ac, ah, aw = st.op.axis
    co, ci = st.split(ac, factor=b)
    wo, wi = st.split(aw, factor=vec)
    st.reorder(an, co, ah, wo, ci, wi)
    if n * c * h * w >= PARALLEL_MIN_ELEMENTS:
        st.parallel(st.fuse(an, co, ah))
    st.unroll(ci)
    st.vectorize(wi)
    return True


def schedule_injective_from_existing(s: te.Schedule, out: te.Tensor) -> te.Schedule:
    """Fuse the outer axes into one parallel loop and vectorize the innermost axis of `out`."""
    st = s[out]
    axes = list(st.op.axis)
    if not axes or _schedule_unblock(s, out):
        return s
    shape = get_const_tuple(out.shape)
    total = 1
    for n in shape:
        total = total * n if isinstance(n, int) else total * 1024
    vec = vector_width(shape[-1])
    if vec:
        outer, inner = st.split(axes[-1], factor=vec)
        axes = axes[:-1] + [outer]
    if total >= PARALLEL_MIN_ELEMENTS:
        st.parallel(st.fuse(*axes) if len(axes) > 1 else axes[0])
    if vec:
        st.vectorize(inner)
    return s


def schedule_injective(outs) -> te.Schedule:
    """Schedule an injective group: everything inlined into the outputs, each output parallel and
    vectorized."""
    return schedule_injective_group(outs, schedule_injective_from_existing)


schedule_elemwise = schedule_injective
schedule_broadcast = schedule_injective


__all__ = ["PARALLEL_MIN_ELEMENTS", "vector_width", "row_vector_width", "inline_injective",
           "schedule_injective_from_existing", "schedule_injective", "schedule_elemwise", "schedule_broadcast"]
