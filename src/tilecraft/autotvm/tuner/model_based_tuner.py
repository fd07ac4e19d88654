"""Tuners guided by a cost model (classic AutoTVM's ModelBasedTuner).

Every `plan_size` measurements the cost model is retrained on everything measured so far and
the model optimizer (simulated annealing over the space) picks the `plan_size` unvisited
configurations the model rates best: the *plan*.  The tuner measures the plan in order, except
its last 5 %, which are random unvisited points (epsilon-greedy), so a wrong model still sees
new regions.  Before the first training (and with no model from a loaded log) points are random.

With `diversity_filter_ratio` the optimizer returns `ratio * plan_size` candidates and a greedy
submodular pick keeps the `plan_size` of them that score well *and* differ in their knob values.
"""

from __future__ import annotations

import abc
import logging

import numpy as np

from .tuner import Tuner, random_unvisited, result_flops

logger = logging.getLogger("tilecraft.autotvm")


class CostModel(abc.ABC):
    """Predicts how fast configurations (indices of one task's space) are: higher is faster."""

    @abc.abstractmethod
    def fit(self, xs, ys, plan_size) -> None:
        """Train on measured indices `xs` and their FLOP/s `ys` (0 for failures)."""

    @abc.abstractmethod
    def fit_log(self, records, plan_size, min_seed_records=500) -> bool:
        """Train on (MeasureInput, MeasureResult) records of other workloads; False when too few."""

    @abc.abstractmethod
    def predict(self, xs, output_margin=False) -> np.ndarray:
        """Scores of indices `xs` (-inf for a configuration that cannot be lowered)."""

    @abc.abstractmethod
    def spawn_base_model(self) -> CostModel:
        """A fresh model of the same kind, for transfer learning from other workloads' records."""

    @abc.abstractmethod
    def set_base_model(self, base_model) -> None:
        """Use `base_model`'s predictions as the prior this model's training corrects."""


class ModelOptimizer(abc.ABC):
    """Finds the indices a cost model scores highest."""

    @abc.abstractmethod
    def find_maximums(self, model, num, exclusive) -> list:
        """Up to `num` indices not in `exclusive`, best first."""


class ModelBasedTuner(Tuner):
    """A tuner that measures what `cost_model` (searched by `model_optimizer`) predicts is fastest."""

    def __init__(self, task, cost_model, model_optimizer, plan_size, diversity_filter_ratio=None):
        super().__init__(task)
        if not isinstance(plan_size, int) or plan_size < 1:
            raise ValueError(f"{type(self).__name__}: plan_size must be a positive integer, got {plan_size!r}")
        if diversity_filter_ratio is not None and diversity_filter_ratio < 1:
            raise ValueError(f"{type(self).__name__}: diversity_filter_ratio must be at least 1, "
                             f"got {diversity_filter_ratio!r}")
        self.cost_model, self.model_optimizer = cost_model, model_optimizer
        self.plan_size, self.diversity_filter_ratio = plan_size, diversity_filter_ratio
        self.dims = self.space.dims()
        self._start()

    def _start(self) -> None:
        self.trials: list = []
        self.trial_pt = 0
        self.xs: list = []  # measured indices
        self.ys: list = []  # their FLOP/s
        self.flops_max = 0.0
        self.train_ct = 0

    def next_batch(self, batch_size: int) -> list:
        ret = []
        epsilon_tail = int(0.05 * self.plan_size)
        while len(ret) < batch_size and len(self.visited) < len(self.space):
            while self.trial_pt < len(self.trials):
                index = self.trials[self.trial_pt]
                if index not in self.visited and self.space.is_index_valid(index):
                    break
                self.trial_pt += 1
            if self.trial_pt >= len(self.trials) - epsilon_tail:
                # no plan yet, or its last 5 %: explore at random
                index = random_unvisited(self.space, self.visited)
                if index is None:
                    break
            else:
                self.trial_pt += 1
            self.visited.add(index)
            ret.append(self.space.get(index))
        return ret

    def update(self, inputs, results) -> None:
        for inp, res in zip(inputs, results):
            self._add(inp.config.index, result_flops(self.task, res))
        self._maybe_train()

    def _add(self, index: int, flops: float) -> None:
        self.xs.append(index)
        self.ys.append(flops)
        self.flops_max = max(self.flops_max, flops)

    def _maybe_train(self) -> None:
        """Every plan_size measurements: retrain and plan the next configurations."""
        if len(self.xs) < self.plan_size * (self.train_ct + 1) or self.flops_max <= 1e-6:
            return
        self.cost_model.fit(self.xs, self.ys, self.plan_size)
        self._plan()
        self.train_ct = len(self.xs) // self.plan_size

    def _plan(self) -> None:
        if self.diversity_filter_ratio:
            candidate = self.model_optimizer.find_maximums(
                self.cost_model, int(self.plan_size * self.diversity_filter_ratio), self.visited)
            knobs = [self.space.point2knob(x) for x in candidate]
            # candidates are all near the top: pick for diversity alone (classic)
            pick = submodular_pick(np.zeros(len(candidate)), knobs, self.plan_size, knob_weight=1)
            maximums = [candidate[i] for i in pick]
        else:
            maximums = self.model_optimizer.find_maximums(self.cost_model, self.plan_size, self.visited)
        self.trials, self.trial_pt = list(maximums), 0

    def reset(self) -> None:
        super().reset()
        self._start()
        self.cost_model = self.cost_model.spawn_base_model()  # an untrained model of the same kind

    def load_history(self, data_set, min_seed_records=500) -> None:
        """As Tuner.load_history; besides, this task's records join the training data, and other
        workloads' records (at least min_seed_records of them) train a base model that guides the
        search until this task's own measurements correct it (transfer learning)."""
        mine, others = self.split_history(data_set)
        for inp, res in mine:
            self._add(inp.config.index, result_flops(self.task, res))
        if others:
            base = self.cost_model.spawn_base_model()
            if base.fit_log(others, self.plan_size, min_seed_records):
                self.cost_model.set_base_model(base)
                if len(self.xs) < self.plan_size:
                    self._plan()
        self._maybe_train()


def submodular_pick(scores, knobs, n_pick, knob_weight=1.0) -> list:
    """Greedily pick `n_pick` of the candidates, maximising score plus `knob_weight` times the
    number of knob values not yet among the picked (so the picks differ from each other)."""
    n = len(scores)
    if n == 0:
        return []
    n_knobs = len(knobs[0])
    seen = [set() for _ in range(n_knobs)]
    remain = list(range(n))
    ret = []
    for _ in range(min(n_pick, n)):
        best, best_gain = -1, -np.inf
        for i in remain:
            gain = scores[i] + knob_weight * sum(knobs[i][j] not in seen[j] for j in range(n_knobs))
            if gain > best_gain:
                best, best_gain = i, gain
        ret.append(best)
        remain.remove(best)
        for j in range(n_knobs):
            seen[j].add(knobs[best][j])
    return ret
