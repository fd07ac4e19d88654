"""JSON-lines record files: the layer both tuners' log formats sit on.

One JSON value per line, appended, each line flushed and fsync'ed before the next is written,
so a tuning run killed at any moment loses at most the line being written.  Reading skips a
line that is truncated or corrupt (the torn tail of a killed run, or a hand-edited line) with a
warning naming the file and line number, and never raises for one.

`append_records` first finishes a torn last line left by a killed writer (it writes the
missing newline), so the new records never glue onto a fragment.  Appends take an advisory
lock (flock) so two processes appending to one file do not interleave within a line.
"""

from __future__ import annotations

import json
import os
import warnings


def _open_error(path: str, err: OSError, verb: str) -> OSError:
    directory = os.path.dirname(os.path.abspath(path))
    if isinstance(err, FileNotFoundError) and not os.path.isdir(directory):
        why = f"the directory {directory} does not exist; create it first"
    elif isinstance(err, PermissionError):
        why = "permission denied; choose a path you can write to" if verb == "write" else "permission denied"
    elif isinstance(err, IsADirectoryError):
        why = "it is a directory; give a file name"
    else:
        why = err.strerror or str(err)
    new = type(err)(err.errno, f"cannot {verb} tuning records at {path}: {why}")
    new.filename = path
    return new


def append_records(path, objects) -> int:
    """Append each JSON-serialisable object as one line of `path`; returns how many were written.

    Every object is serialised before anything is written (an object that cannot be leaves the
    file untouched); each line is flushed and fsync'ed on its own.
    """
    path = os.fspath(path)
    lines = [json.dumps(obj) + "\n" for obj in objects]
    if any("\n" in line[:-1] for line in lines):  # json.dumps never emits raw newlines; be sure
        raise ValueError("append_records: a record serialised to more than one line")
    try:
        f = open(path, "ab")
    except OSError as err:
        raise _open_error(path, err, "write") from None
    with f:
        _lock(f)
        try:
            if f.tell() > 0 and not _ends_with_newline(path):
                f.write(b"\n")  # a killed writer left a torn line: end it so it stays alone
            for line in lines:
                f.write(line.encode())
                f.flush()
                os.fsync(f.fileno())
        finally:
            _unlock(f)
    return len(lines)


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as r:
        r.seek(-1, os.SEEK_END)
        return r.read(1) == b"\n"


def _lock(f) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: appends are still line-at-a-time
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)


def _unlock(f) -> None:
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def read_records(path, decode=None):
    """Yield the objects of a JSON-lines file in order (or `decode(obj)` of each).

    Blank lines are ignored.  A line that is not valid JSON (or for which `decode` raises) is
    skipped with a warning "FILE:LINE: skipping a corrupt or truncated record (...)"; a missing
    file raises FileNotFoundError naming it.
    """
    path = os.fspath(path)
    try:
        f = open(path, "rb")
    except OSError as err:
        raise _open_error(path, err, "read") from None
    with f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
                if decode is not None:
                    obj = decode(obj)
            except Exception as err:  # noqa: BLE001 - any bad line is skipped, never fatal
                torn = "truncated" if not raw.endswith(b"\n") else "corrupt"
                warnings.warn(f"{path}:{lineno}: skipping a {torn} record ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''})", RuntimeWarning, stacklevel=2)
                continue
            yield obj
