"""GATuner: a genetic algorithm over the knobs of a space (classic AutoTVM's).

A gene is a configuration's knob indices (`space.point2knob`), its fitness the measured FLOP/s.
Each generation is `pop_size` genes; when all are measured the next generation is bred: the
`elite_num` best genes so far are kept as parents, two parents are drawn with probability
proportional to fitness, a one-point crossover joins them, and each knob mutates with
`mutation_prob`.  A child that was already visited is mutated again until it is new, so no
configuration is measured twice (classic TVM's GA could re-measure; this one does not).
"""

from __future__ import annotations

import numpy as np

from .tuner import Tuner, random_unvisited, result_flops


class GATuner(Tuner):
    """Genetic algorithm tuner: `GATuner(task, pop_size=100, elite_num=3, mutation_prob=0.1)`."""

    def __init__(self, task, pop_size=100, elite_num=3, mutation_prob=0.1):
        super().__init__(task)
        if pop_size < 1 or elite_num < 0 or not 0 <= mutation_prob <= 1:
            raise ValueError(f"GATuner: need pop_size >= 1, elite_num >= 0 and 0 <= mutation_prob <= 1, got "
                             f"pop_size={pop_size}, elite_num={elite_num}, mutation_prob={mutation_prob}")
        self.dims = self.space.dims()
        self.pop_size = min(int(pop_size), len(self.space))
        self.elite_num = min(self.pop_size, int(elite_num))
        self.mutation_prob = float(mutation_prob)
        self._start()

    def _start(self) -> None:
        self.genes: list = []  # the generation being measured (knob lists)
        self.scores: list = []  # fitness of genes[:len(scores)]
        self.elites: list = []
        self.elite_scores: list = []
        self.trial_pt = 0
        self.genes = self._random_genes(self.pop_size)

    def _random_genes(self, n: int) -> list:
        genes = []
        for _ in range(n):
            index = random_unvisited(self.space, self.visited)
            if index is None:
                break
            self.visited.add(index)
            genes.append(self.space.point2knob(index))
        return genes

    def has_next(self) -> bool:
        return self.trial_pt < len(self.genes) or len(self.visited) < len(self.space)

    def next_batch(self, batch_size: int) -> list:
        if self.trial_pt >= len(self.genes):  # e.g. every gene was loaded from a log: breed at once
            self._breed()
        batch = self.genes[self.trial_pt:self.trial_pt + batch_size]
        self.trial_pt += len(batch)
        return [self.space.get(self.space.knob2point(g)) for g in batch]

    def update(self, inputs, results) -> None:
        for inp, res in zip(inputs, results):
            n = len(self.scores)
            if n < len(self.genes) and self.space.knob2point(self.genes[n]) == inp.config.index:
                self.scores.append(result_flops(self.task, res))  # (the default configuration is no gene)
        if len(self.scores) >= len(self.genes):
            self._breed()

    def _breed(self) -> None:
        """Replace the measured generation by its children (elites kept as parents)."""
        genes = self.genes[:len(self.scores)] + self.elites
        scores = np.array(self.scores[:len(self.genes)] + self.elite_scores, dtype=np.float64)
        self.trial_pt, self.scores = 0, []
        if len(self.visited) >= len(self.space):
            self.genes = []
            return
        if not genes:
            self.genes = self._random_genes(self.pop_size)
            return
        keep = min(self.elite_num, len(genes))
        order = np.argsort(-scores, kind="stable")[:keep]
        self.elites = [list(genes[i]) for i in order]
        self.elite_scores = [float(scores[i]) for i in order]
        probs = scores + 1e-8
        probs = probs / probs.sum()
        children = []
        for _ in range(self.pop_size):
            if len(self.visited) >= len(self.space):
                break
            if len(genes) > 1:
                a, b = np.random.choice(len(genes), size=2, replace=False, p=probs)
            else:
                a = b = 0
            point = np.random.randint(len(self.dims)) if self.dims else 0
            child = list(genes[a][:point]) + list(genes[b][point:])
            for j, dim in enumerate(self.dims):
                if np.random.random() < self.mutation_prob:
                    child[j] = np.random.randint(dim)
            child = self._make_new(child)
            if child is None:
                break
            children.append(child)
        self.genes = children

    def _make_new(self, gene):
        """`gene`, mutated one knob at a time until it is an unvisited valid point (then visited)."""
        for _ in range(100):
            index = self.space.knob2point(gene)
            if index not in self.visited and self.space.is_index_valid(index):
                self.visited.add(index)
                return gene
            j = np.random.randint(len(self.dims))
            gene[j] = np.random.randint(self.dims[j])
        index = random_unvisited(self.space, self.visited)  # a crowded neighbourhood: jump anywhere
        if index is None:
            return None
        self.visited.add(index)
        return self.space.point2knob(index)

    def reset(self) -> None:
        super().reset()
        self._start()

    def load_history(self, data_set, min_seed_records=500) -> None:
        """As Tuner.load_history; besides, the best logged configurations of this task become the
        elites (parents of the next generation), and genes of the current generation that the log
        already has are dropped."""
        mine, _ = self.split_history(data_set)
        if not mine:
            return
        logged = sorted(mine, key=lambda p: -result_flops(self.task, p[1]))[:self.elite_num]
        self.elites = [self.space.point2knob(inp.config.index) for inp, _ in logged]
        self.elite_scores = [result_flops(self.task, res) for _, res in logged]
        done = {inp.config.index for inp, _ in mine}
        pending = [g for g in self.genes[self.trial_pt:] if self.space.knob2point(g) not in done]
        self.genes = self.genes[:self.trial_pt] + pending
