"""time_evaluator: classic TVM's timing loop, with its exact semantics.

One warm-up call, then `repeat` measurements; each runs the function `number` times and
records the mean seconds per call.  When a measurement takes less than `min_repeat_ms`,
`number` grows (to the estimate that reaches min_repeat_ms, and at least by the golden ratio)
and the measurement is redone; the grown `number` carries over to later repeats, as in TVM.

Arguments are checked once, before timing, and the loop calls the native function directly,
so the numbers measure the generated code rather than the Python-side argument checks.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

_CACHE_FLUSH_BYTES = 64 << 20  # larger than the last-level cache of current server CPUs
_flush_buffer = None


def _t95(df: int) -> float:
    """Two-sided 95 % Student-t quantile (Cornish-Fisher expansion; exact table for df < 3)."""
    if df < 3:
        return (12.706, 4.303)[df - 1]
    z = 1.959964
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def latency_statistics(seconds) -> dict:
    """The one summary of timing samples used by every timer here: milliseconds, with the mean's
    95 % confidence interval (Student t), sample standard deviation and linear-interpolated percentiles."""
    xs = np.asarray(list(seconds), dtype=np.float64) * 1e3
    if xs.size == 0:
        raise ValueError("latency_statistics: no samples")
    mean = float(xs.mean())
    std = float(xs.std(ddof=1)) if xs.size > 1 else 0.0
    half = _t95(xs.size - 1) * std / math.sqrt(xs.size) if xs.size > 1 else 0.0
    p50, p90, p95, p99 = (float(v) for v in np.percentile(xs, (50, 90, 95, 99)))
    return {"unit": "ms", "mean": mean, "std": std, "min": float(xs.min()), "max": float(xs.max()),
            "p50": p50, "p90": p90, "p95": p95, "p99": p99, "ci95": [mean - half, mean + half],
            "repeats": int(xs.size)}


@dataclass(frozen=True)
class ProfileResult:
    """Per-repeat mean seconds per call, with summary statistics (seconds; as_dict() in ms)."""

    mean: float
    results: tuple

    @property
    def median(self) -> float:
        return statistics.median(self.results)

    @property
    def std(self) -> float:
        return latency_statistics(self.results)["std"] / 1e3

    @property
    def min(self) -> float:
        return min(self.results)

    @property
    def max(self) -> float:
        return max(self.results)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.results, q))

    def as_dict(self) -> dict:
        return latency_statistics(self.results)

    @staticmethod
    def from_results(results) -> ProfileResult:
        results = tuple(results)
        return ProfileResult(sum(results) / len(results), results)

    def __repr__(self) -> str:
        ms = [f"{r * 1e3:.4f}" for r in self.results]
        return (f"ProfileResult(mean={self.mean * 1e3:.4f} ms, median={self.median * 1e3:.4f} ms, "
                f"std={self.std * 1e3:.4f} ms, results_ms=[{', '.join(ms)}])")


def _flush_cpu_cache() -> None:
    """Evict the caches by writing a buffer larger than the last-level cache."""
    global _flush_buffer
    if _flush_buffer is None:
        _flush_buffer = np.zeros(_CACHE_FLUSH_BYTES // 8, dtype=np.int64)
    _flush_buffer += 1


_PREPROC = {"": None, "cache_flush_cpu_non_first_arg": _flush_cpu_cache}


def time_evaluator(func, dev, number: int = 10, repeat: int = 1, min_repeat_ms: float = 0,
                   limit_zero_time_iterations: int = 100, cooldown_interval_ms: float = 0,
                   repeats_to_cooldown: int = 1, f_preproc: str = ""):
    """Return `evaluator(*args) -> ProfileResult` that times `func` (a runtime Function)."""
    if f_preproc not in _PREPROC:
        raise ValueError(f"time_evaluator: unknown f_preproc {f_preproc!r}; use one of "
                         f"{sorted(k for k in _PREPROC if k)} or ''")
    for name, value in (("number", number), ("repeat", repeat)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"time_evaluator: {name} must be a positive int, got {value!r}")
    if dev != func.device:
        raise ValueError(f"time_evaluator: {func.name} runs on {func.device!r}, not on {dev!r}")
    preproc = _PREPROC[f_preproc]

    def evaluator(*args) -> ProfileResult:
        values = func._prepare(args)
        cfunc = func._cfunc
        rc = cfunc(*values)  # warm-up
        if rc != 0:
            raise RuntimeError(f"time_evaluator warm-up call: {func.failure_message(rc)}")
        n = number
        results = []
        clock = time.perf_counter
        for i in range(repeat):
            if preproc is not None:
                preproc()
            duration_ms = 0.0
            zero_times = 0
            while True:
                if duration_ms > 0:
                    n = max(int(min_repeat_ms / (duration_ms / n) + 1), int(n * 1.618))
                failed = 0
                dev.sync()
                start = clock()
                for _ in range(n):
                    failed |= cfunc(*values)
                dev.sync()
                duration_ms = (clock() - start) * 1e3
                if failed:
                    raise RuntimeError(f"during time_evaluator: {func.failure_message(failed)}")
                if duration_ms == 0:
                    zero_times += 1
                if duration_ms >= min_repeat_ms or zero_times >= limit_zero_time_iterations:
                    break
            results.append(duration_ms / 1e3 / n)
            if cooldown_interval_ms > 0 and (i + 1) % repeats_to_cooldown == 0:
                time.sleep(cooldown_interval_ms / 1e3)
        return ProfileResult(mean=sum(results) / len(results), results=tuple(results))

    return evaluator
