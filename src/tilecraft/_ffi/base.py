"""`tvm._ffi.base.TVMError`, the error classic tests catch."""

from ..error import TVMError  # noqa: F401
