"""What a person sees while a command works: one line per stage with its time, a rich spinner on
a terminal and plain lines when the output is a file or a CI log.  Tuning draws its own progress
(AutoTVM's progress bar, the auto-scheduler's table)."""

from __future__ import annotations

import contextlib
import sys
import time


class Progress:
    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.timings: dict = {}
        self._console = None
        if not quiet and self.stream.isatty():
            try:
                from rich.console import Console

                self._console = Console(file=self.stream)
            except ImportError:
                pass

    def __call__(self, message: str) -> None:
        """A message inside a stage (tuning tasks, baselines)."""
        if self.quiet:
            return
        if self._console is not None:
            self._console.log(message)
        else:
            print(f"[tilecraft] {message}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def stage(self, name: str):
        """Time a stage; its seconds land in `timings[name]`."""
        start = time.perf_counter()
        if self._console is not None:
            with self._console.status(f"{name} ..."):
                yield
        else:
            if not self.quiet:
                print(f"[tilecraft] {name} ...", file=self.stream, flush=True)
            yield
        self.timings[name] = seconds = time.perf_counter() - start
        self(f"{name}: done in {seconds:.1f} s")
