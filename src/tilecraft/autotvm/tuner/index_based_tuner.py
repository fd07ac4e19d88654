"""Tuners that walk the indices of a space (or a sub-range of it) without a model."""

from __future__ import annotations

import numbers

from .tuner import Tuner


class IndexBaseTuner(Tuner):
    """A tuner over the indices `range_idx = (first, last)` (inclusive; None: the whole space)."""

    def __init__(self, task, range_idx=None):
        super().__init__(task)
        n = len(self.space)
        if range_idx is None:
            range_idx = (0, n - 1)
        ok = (isinstance(range_idx, (tuple, list)) and len(range_idx) == 2
              and all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in range_idx)
              and 0 <= range_idx[0] <= range_idx[1] < n)
        if not ok:
            raise ValueError(f"{type(self).__name__}: range_idx must be (first, last) with 0 <= first <= last < "
                             f"{n} (the space of {task.name} has {n} points), got {range_idx!r}")
        self.range_idx = (int(range_idx[0]), int(range_idx[1]))

    def in_range(self, index: int) -> bool:
        return self.range_idx[0] <= index <= self.range_idx[1]

    def has_next(self) -> bool:
        lo, hi = self.range_idx
        return sum(1 for i in self.visited if lo <= i <= hi) < hi - lo + 1
