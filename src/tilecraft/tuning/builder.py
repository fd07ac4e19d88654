"""LocalBuilder: instantiate and compile candidates in a pool of worker processes.

Each candidate goes to one of `n_parallel` worker processes (worker_pool.py), which calls
`inp.instantiate()`, compiles the schedule with `tilecraft.driver.build_module.build` (the one
build path, so what is measured is what `relay.build` deploys) and exports the module to a
file the runner loads without compiling again: a ".so" shared library (".tar", which the
runner JIT-compiles, where the machine has no C compiler).  The tuner's process never runs
candidate code: an instantiation that raises, a compiler crash and a build that hangs past
`timeout` become BuildResults with the classic error numbers, and the worker is replaced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

from .measure import BuildResult, MeasureErrorNo, one_line
from .worker_pool import WorkerDied, WorkerError, WorkerPool, WorkerTimeout

_FORMATS = ("default", "so", "tar")


def _suffix(build_func: str) -> str:
    if build_func == "default":
        return ".so" if any(shutil.which(cc) for cc in (os.environ.get("CC") or "cc", "gcc", "clang")) else ".tar"
    return "." + build_func


def build_candidate(inp, build_dir: str | None, build_func: str = "default") -> BuildResult:
    """Worker-side: instantiate, compile and export one candidate (never raises).

    With `build_dir` the module is written there and the result names the file; with None it is
    written to a temporary file whose bytes travel in the result (`data`).
    """
    from ..driver.build_module import build

    tic = time.time()
    try:
        sch, args = inp.instantiate()
    except Exception as err:  # noqa: BLE001 - any failure of the candidate's own code
        return BuildResult("", (), MeasureErrorNo.INSTANTIATION_ERROR, one_line(err), time.time() - tic)
    target = inp.target
    kind = str(getattr(target, "kind", str(target).split()[0] if str(target) else "llvm"))
    compile_error = MeasureErrorNo.COMPILE_HOST if kind == "llvm" else MeasureErrorNo.COMPILE_DEVICE
    try:
        mod = build(sch, args, target=target)
        info = next(f for f in mod.artifact.functions if f.name == mod.entry_name)
        arg_info = []
        for p in info.params:
            if p.kind != "buffer" or not all(isinstance(d, int) for d in p.shape):
                return BuildResult("", (), MeasureErrorNo.INSTANTIATION_ERROR,
                                   f"argument {p.name!r} is a scalar or has a symbolic shape {p.shape}; the runner "
                                   "measures functions whose arguments are tensors of constant shape",
                                   time.time() - tic)
            arg_info.append((tuple(p.shape), p.dtype))
        suffix = _suffix(build_func)
        if build_dir is not None:
            fd, filename = tempfile.mkstemp(prefix="candidate-", suffix=suffix, dir=build_dir)
            os.close(fd)
            mod.export_library(filename)
            return BuildResult(filename, tuple(arg_info), MeasureErrorNo.NO_ERROR, "", time.time() - tic)
        with tempfile.TemporaryDirectory(prefix="tilecraft-build-") as tmp:
            filename = os.path.join(tmp, "candidate" + suffix)
            mod.export_library(filename)
            with open(filename, "rb") as f:
                data = f.read()
        return BuildResult(filename, tuple(arg_info), MeasureErrorNo.NO_ERROR, "", time.time() - tic, data)
    except Exception as err:  # noqa: BLE001
        return BuildResult("", (), compile_error, one_line(err), time.time() - tic)


def build_in_pool(pool: WorkerPool, inp, timeout: float, build_dir, build_func: str) -> BuildResult:
    """One candidate through a worker of `pool`, every failure turned into a BuildResult."""
    tic = time.time()
    try:
        return pool.call(build_candidate, (inp, build_dir, build_func), timeout)
    except WorkerTimeout:
        return BuildResult("", (), MeasureErrorNo.BUILD_TIMEOUT,
                           f"building took longer than the {timeout:g} s timeout; the build worker was killed",
                           time.time() - tic)
    except WorkerDied as err:
        return BuildResult("", (), MeasureErrorNo.COMPILE_HOST,
                           f"the build worker process {err.how} while building the candidate", time.time() - tic)
    except WorkerError as err:
        return BuildResult("", (), MeasureErrorNo.UNKNOWN_ERROR, one_line(str(err)), time.time() - tic)
    except Exception as err:  # noqa: BLE001 - e.g. the candidate cannot be pickled
        return BuildResult("", (), MeasureErrorNo.INSTANTIATION_ERROR,
                           f"the candidate could not be sent to a build worker: {one_line(err)}", time.time() - tic)


def progress_mark(prefix: str, error_no: int) -> str:
    """Classic progress characters: '.' built / '*' measured, then 'E' error or 'T' timeout."""
    if error_no == MeasureErrorNo.NO_ERROR:
        return prefix
    timeout = error_no in (MeasureErrorNo.BUILD_TIMEOUT, MeasureErrorNo.RUN_TIMEOUT)
    return prefix + ("T" if timeout else "E")


class LocalBuilder:
    """Compile candidates in `n_parallel` worker processes (default: one per CPU core).

    timeout     seconds one candidate's instantiate + compile + export may take
    build_func  "default" (".so" where a C compiler exists, else ".tar"), "so" or "tar"

    Workers stay alive between `build` calls.  The files live in a temporary directory owned
    by the builder and removed by `close()` (or when the builder is garbage-collected).
    """

    def __init__(self, timeout: float = 15, n_parallel: int | None = None, build_func: str = "default"):
        if build_func not in _FORMATS:
            raise ValueError(f"LocalBuilder: build_func must be one of {', '.join(_FORMATS)}, got {build_func!r}")
        if timeout is None or timeout <= 0:
            raise ValueError(f"LocalBuilder: timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = timeout
        if n_parallel is not None and (isinstance(n_parallel, bool) or not isinstance(n_parallel, int)
                                       or n_parallel < 1):
            raise ValueError(f"LocalBuilder: n_parallel must be a positive number of worker processes "
                             f"(or None for one per CPU core), got {n_parallel!r}")
        self.n_parallel = n_parallel or os.cpu_count() or 1
        self.build_func = build_func
        self._pool = WorkerPool(self.n_parallel)
        self.build_dir = tempfile.mkdtemp(prefix="tilecraft-build-")
        self._cleanup = weakref.finalize(self, _close, self._pool, self.build_dir)

    def build(self, inputs, verbose: int = 1) -> list:
        """A BuildResult per candidate, in order; never raises for a candidate's failure."""
        inputs = list(inputs)
        if not self._cleanup.alive:
            raise RuntimeError("LocalBuilder.build: this builder was closed; make a new one")
        lock = threading.Lock()

        def one(inp):
            res = build_in_pool(self._pool, inp, self.timeout, self.build_dir, self.build_func)
            if verbose >= 1:
                with lock:
                    print(progress_mark(".", res.error_no), end="", flush=True)
            return res

        if len(inputs) <= 1 or self.n_parallel == 1:
            return [one(inp) for inp in inputs]
        with ThreadPoolExecutor(max_workers=min(self.n_parallel, len(inputs))) as ex:
            return list(ex.map(one, inputs))

    def close(self) -> None:
        """Stop the worker processes and delete the built files."""
        self._cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _close(pool: WorkerPool, build_dir: str) -> None:
    pool.close()
    shutil.rmtree(build_dir, ignore_errors=True)
