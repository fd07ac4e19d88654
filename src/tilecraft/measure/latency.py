"""Latency statistics: repeats of calls after warm-up; each repeat lasts long enough to time."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencyStats:
    """Seconds per call over repeats."""

    results: tuple

    @property
    def median(self) -> float:
        return statistics.median(self.results)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.results)

    @property
    def std(self) -> float:
        return statistics.pstdev(self.results) if len(self.results) > 1 else 0.0

    @property
    def min(self) -> float:
        return min(self.results)

    @property
    def max(self) -> float:
        return max(self.results)

    def percentile(self, q: float) -> float:
        xs = sorted(self.results)
        return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]

    def as_dict(self) -> dict:
        return {"median_ms": self.median * 1e3, "mean_ms": self.mean * 1e3, "std_ms": self.std * 1e3,
                "min_ms": self.min * 1e3, "max_ms": self.max * 1e3, "p90_ms": self.percentile(90) * 1e3,
                "repeats": len(self.results)}


def latency(fn, repeat: int = 7, min_time: float = 0.2, warmup: int = 2) -> LatencyStats:
    """Time `fn()`: `warmup` calls, then `repeat` repeats of as many calls as fill min_time / repeat."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(min_time / repeat / one))
    results = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        results.append((time.perf_counter() - t0) / number)
    return LatencyStats(tuple(results))
