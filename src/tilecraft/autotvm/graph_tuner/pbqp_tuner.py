"""PBQPTuner: the layout model solved as a partitioned boolean quadratic problem (as classic's).

Each variable has a cost vector and each connected pair a cost matrix.  Variables are removed
one at a time: with no neighbour (R0), with one (R1: its best answer to each neighbour state
moves into the neighbour's vector) or two (R2: into a matrix between the neighbours) exactly;
when every variable left has three or more neighbours, the one with the most is fixed to its
locally best state (RN, the heuristic step: the answer is then not guaranteed optimal).  States
are read back in reverse order, then improved one variable at a time (each set to its best state
given all the others, until none changes), which repairs much of what an RN step gets wrong.
Its cost grows with the number of states squared per pair, not with the graph's width, so it
handles graphs DPTuner's tables cannot.
"""

from __future__ import annotations

import numpy as np

from .base_graph_tuner import BaseGraphTuner


def solve_pbqp(domains, unary, pair) -> list:
    """One state per variable minimising sum(unary) + sum(pair), by PBQP reductions R0/R1/R2/RN."""
    cost = {v: np.asarray(u, dtype=float).copy() for v, u in enumerate(unary)}
    edge: dict = {}  # (a, b) -> matrix [a state, b state], stored both ways
    for (i, j), m in pair.items():
        m = np.asarray(m, dtype=float)
        edge[(i, j)] = edge.get((i, j), 0) + m
        edge[(j, i)] = edge[(i, j)].T
    nbrs = {v: set() for v in cost}
    for i, j in edge:
        nbrs[i].add(j)
    stack = []
    while cost:
        v = min(cost, key=lambda x: (len(nbrs[x]) if len(nbrs[x]) <= 2 else 3, -len(nbrs[x]), x))
        ns = sorted(nbrs[v])
        cv = cost.pop(v)
        mats = [edge.pop((v, u)) for u in ns]
        for u in ns:
            edge.pop((u, v))
            nbrs[u].discard(v)
        del nbrs[v]
        if len(ns) == 1:
            cost[ns[0]] += np.min(cv[:, None] + mats[0], axis=0)
            stack.append((v, ns, mats, cv, None))
        elif len(ns) == 2:
            u, w = ns
            m = np.min(cv[:, None, None] + mats[0][:, :, None] + mats[1][:, None, :], axis=0)
            edge[(u, w)] = edge.get((u, w), 0) + m
            edge[(w, u)] = edge[(u, w)].T
            nbrs[u].add(w)
            nbrs[w].add(u)
            stack.append((v, ns, mats, cv, None))
        else:
            local = cv + sum(np.min(m + cost[u][None, :], axis=1) for u, m in zip(ns, mats))
            x = int(np.argmin(local)) if len(ns) else int(np.argmin(cv))
            for u, m in zip(ns, mats):
                cost[u] += m[x]
            stack.append((v, ns, mats, cv, x))
    states = [0] * len(domains)
    for v, ns, mats, cv, fixed in reversed(stack):
        if fixed is not None:
            states[v] = fixed
            continue
        total = cv + sum(m[:, states[u]] for u, m in zip(ns, mats))
        states[v] = int(np.argmin(total))
    return _improve(states, unary, pair)


def _improve(states, unary, pair, max_sweeps: int = 50) -> list:
    """Set each variable to its best state given the others' until no variable changes."""
    touching: dict = {}
    for (i, j), m in pair.items():
        touching.setdefault(i, []).append((j, np.asarray(m, dtype=float)))
        touching.setdefault(j, []).append((i, np.asarray(m, dtype=float).T))
    for _ in range(max_sweeps):
        changed = False
        for v, u in enumerate(unary):
            total = np.asarray(u, dtype=float) + sum((m[:, states[w]] for w, m in touching.get(v, ())), 0.0)
            best = int(np.argmin(total))
            if total[best] < total[states[v]]:
                states[v], changed = best, True
        if not changed:
            break
    return states


class PBQPTuner(BaseGraphTuner):
    """Classic AutoTVM's PBQPTuner: the same model and interface as DPTuner, solved by PBQP reductions."""

    def run(self, **kwargs) -> None:
        self._finish(solve_pbqp(*self.cost_tables()))
