"""Latency of anything callable, with the statistics seed 001 documents.

`LatencyMeasurer(warmup_iter, repeats)` times single calls after warm-up and summarises them with
the runtime's one statistics function (mean, std, min, max, p50/p90/p95/p99, the mean's 95 %
confidence interval, in milliseconds).  Every system in a comparison is timed by the same object,
so the numbers are side by side by construction.  `latency()` is the short form the benchmarks
use: repeats of batched calls, for kernels too short to time one call at a time.
"""

from __future__ import annotations

import time

import numpy as np

from ..runtime.timing import ProfileResult, latency_statistics
from .verify import as_numpy

LatencyStats = ProfileResult


def latency(fn, repeat: int = 7, min_time: float = 0.2, warmup: int = 2, warmup_time: float = 0.0) -> ProfileResult:
    """Time `fn()`: `warmup` calls (and more until `warmup_time` seconds have passed: after a quiet
    spell, such as a compile on one core, a shared host runs the next ~0.5 s slower), then `repeat`
    repeats of as many calls as fill min_time / repeat."""
    t0 = time.perf_counter()
    done = 0
    while done < warmup or time.perf_counter() - t0 < warmup_time:
        fn()
        done += 1
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


def _torch_if_loaded():
    import sys

    return sys.modules.get("torch")


def _cuda_sync(example_input):
    """torch.cuda.synchronize when any input tensor lives on a GPU (calls there are asynchronous)."""
    torch = _torch_if_loaded()
    if torch is None:
        return None
    xs = example_input.values() if isinstance(example_input, dict) else (
        example_input if isinstance(example_input, (tuple, list)) else (example_input,))
    if any(getattr(getattr(x, "device", None), "type", "cpu") == "cuda" for x in xs):
        return torch.cuda.synchronize
    return None


def set_graph_inputs(module, example_input) -> None:
    """Feed a graph module: one array, a sequence of arrays (by position), a dict, or seed 001's
    list of (name, array) pairs."""
    if isinstance(example_input, dict):
        items = list(example_input.items())
    elif isinstance(example_input, (tuple, list)):
        pairs = all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in example_input)
        items = list(example_input) if pairs and example_input else list(enumerate(example_input))
    else:
        items = [(0, example_input)]
    for key, value in items:
        module.set_input(key, as_numpy(value))


class LatencyMeasurer:
    """Time a model: `warmup_iter` untimed calls, then `repeats` timed calls, one at a time.

    With `max_seconds`, a slow model is measured in about that long: warm-up stops after a fifth of
    it, and the timed calls after all of it once there are 3 (the statistics say how many ran and
    `time_limited`), so one slow system cannot hold a side-by-side run for hours."""

    def __init__(self, warmup_iter: int = 10, repeats: int = 100, max_seconds: float | None = None):
        for name, value, low in (("warmup_iter", warmup_iter, 0), ("repeats", repeats, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"LatencyMeasurer: {name} must be an int >= {low}, got {value!r}")
        if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float))
                                        or max_seconds <= 0):
            raise ValueError(f"LatencyMeasurer: max_seconds must be a positive number or None, got {max_seconds!r}")
        self.warmup_iter, self.repeats, self.max_seconds = int(warmup_iter), int(repeats), max_seconds

    def measure_callable(self, fn, sync=None) -> dict:
        """Statistics of `fn()` in milliseconds; `sync()` (if given) runs before each clock read."""
        if not callable(fn):
            raise TypeError(f"LatencyMeasurer.measure_callable needs a callable, got {type(fn).__name__}")
        sync = sync or (lambda: None)
        clock, samples, warm, budget = time.perf_counter, [], 0, self.max_seconds
        start = clock()
        while warm < self.warmup_iter and not (budget and clock() - start > budget / 5):
            fn()
            warm += 1
        sync()
        while len(samples) < self.repeats and not (budget and len(samples) >= 3 and clock() - start > budget):
            t0 = clock()
            fn()
            sync()
            samples.append(clock() - t0)
        limited = {"time_limited": True} if len(samples) < self.repeats or warm < self.warmup_iter else {}
        return {**latency_statistics(samples), "warmup": warm, **limited}

    def measure(self, module, example_input) -> dict:
        """Time a graph module's `run()` on `example_input`, a torch module, or any callable model."""
        if hasattr(module, "set_input") and hasattr(module, "run"):
            set_graph_inputs(module, example_input)
            return self.measure_callable(module.run)
        if not callable(module):
            raise TypeError(f"LatencyMeasurer.measure: {type(module).__name__} is neither a graph module "
                            "(set_input/run) nor callable")
        if isinstance(example_input, dict):
            def call():
                return module(**example_input)
        elif isinstance(example_input, (tuple, list)):
            def call():
                return module(*example_input)
        else:
            def call():
                return module(example_input)
        torch = _torch_if_loaded()
        if torch is not None and isinstance(module, torch.nn.Module):
            with torch.inference_mode():
                return self.measure_callable(call, _cuda_sync(example_input))
        return self.measure_callable(call, _cuda_sync(example_input))
