"""DaskBuilder / DaskRunner: the same builds and measurements, on a Dask cluster's workers.

Both take a `dask.distributed.Client` or a scheduler address ("tcp://host:8786") and have the
local classes' `.build` / `.run` interface and results.  Nothing here is a new protocol:
candidates go to the cluster with `client.submit`, results come back through futures, and a
worker that stops answering is restarted with `client.restart_workers`.

Isolation is the same as on one machine, one level down: the Dask task does not build or run
the candidate itself but hands it to a worker process owned by that Dask worker (the same
pools and worker functions LocalBuilder and LocalRunner use, kept alive between tasks), so a
candidate that segfaults or hangs costs a replaced process and an error result, never a Dask
worker.  A client-side time limit on each future (the candidate's timeout plus a start-up
allowance) is the backstop for a Dask worker that disappears.

Artifacts travel as bytes inside the BuildResult (`data`, a small ".so"), because builder and
runner workers need not share a filesystem; `filename` then only names the file's suffix and
where it was written on the build worker.  A DaskRunner also accepts LocalBuilder results (it
reads their files on the client and sends the bytes), and a LocalRunner accepts DaskBuilder
results.

Builds run in parallel across the cluster (up to `n_parallel` at once, by default all of its
threads).  Measurements run one at a time, all on one Dask worker (`worker=`, by default the
first in address order), so they do not disturb each other and their costs are comparable.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time

from .builder import build_in_pool, progress_mark
from .measure import MAX_COST, BuildResult, MeasureErrorNo, MeasureResult, one_line
from .runner import LocalRunner, measure_result_since, run_each
from .worker_pool import STARTUP_TIMEOUT, WorkerPool

# ----------------------------------------------------------- on the Dask worker (per process)
_STATE_LOCK = threading.Lock()
_BUILD_POOL: list = []  # [WorkerPool] once made
_RUNNERS: dict = {}  # runner settings -> LocalRunner


def _dask_worker_threads() -> int:
    try:
        from distributed import get_worker

        worker = get_worker()
        n = getattr(worker, "nthreads", None) or getattr(getattr(worker, "state", None), "nthreads", None)
        return int(n or 1)
    except Exception:  # noqa: BLE001 - not inside a Dask worker
        return 1


def dask_build(inp, timeout: float, build_func: str) -> BuildResult:
    """Dask task: build one candidate in a worker process of this Dask worker; bytes in the result."""
    with _STATE_LOCK:
        if not _BUILD_POOL:
            _BUILD_POOL.append(WorkerPool(_dask_worker_threads()))
        pool = _BUILD_POOL[0]
    return build_in_pool(pool, inp, timeout, None, build_func)


def dask_run(inp, build_res: BuildResult, settings: tuple) -> MeasureResult:
    """Dask task: measure one built candidate in this Dask worker's run worker process."""
    with _STATE_LOCK:
        runner = _RUNNERS.get(settings)
        if runner is None:
            runner = _RUNNERS[settings] = LocalRunner(**dict(settings))
        return runner.run_one(inp, build_res)


# ------------------------------------------------------------------------------ on the client
def _client(client_or_address):
    from distributed import Client

    if isinstance(client_or_address, str):
        return Client(client_or_address), True
    if client_or_address is None:
        raise ValueError("a Dask client or scheduler address is required, e.g. DaskBuilder('tcp://host:8786')")
    return client_or_address, False


class _DaskBase:
    def __init__(self, client):
        self.client, self._owns_client = _client(client)

    def close(self) -> None:
        """Close the client if this object opened it (from an address)."""
        if self._owns_client:
            self.client.close()
            self._owns_client = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskBuilder(_DaskBase):
    """Build candidates on a Dask cluster's workers; same results as LocalBuilder (bytes in `data`)."""

    def __init__(self, client, timeout: float = 15, n_parallel: int | None = None, build_func: str = "default"):
        super().__init__(client)
        self.timeout = timeout
        self.n_parallel = n_parallel
        self.build_func = build_func

    def build(self, inputs, verbose: int = 1) -> list:
        from distributed import wait

        inputs = list(inputs)
        if not inputs:
            return []
        threads = sum(self.client.nthreads().values()) or 1
        in_flight = self.n_parallel or threads
        results = []
        for start in range(0, len(inputs), in_flight):
            chunk = inputs[start:start + in_flight]
            tic = time.time()
            futures = [self.client.submit(dask_build, inp, self.timeout, self.build_func, pure=False)
                       for inp in chunk]
            rounds = math.ceil(len(chunk) / threads)
            wait(futures, timeout=rounds * self.timeout + STARTUP_TIMEOUT)
            for fut in futures:
                if fut.status == "finished":
                    res = fut.result()
                elif fut.status == "pending":
                    fut.cancel()
                    res = BuildResult("", (), MeasureErrorNo.BUILD_TIMEOUT,
                                      "no answer from the Dask cluster in time", time.time() - tic)
                else:
                    res = BuildResult("", (), MeasureErrorNo.UNKNOWN_ERROR,
                                      f"the Dask task failed: {one_line(fut.exception())}", time.time() - tic)
                if verbose >= 1:
                    print(progress_mark(".", res.error_no), end="", flush=True)
                results.append(res)
        return results


class DaskRunner(_DaskBase):
    """Measure candidates one at a time on one Dask worker; same results as LocalRunner.

    worker  the address of the Dask worker that measures (default: the first in address order;
            chosen again if it leaves the cluster)
    """

    def __init__(self, client, timeout: float = 10, number: int = 3, repeat: int = 1,
                 min_repeat_ms: float = 100, cooldown_interval: float = 0.0,
                 enable_cpu_cache_flush: bool = False, check_correctness: bool = False, worker: str | None = None):
        LocalRunner.check_settings(timeout, number, repeat)
        super().__init__(client)
        self.timeout = timeout
        self.cooldown_interval = cooldown_interval
        self.settings = (("timeout", timeout), ("number", number), ("repeat", repeat),
                         ("min_repeat_ms", min_repeat_ms), ("enable_cpu_cache_flush", enable_cpu_cache_flush),
                         ("check_correctness", check_correctness))
        self.worker = worker

    def _pick_worker(self) -> str:
        workers = sorted(self.client.scheduler_info()["workers"])
        if not workers:
            raise RuntimeError("DaskRunner: the Dask cluster has no workers")
        if self.worker not in workers:
            self.worker = workers[0]
        return self.worker

    def run(self, inputs, build_results, verbose: int = 1) -> list:
        return run_each(self, inputs, build_results, verbose)

    def run_one(self, inp, build_res: BuildResult) -> MeasureResult:
        result = measure_result_since(time.time(), build_res)

        def failure(error_no, msg):
            return result((MAX_COST,), error_no, msg)

        if build_res.error_no != MeasureErrorNo.NO_ERROR:
            return failure(build_res.error_no, build_res.error_msg)
        if build_res.data is None:
            try:
                with open(build_res.filename, "rb") as f:
                    build_res = dataclasses.replace(build_res, data=f.read())
            except OSError as err:
                return failure(MeasureErrorNo.RUNTIME_DEVICE, f"could not read the built module: {one_line(err)}")
        address = self._pick_worker()
        fut = self.client.submit(dask_run, inp, build_res, self.settings, workers=[address],
                                 allow_other_workers=False, pure=False)
        # the worker-side runner enforces `timeout`; this is the backstop for a lost Dask worker
        limit = 4 * self.timeout + 30 + STARTUP_TIMEOUT
        try:
            return fut.result(timeout=limit)
        except TimeoutError:
            fut.cancel()
            try:
                self.client.restart_workers([address], raise_for_error=False)
            except Exception:  # noqa: BLE001 - the worker may be gone already
                pass
            return failure(MeasureErrorNo.RUN_TIMEOUT,
                           f"no answer from Dask worker {address} within {limit:g} s; it was restarted")
        except Exception as err:  # noqa: BLE001 - KilledWorker, a task that could not be unpickled, ...
            return failure(MeasureErrorNo.RUNTIME_DEVICE, f"the Dask task failed: {one_line(err)}")
