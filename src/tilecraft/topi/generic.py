"""Target-independent default schedule: every injective intermediate inlined, loops as declared.

Correct for any group; the per-target schedules (topi/x86) are the fast ones."""

from __future__ import annotations

from .. import te


def default_schedule(outs) -> te.Schedule:
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    s = te.create_schedule([o.op for o in outs])
    out_ops = {o.op for o in outs}
    for st in s.stages:
        op = st.op
        if isinstance(op, te.ComputeOp) and not op.reduce_axis and op not in out_ops:
            st.compute_inline()
    return s
