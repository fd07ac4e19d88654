"""The computation an auto-scheduler task schedules: its operations in topological order (the
stage ids of every loop state), what each one reads, and the analyses the sketch rules ask
(compute-intensive? data reuse? element-wise? strictly inlinable? output?).

`ComputeDAG(tensors)` takes the inputs and outputs as `register_workload` functions return
them; `print(dag)` shows one line per operation (`C(i, j) += (A[i, k]*B[k, j])`).
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import OrderedDict

from ..ir import expr as E
from ..ir.functor import post_order_visit
from ..te.tensor import ComputeOp, Operation, PlaceholderOp, Tensor
from .dag_printer import print_dag


class LayoutRewriteOption:
    """Classic option numbers (recorded in v0.6 records).  tilecraft does not rewrite layouts
    yet: every option measures and applies the schedule as NO_REWRITE does."""

    NO_REWRITE = 0
    INSERT_TRANSFORM_STAGE = 1
    REWRITE_FOR_PRE_TRANSFORMED = 2

    @staticmethod
    def get_target_default(target, in_relay_integration=False):
        kind = getattr(target, "kind", None)
        kind = getattr(kind, "name", kind) or str(target).split()[0]
        if kind == "llvm":
            return (LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED if in_relay_integration
                    else LayoutRewriteOption.INSERT_TRANSFORM_STAGE)
        return LayoutRewriteOption.NO_REWRITE


# ---------------------------------------------------------------------- topological order
def topo_sort_ops(tensors) -> list:
    """The operations the tensors need, producers first; ties go to the operation met later in
    a depth-first walk from the outputs (classic's order, so classic stage ids hold)."""
    stack = [t.op for t in tensors]
    priority, degree, edges, visited = {}, {}, {}, set()
    ct = 0
    while stack:
        op = stack.pop()
        if op in visited:
            continue
        visited.add(op)
        priority[op] = ct
        ct += 1
        inputs = op.input_tensors
        degree[op] = len(inputs)
        for t in inputs:
            edges.setdefault(t.op, []).append(op)
            stack.append(t.op)
    order = {op: n for n, op in enumerate(degree)}
    queue = [(-priority[op], order[op], op) for op, d in degree.items() if d == 0]
    heapq.heapify(queue)
    out = []
    while queue:
        _, _, op = heapq.heappop(queue)
        out.append(op)
        for dst in edges.get(op, ()):
            degree[dst] -= 1
            if degree[dst] == 0:
                heapq.heappush(queue, (-priority[dst], order[dst], dst))
    return out


# ---------------------------------------------------------------------- access analysis
def _const_shift_var(e):
    """The variable v if e is v, v + c, v - c or c + v (c an integer constant), else None."""
    if isinstance(e, E.Var):
        return e
    if isinstance(e, (E.Add, E.Sub)):
        if isinstance(e.a, E.Var) and isinstance(e.b, E.IntImm):
            return e.a
        if isinstance(e, E.Add) and isinstance(e.b, E.Var) and isinstance(e.a, E.IntImm):
            return e.b
    return None


def _extent(iv):
    v = getattr(iv.dom.extent, "value", None)
    return v if isinstance(v, int) else None


class AccessAnalyzer:
    """Read accesses between operations and the static facts sketch generation needs.

    `resolve` maps an operation met in a body to the operation that now computes it (after
    cache_write/rfactor a stage's operation changes while its readers still name the old one)."""

    def __init__(self, ops, resolve=None):
        resolve = resolve or (lambda op: op)
        self.ops = list(ops)
        self.read_from: dict = {}  # op -> {producer op: [indices, ...]}
        self.read_by: dict = {op: {} for op in self.ops}
        self.has_branch: dict = {}
        self.num_common_outer: dict = {op: {} for op in self.ops}
        self.is_simple_access: dict = {}
        self.is_strictly_inlineable: dict = {}
        self.needs_multi_level_tiling: dict = {}
        self.is_output: dict = {}
        for op in self.ops:
            if isinstance(op, PlaceholderOp):
                self.read_from[op] = {}
                continue
            acc, branch = {}, [False]

            def visit(n, acc=acc, branch=branch):
                if isinstance(n, E.ProducerLoad):
                    acc.setdefault(resolve(n.producer.op), []).append(tuple(n.indices))
                elif isinstance(n, E.Select) or (isinstance(n, E.Call) and n.op == "if_then_else"):
                    branch[0] = True

            for b in op.body:
                post_order_visit(b, visit)
            self.read_from[op] = acc
            self.has_branch[op] = branch[0]
            for prod, accesses in acc.items():
                self.read_by.setdefault(prod, {}).setdefault(op, []).extend(accesses)
                n = self._common_outer(op, prod, accesses)
                self.num_common_outer[op][prod] = n
                self.num_common_outer.setdefault(prod, {})[op] = n
        for op in self.ops:
            self._analyse(op)

    @staticmethod
    def _common_outer(op, prod, accesses) -> int:
        out_shape = [getattr(s, "value", s) for s in op.output(0).shape]
        prod_shape = [getattr(s, "value", s) for s in prod.output(0).shape]
        n = 0
        while n < min(len(out_shape), len(prod_shape)):
            if out_shape[n] != prod_shape[n] and out_shape[n] is not prod_shape[n]:
                break
            if not all(_const_shift_var(a[n]) is op.axis[n].var for a in accesses):
                break
            n += 1
        return n

    def _analyse(self, op) -> None:
        if isinstance(op, PlaceholderOp):
            self.is_simple_access[op] = True
            self.needs_multi_level_tiling[op] = False
            self.is_strictly_inlineable[op] = False
            self.is_output[op] = False
            return
        simple, strict = True, True
        axis_vars = [iv.var for iv in op.axis]
        for accesses in self.read_from[op].values():
            for idx in accesses:
                pos, ok = [], True
                for e in idx:
                    if isinstance(e, E.IntImm):
                        continue
                    v = _const_shift_var(e)
                    if v is None or not any(v is a for a in axis_vars):
                        ok = False
                        break
                    pos.append(next(i for i, a in enumerate(axis_vars) if a is v))
                if not ok:
                    simple = strict = False
                    break
                if len(set(pos)) != len(pos) or pos != sorted(pos):
                    strict = False  # do not strictly inline transposes or duplicated axes
            if not simple:
                break
        expensive = [False]

        def find_exp(n):
            if isinstance(n, E.Call) and n.op in ("exp", "tir.exp"):
                expensive[0] = True

        for b in op.body:
            post_order_visit(b, find_exp)
        if expensive[0] or self.has_branch.get(op):
            strict = False
        if not self.read_from[op]:
            strict = True  # a constant tensor
        self.is_simple_access[op] = simple
        self.is_strictly_inlineable[op] = strict
        # Multi-level tiling pays when some input is reused across an output axis it does not
        # depend on (matmul: A across j, B across i), i.e. there is data reuse to exploit.
        needs = False
        n_missing = 0
        for accesses in self.read_from[op].values():
            used = set()
            for idx in accesses:
                for e in idx:
                    post_order_visit(e, lambda n, used=used: used.add(id(n)) if isinstance(n, E.Var) else None)
            for iv in op.axis:
                ext = _extent(iv)
                if (ext is None or ext > 1) and id(iv.var) not in used:
                    n_missing += 1
                    break
            if n_missing >= 2 or (n_missing >= 1 and op.reduce_axis):
                needs = True
                break
        if op.attrs.get("auto_scheduler_simplify_const_tensor_indices"):
            needs = False
        self.needs_multi_level_tiling[op] = needs
        self.is_output[op] = not self.read_by.get(op)

    # ------------------------------------------------------------------ queries
    def get_consumers(self, op, inlined=()) -> set:
        """Operations reading op, looking through inlined operations."""
        return _through_inlined(self.read_by, op, set(inlined))

    def get_producers(self, op, inlined=()) -> set:
        return _through_inlined(self.read_from, op, set(inlined))

    def get_direct_producers(self, op) -> set:
        return set(self.read_from.get(op, {}))

    def get_num_common_outer_iterator(self, op, target_op) -> int:
        best = [None]

        def walk(cur, n):
            if cur is target_op:
                best[0] = n if best[0] is None else min(best[0], n)
                return
            for c in self.read_by.get(cur, {}):
                walk(c, min(n, self.num_common_outer[cur][c]))

        walk(op, len(op.output(0).shape))
        return best[0] or 0

    def element_wise_match(self, op, target_op) -> bool:
        """op reaches target_op through single-consumer element-wise steps of the same shape."""
        cur = op
        while cur is not target_op:
            readers = self.read_by.get(cur, {})
            if len(readers) != 1:
                return False
            nxt = next(iter(readers))
            if not isinstance(cur, ComputeOp) or not isinstance(nxt, ComputeOp):
                return False
            if [getattr(s, "value", s) for s in cur.output(0).shape] != \
                    [getattr(s, "value", s) for s in nxt.output(0).shape]:
                return False
            if not self.is_simple_access.get(nxt) or nxt.reduce_axis:
                return False
            if cur.num_outputs != 1 or nxt.num_outputs != 1:
                return False
            cur = nxt
        return True


def _through_inlined(edges: dict, op, inlined: set) -> set:
    """The operations edges[op] names, with each inlined one replaced by its own edges."""
    out = set()

    def collect(o):
        for x in edges.get(o, {}):
            if x in inlined:
                collect(x)
            else:
                out.add(x)

    collect(op)
    return out


# ---------------------------------------------------------------------- flops
_ARITH = (E.Add, E.Sub, E.Mul, E.Div, E.Mod, E.FloorDiv, E.FloorMod, E.Min, E.Max, E.CmpOp, E.And, E.Or)


def _iterations(axes) -> float:
    """The product of the axes' extents; NaN when one is not constant."""
    n = 1
    for iv in axes:
        ext = _extent(iv)
        if ext is None:
            return float("nan")
        n *= ext
    return n


def _flops(e) -> float:
    if isinstance(e, E.Reduce):
        body = sum(_flops(s) for s in e.source) + len(e.source)  # + the combiner
        return _iterations(e.axis) * body
    if isinstance(e, _ARITH):
        return 1 + _flops(e.a) + _flops(e.b)
    if isinstance(e, E.Not):
        return 1 + _flops(e.a)
    if isinstance(e, E.Select):
        return 1 + _flops(e.condition) + _flops(e.true_value) + _flops(e.false_value)
    if isinstance(e, E.Cast):
        return _flops(e.value)
    if isinstance(e, E.Call):
        own = 0 if e.op in ("if_then_else", "likely") else 1
        return own + sum(_flops(a) for a in e.args if isinstance(a, E.PrimExpr))
    if isinstance(e, E.Let):
        return _flops(e.value) + _flops(e.body)
    return 0  # loads (their index arithmetic is addressing, not work), constants, variables


def count_flops(ops) -> float:
    total = 0.0
    for op in ops:
        if not isinstance(op, ComputeOp):
            continue
        total += _iterations(op.axis) * sum(_flops(b) for b in op.body)
    return total


# ---------------------------------------------------------------------- the DAG
class ComputeDAG:
    """The operations of a workload in topological order, with their access analysis.

    Built from the workload's tensors (inputs and outputs, as a registered function returns
    them), a workload key, or a te Schedule."""

    _REPLAY_CACHE_SIZE = 256

    def __init__(self, compute_or_sche):
        from ..te.schedule import Schedule

        if isinstance(compute_or_sche, str):
            from .workload_registry import workload_key_to_tensors

            tensors = workload_key_to_tensors(compute_or_sche)
        elif isinstance(compute_or_sche, Schedule):
            outs = [op.output(i) for op in compute_or_sche.outputs for i in range(op.num_outputs)]
            ops = topo_sort_ops(outs)
            tensors = [op.output(0) for op in ops if isinstance(op, PlaceholderOp)] + outs
        elif isinstance(compute_or_sche, (list, tuple)):
            tensors = list(compute_or_sche)
            for t in tensors:
                if not isinstance(t, Tensor):
                    raise ValueError(f"ComputeDAG takes a list of te tensors (the workload's inputs and outputs), "
                                     f"got {type(t).__name__}: {t!r}")
        else:
            raise ValueError(f"ComputeDAG takes a list of tensors, a workload key or a te Schedule, "
                             f"got {type(compute_or_sche).__name__}")
        self._init(list(tensors), topo_sort_ops(tensors))

    def _init(self, tensors, ops, analyzer=None):
        self.tensors = tensors
        self.ops = ops
        self.access_analyzer = analyzer or AccessAnalyzer(ops)
        self.flop_ct = count_flops(ops)
        self._replays: OrderedDict = OrderedDict()
        self._init_state = None

    @classmethod
    def _current(cls, base: ComputeDAG, replay) -> ComputeDAG:
        """The DAG a replayed schedule computes (after cache/rfactor steps): its stages' current
        operations in state order, analysed with reads resolved to the stage that computes them."""
        dag = cls.__new__(cls)
        ops = [st.op for st in replay.stages]
        stage_map = replay.sch.stage_map

        def resolve(op):
            st = stage_map.get(op)
            return st.op if st is not None else op

        dag._init(base.tensors, ops, AccessAnalyzer(ops, resolve))
        dag.flop_ct = base.flop_ct
        return dag

    # ------------------------------------------------------------------ states
    @property
    def init_state(self):
        if self._init_state is None:
            from .loop_state import State

            self._init_state = State(self)
        return self._init_state

    def get_init_state(self):
        """The state without steps: every stage at root, loops in axis order."""
        return self.init_state.copy()

    def state_from_steps(self, steps):
        """The state that a list of steps (e.g. read from a record) produces."""
        state = self.get_init_state()
        for step in steps:
            state._add(step)
        return state

    def _steps_of(self, state) -> list:
        return list(state) if isinstance(state, (list, tuple)) else list(state.transform_steps)

    def _replay(self, steps):
        from .transform_steps import ScheduleReplay

        return ScheduleReplay(self).apply(steps)

    def replay_ops(self, steps) -> list:
        """Operations of every stage after `steps` (cached: cache/rfactor steps ask this)."""
        return self._cached_replay(steps)[0]

    def replay_dag(self, steps) -> ComputeDAG:
        return self._cached_replay(steps)[1]

    def _cached_replay(self, steps):
        key = tuple(steps)
        hit = self._replays.get(key)
        if hit is None:
            r = self._replay(key)
            hit = ([st.op for st in r.stages], ComputeDAG._current(self, r))
            self._replays[key] = hit
            if len(self._replays) > self._REPLAY_CACHE_SIZE:
                self._replays.popitem(last=False)
        else:
            self._replays.move_to_end(key)
        return hit

    def apply_steps_from_state(self, state, layout_rewrite=LayoutRewriteOption.NO_REWRITE):
        """(te schedule, tensors) with the state's steps replayed on a fresh schedule: what
        `tvm.lower` / `tvm.build` take."""
        return self._replay(self._steps_of(state)).sch, list(self.tensors)

    def print_python_code_from_state(self, state) -> str:
        """The state's steps as te schedule code."""
        return str(self._replay(self._steps_of(state)).sch.trace()) + "\n"

    def infer_bound_from_state(self, state):
        """A copy of the state with every loop extent filled in by te bound inference (loops of
        stages moved by compute_at have none in the state's own view)."""
        from ..te.bound_inference import infer_bound
        from .loop_state import State

        if not isinstance(state, State):
            state = self.state_from_steps(state)
        r = self._replay(state.transform_steps)
        bounds = infer_bound(r.sch)
        new = state.copy()
        for i, st in enumerate(r.stages):
            view = new.stages[i]
            axes = r.axes[st]
            if len(axes) != len(view.iters):
                continue
            iters = []
            for it, iv in zip(view.iters, axes):
                rng = bounds.get(iv)
                ext = getattr(rng.extent, "value", None) if rng is not None else None
                iters.append(it.with_(extent=ext) if isinstance(ext, int) else it)
            new.stages[i] = view.with_(iters=iters)
        return new

    # ------------------------------------------------------------------ identity
    def hash_key(self) -> str:
        return hashlib.md5(print_dag(self.ops, simple_mode=True).encode("utf-8")).hexdigest()

    def workload_key(self) -> str:
        """A key for a DAG that no registered function names (e.g. a relay subgraph):
        [md5 of the DAG's text, shapes of its tensors...] as JSON, as classic."""
        shapes = [[int(getattr(s, "value", s)) for s in t.shape] for t in self.tensors]
        return json.dumps([self.hash_key()] + shapes)

    def __str__(self) -> str:
        lines = []
        for line in print_dag(self.ops).split("\n"):
            if len(line) > 256:
                line = line[:128] + " ..(OMITTED).. " + line[-128:]
            lines.append(line)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ComputeDAG({', '.join(op.name for op in self.ops)})"

    def __getstate__(self):
        return {"tensors": self.tensors}

    def __setstate__(self, state):
        tensors = state["tensors"]
        self._init(list(tensors), topo_sort_ops(tensors))

    # ------------------------------------------------------------------ per-op analysis
    def _op(self, op) -> Operation:
        if isinstance(op, Tensor):
            return op.op
        if isinstance(op, int):
            return self.ops[op]
        return op

    def is_output(self, op) -> bool:
        return self.access_analyzer.is_output[self._op(op)]

    def is_simple_access(self, op) -> bool:
        """Every read indexes with the op's own axes (plus constant shifts): element-wise-like."""
        return self.access_analyzer.is_simple_access[self._op(op)]

    def is_element_wise(self, op) -> bool:
        op = self._op(op)
        return isinstance(op, ComputeOp) and not op.reduce_axis and self.is_simple_access(op)

    def is_strictly_inlineable(self, op) -> bool:
        return self.access_analyzer.is_strictly_inlineable[self._op(op)]

    def needs_multi_level_tiling(self, op) -> bool:
        return self.access_analyzer.needs_multi_level_tiling[self._op(op)]

    has_data_reuse = needs_multi_level_tiling

    def is_compute_intensive(self, op) -> bool:
        """A reduction or an operation with data reuse: worth tiling (matmul, conv)."""
        op = self._op(op)
        return isinstance(op, ComputeOp) and (bool(op.reduce_axis) or self.needs_multi_level_tiling(op))

    def consumers(self, op) -> set:
        return self.access_analyzer.get_consumers(self._op(op))

    def producers(self, op) -> set:
        return self.access_analyzer.get_producers(self._op(op))

    def output_of(self, op) -> list:
        """The outputs of the DAG that (transitively) read op."""
        op = self._op(op)
        outs, todo, seen = [], [op], set()
        while todo:
            o = todo.pop()
            if o in seen:
                continue
            seen.add(o)
            if self.access_analyzer.is_output.get(o):
                outs.append(o)
            todo.extend(self.access_analyzer.read_by.get(o, {}))
        return [o for o in self.ops if o in outs]
