"""te.scan: a recurrence over the first axis (classic TVM's ScanOp).

    s_state  = te.placeholder((m, n))
    s_init   = te.compute((1, n), lambda _, i: X[0, i])
    s_update = te.compute((m, n), lambda t, i: s_state[t - 1, i] + X[t, i])
    s_scan   = te.scan(s_init, s_update, s_state, inputs=[X])      # cumulative sum over t

The scan's stage is one loop over t in [init rows, m) (its `scan_axis`).  The stages between the
state placeholders and the updates (the scan body) run inside it, one step t at a time: they are
attached to that loop when the schedule is created, and bound inference gives them the region of
step t.  Reading a state placeholder reads the scan's output; each step's update is then stored
into the output's row t.  The init rows are copied in before the loop.
"""

from __future__ import annotations

from ..ir.expr import IterType, IterVar, ProducerLoad, Range, Var, const
from .tensor import Operation, PlaceholderOp, Tensor, _shape


class ScanOp(Operation):
    """Outputs shaped like the updates; computed by a loop over `scan_axis` (see the module doc)."""

    def __init__(self, name: str, tag: str, attrs, scan_axis: IterVar, init, update, state_placeholder, inputs):
        self.name, self.tag, self.attrs = name, tag, dict(attrs or {})
        self.scan_axis = scan_axis
        self.init, self.update = tuple(init), tuple(update)
        self.state_placeholder = tuple(state_placeholder)
        self.inputs = tuple(inputs)
        self.axis = (scan_axis,)
        self.reduce_axis = ()
        # One IterVar per non-time axis of each output, over its whole extent: the row each step stores.
        self.spatial_axis = tuple(tuple(IterVar(Range(const(0, s.dtype), s), Var(f"{name}.v{k}.i{d}", s.dtype),
                                                IterType.DATA_PAR) for d, s in enumerate(u.shape[1:], 1))
                                  for k, u in enumerate(self.update))
        self._outputs = tuple(Tensor(self, k, tuple(u.shape), u.dtype) for k, u in enumerate(self.update))

    @property
    def input_tensors(self) -> list:
        return list(self.init) + list(self.update)

    @property
    def body(self) -> tuple:
        """What one step reads: each update's row t (bound inference sizes the body stages by it)."""
        t = self.scan_axis.var
        return tuple(ProducerLoad(u, (t, *(iv.var for iv in sp)), u.dtype) for u, sp in zip(self.update,
                                                                                           self.spatial_axis))

    def spatial_ranges(self) -> dict:
        return {iv.var: iv.dom for sp in self.spatial_axis for iv in sp}

    def body_stages(self, sch) -> list:
        """The stages a step computes: those reading a state placeholder (directly or through
        others) that the updates need."""
        states = {sch.stage_map[p.op] for p in self.state_placeholder}
        needs_state: dict = {}

        def reads_state(st) -> bool:
            if st in needs_state:
                return needs_state[st]
            needs_state[st] = False
            hit = any(sch.stage_map[t.op] in states or reads_state(sch.stage_map[t.op])
                      for t in st.op.input_tensors if t.op in sch.stage_map)
            needs_state[st] = hit
            return hit

        updates = [sch.stage_map[u.op] for u in self.update]
        out, todo, seen = [], list(updates), set()
        while todo:
            st = todo.pop()
            if st in seen or isinstance(st.op, PlaceholderOp):
                continue
            seen.add(st)
            if st in updates or reads_state(st):
                out.append(st)
                todo.extend(sch.stage_map[t.op] for t in st.op.input_tensors if t.op in sch.stage_map)
        return out


def scan(init, update, state_placeholder, inputs=None, name: str = "scan", tag: str = "", attrs=None):
    """The recurrence out[0:k] = init, out[t] = update(out[t - 1], ...) for t in [k, m) (classic te.scan);
    returns the output tensor, or a list for several states."""
    single = isinstance(init, Tensor)
    init, update, states = ([x] if isinstance(x, Tensor) else list(x) for x in (init, update, state_placeholder))
    if not (len(init) == len(update) == len(states)) or not init:
        raise ValueError(f"scan {name}: init, update and state_placeholder need one tensor per state, got "
                         f"{len(init)}, {len(update)} and {len(states)}")
    for k, (i, u, s) in enumerate(zip(init, update, states)):
        if not isinstance(s.op, PlaceholderOp):
            raise TypeError(f"scan {name}: state {k} must be a te.placeholder, got the output of {s.op.name}")
        if len(u.shape) != len(s.shape) or len(i.shape) != len(s.shape) or u.dtype != s.dtype or i.dtype != s.dtype:
            raise ValueError(f"scan {name}: state {k}: init {tuple(i.shape)} {i.dtype}, update {tuple(u.shape)} "
                             f"{u.dtype} and state {tuple(s.shape)} {s.dtype} must have the same rank and dtype")
    first, length = _shape(init[0].shape)[0], _shape(update[0].shape)[0]
    axis = IterVar(Range(first, length - first), Var(f"{name}.idx", first.dtype), IterType.DATA_PAR)
    op = ScanOp(name, tag, attrs, axis, init, update, states, inputs or ())
    outs = [op.output(k) for k in range(len(update))]
    return outs[0] if single else outs
