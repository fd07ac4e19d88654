"""What the measurement layer hands around: error numbers, build results, measure results.

The flow is classic TVM's:

    candidate --builder--> BuildResult --runner--> MeasureResult

A *candidate* is any picklable object with

    inp.target                  a Target or target string
    inp.instantiate()           -> (te.Schedule, [tensor arguments])   the schedule to measure
    inp.reference()             -> (te.Schedule, [tensor arguments])   optional: the same computation
                                   with its default schedule, used when the runner checks answers
    inp.reference_key()         optional: a cheap hashable naming the computation (candidates with
                                   equal keys share one reference build); when absent the key is a
                                   digest of the pickled reference arguments

The auto-scheduler's `MeasureInput(task, state)` and AutoTVM's `MeasureInput(target, task,
config)` implement it.  Candidates are instantiated, compiled and run only in worker processes
(see worker_pool.py); the tuner's process at most calls `inp.reference()` to compute the
reference key, which makes a te computation and compiles nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MAX_COST = 1e10  # the cost recorded for a candidate that could not be measured (classic MAX_FLOAT)


class MeasureErrorNo(enum.IntEnum):
    """Why a candidate has no valid measurement (classic TVM numbers; 0 means it has one)."""

    NO_ERROR = 0
    INSTANTIATION_ERROR = 1  # instantiate() raised: the schedule could not be made
    COMPILE_HOST = 2  # lowering or host code generation failed (or the build worker crashed)
    COMPILE_DEVICE = 3  # device (e.g. CUDA) code generation or compilation failed
    RUNTIME_DEVICE = 4  # loading or running the compiled code failed, or the run worker crashed
    WRONG_ANSWER = 5  # the outputs differ from the reference schedule's
    BUILD_TIMEOUT = 6
    RUN_TIMEOUT = 7
    UNKNOWN_ERROR = 8


@dataclass(frozen=True)
class BuildResult:
    """One compiled candidate.

    filename   the compiled module (".so", or ".tar" where no C compiler exists), loadable with
               `tilecraft.runtime.load_module`; "" when the build failed
    arg_info   ((shape, dtype), ...) of the compiled function's arguments, in order
    error_no   a MeasureErrorNo (0 when the build succeeded)
    error_msg  one line saying what went wrong ("" on success)
    time_cost  seconds the build took
    data       the module file's bytes when it travels in the result (Dask builders); then
               `filename` only tells its suffix and where it was written on the worker
    """

    filename: str
    arg_info: tuple
    error_no: int
    error_msg: str
    time_cost: float
    data: bytes | None = None

    def __repr__(self) -> str:
        err = MeasureErrorNo(self.error_no).name
        extra = f", {len(self.data)} bytes" if self.data is not None else ""
        return (f"BuildResult({self.filename!r}, error_no={err}, time_cost={self.time_cost:.3f}s{extra}"
                + (f", error_msg={self.error_msg!r})" if self.error_msg else ")"))


@dataclass(frozen=True)
class MeasureResult:
    """One measured candidate.

    costs      seconds per call, one per repeat ((MAX_COST,) when there is no measurement)
    error_no   a MeasureErrorNo (0 when the costs are valid)
    error_msg  one line saying what went wrong ("" on success)
    all_cost   seconds spent on the candidate in all: building, loading and timing
    timestamp  when the measurement finished (seconds since the epoch)
    """

    costs: tuple
    error_no: int
    error_msg: str
    all_cost: float
    timestamp: float

    @property
    def mean_cost(self) -> float:
        return sum(self.costs) / len(self.costs) if self.costs else MAX_COST

    def __repr__(self) -> str:
        costs = ", ".join(f"{c:.6g}" for c in self.costs)
        err = MeasureErrorNo(self.error_no).name
        return (f"MeasureResult(costs=({costs}), error_no={err}, all_cost={self.all_cost:.3f}, "
                f"timestamp={self.timestamp:.0f}" + (f", error_msg={self.error_msg!r})" if self.error_msg else ")"))


def one_line(err: BaseException | str, limit: int = 400) -> str:
    """'TypeName: first line of the message', at most `limit` characters."""
    if isinstance(err, BaseException):
        text = str(err).strip()
        first = text.splitlines()[0] if text else ""
        text = f"{type(err).__name__}: {first}" if first else type(err).__name__
    else:
        lines = str(err).strip().splitlines()
        text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
