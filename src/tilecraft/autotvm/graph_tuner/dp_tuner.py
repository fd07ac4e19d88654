"""DPTuner: the exact minimum of the layout model by dynamic programming over the graph.

Variables (convolutions, residual merges) are eliminated in graph order; eliminating one
minimises over its states for every combination of the states of the later variables it is
connected to, which is the classic DP over a chain generalised to a graph: on a chain that is one
other variable per step, and a residual block adds the merge that the shortcut connects to (two
or three at a time on ResNet-like graphs, at most max_sch_num states each).  Classic DPTuner
merges the states of a node's several inputs the same way.  A graph where that number grows too
large for `max_table_size` entries is reported, naming the variable, with PBQPTuner to use.
"""

from __future__ import annotations

import math

import numpy as np

from .base_graph_tuner import BaseGraphTuner
from .graph import ConvNode


def solve_dp(domains, unary, pair, max_table_size: int = 1 << 22, names=None) -> list:
    """One state per variable minimising sum(unary) + sum(pair) (variable elimination in index order)."""
    factors = [((v,), np.asarray(u, dtype=float)) for v, u in enumerate(unary)]
    factors += [((i, j), np.asarray(m, dtype=float)) for (i, j), m in pair.items()]
    steps = []
    for v in range(len(domains)):
        mine = [f for f in factors if v in f[0]]
        factors = [f for f in factors if v not in f[0]]
        rest = sorted({u for scope, _ in mine for u in scope} - {v})
        scope = rest + [v]
        size = math.prod(domains[u] for u in scope)
        if size > max_table_size:
            name = names[v] if names else f"variable {v}"
            raise RuntimeError(f"DPTuner: eliminating {name} needs a table of {size} entries (over {len(rest)} "
                               f"connected variables); use PBQPTuner for this graph, or lower max_sch_num")
        total = np.zeros([domains[u] for u in scope])
        for fs, arr in mine:
            order = sorted(range(len(fs)), key=lambda k: scope.index(fs[k]))
            arr = np.transpose(arr, order)
            shape = [domains[u] if u in fs else 1 for u in scope]
            total = total + arr.reshape(shape)
        steps.append((v, rest, np.argmin(total, axis=-1)))
        factors.append((tuple(rest), np.min(total, axis=-1)))
    states = [0] * len(domains)
    for v, rest, arg in reversed(steps):
        states[v] = int(arg[tuple(states[u] for u in rest)])
    return states


class DPTuner(BaseGraphTuner):
    """Classic AutoTVM's DPTuner: per convolution, the record that minimises kernel plus layout-transform time."""

    def __init__(self, *args, max_table_size: int = 1 << 22, **kwargs):
        super().__init__(*args, **kwargs)
        self._max_table_size = max_table_size

    def run(self, **kwargs) -> None:
        domains, unary, pair = self.cost_tables()
        names = [f"conv2d {v.workload[1][1]} -> {v.out_shape}" if isinstance(v, ConvNode) else f"merge {v.shape}"
                 for v in self.variables]
        self._finish(solve_dp(domains, unary, pair, self._max_table_size, names))
