"""LocalRunner: time built candidates one at a time in an isolated worker process.

The runner owns one worker process (worker_pool.py).  For each built candidate it sends the
module file's name (or its bytes) and argument shapes; the worker loads the module (no
compilation for a ".so"), fills every argument with random non-zero values and times the entry
function with the runtime's time evaluator (classic semantics of `number`, `repeat`,
`min_repeat_ms`; `enable_cpu_cache_flush` flushes the caches before each repeat).  Candidates
are measured one after another, never two at once, so measurements do not disturb each other.

What can go wrong, and what it becomes (classic error numbers, one-line messages):

* the build failed                    -> the build's error, not run
* the worker dies (SIGSEGV, SIGILL,   -> RUNTIME_DEVICE "the run worker process was killed by
  abort) while loading or running        SIGSEGV (signal 11) ..."; a fresh worker takes over
* no answer within `timeout` seconds  -> RUN_TIMEOUT; the worker (and its threads) is killed
                                         with SIGKILL and replaced
* loading or calling fails (e.g. the  -> RUNTIME_DEVICE with the runtime's message
  argument shapes do not match)
* check_correctness and the outputs   -> WRONG_ANSWER, naming the output and the worst element;
  differ from the reference              arguments whose shapes differ from the reference's are
                                         a WRONG_ANSWER too

With `check_correctness`, `inp.reference()` (the computation under its default schedule) is
built in the worker once per distinct computation and run on one set of random inputs; each
candidate then runs on copies of the same inputs and its outputs are compared with
`rtol = atol = 1e-3` (exact for integers).  The reference is prepared in a separate request
with a longer time limit, so a slow reference build never looks like a slow candidate.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
from collections import OrderedDict

import numpy as np

from .builder import progress_mark
from .measure import MAX_COST, BuildResult, MeasureErrorNo, MeasureResult, one_line
from .worker_pool import WorkerDied, WorkerError, WorkerPool, WorkerTimeout

_REFERENCES: OrderedDict = OrderedDict()  # worker-side: key -> (arg_info, inputs, {index: output})
_MAX_REFERENCES = 4


# ------------------------------------------------------------------------------- worker side
def random_arrays(arg_info, seed: int = 0) -> list:
    """Arrays for `arg_info` ((shape, dtype), ...): random values, none of them zero."""
    rng = np.random.default_rng(seed)
    out = []
    for shape, dtype in arg_info:
        dt = np.dtype(dtype)
        if dt.kind == "f":
            a = rng.uniform(0.1, 1.0, size=shape) * rng.choice((-1.0, 1.0), size=shape)
        elif dt.kind in "iu":
            hi = min(int(np.iinfo(dt).max), 8)
            a = rng.integers(1, hi, size=shape, endpoint=True)
        elif dt.kind == "b":
            a = np.ones(shape, dtype=bool)
        else:
            raise TypeError(f"cannot make random values of dtype {dtype}")
        out.append(np.ascontiguousarray(a, dtype=dt))
    return out


def _entry(mod):
    name = mod.entry_name
    info = next(f for f in mod.artifact.functions if f.name == name)
    return mod[name], info


def prepare_reference(key, inp) -> None:
    """Worker-side: build and run `inp.reference()` once, cache its inputs and outputs under `key`."""
    if key in _REFERENCES:
        _REFERENCES.move_to_end(key)
        return
    from ..driver.build_module import build
    from ..runtime import ndarray

    sch, args = inp.reference()
    mod = build(sch, args, target=inp.target)
    func, info = _entry(mod)
    arg_info = tuple((tuple(p.shape), p.dtype) for p in info.params)
    inputs = random_arrays(arg_info)
    arrays = [ndarray.array(a.copy(), device=func.device) for a in inputs]
    func(*arrays)
    writes = info.writes if info.writes is not None else range(len(arrays))
    _REFERENCES[key] = (arg_info, inputs, {i: arrays[i].numpy() for i in writes})
    while len(_REFERENCES) > _MAX_REFERENCES:
        _REFERENCES.popitem(last=False)


def _compare(info, got: np.ndarray, expected: np.ndarray, index: int) -> str:
    name = info.params[index].name if index < len(info.params) else f"#{index}"
    if got.shape != expected.shape:
        return f"output {index} ({name!r}) has shape {got.shape}, the reference's has {expected.shape}"
    if expected.dtype.kind == "f":
        bad = ~np.isclose(got, expected, rtol=1e-3, atol=1e-3)
    else:
        bad = got != expected
    if not bad.any():
        return ""
    err = np.where(bad, np.abs(got.astype("float64") - expected.astype("float64")), -1)
    at = np.unravel_index(int(np.argmax(np.nan_to_num(err, nan=np.inf))), err.shape)
    return (f"output {index} ({name!r}) differs from the reference at {bad.sum()} of {bad.size} elements; "
            f"at index {tuple(int(i) for i in at)} got {got[at]!r}, expected {expected[at]!r}")


def run_candidate(filename: str, data: bytes | None, arg_info, number: int, repeat: int,
                  min_repeat_ms: float, enable_cpu_cache_flush: bool, reference_key=None):
    """Worker-side: load, time and (with a reference key) check one built candidate.

    Returns (costs, error_no, error_msg); a crash of the candidate kills this process, which
    the parent reports.
    """
    from ..runtime import ndarray
    from ..runtime.export import load_module

    try:
        if data is not None:
            suffix = os.path.splitext(filename)[1] or ".so"
            with tempfile.TemporaryDirectory(prefix="tilecraft-run-") as tmp:
                path = os.path.join(tmp, "candidate" + suffix)
                with open(path, "wb") as f:
                    f.write(data)
                mod = load_module(path)
        else:
            mod = load_module(filename)
        func, info = _entry(mod)
    except Exception as err:  # noqa: BLE001
        return (MAX_COST,), MeasureErrorNo.RUNTIME_DEVICE, f"could not load the module: {one_line(err)}"

    reference = None
    if reference_key is not None:
        if reference_key not in _REFERENCES:
            return (MAX_COST,), MeasureErrorNo.UNKNOWN_ERROR, "the reference was not prepared in this worker"
        reference = _REFERENCES[reference_key]
        ref_info = reference[0]
        if tuple(arg_info) != tuple(ref_info):
            return ((MAX_COST,), MeasureErrorNo.WRONG_ANSWER,
                    f"the candidate's arguments {_shapes(arg_info)} differ from the reference's {_shapes(ref_info)}")
        inputs = reference[1]
    else:
        inputs = random_arrays(arg_info)

    try:
        arrays = [ndarray.array(a.copy(), device=func.device) for a in inputs]
        f_preproc = "cache_flush_cpu_non_first_arg" if enable_cpu_cache_flush else ""
        evaluator = mod.time_evaluator(mod.entry_name, func.device, number=number, repeat=repeat,
                                       min_repeat_ms=min_repeat_ms, f_preproc=f_preproc)
        costs = tuple(evaluator(*arrays).results)
    except Exception as err:  # noqa: BLE001
        return (MAX_COST,), MeasureErrorNo.RUNTIME_DEVICE, one_line(err)

    if reference is not None:
        fresh = [ndarray.array(a.copy(), device=func.device) for a in inputs]
        try:
            func(*fresh)
        except Exception as err:  # noqa: BLE001
            return (MAX_COST,), MeasureErrorNo.RUNTIME_DEVICE, one_line(err)
        for index, expected in reference[2].items():
            msg = _compare(info, fresh[index].numpy(), expected, index)
            if msg:
                return costs, MeasureErrorNo.WRONG_ANSWER, msg
    return costs, MeasureErrorNo.NO_ERROR, ""


def _shapes(arg_info) -> str:
    return "(" + ", ".join(f"{dtype}{list(shape)}" for shape, dtype in arg_info) + ")"


# ------------------------------------------------------------------------------- parent side
def reference_key(inp):
    """The key under which candidates share a reference: `inp.reference_key()`, else a digest
    of the pickled reference arguments (the computation, independent of any schedule)."""
    fn = getattr(inp, "reference_key", None)
    if fn is not None:
        return fn()
    _, args = inp.reference()
    return hashlib.sha1(pickle.dumps(list(args), protocol=4)).hexdigest()


def run_each(runner, inputs, build_results, verbose: int) -> list:
    """`run` of LocalRunner and DaskRunner: `runner.run_one` for each candidate in order, a progress
    mark each, `runner.cooldown_interval` seconds of sleep after each."""
    inputs, build_results = list(inputs), list(build_results)
    if len(inputs) != len(build_results):
        raise ValueError(f"{type(runner).__name__}.run: {len(inputs)} inputs but {len(build_results)} build results")
    results = []
    for inp, build_res in zip(inputs, build_results):
        res = runner.run_one(inp, build_res)
        if verbose >= 1:
            print(progress_mark("*", res.error_no), end="", flush=True)
        results.append(res)
        if runner.cooldown_interval > 0:
            time.sleep(runner.cooldown_interval)
    return results


def measure_result_since(tic: float, build_res: BuildResult):
    """result(costs, error_no, msg): the MeasureResult of a candidate whose run started at `tic`
    (all_cost counts its build time too)."""

    def result(costs, error_no, msg):
        now = time.time()
        return MeasureResult(tuple(costs), int(error_no), msg, now - tic + build_res.time_cost, now)

    return result


class LocalRunner:
    """Time built candidates, one at a time, in one isolated worker process.

    timeout                 seconds one candidate may take to load, run and be timed
    number, repeat,         the time evaluator's settings (classic semantics); `costs` holds one
    min_repeat_ms           mean per repeat
    cooldown_interval       seconds to sleep after each candidate
    enable_cpu_cache_flush  flush the CPU caches before each repeat
    check_correctness       compare each candidate's outputs with `inp.reference()`'s
    """

    def __init__(self, timeout: float = 10, number: int = 3, repeat: int = 1, min_repeat_ms: float = 100,
                 cooldown_interval: float = 0.0, enable_cpu_cache_flush: bool = False,
                 check_correctness: bool = False):
        self.check_settings(timeout, number, repeat)
        self.timeout = timeout
        self.number = number
        self.repeat = repeat
        self.min_repeat_ms = min_repeat_ms
        self.cooldown_interval = cooldown_interval
        self.enable_cpu_cache_flush = enable_cpu_cache_flush
        self.check_correctness = check_correctness
        self._pool = WorkerPool(1)
        self._bad_references: dict = {}  # key -> error message

    @staticmethod
    def check_settings(timeout, number, repeat) -> None:
        if timeout is None or timeout <= 0:
            raise ValueError(f"runner: timeout must be a positive number of seconds, got {timeout!r}")
        for name, value in (("number", number), ("repeat", repeat)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"runner: {name} must be a positive int, got {value!r}")

    def run(self, inputs, build_results, verbose: int = 1) -> list:
        """A MeasureResult per candidate, in order; never raises for a candidate's failure."""
        return run_each(self, inputs, build_results, verbose)

    def run_one(self, inp, build_res: BuildResult) -> MeasureResult:
        result = measure_result_since(time.time(), build_res)

        if build_res.error_no != MeasureErrorNo.NO_ERROR:
            return result((MAX_COST,), build_res.error_no, build_res.error_msg)
        key = None
        if self.check_correctness:
            try:
                key = reference_key(inp)
            except Exception as err:  # noqa: BLE001
                return result((MAX_COST,), MeasureErrorNo.UNKNOWN_ERROR,
                              f"the reference could not be made: {one_line(err)}")
            msg = self._bad_references.get(key) or self._prepare(key, inp)
            if msg:
                return result((MAX_COST,), MeasureErrorNo.UNKNOWN_ERROR, msg)
        args = (build_res.filename, build_res.data, build_res.arg_info, self.number, self.repeat,
                self.min_repeat_ms, self.enable_cpu_cache_flush, key)
        try:
            costs, error_no, msg = self._pool.call(run_candidate, args, self.timeout)
        except WorkerTimeout:
            return result((MAX_COST,), MeasureErrorNo.RUN_TIMEOUT,
                          f"running took longer than the {self.timeout:g} s timeout; the run worker was killed")
        except WorkerDied as err:
            return result((MAX_COST,), MeasureErrorNo.RUNTIME_DEVICE,
                          f"the run worker process {err.how} while running the candidate; a fresh one took over")
        except WorkerError as err:
            return result((MAX_COST,), MeasureErrorNo.UNKNOWN_ERROR, one_line(str(err)))
        return result(costs, error_no, msg)

    def _prepare(self, key, inp) -> str:
        """Make sure the worker holds the reference for `key`; an error message, or ""."""
        limit = max(3 * self.timeout, 30)
        try:
            self._pool.call(prepare_reference, (key, inp), limit)
            return ""
        except (WorkerTimeout, WorkerDied, WorkerError) as err:
            msg = f"the reference computation failed: {one_line(str(err))}"
        except Exception as err:  # noqa: BLE001 - e.g. the candidate cannot be pickled
            msg = f"the reference computation failed: {one_line(err)}"
        self._bad_references[key] = msg
        return msg

    def close(self) -> None:
        """Stop the worker process."""
        self._pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
