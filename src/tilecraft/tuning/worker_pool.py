"""Worker processes that run one function call at a time, with a timeout, and survive crashes.

Builders and runners never execute a candidate in the tuner's own process.  Each request
(a module-level function and its arguments) goes to a child process; the parent waits for the
answer with a timeout:

* the child answers           -> the function's return value (or WorkerError if it raised);
* the child dies (SIGSEGV,    -> WorkerDied, naming the signal or exit code; the child is
  SIGILL, abort, os._exit)       replaced by a fresh one before the next request;
* no answer within `timeout`  -> the child (with every thread it started, OpenMP included) is
                                 killed with SIGKILL and replaced; WorkerTimeout.

How a child starts: `subprocess.Popen([sys.executable, "-c", ...])`, a fresh interpreter (spawn
semantics, never fork: the tuner may have an OpenMP runtime and LLVM initialised, which a
forked child must not inherit).  Unlike multiprocessing's "spawn" and "forkserver" contexts, the
child does not re-import the user's `__main__` script, so tutorial-style scripts that tune at
top level without an `if __name__ == "__main__":` guard work.  The child receives the parent's
`sys.path` and working directory, imports tilecraft, and reports "ready" before the first
request, so the time it takes to start never counts against a request's timeout.

Requests and answers travel as pickles over two pipes (multiprocessing.connection framing).
Requests are pickled with cloudpickle when it is installed (it comes with dask), so candidates
and workloads defined in a `__main__` script travel by value; otherwise with pickle, which needs
them importable by module name.  A child exits when the parent closes its pipe or when the
parent process disappears (a watchdog thread checks), so a killed tuner leaves no orphans.
"""

from __future__ import annotations

import atexit
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from multiprocessing.connection import Connection

STARTUP_TIMEOUT = 120.0  # seconds a fresh child may take to import tilecraft and say "ready"


class WorkerTimeout(Exception):
    """The child did not answer within the timeout; it was killed and will be replaced."""


class WorkerDied(Exception):
    """The child process died while handling a request (a signal, or an exit)."""

    def __init__(self, message: str, returncode: int | None):
        super().__init__(message)
        self.returncode = returncode
        # "was killed by SIGSEGV (signal 11)"; a child that never answered "ready" has no code
        self.how = describe_exit(returncode) if returncode is not None else "failed to start"


class WorkerError(Exception):
    """The function raised in the child; `remote_traceback` holds the child's traceback."""

    def __init__(self, message: str, remote_traceback: str = ""):
        super().__init__(message)
        self.remote_traceback = remote_traceback


def describe_exit(returncode: int | None) -> str:
    """'killed by SIGSEGV (signal 11)' or 'exited with code 3'."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name} (signal {-returncode})"
    return f"exited with code {returncode}"


def _dumps(obj) -> bytes:
    try:
        import cloudpickle  # optional (comes with dask): pickles __main__ objects by value
    except ImportError:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


# ------------------------------------------------------------------------------ the child side
def _watch_parent(ppid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != ppid:
            os._exit(0)


def child_main(read_fd: int, write_fd: int, ppid: int) -> None:
    """Entry point of a worker process (started by WorkerProcess, never called directly)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the tuner's business
    threading.Thread(target=_watch_parent, args=(ppid,), daemon=True).start()
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    try:
        init = pickle.loads(inbox.recv_bytes())
    except EOFError:
        return
    sys.path[:] = init["sys_path"]
    from ..driver import build_module  # noqa: F401  (pay the imports before "ready")
    from ..runtime import export  # noqa: F401

    outbox.send_bytes(pickle.dumps(("ready", os.getpid())))
    while True:
        try:
            data = inbox.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            func, args = pickle.loads(data)
            reply = ("ok", func(*args))
        except BaseException as err:  # noqa: BLE001 - everything goes back to the parent
            reply = ("error", f"{type(err).__name__}: {err}", traceback.format_exc())
        try:
            out = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as err:  # noqa: BLE001
            out = pickle.dumps(("error", f"the result could not be pickled: {type(err).__name__}: {err}",
                                traceback.format_exc()))
        outbox.send_bytes(out)


# ----------------------------------------------------------------------------- the parent side
_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _kill_all() -> None:
    for worker in list(_LIVE):
        worker.close()


class WorkerProcess:
    """One child process; `call(func, args, timeout)` runs `func(*args)` in it."""

    def __init__(self):
        self.proc = None
        self._inbox = self._outbox = None
        self._ready = False
        _LIVE.add(self)

    def _start(self) -> None:
        p_read, c_write = os.pipe()  # child -> parent
        c_read, p_write = os.pipe()  # parent -> child
        code = f"from tilecraft.tuning.worker_pool import child_main; child_main({c_read}, {c_write}, {os.getpid()})"
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(c_read, c_write),
                                         start_new_session=True, close_fds=True)
        finally:
            os.close(c_read)
            os.close(c_write)
        self._inbox = Connection(p_read, writable=False)
        self._outbox = Connection(p_write, readable=False)
        self._ready = False
        self._outbox.send_bytes(pickle.dumps({"sys_path": list(sys.path)}))

    def _wait_ready(self) -> None:
        if self._inbox.poll(STARTUP_TIMEOUT):
            try:
                tag, _ = pickle.loads(self._inbox.recv_bytes())
                if tag == "ready":
                    self._ready = True
                    return
            except (EOFError, OSError):
                pass
            rc = self._reap()
            raise WorkerDied(f"the worker process {describe_exit(rc)} while starting (see its stderr above)", rc)
        self._kill()
        raise WorkerDied(f"the worker process did not start within {STARTUP_TIMEOUT:.0f} s", None)

    def ensure_started(self) -> None:
        """Start the child (if none is alive) and wait until it has imported tilecraft."""
        if self.proc is None:
            self._start()
        if not self._ready:
            self._wait_ready()

    def call(self, func, args=(), timeout: float | None = None):
        """func(*args) in the child; raises WorkerTimeout, WorkerDied or WorkerError."""
        payload = _dumps((func, tuple(args)))  # a pickling error is the caller's, raised here
        self.ensure_started()
        try:
            self._outbox.send_bytes(payload)
        except (BrokenPipeError, OSError):
            rc = self._reap()
            self._start()
            raise WorkerDied(f"the worker process {describe_exit(rc)}", rc) from None
        if not self._inbox.poll(timeout):
            self._kill()
            self._start()  # the replacement imports tilecraft while the caller moves on
            raise WorkerTimeout(f"no answer within {timeout:g} s; the worker process was killed")
        try:
            reply = pickle.loads(self._inbox.recv_bytes())
        except (EOFError, OSError):
            rc = self._reap()
            self._start()
            raise WorkerDied(f"the worker process {describe_exit(rc)}", rc) from None
        if reply[0] == "ok":
            return reply[1]
        raise WorkerError(reply[1], reply[2])

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def _reap(self) -> int | None:
        """Forget a dead (or dying) child; its exit code, after at most a few seconds' wait."""
        proc = self.proc
        rc = None
        if proc is not None:
            try:
                rc = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
        self._drop()
        return rc

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._drop()

    def _drop(self) -> None:
        for conn in (self._inbox, self._outbox):
            if conn is not None:
                try:
                    conn.close()
                except OSError:
                    pass
        self.proc = self._inbox = self._outbox = None
        self._ready = False

    def close(self) -> None:
        """Ask the child to exit (close its pipe); kill it if it does not within a second."""
        proc = self.proc
        if proc is None:
            return
        for conn in (self._outbox, self._inbox):
            try:
                conn.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.proc = self._inbox = self._outbox = None
        self._ready = False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class WorkerPool:
    """`size` worker processes, started lazily; `call` is thread-safe and takes an idle one.

    A worker that died or timed out is replaced (its slot starts a fresh child on next use),
    so a pool is always usable after an error.
    """

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"WorkerPool: size must be at least 1, got {size}")
        self.size = size
        self._workers = [WorkerProcess() for _ in range(size)]
        self._idle: queue.Queue = queue.Queue()
        for w in self._workers:
            self._idle.put(w)

    def call(self, func, args=(), timeout: float | None = None):
        worker = self._idle.get()
        try:
            return worker.call(func, args, timeout)
        finally:
            self._idle.put(worker)

    def pids(self) -> list:
        return [w.pid for w in self._workers if w.pid is not None]

    def close(self) -> None:
        for w in self._workers:
            w.close()
