"""Loop extents from a stage's split/fuse relations, and root-axis values from its leaf loops.

A stage's leaf loops all run from 0; `root_values` says where each original axis is, as an
offset from its region's start, plus the guards needed where a split does not divide.
"""

from __future__ import annotations

from ..ir.expr import IntImm, PrimExpr, const, floordiv, floormod
from ..ir.op import ceildiv
from .stage import Fuse, Singleton, Split, Stage


def _simplify(e, analyzer):
    return analyzer.simplify(e) if analyzer is not None else e


def _below(extent, limit) -> bool:
    return isinstance(extent, IntImm) and isinstance(limit, IntImm) and extent.value < limit.value


def leaf_extents(stage: Stage, root_ext: dict, analyzer=None) -> dict:
    """Extent of every iter var of stage, given its root axes' extents."""
    ext = dict(root_ext)
    for r in stage.relations:
        if isinstance(r, Split):
            pe = ext[r.parent]
            if r.factor is not None:  # a factor above a known extent is the extent (as classic TVM)
                ext[r.inner] = pe if _below(pe, r.factor) else r.factor
                ext[r.outer] = _simplify(ceildiv(pe, ext[r.inner]), analyzer)
            else:
                ext[r.outer] = pe if _below(pe, r.nparts) else r.nparts
                ext[r.inner] = _simplify(ceildiv(pe, ext[r.outer]), analyzer)
        elif isinstance(r, Singleton):
            ext[r.iter_var] = const(1, r.iter_var.var.dtype)
        else:
            ext[r.fused] = _simplify(ext[r.outer] * ext[r.inner], analyzer)
    return ext


def leaf_extents_static(stage: Stage) -> dict | None:
    """Extents from the operation's own domains; None if a reduction extent is not constant."""
    root = {iv: iv.dom.extent for iv in list(stage.op.axis) + list(stage.op.reduce_axis)}
    from ..arith import Analyzer

    ext = leaf_extents(stage, root, Analyzer())
    if any(not isinstance(ext[iv], IntImm) for iv in stage.leaf_iter_vars if iv.iter_type == 2):
        return None
    return ext


def _divides(pe: PrimExpr, f: PrimExpr, analyzer) -> bool:
    if isinstance(pe, IntImm) and isinstance(f, IntImm):
        return pe.value % f.value == 0
    return analyzer is not None and analyzer.can_prove(floormod(pe, f) == 0)


def root_values(stage: Stage, ext: dict, analyzer=None) -> tuple[dict, list]:
    """(offset of each iter var in terms of the leaf loop vars, guards for non-dividing splits)."""
    value = {iv: iv.var for iv in stage.leaf_iter_vars}
    guards = []
    for r in reversed(stage.relations):
        if isinstance(r, Split):
            v = value[r.outer] * ext[r.inner] + value[r.inner]
            value[r.parent] = v
            inner_total = ext[r.inner] * ext[r.outer]
            if not (_divides(ext[r.parent], ext[r.inner], analyzer) if r.factor is not None
                    else _is_equal(inner_total, ext[r.parent], analyzer)):
                guards.append(v < ext[r.parent])
        elif isinstance(r, Fuse):
            f = value[r.fused]
            value[r.outer] = floordiv(f, ext[r.inner])
            value[r.inner] = floormod(f, ext[r.inner])
    return value, guards


def _is_equal(a, b, analyzer) -> bool:
    if isinstance(a, IntImm) and isinstance(b, IntImm):
        return a.value == b.value
    return analyzer is not None and analyzer.can_prove_equal(a, b)


def leaf_indices(stage: Stage, ext: dict) -> dict:
    """Each iter var as an expression of the root axes' variables (the inverse of root_values):
    where a point of the stage's domain lies in its loop nest."""
    value = {iv: iv.var for iv in list(stage.op.axis) + list(stage.op.reduce_axis)}
    for r in stage.relations:
        if isinstance(r, Split):
            p = value[r.parent]
            value[r.outer] = floordiv(p, ext[r.inner])
            value[r.inner] = floormod(p, ext[r.inner])
        elif isinstance(r, Singleton):
            value[r.iter_var] = const(0, r.iter_var.var.dtype)
        else:
            value[r.fused] = value[r.outer] * ext[r.inner] + value[r.inner]
    return value
