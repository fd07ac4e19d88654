"""Which schedule a fused group gets on the CPU, by the kind of its anchor operator."""

from __future__ import annotations


def _x86(name: str):
    def schedule(attrs, outs, target):
        from ...topi import x86

        return getattr(x86, name)(outs)

    schedule.__name__ = name
    return schedule


def generic(attrs, outs, target):
    from ...topi.generic import default_schedule

    return default_schedule(outs)


injective = _x86("schedule_injective")
reduce = _x86("schedule_reduce")
