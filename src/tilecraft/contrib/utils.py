"""Classic `tvm.contrib.utils`: a temporary directory that cleans up after itself."""

from __future__ import annotations

import os
import shutil
import tempfile


class TempDirectory:
    """`temp = utils.tempdir(); temp.relpath("lib.so")`; removed when collected or `remove()`d,
    unless kept for debugging (`keep_for_debug=True` or TVM_KEEP_TEMP=1)."""

    def __init__(self, custom_path=None, keep_for_debug=None):
        if custom_path:
            os.makedirs(custom_path, exist_ok=True)
        self.path = os.path.abspath(custom_path) if custom_path else tempfile.mkdtemp(prefix="tilecraft-")
        keep = os.environ.get("TVM_KEEP_TEMP", "") not in ("", "0") if keep_for_debug is None else keep_for_debug
        self._remove = not custom_path and not keep

    def relpath(self, name: str) -> str:
        return os.path.join(self.path, name)

    def listdir(self) -> list:
        return os.listdir(self.path)

    def remove(self) -> None:
        if self._remove:
            shutil.rmtree(self.path, ignore_errors=True)
            self._remove = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __del__(self):
        self.remove()

    def __repr__(self) -> str:
        return f"TempDirectory({self.path!r})"


def tempdir(custom_path=None, keep_for_debug=None) -> TempDirectory:
    return TempDirectory(custom_path, keep_for_debug)
