"""CPU schedules for pooling (topi.x86.schedule_pool, schedule_adaptive_pool).

The output's outer axes (N, C, OH for NCHW; N, OH, OW for NHWC) form one parallel loop; the
innermost axis (OW, or C for NHWC) is vectorized when the vector width divides it, with the
window loops outside it, so every lane keeps its own running max / sum.  Average pooling's
division is the output stage and the window sum is computed inside its parallel loop; when an
element-wise epilogue (relu, add, ...) follows, the division is inlined into it and the epilogue
owns the loop nest instead.  Global pooling is a reduction over H and W and goes to schedule_reduce.
"""

from __future__ import annotations

from ... import te
from ..utils import as_list, find_stage, first_divisor, get_const_tuple, inlined_schedule
from .injective import PARALLEL_MIN_ELEMENTS, schedule_injective_from_existing
from .reduction import lanes_inside_reduction, schedule_reduce

_POOL_TAGS = ("pool_max", "pool_sum", "adaptive_pool_max", "adaptive_pool_sum")
_AVG_TAGS = ("pool_avg", "adaptive_pool_avg")  # average pooling's division after the window sum


def _schedule_window(s, red):
    """Window loops outside the innermost output axis, which is vectorized."""
    lanes_inside_reduction(s[red], first_divisor(get_const_tuple(red.shape)[-1], (16, 8, 4), 0))


def schedule_pool(outs, layout: str = "NCHW") -> te.Schedule:
    """Schedule topi.nn.pool2d / adaptive_pool (and element-wise stages fused after them)."""
    outs = as_list(outs)
    red = find_stage(outs[0], _POOL_TAGS)
    if red is None:  # global pooling: a mean / max reduction over H and W
        return schedule_reduce(outs)
    s = inlined_schedule(outs)
    out = outs[0]
    if get_const_tuple(out.shape) != get_const_tuple(red.shape):
        schedule_injective_from_existing(s, out)
        out = red
    elif out.op is not red.op:
        # An element-wise epilogue of the pooled shape owns the loop nest and the window sum is
        # computed inside it, so the division between them (not injective by tag, so still at
        # root) must be inlined into the epilogue: left at root it would read the sum outside
        # the loop that computes it.
        avg = find_stage(out, _AVG_TAGS)
        if avg is not None and avg.op is not out.op:
            if avg.op in {o.op for o in outs}:  # the division is an output too: it cannot be inlined
                schedule_injective_from_existing(s, out)
                out = red
            else:
                s[avg].compute_inline()
    _schedule_window(s, red)
    axes = list(s[out].op.axis)
    total = 1
    for d in get_const_tuple(out.shape):
        total *= d if isinstance(d, int) else 1024
    outer = axes[:-1]
    if not outer:
        return s
    fused = s[out].fuse(*outer) if len(outer) > 1 else outer[0]
    if total >= PARALLEL_MIN_ELEMENTS:
        s[out].parallel(fused)
    if out.op is not red.op:
        vec = first_divisor(get_const_tuple(out.shape)[-1], (16, 8, 4), 0)
        if vec:
            _, ii = s[out].split(axes[-1], factor=vec)
            s[out].vectorize(ii)
        s[red].compute_at(s[out], fused)
    return s


def schedule_adaptive_pool(outs, layout: str = "NCHW") -> te.Schedule:
    return schedule_pool(outs, layout)


__all__ = ["schedule_pool", "schedule_adaptive_pool"]
