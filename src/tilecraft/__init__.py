"""tilecraft: the classic TVM workflow as a readable Python compiler.

    import tilecraft as tvm
    from tilecraft import te
"""

__version__ = "0.1.0"


def _spin_between_kernels() -> None:
    """libgomp puts a team's idle threads to sleep after GOMP_SPINCOUNT spins, but after only
    1000 once it counts more threads than cores, as it does when PyTorch's threads exist: every
    kernel of a model then wakes its team from sleep (MobileNetV2 on 2 threads: 7.5 ms instead of
    5.7).  libgomp reads the setting when it loads, so it is set now, before PyTorch or a kernel
    loads it, to libgomp's own unthrottled default.  A user's GOMP_SPINCOUNT or OMP_WAIT_POLICY
    wins; once libgomp is loaded (torch imported first) it is too late and nothing is set."""
    import os

    if "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ:
        return
    try:
        with open("/proc/self/maps") as maps:
            if "libgomp" in maps.read():
                return
    except OSError:
        pass
    os.environ["GOMP_SPINCOUNT"] = "300000"


_spin_between_kernels()

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
    if name == "parser":  # classic tvm.parser.parse / fromtext / parse_expr
        return importlib.import_module(".relay.parser", __name__)
    if name == "nd":
        return importlib.import_module(".runtime.ndarray", __name__)
    if name in ("cpu", "cuda", "opencl", "cl", "vulkan", "metal", "rocm", "device", "Device", "register_func",
                "get_global_func"):
        return getattr(importlib.import_module(".runtime", __name__), name)
    raise AttributeError(f"module 'tilecraft' has no attribute {name!r}")
