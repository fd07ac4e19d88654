"""compute_inline: a stage marked inline is substituted into the expressions that read it, so it
gets no loops and no buffer.  The substituted bodies are computed once per lowering and shared by
bound inference and loop building, which both walk them."""

from __future__ import annotations

from ..ir.expr import ProducerLoad
from ..ir.functor import Mutator, post_order_visit, substitute
from .extern import ExternOp, check_extern_inputs
from .scan import ScanOp
from .schedule import Schedule, Stage
from .tensor import PlaceholderOp


class InlinedBodies:
    """Each stage's body with every compute_inline producer substituted (cached per stage)."""

    def __init__(self, sch: Schedule):
        self.sch = sch
        self._bodies: dict = {}

    def body(self, st: Stage) -> tuple:
        b = self._bodies.get(st)
        if b is None:
            if isinstance(st.op, ExternOp):  # a statement over buffers: nothing to inline into
                return ()
            b = tuple(_Inliner(self).visit(x) for x in st.op.body)
            self._bodies[st] = b
        return b

    def reads(self, st: Stage) -> list:
        """The ProducerLoads in st's inlined body."""
        out = []

        def f(n):
            if isinstance(n, ProducerLoad):
                out.append(n)

        for b in self.body(st):
            post_order_visit(b, f)
        return out

    def needed_stages(self, roots) -> set:
        """The stages that get loops: everything `roots` read (after inlining) or are attached
        inside, inline stages excluded."""
        sch = self.sch
        needed, todo = set(), list(roots)
        while todo:
            st = todo.pop()
            if st in needed:
                continue
            needed.add(st)
            if st.attach_type == "scope" and st.attach_stage is not None:
                todo.append(st.attach_stage)
            for n in (self.reads(st) if not isinstance(st.op, PlaceholderOp) else []):
                todo.append(sch.stage_map[n.producer.op])
            if isinstance(st.op, ExternOp):
                check_extern_inputs(sch, st)
                todo.extend(sch.stage_map[t.op] for t in st.op.input_tensors)
            if isinstance(st.op, ScanOp):
                todo.extend(sch.stage_map[t.op] for t in st.op.init)
        return {s for s in needed if s.attach_type != "inline"}


class _Inliner(Mutator):
    def __init__(self, bodies: InlinedBodies):
        self.bodies = bodies

    def visit_ProducerLoad(self, n):
        idx = tuple(self.visit(i) for i in n.indices)
        st = self.bodies.sch.stage_map.get(n.producer.op)
        if st is not None and st.attach_type == "inline":
            body = self.bodies.body(st)[n.producer.value_index]
            return substitute(body, {iv.var: i for iv, i in zip(st.op.axis, idx)})
        return n if all(a is b for a, b in zip(idx, n.indices)) else ProducerLoad(n.producer, idx, n.dtype)
