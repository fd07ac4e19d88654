"""ApplyGraphBest: build with the graph tuner's choice, one record per convolution.

    with autotvm.apply_graph_best("graph_opt.log"):
        with tvm.transform.PassContext(opt_level=3):
            lib = relay.build(mod, target="llvm", params=params)

The file holds one record per convolution, in graph order (write_opt_sch2record_file).  For a
convolution it answers the chosen configuration for the chosen kernel's workload and *nothing*
for the other kernel of the same convolution (conv2d_NCHWc.x86 vs conv2d_nchw.x86), so an
enclosing apply_history_best cannot swap in a kernel whose layouts the tuner did not plan for;
every other workload falls through to the enclosing context.

A workload that occurs at several convolutions with different choices is answered per
occurrence, as classic ApplyGraphBest does, by counting: AlterOpLayout asks once per convolution
in graph order (the blocked kernel's workload first), and the k-th question gets the k-th
occurrence's record, which fixes that convolution's blocks.  Questions after the last occurrence
(the kernels of the already re-laid-out graph, where the blocks come from the layouts and the
configuration only sets the register tile) get the workload's most frequent choice.  The count
restarts when the context is entered: with such repeated workloads, run one relay.build per
`with apply_graph_best(...)`.  Workloads with one choice everywhere (the usual case) are a plain
look-up and have no such limit.
"""

from __future__ import annotations

import os
from collections import Counter

from ...tuning.dispatch import DispatchContext
from ...tuning.template import as_tuples
from .graph import DIRECT, NCHWC


def _conv_key(workload) -> tuple:
    """What a convolution's two kernels' workloads share: data, kernel, strides, padding, dilation, dtype."""
    return tuple(workload[1:6]) + (workload[-1],)


class ApplyGraphBest(DispatchContext):
    """The graph tuner's records (a file from write_opt_sch2record_file, or (input, result) pairs)."""

    def __init__(self, records):
        from ..record import load_from_file

        if isinstance(records, (str, os.PathLike)):
            if not os.path.exists(records):
                raise FileNotFoundError(f"apply_graph_best: {os.fspath(records)} does not exist; write it with "
                                        "DPTuner(...).write_opt_sch2record_file(path) after run()")
            records = load_from_file(records)
        self._choices: dict = {}  # conv key -> [(workload, config)] in graph order
        for inp, res in records:
            workload = (inp.task.name,) + as_tuples(inp.task.args)
            if inp.task.name not in (NCHWC, DIRECT):
                raise ValueError(f"apply_graph_best: a record of {inp.task.name} is not a graph tuner record "
                                 f"({NCHWC} or {DIRECT}); use apply_history_best for tuning logs")
            config = inp.config
            config.cost = res.mean_cost
            self._choices.setdefault(_conv_key(workload), []).append((workload, config))
        self._settled = {k: Counter((w, repr(c)) for w, c in v).most_common(1)[0][0] for k, v in self._choices.items()}
        self._count: dict = {}
        self._current: dict = {}

    def __enter__(self):
        self._count, self._current = {}, {}
        return super().__enter__()

    def _pick(self, key, workload):
        choices = self._choices[key]
        if len({(w, repr(c)) for w, c in choices}) == 1:
            return choices[0]
        if workload[0] == NCHWC or key not in self._current:
            k = self._count.get(key, 0)
            self._count[key] = k + 1
            if k < len(choices):
                self._current[key] = choices[k]
            else:
                w, r = self._settled[key]
                self._current[key] = next(c for c in choices if c[0] == w and repr(c[1]) == r)
        return self._current[key]

    def query(self, target, workload):
        if workload is None or workload[0] not in (NCHWC, DIRECT):
            return super().query(target, workload)
        workload = as_tuples(workload)
        key = _conv_key(workload)
        if key not in self._choices:
            return super().query(target, workload)
        chosen, config = self._pick(key, workload)
        return config if chosen == workload else None


def apply_graph_best(records) -> ApplyGraphBest:
    """with autotvm.apply_graph_best("graph_opt.log"): relay.build uses the graph tuner's choices."""
    return ApplyGraphBest(records)
