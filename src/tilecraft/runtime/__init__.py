"""The runtime: devices, arrays, compiled modules, timing, and libraries on disk.

Everything here works on the output of code generation (an `Artifact`), never on the IR, so a
deployed library needs only this package, numpy and llvmlite.
"""

from . import builtin_funcs, ndarray  # noqa: F401  (builtin_funcs registers tvm.contrib.cblas.*)
from .artifact import ArtifactError
from .device import Device, cl, cpu, cuda, device, gpu, metal, opencl, rocm, vulkan  # noqa: F401
from .export import export_library, load_module
from .function import Function
from .module import LibraryModule, LLVMModule, Module, SourceModule
from .ndarray import NDArray
from .openmp import load_openmp, num_threads, set_num_threads
from .params import load_param_dict, save_param_dict
from .registry import (
    PackedFuncError,
    convert,
    get_global_func,
    list_global_func_names,
    register_func,
    remove_global_func,
)
from .timing import ProfileResult

PackedFunc = Function  # the classic TVM name for a callable compiled function

__all__ = [
    "Device", "cpu", "cuda", "gpu", "device", "ndarray", "NDArray", "Module", "LLVMModule",
    "LibraryModule", "SourceModule", "Function", "PackedFunc", "load_module", "export_library",
    "ProfileResult", "load_openmp", "num_threads", "set_num_threads", "register_func", "get_global_func",
    "list_global_func_names", "remove_global_func", "convert", "PackedFuncError", "ArtifactError",
    "load_param_dict", "save_param_dict",
]
