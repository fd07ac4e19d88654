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


# ---------------------------------------------------------------------- the machine's peak
@dataclass(frozen=True)
class MachinePeak:
    """What the kernels are measured against: peak GFLOP/s (fp32) and peak memory GB/s (bytes read +
    written), each with how it was obtained.  Override with machine_peak(gflops=, gbps=) or the
    environment variables TILECRAFT_PEAK_GFLOPS / TILECRAFT_PEAK_GBPS."""

    gflops: float
    gbps: float
    gflops_source: str = ""
    gbps_source: str = ""

    @property
    def balance(self) -> float:
        """flop per byte at which a kernel turns from memory-bound to compute-bound (the roofline's ridge)."""
        return self.gflops / self.gbps if self.gbps > 0 else math.inf

    def __str__(self) -> str:
        return (f"peak {self.gflops:.0f} GFLOP/s ({self.gflops_source}), "
                f"{self.gbps:.1f} GB/s ({self.gbps_source})")


def _cpu_info() -> dict:
    """vendor, flags and MHz of the first CPU in /proc/cpuinfo ({} where there is none)."""
    info: dict = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    if info:
                        break
                    continue
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        return {}
    return info


def _max_mhz(info: dict) -> tuple:
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as f:
            return int(f.read().strip()) / 1e3, "cpufreq max"
    except (OSError, ValueError):
        pass
    try:
        return float(info["cpu MHz"]), "/proc/cpuinfo MHz"
    except (KeyError, ValueError):
        return 3000.0, "assumed 3 GHz"


def peak_gflops_estimate(threads: int | None = None) -> tuple:
    """(GFLOP/s, how) from the CPU: fp32 vector lanes x 2 (an FMA is two flops) x FMA units x clock x threads.

    AVX-512 gives 16 lanes (AMD runs it on two 256-bit FMA units: 16 x 1 unit), AVX/AVX2 8, SSE 4;
    two FMA units when the CPU has FMA, else one multiply and one add port (counted as one unit of
    two flops).  The clock is cpufreq's maximum, else /proc/cpuinfo's current MHz."""
    info = _cpu_info()
    flags = set(info.get("flags", "").split())
    amd = "AMD" in info.get("vendor_id", "") + info.get("model name", "")
    if "avx512f" in flags:
        lanes, isa = 16, "AVX-512"
    elif "avx2" in flags or "avx" in flags:
        lanes, isa = 8, "AVX2" if "avx2" in flags else "AVX"
    else:
        lanes, isa = 4, "SSE"
    units = 2 if "fma" in flags else 1
    if lanes == 16 and amd:
        units = 1
    mhz, clock = _max_mhz(info)
    if threads is None:
        from .openmp import num_threads

        threads = num_threads()
    per_cycle = lanes * 2 * units
    return (per_cycle * mhz / 1e3 * threads,
            f"{isa}: {per_cycle} flop/cycle x {mhz / 1e3:.2f} GHz ({clock}) x {threads} threads")


_bandwidth_cache: dict = {}


def measured_bandwidth_gbps() -> tuple:
    """(GB/s, how): the best of a few numpy copies of 32 MiB (bytes read + written; one thread, so a
    floor of what several threads reach)."""
    if "v" not in _bandwidth_cache:
        src = np.ones(32 << 18, dtype=np.float32)  # 32 MiB
        dst = np.empty_like(src)
        best = math.inf
        for _ in range(5):
            t0 = time.perf_counter()
            np.copyto(dst, src)
            best = min(best, time.perf_counter() - t0)
        _bandwidth_cache["v"] = (2 * src.nbytes / best / 1e9, "measured: 1-thread copy of 32 MiB")
    return _bandwidth_cache["v"]


def machine_peak(gflops: float | None = None, gbps: float | None = None, threads: int | None = None) -> MachinePeak:
    """The peak to compare kernels with: given values first, then TILECRAFT_PEAK_GFLOPS /
    TILECRAFT_PEAK_GBPS, then peak_gflops_estimate() and measured_bandwidth_gbps()."""
    import os

    def given(value, env):
        if value is not None:
            return float(value), "given"
        text = os.environ.get(env, "").strip()
        if text:
            try:
                return float(text), env
            except ValueError:
                raise ValueError(f"{env}={text!r} is not a number (GFLOP/s or GB/s)") from None
        return None

    f = given(gflops, "TILECRAFT_PEAK_GFLOPS") or peak_gflops_estimate(threads)
    b = given(gbps, "TILECRAFT_PEAK_GBPS") or measured_bandwidth_gbps()
    for (v, _), what in ((f, "gflops"), (b, "gbps")):
        if not v > 0:
            raise ValueError(f"machine_peak: {what} must be positive, got {v}")
    return MachinePeak(f[0], b[0], f[1], b[1])


# ---------------------------------------------------------------------- a per-kernel report
@dataclass(frozen=True)
class KernelStat:
    """One fused function of a graph: its time in one run (all its calls), and what it moves and computes."""

    name: str
    seconds: float  # per run, all calls together
    calls: int
    share: float  # of the run's kernel time
    shapes: tuple  # output shapes
    flops: float | None  # per call; None when unknown
    nbytes: int  # per call: inputs + outputs

    @property
    def gflops(self) -> float | None:
        return self.flops * self.calls / self.seconds / 1e9 if self.flops and self.seconds > 0 else None

    @property
    def gbps(self) -> float | None:
        return self.nbytes * self.calls / self.seconds / 1e9 if self.seconds > 0 else None

    @property
    def intensity(self) -> float:
        """flop per byte moved (0 when the flop count is unknown)."""
        return (self.flops or 0.0) / self.nbytes if self.nbytes else math.inf


_COLUMNS = ("#", "Kernel", "Time(ms)", "Share", "Calls", "Output shape", "GFLOP/s", "GB/s", "Bound", "%Peak")


class ProfileReport:
    """Per-kernel times of a graph, slowest first: `print(report)` (or report.print(), with rich when
    installed) shows the table; iterating gives the (kernel, seconds, share) triples that
    `profile()` returned before, so older callers keep working.

    A kernel is compute-bound when its flop per byte reaches the machine's balance (peak GFLOP/s /
    peak GB/s): its %Peak is achieved GFLOP/s over peak GFLOP/s; otherwise (or when its flop count
    is unknown) it is memory-bound and %Peak is achieved GB/s over peak GB/s."""

    def __init__(self, kernels, peak: MachinePeak, top: int | None = None):
        self.kernels = sorted(kernels, key=lambda k: -k.seconds)
        self.peak = peak
        self.top = top
        self.total_seconds = sum(k.seconds for k in self.kernels)

    # the older return shape
    def __iter__(self):
        return iter([(k.name, k.seconds, k.share) for k in self.kernels])

    def __len__(self) -> int:
        return len(self.kernels)

    def __getitem__(self, i):
        return [(k.name, k.seconds, k.share) for k in self.kernels][i]

    def bound(self, k: KernelStat) -> str:
        return "compute" if k.flops and k.intensity >= self.peak.balance else "memory"

    def peak_share(self, k: KernelStat) -> float | None:
        if self.bound(k) == "compute":
            return k.gflops / self.peak.gflops if k.gflops is not None else None
        return k.gbps / self.peak.gbps if k.gbps is not None else None

    def rows(self, top: int | None = None) -> list:
        """The table's cells as strings, one list per kernel."""
        top = top if top is not None else self.top
        out = []
        for i, k in enumerate(self.kernels[:top] if top else self.kernels):
            shapes = ", ".join("x".join(map(str, s)) if s else "scalar" for s in k.shapes)
            ps = self.peak_share(k)
            out.append([str(i + 1), k.name, f"{k.seconds * 1e3:.3f}", f"{k.share * 100:.1f}%", str(k.calls), shapes,
                        f"{k.gflops:.1f}" if k.gflops is not None else "-",
                        f"{k.gbps:.1f}" if k.gbps is not None else "-", self.bound(k),
                        f"{ps * 100:.1f}%" if ps is not None else "-"])
        return out

    def footer(self, top: int | None = None) -> str:
        top = top if top is not None else self.top
        shown = f"top {min(top, len(self.kernels))} of " if top and top < len(self.kernels) else ""
        return (f"{shown}{len(self.kernels)} kernels, {self.total_seconds * 1e3:.3f} ms of kernel time per run; "
                f"{self.peak}")

    def table(self, top: int | None = None) -> str:
        """Plain-text table."""
        cells = [list(_COLUMNS)] + self.rows(top)
        widths = [max(len(r[i]) for r in cells) for i in range(len(_COLUMNS))]
        right = {0, 2, 3, 4, 6, 7, 9}
        fmt = lambda r: "  ".join(c.rjust(w) if i in right else c.ljust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in cells[1:]]
        return "\n".join(lines + [self.footer(top)])

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"ProfileReport({len(self.kernels)} kernels, {self.total_seconds * 1e3:.3f} ms)"

    def print(self, top: int | None = None, file=None) -> None:
        """Print the table: with rich when it is installed and the output is a terminal, else plain text."""
        import sys

        file = file or sys.stdout
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            Console = None  # noqa: N806
        if Console is None or not getattr(file, "isatty", lambda: False)():
            print(self.table(top), file=file)
            return
        t = Table(caption=self.footer(top))
        for i, c in enumerate(_COLUMNS):
            t.add_column(c, justify="right" if i in (0, 2, 3, 4, 6, 7, 9) else "left")
        for r in self.rows(top):
            t.add_row(*r)
        Console(file=file).print(t)

    def as_dict(self) -> dict:
        return {"total_ms": self.total_seconds * 1e3,
                "peak": {"gflops": self.peak.gflops, "gbps": self.peak.gbps, "gflops_source": self.peak.gflops_source,
                         "gbps_source": self.peak.gbps_source},
                "kernels": [{"name": k.name, "ms": k.seconds * 1e3, "share": k.share, "calls": k.calls,
                             "shapes": [list(s) for s in k.shapes], "flops": k.flops, "bytes": k.nbytes,
                             "gflops": k.gflops, "gbps": k.gbps, "bound": self.bound(k),
                             "peak_share": self.peak_share(k)} for k in self.kernels]}
