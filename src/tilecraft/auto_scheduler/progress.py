"""What a user sees while a model tunes: one table per round (rich, live on a terminal; plain lines
otherwise) with each task's trials, best latency and GFLOP/s, and the estimated end-to-end
latency.  verbose=0 prints nothing."""

from __future__ import annotations

import math
import sys


def _ms(cost: float) -> str:
    return f"{cost * 1e3:.4f}" if cost < math.inf else "-"


class Progress:
    def __init__(self, scheduler, verbose: int):
        self.scheduler, self.verbose = scheduler, verbose
        self.live = None

    def table(self, total: int, budget: int, seconds: float):
        from rich.table import Table

        s = self.scheduler
        t = Table(title=f"auto_scheduler: {total}/{budget} trials, {seconds:.0f} s, "
                        f"estimated latency {_ms(s.objective())} ms")
        for col in ("task", "weight", "trials", "best (ms)", "GFLOP/s"):
            t.add_column(col, justify="left" if col == "task" else "right")
        for task, w, tuner in zip(s.tasks, s.task_weights, s.tuners):
            t.add_row((task.desc or task.workload_key)[:48], f"{w:g}", str(tuner.trials), _ms(tuner.best_cost),
                      f"{tuner.gflops:.2f}")
        return t

    def start(self) -> None:
        if self.verbose < 1:
            return
        try:
            from rich.live import Live
        except ImportError:
            return
        if sys.stdout.isatty():
            self.live = Live(self.table(0, 0, 0.0), refresh_per_second=2, transient=False)
            self.live.start()

    def update(self, total: int, budget: int, seconds: float) -> None:
        if self.verbose < 1:
            return
        if self.live is not None:
            self.live.update(self.table(total, budget, seconds))
            return
        s = self.scheduler
        print(f"auto_scheduler: {total}/{budget} trials, {seconds:.0f} s, estimated latency "
              f"{_ms(s.objective())} ms; best per task (ms): "
              + ", ".join(_ms(t.best_cost) for t in s.tuners), flush=True)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
