"""Classic `tvm.contrib.download`: fetch a file once into a local cache.  Offline (as on machines
that reach only package registries), a file already in the cache is used, and a missing one is an
error that says where to put it."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request


def cache_root() -> str:
    """Where download_testdata keeps files: $TVM_TEST_DATA, else ~/.tvm_test_data (classic place)."""
    return os.environ.get("TVM_TEST_DATA") or os.path.join(os.path.expanduser("~"), ".tvm_test_data")


def download(url: str, path: str, overwrite: bool = False, size_compare: bool = False, retries: int = 3,
             timeout: float = 30.0) -> None:
    """Fetch `url` to `path` (atomically); an existing `path` is kept unless `overwrite`."""
    if os.path.isfile(path) and not overwrite:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    errors = []
    for _ in range(max(retries, 1)):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".part")
        os.close(fd)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f)
            os.replace(tmp, path)
            return
        except OSError as err:
            errors.append(str(err))
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise RuntimeError(f"download: could not fetch {url} ({errors[-1]}). This machine may be offline; "
                       f"fetch the file elsewhere and put it at {path}, and it will be used from there")


def download_testdata(url: str, relpath: str, module=None, overwrite: bool = False) -> str:
    """The cached copy of `url` under cache_root()/module/relpath, downloaded the first time."""
    parts = [module] if isinstance(module, str) else list(module or [])
    path = os.path.join(cache_root(), *parts, relpath)
    download(url, path, overwrite=overwrite)
    return path
