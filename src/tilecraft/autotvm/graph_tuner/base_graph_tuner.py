"""What DPTuner and PBQPTuner share: the model's candidates, layout-transform costs, and the output.

    tuner = DPTuner(mod["main"], {"data": dshape}, "tune.log", [relay.op.get("nn.conv2d")], "llvm",
                    params=params)
    tuner.benchmark_layout_transform(min_exec_num=2000)
    tuner.run()
    tuner.write_opt_sch2record_file("graph_opt.log")

The candidates of a convolution are its records in the log (classic: per pair of channel blocks
(tile_ic, tile_oc) only the fastest record, then the `max_sch_num` fastest pairs), plus the
fastest direct-kernel record (conv2d_nchw.x86, plain NCHW in and out) when the log has one.  A
convolution without records gets the template's fallback, in one variant per input block, at
cost 0 (unmeasured): that is what AlterOpLayout does with an untuned convolution, which reads the
block it receives.  Kernel costs are the records' mean costs; layout-transform costs come from
`benchmark_layout_transform` (the transforms AlterOpLayout would insert, built with relay.build
and timed with time_evaluator) or from a `layout_cost(shape, src_block, dst_block)` function.
"""

from __future__ import annotations

import logging
import math
import os
import time

import numpy as np

from ...ir.module import IRModule
from ...ir.transform import PassContext
from ...relay.build_module import bind_params_by_name
from ...relay.expr import Function
from ...relay.op.registry import Op
from ...relay.transform import InferType, optimization_passes
from ...transform import Sequential
from ...tuning.measure import MeasureResult
from ...tuning.space import SplitEntity
from ...tuning.template import as_tuples, deserialize_args, get_template
from ..measure import MeasureInput
from ..record import encode, load_from_file
from ..task.task import create
from .graph import DIRECT, NCHWC, Candidate, ConvNode, LayoutGraph

logger = logging.getLogger("tilecraft.autotvm.graph_tuner")


def _layout(block) -> str:
    return "NCHW" if block is None else f"NCHW{block}c"


class BaseGraphTuner:
    """Reads the graph and the records; DPTuner and PBQPTuner add `run()`.

    graph: mod["main"]; input_shapes: {name: shape} of the data inputs (every other parameter is a
    weight, bound as a constant by relay.build); records: a log file or (input, result) pairs;
    target_ops: [relay.op.get("nn.conv2d")]; params: the weights (optional, as in classic);
    layout_cost: fn(NCHW shape, src block, dst block) -> seconds, instead of benchmarking.
    """

    def __init__(self, graph, input_shapes: dict, records, target_ops, target, max_sch_num: int = 20,
                 dtype: str = "float32", params=None, layout_cost=None, verbose: bool = False):
        from ...driver.build_module import resolve_target

        if isinstance(graph, IRModule):
            graph = graph["main"]
        if not isinstance(graph, Function):
            raise TypeError(f"{type(self).__name__}: graph must be a relay Function (mod['main']), "
                            f"got {type(graph).__name__}")
        names = {p.name_hint for p in graph.params}
        unknown = [k for k in input_shapes if k not in names]
        if unknown:
            raise KeyError(f"{type(self).__name__}: input_shapes names {unknown}, which are not inputs of the "
                           f"graph; its inputs are {sorted(names)}")
        for op in target_ops if isinstance(target_ops, (list, tuple)) else [target_ops]:
            name = op.name if isinstance(op, Op) else str(op)
            if name != "nn.conv2d":
                raise ValueError(f"{type(self).__name__}: target op {name} is not supported; the graph tuner "
                                 "chooses layouts for nn.conv2d only (pass [relay.op.get('nn.conv2d')])")
        self._target = resolve_target(target)
        self._max_sch_num, self._dtype, self._verbose = max_sch_num, dtype, verbose
        self._layout_cost_fn = layout_cost
        self._transform_costs: dict = {}  # (shape, src block, dst block) -> seconds
        self._choice: list | None = None  # state per variable, after run()
        if params:
            graph = bind_params_by_name(graph, params)
        with PassContext(opt_level=3, disabled_pass=["AlterOpLayout"]), self._target:
            mod = Sequential([InferType(), *optimization_passes()])(_module(graph))
            self._graph = LayoutGraph(mod["main"], input_shapes, self._target)
        self._records = _by_workload(records, self._target.kind)
        for v in self._graph.convs:
            self._candidates(self._graph.variables[v])
        self._graph.set_merge_states()

    # ---------------------------------------------------------------- candidates
    def _candidates(self, node: ConvNode) -> None:
        best: dict = {}  # (ib, ob) -> Candidate
        args = deserialize_args(node.workload[1:])
        for inp, res in self._records.get(node.workload, ()):
            if not get_template(NCHWC).accepts(inp.config, args):
                continue  # a record of another template version: the build would not use it either
            ib, ob = inp.config["tile_ic"].size[-1], inp.config["tile_oc"].size[-1]
            c = Candidate(inp, res, int(ib), int(ob), res.mean_cost)
            if (c.ib, c.ob) not in best or c.cost < best[(c.ib, c.ob)].cost:
                best[(c.ib, c.ob)] = c
        direct = []
        if node.direct_workload is not None:
            dargs = deserialize_args(node.direct_workload[1:])
            direct = [Candidate(i, r, None, None, r.mean_cost) for i, r in self._records.get(node.direct_workload, ())
                      if get_template(DIRECT).accepts(i.config, dargs)]
        if direct:
            best[(None, None)] = min(direct, key=lambda c: c.cost)
        node.candidates = sorted(best.values(), key=lambda c: c.cost)[: self._max_sch_num]
        if not node.candidates:
            node.candidates = self._fallbacks(node)

    def _fallbacks(self, node: ConvNode) -> list:
        """The template's fallback, once per input block the space allows (at most 64, as its filter)."""
        task = create(NCHWC, deserialize_args(node.workload[1:]), self._target)
        fb, space = task.fallback_config(), task.config_space
        ob = fb["tile_oc"].size[-1]
        ibs = [fb["tile_ic"].size[-1]] + [e.size[-1] for e in space.space_map["tile_ic"].entities
                                          if e.size[-1] % 8 == 0 and e.size[-1] != fb["tile_ic"].size[-1]]
        out = []
        for ib in ibs:
            knobs = []
            for name, knob in space.space_map.items():
                want = {"tile_ic": ib, "tile_oc": ob}.get(name)
                if want is None and isinstance(fb[name], SplitEntity):
                    want = fb[name].size[-1]
                match = [k for k, e in enumerate(knob.entities)
                         if (e.size[-1] == want if want is not None else e == fb[name])]
                knobs.append(match[0])
            config = space.get(space.knob2point(knobs))
            res = MeasureResult((0.0,), 0, "", 0.0, time.time())
            out.append(Candidate(MeasureInput(self._target, task, config), res, int(ib), int(ob), 0.0))
        logger.info("no records for %s: its fallback configuration is used", node.workload)
        return out

    # ---------------------------------------------------------------- layout-transform costs
    def _needed_transforms(self) -> set:
        g, keys = self._graph, set()
        for f in g.factors:
            srcs = [None] if f.src is None else g.variables[f.src].outs
            if f.kind == "feed":
                dsts = [c.ib for c in g.variables[f.dst].candidates]
            elif f.kind == "merge":
                dsts = g.variables[f.dst].outs
            else:
                dsts = [None]
            keys.update((f.shape, a, b) for a in srcs for b in dsts if a != b)
        return keys

    def benchmark_layout_transform(self, min_exec_num: int = 100, repeat: int = 1) -> dict:
        """Time every layout transform the model may need (AlterOpLayout's: through NCHW, one fused
        kernel), built with relay.build for this tuner's target and run `min_exec_num` times."""
        from ... import relay
        from ...relay.build_module import build

        if self._target.kind != "llvm":
            raise ValueError(f"benchmark_layout_transform: target {self._target} is not a CPU (llvm) target")
        from ...runtime import cpu
        from ...runtime.ndarray import array, empty

        dev = cpu(0)
        todo = sorted(self._needed_transforms() - set(self._transform_costs), key=repr)
        for shape, a, b in todo:
            n, c, h, w = shape
            in_shape = (n, c, h, w) if a is None else (n, c // a, h, w, a)
            x = relay.var("x", shape=in_shape, dtype=self._dtype)
            y = x if a is None else relay.layout_transform(x, _layout(a), "NCHW")
            y = y if b is None else relay.layout_transform(y, "NCHW", _layout(b))
            with PassContext(opt_level=3):
                lib = build(_module(relay.Function([x], y)), target=self._target)
            out_shape = (n, c, h, w) if b is None else (n, c // b, h, w, b)
            args = [array(np.random.rand(*in_shape).astype(self._dtype), dev), empty(out_shape, self._dtype, dev)]
            seconds = 0.0
            for fname in _kernels(lib):
                ev = lib.get_lib().time_evaluator(fname, dev, number=min_exec_num, repeat=repeat)
                seconds += ev(*args).mean
            self._transform_costs[(shape, a, b)] = seconds
            if self._verbose:
                logger.info("layout_transform %s %s -> %s: %.2f us", shape, _layout(a), _layout(b), seconds * 1e6)
        return dict(self._transform_costs)

    def layout_transform_cost(self, shape, src_block, dst_block) -> float:
        """Seconds to move a value of NCHW shape `shape` from block src_block to dst_block (None: NCHW)."""
        if src_block == dst_block:
            return 0.0
        key = (tuple(shape), src_block, dst_block)
        if key not in self._transform_costs:
            if self._layout_cost_fn is None:
                raise RuntimeError(f"{type(self).__name__}: no cost for layout_transform {shape} "
                                   f"{_layout(src_block)} -> {_layout(dst_block)}; call "
                                   "benchmark_layout_transform() before run(), or pass layout_cost=fn")
            self._transform_costs[key] = float(self._layout_cost_fn(tuple(shape), src_block, dst_block))
        return self._transform_costs[key]

    # ---------------------------------------------------------------- the cost model as tables
    def cost_tables(self):
        """(domain sizes, unary cost vectors, {(i, j): matrix[i state, j state]}) with i < j."""
        g = self._graph
        unary = [np.array([c.cost for c in v.candidates], dtype=float) if isinstance(v, ConvNode)
                 else np.zeros(len(v.outs)) for v in g.variables]
        pair: dict = {}
        T = self.layout_transform_cost
        for f in g.factors:
            if f.kind == "sink":
                unary[f.src] += [T(f.shape, o, None) for o in g.variables[f.src].outs]
                continue
            dst = g.variables[f.dst]
            dsts = [c.ib for c in dst.candidates] if f.kind == "feed" else dst.outs
            srcs = [None] if f.src is None else g.variables[f.src].outs
            m = np.array([[_edge(T, f.kind, f.shape, o, d) for d in dsts] for o in srcs])
            if f.src is None:
                unary[f.dst] += m[0]
            elif f.src < f.dst:
                pair[(f.src, f.dst)] = pair.get((f.src, f.dst), 0) + m
            else:
                pair[(f.dst, f.src)] = pair.get((f.dst, f.src), 0) + m.T
        return [len(u) for u in unary], unary, pair

    def total_cost(self, states) -> float:
        """The model's cost (seconds) of one state per variable (ConvNodes and merges, graph order)."""
        _, unary, pair = self.cost_tables()
        return float(sum(u[s] for u, s in zip(unary, states)) +
                     sum(m[states[i], states[j]] for (i, j), m in pair.items()))

    @property
    def variables(self) -> list:
        return self._graph.variables

    # ---------------------------------------------------------------- results
    def _chosen(self) -> list:
        if self._choice is None:
            raise RuntimeError(f"{type(self).__name__}: call run() before asking for the optimal records")
        return [self._graph.variables[v].candidates[self._choice[v]] for v in self._graph.convs]

    def get_optimal_records(self) -> list:
        """[(MeasureInput, MeasureResult)], one per convolution in graph order."""
        return [(c.inp, c.res) for c in self._chosen()]

    def write_opt_sch2record_file(self, record_file="graph_opt_schedule.log") -> None:
        """Write the chosen records (v0.2, one per convolution in graph order) for apply_graph_best."""
        with open(os.fspath(record_file), "w") as f:
            for inp, res in self.get_optimal_records():
                f.write(encode(inp, res) + "\n")

    def _finish(self, choice) -> None:
        self._choice = [int(s) for s in choice]
        if self._verbose:
            logger.info("%s: model cost %.3f ms", type(self).__name__, self.total_cost(self._choice) * 1e3)


def _edge(T, kind, shape, src, dst) -> float:
    if kind == "feed" or src == dst:
        return T(shape, src, dst)
    if src is not None and dst is not None:
        return math.inf  # two different blocks never meet: AlterOpLayout would go through NCHW
    return T(shape, src, dst)


def _module(func):
    return IRModule({"main": func})


def _kernels(lib) -> list:
    import json

    return [n["attrs"]["func_name"] for n in json.loads(lib.get_graph_json())["nodes"] if n["op"] == "tvm_op"]


def _by_workload(records, kind: str) -> dict:
    """{workload: [(inp, res)]} of the valid records for targets of `kind` in a log file (or pairs)."""
    if isinstance(records, (str, os.PathLike)):
        if not os.path.exists(records):
            raise FileNotFoundError(f"graph tuner: the tuning log {os.fspath(records)} does not exist; tune the "
                                    "model's tasks first (autotvm.task.extract_from_program + a tuner)")
        records = load_from_file(records)
    out: dict = {}
    for inp, res in records:
        if res.error_no == 0 and inp.task.name in (NCHWC, DIRECT) and getattr(inp.target, "kind", kind) == kind:
            out.setdefault((inp.task.name,) + as_tuples(inp.task.args), []).append((inp, res))
    return out
