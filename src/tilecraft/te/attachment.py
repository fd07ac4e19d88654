"""Where a stage is computed: the loop it is attached to, the loops around it, and the storage
scope that placement implies.  Bound inference and loop-nest building both ask these questions."""

from __future__ import annotations

from .schedule import Stage


def attach_leaf(st: Stage):
    """The loop a stage is computed in.  If the axis given to compute_at was split or fused
    afterwards, that is the innermost loop made from it (still inside the original loop)."""
    return st.attach_stage._leaf_of(st.attach_ivar)


def scope_loops(st: Stage) -> list:
    """The loops (outermost first) around the point where st is computed; [] at root."""
    if st.attach_type != "scope":
        return []
    p = st.attach_stage
    return scope_loops(p) + p.leaf_iter_vars[:p.leaf_iter_vars.index(attach_leaf(st)) + 1]


def _thread_rank(sch, iv) -> int | None:
    """0 for a loop bound to blockIdx, 1 for threadIdx/vthread, None for an ordinary loop."""
    owner = sch._owner_of(iv)
    attr = owner.iter_var_attrs.get(iv) if owner is not None else None
    if attr is None or attr.kind != "thread_binding":
        return None
    return 0 if attr.thread_tag.startswith("blockIdx") else 1


def storage_scope(sch, st: Stage) -> str:
    """The stage's scope, or (unset) the one its attach point implies, as classic TVM infers it:
    inside threadIdx loops a value is per-thread ("local"), inside blockIdx loops only it is
    per-block ("shared"), elsewhere "global"."""
    if st.scope:
        return st.scope
    rank = -1
    for iv in scope_loops(st):
        r = _thread_rank(sch, iv)
        if r is not None:
            rank = max(rank, r)
    return {-1: "global", 0: "shared", 1: "local"}[rank]


_SCOPE_RANK = {"global": 0, "shared": 1, "warp": 2, "local": 3}


def relaxed_by_scope(sch, iv, scope: str) -> bool:
    """A buffer in `scope` is shared by all threads of the thread loops at or below its rank: a shared
    cache inside threadIdx loops holds what the whole block needs (classic TVM's NeedRelax)."""
    rank = _thread_rank(sch, iv)
    return rank is not None and rank >= _SCOPE_RANK.get(scope.split(".")[0], 0)
