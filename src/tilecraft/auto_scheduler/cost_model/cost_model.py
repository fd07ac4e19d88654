"""The cost-model interface the search policy talks to, and the model that knows nothing."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class CostModel(ABC):
    """Ranks candidate states of a search task; a higher score means a faster program.

    `update(inputs, results)` learns from measured candidates (MeasureInput / MeasureResult
    lists of equal length); `predict(task, states)` returns one float per state.
    """

    @abstractmethod
    def update(self, inputs, results) -> None:
        """Learn from measured candidates."""

    @abstractmethod
    def predict(self, task, states) -> np.ndarray:
        """One score per state, higher for faster."""


class RandomModel(CostModel):
    """Uniform random scores in [0, 1): the search without a learned model (a baseline)."""

    def __init__(self, seed: int | None = None):
        self._rng = np.random.default_rng(seed)

    def update(self, inputs, results) -> None:
        if len(inputs) != len(results):
            raise ValueError(f"{len(inputs)} measure inputs but {len(results)} results")

    def predict(self, task, states) -> np.ndarray:
        return self._rng.uniform(0.0, 1.0, len(states))
