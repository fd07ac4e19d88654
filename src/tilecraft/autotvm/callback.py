"""Callbacks a tuner calls after every measured batch: `cb(tuner, inputs, results)`.

    tuner.tune(n_trial, measure_option,
               callbacks=[autotvm.callback.log_to_file("matmul.log"),
                          autotvm.callback.progress_bar(n_trial, prefix="[Task  1/ 1]")])

`log_to_file` appends v0.2 records through tuning.records (each line flushed and fsync'ed), so a
run killed at any moment keeps every finished measurement and can be resumed with
`tuner.load_history(autotvm.record.load_from_file(log))`.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from ..tuning import append_records
from . import record
from .tuner.tuner import result_flops, si_scale


def log_to_file(file_out, protocol="json"):
    """A callback appending each measured configuration to `file_out` (a path, or an open text
    file) as one v0.2 JSON line."""
    if protocol != "json":
        raise ValueError(f"log_to_file: protocol must be 'json' (the v0.2 log is JSON lines), got {protocol!r}")
    if isinstance(file_out, (str, os.PathLike)):
        path = os.fspath(file_out)

        def _callback(_, inputs, results):
            append_records(path, (record.encode(i, r, "dict") for i, r in zip(inputs, results)))
    elif callable(getattr(file_out, "write", None)):
        def _callback(_, inputs, results):
            for inp, res in zip(inputs, results):
                file_out.write(record.encode(inp, res) + "\n")
            file_out.flush()
    else:
        raise TypeError(f"log_to_file: file_out must be a file path or an open text file, got "
                        f"{type(file_out).__name__}")
    return _callback


def progress_bar(total, prefix="", si_prefix="G"):
    """A callback printing "PREFIX Current/Best: x/y GFLOPS | Progress: (i/total) | t s".

    On a terminal the line is rewritten in place; otherwise (a log file, a CI job) a full line is
    printed at every tenth of the run and at its end, so logs get a few lines, not thousands."""
    scale = si_scale(si_prefix)
    tic = time.time()
    state = {"ct": 0, "decile": -1, "done": False}
    tty = sys.stdout.isatty()

    def line(cur, best):
        return (f"{prefix} Current/Best: {cur / scale:7.2f}/{best / scale:7.2f} {si_prefix}FLOPS | "
                f"Progress: ({state['ct']}/{total}) | {time.time() - tic:.2f} s")

    def _callback(tuner, inputs, results):
        state["ct"] += len(inputs)
        cur = 0.0
        for inp, res in zip(inputs, results):
            if res.error_no == 0:
                cur = result_flops(inp.task, res)
        finished = state["ct"] >= total or (tuner.ttl is not None and tuner.ttl <= 0) or not tuner.has_next()
        if state["done"]:
            return
        if tty:
            sys.stdout.write("\r" + line(cur, tuner.best_flops) + (" Done.\n" if finished else ""))
            sys.stdout.flush()
        else:
            decile = int(10 * state["ct"] / max(total, 1))
            if decile != state["decile"] or finished:
                state["decile"] = decile
                print(line(cur, tuner.best_flops) + (" Done." if finished else ""), flush=True)
        state["done"] = finished

    return _callback


class Monitor:
    """A callback that records every trial's FLOP/s (0 for failures) and timestamp."""

    def __init__(self):
        self.scores: list = []
        self.timestamps: list = []

    def __call__(self, tuner, inputs, results):
        for inp, res in zip(inputs, results):
            self.scores.append(result_flops(inp.task, res))
            self.timestamps.append(res.timestamp)

    def reset(self) -> None:
        self.scores, self.timestamps = [], []

    def trial_scores(self) -> np.ndarray:
        return np.array(self.scores)

    def trial_timestamps(self) -> np.ndarray:
        return np.array(self.timestamps)
