"""Latency of any Python callable: repeats of calls after warm-up, each long enough to time.

The statistics are the runtime's ProfileResult (median, mean, std, min, max, percentiles)."""

from __future__ import annotations

import time

from ..runtime.timing import ProfileResult

LatencyStats = ProfileResult


def latency(fn, repeat: int = 7, min_time: float = 0.2, warmup: int = 2) -> ProfileResult:
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
    return ProfileResult.from_results(results)
