"""RandomTuner: configurations drawn uniformly at random, without replacement."""

from __future__ import annotations

import numpy as np

from .index_based_tuner import IndexBaseTuner
from .tuner import random_unvisited


class RandomTuner(IndexBaseTuner):
    """Draws unvisited indices of `range_idx` (default: the whole space) at random with numpy's
    global generator (seed it with np.random.seed for a repeatable run)."""

    def next_batch(self, batch_size: int) -> list:
        ret = []
        lo, hi = self.range_idx
        while len(ret) < batch_size:
            index = random_unvisited(self.space, self.visited, lo, hi + 1, np.random)
            if index is None:
                break
            self.visited.add(index)
            ret.append(self.space.get(index))
        return ret
