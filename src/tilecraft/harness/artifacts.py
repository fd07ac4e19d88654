"""Files a command leaves behind, written so that nothing is ever half-written: every file goes
through a temporary name and os.replace, and JSON records are merged into what a previous run
wrote rather than replacing it."""

from __future__ import annotations

import datetime
import json
import os
import platform

from ..runtime.fileio import write_atomic


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("tilecraft")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def host() -> dict:
    from ..runtime import num_threads

    return {"machine": platform.machine(), "system": platform.system(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "threads": num_threads()}


def read_json(path, what: str = "file") -> dict:
    """A JSON object from `path`, with an error naming the file when it is missing or malformed."""
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{what} {path} is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} {path} holds a JSON {type(data).__name__}, expected an object")
    return data


def write_json(path, data: dict) -> None:
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n").encode())


def _jsonable(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, os.PathLike):
        return os.fspath(x)
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def merge(old: dict, new: dict) -> dict:
    """`new` over `old`, recursively for nested objects: fields a run does not produce survive."""
    out = dict(old)
    for k, v in new.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def update_json(path, new: dict) -> dict:
    """Merge `new` into the JSON object at `path` (created when missing); a file that is not a JSON
    object is kept as `<path>.invalid` and replaced, so no earlier content is silently lost."""
    old = {}
    if os.path.exists(path):
        try:
            old = read_json(path)
        except ValueError:
            os.replace(path, f"{path}.invalid")
    data = merge(old, new)
    write_json(path, data)
    return data

