"""Classic `tvm._ffi` spellings (there is no C++ core to bind to: these are the Python registries
and error base that classic code reaches through it)."""

from ..runtime import registry  # noqa: F401  (tvm._ffi.registry.remove_global_func)
from ..runtime.registry import get_global_func, register_func  # noqa: F401
from . import base  # noqa: F401
