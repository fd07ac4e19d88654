"""Tensor reads of a compute definition, checked against the tensors' shapes over its whole domain.

Bound inference derives every buffer from the index expressions, so the schedule cannot move an
access out of its tensor; only the definition can.  Here, before any scheduling, each read
`T[idx]` of a stage's body is looked at with the stage's axes (and reduce axes) over their
domains and the conditions of the `if_then_else` and `where=` clauses that guard it:

- proven inside: left alone;
- proven outside wherever it is reached (`A[i + 100000]` for a 16-element A): OutOfBoundsError
  at lowering, naming the stage, the tensor and the index;
- neither (an index read from data, `A[idx[i]]`, or one the analysis cannot bound): the index is
  wrapped as `checked_index(idx, extent)`, which the TIR pass CheckAccessBounds turns into a
  run-time assertion where the access happens.  Interval analysis sees the wrapper as unknown,
  so bound inference covers the producer's whole axis, as it does for any data-dependent index.
"""

from __future__ import annotations

from ..arith import Analyzer
from ..ir.expr import Call, IntImm, ProducerLoad, Range, Reduce, StringImm
from ..tir.transform.check_access_bounds import (
    CHECKED_INDEX,
    GuardedMutator,
    OutOfBoundsError,
    bound_if_outside,
    proven_inside,
)


def checked_body(op, body: tuple) -> tuple:
    """The body of ComputeOp `op` (already inlined) with its unproven reads wrapped."""
    domain = (*op.axis, *op.reduce_axis)
    if any(isinstance(iv.dom.extent, IntImm) and iv.dom.extent.value <= 0 for iv in domain):
        return body  # an empty domain reads nothing
    checker = _ReadChecker(op)
    for iv in domain:
        checker.ana.bind(iv.var, Range(iv.dom.min, iv.dom.extent))
    return tuple(checker.visit(b) for b in body)


class _ReadChecker(GuardedMutator):
    def __init__(self, op):
        super().__init__(Analyzer())
        self.op = op

    def visit_Reduce(self, e):
        cond = self.visit(e.condition)
        with self.ana.constraint_scope(e.condition):
            source = tuple(self.visit(s) for s in e.source)
        if cond is e.condition and all(a is b for a, b in zip(source, e.source)):
            return e
        return Reduce(e.combiner, source, e.axis, cond, e.value_index, e.init, e.dtype)

    def visit_ProducerLoad(self, n):
        indices = tuple(self.visit(i) for i in n.indices)
        shape = n.producer.shape
        if len(indices) != len(shape):
            return n if indices == n.indices else ProducerLoad(n.producer, indices, n.dtype)
        out = []
        for idx, extent in zip(indices, shape):
            if isinstance(idx, Call) and idx.op == CHECKED_INDEX:  # an inlined stage's read, checked there
                out.append(idx)
                continue
            if not idx.dtype.startswith(("int", "uint")) or proven_inside(self.ana, idx, extent):
                out.append(idx)
                continue
            b = bound_if_outside(self.ana, idx, extent)
            if b is not None:
                dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
                raise OutOfBoundsError(
                    f"compute {self.op.name!r} reads {n.producer.op.name}"
                    f"[{', '.join(str(i) for i in indices)}] outside {n.producer.op.name} (shape ({dims})): "
                    f"the index {idx} ranges over [{b.min_value}, {b.max_value}] but the axis has "
                    f"{extent} elements; fix the index expression in the definition of {self.op.name!r}")
            what = (f"compute {self.op.name!r} reads {n.producer.op.name}[{', '.join(str(i) for i in indices)}] "
                    f"with the index {idx} outside [0, {extent})")
            out.append(Call(idx.dtype, CHECKED_INDEX, (idx, extent, StringImm(what))))
        out = tuple(out)
        if all(a is b for a, b in zip(out, n.indices)):
            return n
        return ProducerLoad(n.producer, out, n.dtype)
