"""GridSearchTuner: every configuration, in index order."""

from __future__ import annotations

from .index_based_tuner import IndexBaseTuner


class GridSearchTuner(IndexBaseTuner):
    """Measures the indices of `range_idx` (default: the whole space) in increasing order,
    skipping those already visited (e.g. loaded from a log) and those the template's
    `multi_filter` constraints rule out."""

    measure_default_first = False  # the index order is the point

    def __init__(self, task, range_idx=None):
        super().__init__(task, range_idx)
        self.counter = self.range_idx[0]

    def next_batch(self, batch_size: int) -> list:
        ret = []
        last = self.range_idx[1]
        while len(ret) < batch_size and self.counter <= last:
            index = self.counter
            self.counter += 1
            if index not in self.visited and self.space.is_index_valid(index):
                self.visited.add(index)
                ret.append(self.space.get(index))
        return ret

    def reset(self) -> None:
        super().reset()
        self.counter = self.range_idx[0]
