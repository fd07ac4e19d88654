"""Simulated annealing over a space's knobs, to find the configurations a cost model rates best.

`parallel_size` chains walk the space (each step changes one knob of each point); a step to a
better-scored point is always taken, a worse one with probability exp((new - old) / t), the
temperature t falling linearly from temp[0] to temp[1] over `n_iter` steps.  Every point scored
on the way competes for the `num` best, visited ones excluded.  The chains persist between
calls, so each plan continues the search where the last one stopped.

Scoring a point the model has not seen costs a feature extraction; for "knob" features that is
free, for "itervar"/"curve" it is a lowering of the configuration (~1-3 ms).  `max_points`
bounds how many distinct points one call scores, so a plan costs seconds, not minutes, on large
spaces; a space no larger than `max_points` is simply scored point by point (exact, and
cheaper than annealing over it).
"""

from __future__ import annotations

import heapq
import logging
import time

import numpy as np

from .model_based_tuner import ModelOptimizer

logger = logging.getLogger("tilecraft.autotvm")


class SimulatedAnnealingOptimizer(ModelOptimizer):
    def __init__(self, task, n_iter=500, temp=(1, 0), persistent=True, parallel_size=128, early_stop=50,
                 log_interval=50, max_points=None):
        self.task = task
        self.space = task.config_space
        self.dims = np.array(self.space.dims(), dtype=np.int64)
        self.n_iter, self.temp, self.persistent = n_iter, temp, persistent
        self.parallel_size = min(parallel_size, len(self.space))
        self.early_stop = early_stop or 1e9
        self.log_interval = log_interval
        self.max_points = max_points
        self.points = None

    def find_maximums(self, model, num, exclusive) -> list:
        tic = time.time()
        n = len(self.space)
        if self.max_points is not None and n <= self.max_points:
            return self._exhaustive(model, num, exclusive)
        if self.persistent and self.points is not None:
            points = self.points
        else:
            points = self._valid(np.random.choice(n, size=self.parallel_size, replace=False))
        scores = model.predict(points)
        seen = set(points.tolist())
        heap = [(-np.inf, -1 - i) for i in range(num)]  # (score, index); negative indices are placeholders
        in_heap = set(exclusive) | {p for _, p in heap}

        def offer(new_scores, new_points):
            changed = False
            for s, p in zip(new_scores, new_points.tolist()):
                if s > heap[0][0] and p not in in_heap:
                    in_heap.discard(heapq.heapreplace(heap, (float(s), p))[1])
                    in_heap.add(p)
                    changed = True
            return changed

        offer(scores, points)
        t, cool = (self.temp[0], (self.temp[0] - self.temp[1]) / (self.n_iter + 1)) \
            if isinstance(self.temp, (tuple, list)) else (self.temp, 0.0)
        k = k_last_modify = 0
        while k < self.n_iter and k < k_last_modify + self.early_stop:
            if self.max_points is not None and len(seen) >= self.max_points:
                break
            new_points = self._walk(points)
            new_scores = model.predict(new_points)
            seen.update(new_points.tolist())
            with np.errstate(invalid="ignore", over="ignore"):
                ac_prob = np.exp(np.minimum((new_scores - scores) / (t + 1e-5), 1))
            accept = np.random.random(len(ac_prob)) < np.nan_to_num(ac_prob, nan=0.0)
            points[accept], scores[accept] = new_points[accept], new_scores[accept]
            if offer(new_scores, new_points):
                k_last_modify = k
            k += 1
            t -= cool
            if self.log_interval and k % self.log_interval == 0:
                logger.debug("SA iter: %d\tlast_update: %d\tmax-0: %.2f\ttemp: %.2f\telapsed: %.2f", k,
                             k_last_modify, max(s for s, _ in heap), t, time.time() - tic)
        if self.persistent:
            self.points = points
        heap.sort(key=lambda x: -x[0])
        logger.debug("SA: %d iterations, %d points scored, %.2f s", k, len(seen), time.time() - tic)
        return [p for s, p in heap if p >= 0 and np.isfinite(s)]

    def _exhaustive(self, model, num, exclusive) -> list:
        rest = np.array([i for i in range(len(self.space)) if i not in exclusive and self.space.is_index_valid(i)],
                        dtype=np.int64)
        if len(rest) == 0:
            return []
        scores = model.predict(rest)
        order = np.argsort(-scores, kind="stable")[:num]
        return [int(rest[i]) for i in order if np.isfinite(scores[i])]

    def _walk(self, points: np.ndarray) -> np.ndarray:
        """Each point with one knob (of more than one value) changed to another value, where the
        result is a valid point (else the point stays)."""
        movable = np.flatnonzero(self.dims > 1)
        if len(movable) == 0:
            return points.copy()
        radix = np.concatenate([[1], np.cumprod(self.dims)[:-1]])
        js = movable[np.random.randint(len(movable), size=len(points))]
        dim, r = self.dims[js], radix[js]
        old = (points // r) % dim
        new = (old + 1 + np.random.randint(0, dim - 1)) % dim
        moved = points + (new - old) * r
        valid = np.fromiter((self.space.is_index_valid(int(q)) for q in moved), dtype=bool, count=len(moved))
        return np.where(valid, moved, points)

    def _valid(self, points: np.ndarray) -> np.ndarray:
        """Starting points, each replaced by a random valid one where it is not valid."""
        for i, p in enumerate(points.tolist()):
            for _ in range(100):
                if self.space.is_index_valid(p):
                    break
                p = int(np.random.randint(len(self.space)))
            points[i] = p
        return points.astype(np.int64)
