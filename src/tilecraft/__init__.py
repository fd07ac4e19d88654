"""tilecraft: the classic TVM workflow as a readable Python compiler.

    import tilecraft as tvm
    from tilecraft import te
"""

__version__ = "0.1.0"

from . import arith, error, ir, te, tir, transform  # noqa: E402,F401
from .driver import build, lower  # noqa: E402,F401
from .error import TVMError  # noqa: E402,F401
from .ir import instrument  # noqa: E402,F401  (classic tvm.instrument)
from .tir.stmt import IRModule  # noqa: E402,F401


def __getattr__(name):
    # The runtime and targets load llvmlite; import them on first use so `import tilecraft` stays light.
    import importlib

    if name in ("runtime", "target", "testing", "contrib", "relay", "topi", "measure", "models", "_ffi"):
        return importlib.import_module(f".{name}", __name__)
    if name == "container":
        return importlib.import_module(".ir.container", __name__)
    if name == "nd":
        return importlib.import_module(".runtime.ndarray", __name__)
    if name in ("cpu", "cuda", "opencl", "cl", "vulkan", "metal", "rocm", "device", "Device", "register_func",
                "get_global_func"):
        return getattr(importlib.import_module(".runtime", __name__), name)
    raise AttributeError(f"module 'tilecraft' has no attribute {name!r}")
