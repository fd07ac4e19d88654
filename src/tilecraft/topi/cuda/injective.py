"""GPU schedule for element-wise, broadcast and injective groups (classic topi.cuda.schedule_injective).

Every injective intermediate is inlined into the output; the output's axes are fused into one and
split across blocks of `max_num_threads` threads (the target's), so consecutive threads touch
consecutive elements and loads coalesce.
"""

from __future__ import annotations

from ... import te
from ..utils import schedule_injective_group


def schedule_injective_from_existing(s: te.Schedule, out: te.Tensor, num_threads: int | None = None):
    """One thread per element of `out`: fuse its axes, split by the block size, bind."""
    if num_threads is None:
        from ...target import Target

        tgt = Target.current()
        gpu = tgt is not None and tgt.kind in ("cuda", "opencl")
        num_threads = getattr(tgt, "max_num_threads", 1024) if gpu else 1024
    st = s[out]
    axes = list(st.op.axis)
    fused = st.fuse(*axes) if len(axes) > 1 else axes[0]
    bx, tx = st.split(fused, factor=num_threads)
    st.bind(bx, te.thread_axis("blockIdx.x"))
    st.bind(tx, te.thread_axis("threadIdx.x"))
    return s


def schedule_injective(outs) -> te.Schedule:
    return schedule_injective_group(outs, schedule_injective_from_existing)


schedule_elemwise = schedule_injective
schedule_broadcast = schedule_injective

__all__ = ["schedule_injective_from_existing", "schedule_injective", "schedule_elemwise", "schedule_broadcast"]
