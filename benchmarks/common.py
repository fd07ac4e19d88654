"""Shared measuring helpers: medians after warm-up, side by side, and a plain-text table."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])


def median_seconds(fn, repeat: int = 7, min_time: float = 0.2, warmup: int = 2) -> float:
    """Median seconds per call (tilecraft.measure.latency: repeats after warm-up)."""
    from tilecraft.measure import latency

    return latency(fn, repeat, min_time, warmup).median


def table(rows: list, header: list) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])
