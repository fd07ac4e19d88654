"""Running CUDA artifacts: the host plan interpreter and the CUDA driver API through ctypes.

A "cuda" Artifact (target/codegen/cuda.py) holds the kernels' CUDA C, their PTX, and per
function a host plan: allocate device temporaries, evaluate launch dimensions, launch kernels.
`CUDAModule` runs that plan.  Arrays are host arrays (numpy, tvm.nd.array on the CPU, DLPack
CPU tensors): each call copies the buffer arguments to the GPU, runs the kernels, waits, and
copies back the buffers the function writes -- the simplest behaviour that is always correct.

Without a GPU the module is still made, so `get_source()` ("cu", the default, or "ptx") works;
calling a function raises a clear error.

How kernels are launched is behind a small interface (`alloc`, `free`, `to_device`, `to_host`,
`launch`, `sync`), implemented by `DriverLauncher` (libcuda: cuModuleLoadData on the PTX,
cuLaunchKernel) and by `EmulatedLauncher` (the kernels compiled for the CPU by a C++ compiler
from `emulation_source`, run thread by thread), so the host side is testable on any machine.
"""

from __future__ import annotations

import ast
import ctypes
import functools

import numpy as np

from .artifact import Artifact
from .device import _cuda_driver, cpu, cuda_device_count
from .function import _CTYPE, Function
from .module import Module
from .ndarray import NDArray

# ---------------------------------------------------------------------------- plan expressions

_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}
_CMPOPS = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
           ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}


def _tdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


_FUNCS = {"min": min, "max": max, "tdiv": _tdiv, "tmod": lambda a, b: a - _tdiv(a, b) * b}


@functools.lru_cache(maxsize=4096)
def _parse(text: str):
    return ast.parse(text, mode="eval").body


def evaluate(text, env: dict) -> int:
    """Evaluate a plan expression (integer arithmetic over named values; see codegen/cuda_split)."""
    if isinstance(text, int):
        return text
    return _eval(_parse(text), env)


def _eval(n, env):
    t = type(n)
    if t is ast.Constant:
        return n.value
    if t is ast.Name:
        try:
            return env[n.id]
        except KeyError:
            raise ValueError(f"plan expression refers to unknown value {n.id!r}") from None
    if t is ast.BinOp and type(n.op) in _BINOPS:
        return _BINOPS[type(n.op)](_eval(n.left, env), _eval(n.right, env))
    if t is ast.UnaryOp and type(n.op) is ast.USub:
        return -_eval(n.operand, env)
    if t is ast.UnaryOp and type(n.op) is ast.Not:
        return not _eval(n.operand, env)
    if t is ast.Compare and len(n.ops) == 1 and type(n.ops[0]) in _CMPOPS:
        return _CMPOPS[type(n.ops[0])](_eval(n.left, env), _eval(n.comparators[0], env))
    if t is ast.BoolOp:
        if type(n.op) is ast.And:
            return all(_eval(v, env) for v in n.values)
        return any(_eval(v, env) for v in n.values)
    if t is ast.IfExp:
        return _eval(n.body, env) if _eval(n.test, env) else _eval(n.orelse, env)
    if t is ast.Call and type(n.func) is ast.Name and n.func.id in _FUNCS and not n.keywords:
        return _FUNCS[n.func.id](*(_eval(a, env) for a in n.args))
    raise ValueError(f"unsupported construct in a plan expression: {ast.dump(n)}")


def run_plan(steps, env: dict, buffers: dict, kernels: dict, launcher) -> None:
    """Interpret a host plan: `env` maps scalar names to ints, `buffers` names to device pointers."""
    for st in steps:
        op = st["op"]
        if op == "launch":
            k = kernels[st["kernel"]]
            grid = [evaluate(x, env) for x in k["grid"]]
            block = [evaluate(x, env) for x in k["block"]]
            if min(grid) <= 0 or min(block) <= 0:
                continue  # an empty range: nothing to compute
            args = [(p["kind"], p["dtype"], buffers[p["name"]] if p["kind"] == "buffer" else env[p["name"]])
                    for p in k["params"]]
            launcher.launch(k["name"], grid, block, args)
        elif op == "alloc":
            nbytes = max(1, evaluate(st["size"], env) * np.dtype(st["dtype"]).itemsize)
            ptr = launcher.alloc(nbytes)
            try:
                buffers[st["buffer"]] = ptr
                run_plan(st["body"], env, buffers, kernels, launcher)
                launcher.sync()
            finally:
                launcher.free(ptr)
        elif op == "for":
            lo = evaluate(st["min"], env)
            for i in range(lo, lo + evaluate(st["extent"], env)):
                env[st["var"]] = i
                run_plan(st["body"], env, buffers, kernels, launcher)
        elif op == "let":
            env[st["var"]] = evaluate(st["value"], env)
            run_plan(st["body"], env, buffers, kernels, launcher)
        elif op == "if":
            run_plan(st["then"] if evaluate(st["cond"], env) else st["else"], env, buffers, kernels, launcher)
        elif op == "assert":
            if not evaluate(st["cond"], env):
                raise RuntimeError(f"assertion failed: {st['message']}")
        else:
            raise ValueError(f"unknown host plan step {op!r}")


# ---------------------------------------------------------------------------- CUDA driver

class CUDAError(RuntimeError):
    pass


class DriverLauncher:
    """Kernels from PTX, on device `device_id`, through the CUDA driver API (libcuda via ctypes)."""

    def __init__(self, ptx: str, device_id: int = 0):
        lib = _cuda_driver()
        if lib is None:
            raise RuntimeError("no CUDA device is present; the generated source is in mod.get_source()")
        self.lib = lib
        dev = ctypes.c_int()
        self._check(lib.cuDeviceGet(ctypes.byref(dev), device_id), "cuDeviceGet")
        self.ctx = ctypes.c_void_p()
        self._check(lib.cuDevicePrimaryCtxRetain(ctypes.byref(self.ctx), dev), "cuDevicePrimaryCtxRetain")
        self._dev = dev
        self._set_current()
        self.module = ctypes.c_void_p()
        image = ctypes.create_string_buffer(ptx.encode())  # NUL-terminated, as cuModuleLoadData wants
        self._check(lib.cuModuleLoadData(ctypes.byref(self.module), image), "cuModuleLoadData (PTX)")
        self._funcs: dict = {}
        lib.cuMemAlloc_v2.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]
        lib.cuMemFree_v2.argtypes = [ctypes.c_uint64]
        lib.cuMemcpyHtoD_v2.argtypes = [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t]
        lib.cuMemcpyDtoH_v2.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t]
        lib.cuLaunchKernel.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 7 + [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]

    def _set_current(self) -> None:
        self._check(self.lib.cuCtxSetCurrent(self.ctx), "cuCtxSetCurrent")

    def _check(self, err: int, what: str) -> None:
        if err != 0:
            name = ctypes.c_char_p()
            text = ctypes.c_char_p()
            self.lib.cuGetErrorName(err, ctypes.byref(name))
            self.lib.cuGetErrorString(err, ctypes.byref(text))
            raise CUDAError(f"{what} failed: CUDA error {err} {(name.value or b'').decode()}: "
                            f"{(text.value or b'').decode()}")

    def function(self, name: str):
        f = self._funcs.get(name)
        if f is None:
            f = ctypes.c_void_p()
            self._check(self.lib.cuModuleGetFunction(ctypes.byref(f), self.module, name.encode()),
                        f"cuModuleGetFunction({name})")
            self._funcs[name] = f
        return f

    def alloc(self, nbytes: int) -> int:
        self._set_current()
        ptr = ctypes.c_uint64()
        self._check(self.lib.cuMemAlloc_v2(ctypes.byref(ptr), max(1, nbytes)), f"cuMemAlloc({nbytes} bytes)")
        return ptr.value

    def free(self, ptr: int) -> None:
        self.lib.cuMemFree_v2(ptr)

    def to_device(self, ptr: int, arr: np.ndarray) -> None:
        if arr.nbytes:
            self._check(self.lib.cuMemcpyHtoD_v2(ptr, arr.ctypes.data, arr.nbytes), "cuMemcpyHtoD")

    def to_host(self, arr: np.ndarray, ptr: int) -> None:
        if arr.nbytes:
            self._check(self.lib.cuMemcpyDtoH_v2(arr.ctypes.data, ptr, arr.nbytes), "cuMemcpyDtoH")

    def launch(self, name: str, grid, block, args) -> None:
        self._set_current()
        # cuLaunchKernel takes an array of pointers, one to each argument's value.
        holders = [ctypes.c_uint64(v) if kind == "buffer" else _CTYPE[dtype](v) for kind, dtype, v in args]
        params = (ctypes.c_void_p * max(1, len(holders)))(*[ctypes.addressof(h) for h in holders])
        self._check(self.lib.cuLaunchKernel(self.function(name), *grid, *block, 0, None, params, None),
                    f"cuLaunchKernel({name}, grid={tuple(grid)}, block={tuple(block)})")

    def sync(self) -> None:
        self._check(self.lib.cuCtxSynchronize(), "cuCtxSynchronize (a kernel failed)")


class EmulatedLauncher:
    """Kernels compiled for the CPU (`emulation_source`), "device memory" in numpy arrays."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib
        self._mem: dict = {}

    def alloc(self, nbytes: int) -> int:
        buf = np.zeros(max(1, nbytes), dtype=np.uint8)
        self._mem[buf.ctypes.data] = buf
        return buf.ctypes.data

    def free(self, ptr: int) -> None:
        self._mem.pop(ptr, None)

    def to_device(self, ptr: int, arr: np.ndarray) -> None:
        ctypes.memmove(ptr, arr.ctypes.data, arr.nbytes)

    def to_host(self, arr: np.ndarray, ptr: int) -> None:
        ctypes.memmove(arr.ctypes.data, ptr, arr.nbytes)

    def launch(self, name: str, grid, block, args) -> None:
        fn = getattr(self.lib, name + "_emulate")
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p if k == "buffer" else _CTYPE[d] for k, d, _ in args] + [ctypes.c_int] * 6
        fn(*[v for _, _, v in args], *grid, *block)

    def sync(self) -> None:
        pass


# ---------------------------------------------------------------------------- module

class CUDAModule(Module):
    """CUDA kernels and their host plans; runs on the GPU when one is present (see module docstring)."""

    type_key = "cuda"

    def __init__(self, artifact: Artifact, launcher=None, device_id: int = 0):
        super().__init__(artifact)
        self._launcher = launcher
        self._device_id = device_id

    def get_source(self, fmt: str = "") -> str:
        if fmt in ("", "cu", "cuda"):
            return self.artifact.source
        if fmt == "ptx":
            ptx = self.artifact.extra.get("ptx")
            if ptx is None:
                raise ValueError("this module has no PTX: nvcc was not available when it was built; "
                                 "read the CUDA source with get_source('cu')")
            return ptx
        raise ValueError(f"get_source: unknown format {fmt!r} for a CUDA module; use 'cu' or 'ptx'")

    def launcher(self):
        if self._launcher is None:
            if cuda_device_count() <= self._device_id:
                raise RuntimeError(f"cannot run {self.artifact.entry or 'a CUDA function'}: no CUDA device is "
                                   "present; the generated source is in mod.get_source()")
            ptx = self.artifact.extra.get("ptx")
            if ptx is None:
                from .nvcc import compile_ptx

                ptx = self.artifact.extra["ptx"] = compile_ptx(self.artifact.source,
                                                                self.artifact.extra.get("arch", "sm_80"))
            self._launcher = DriverLauncher(ptx, self._device_id)
        return self._launcher

    def _make_function(self, name: str) -> Function:
        return CUDAFunction(self, name)


class CUDAFunction(Function):
    """One function of a CUDAModule: checks arguments like a CPU Function, then runs the host plan."""

    def __init__(self, module: CUDAModule, name: str):
        art = module.artifact
        super().__init__(module._infos[name], 0, module, cpu(0), ())
        self._module = module
        self._plan = art.extra["host"][name]
        self._arg_names = art.extra["host_args"][name]
        self._kernels = {k["name"]: k for k in art.extra["kernels"] if k["function"] == name}

    def __call__(self, *args):
        launcher = self._module.launcher()
        values = self._check(args)
        info = self.info
        env: dict = {}
        buffers: dict = {}
        arrays: list = []
        try:
            for i, (p, arg) in enumerate(zip(info.params, args)):
                name = self._arg_names[i]
                if p.kind == "buffer":
                    arr = arg._np if isinstance(arg, NDArray) else self._as_numpy(arg, self._where(i))
                    ptr = launcher.alloc(arr.nbytes)
                    buffers[name] = ptr
                    arrays.append((i, arr, ptr))
                    launcher.to_device(ptr, arr)
                else:
                    env[name] = values[i]
            for j in range(len(info.shape_vars)):
                env[self._arg_names[len(info.params) + j]] = values[len(info.params) + j]
            run_plan(self._plan, env, buffers, self._kernels, launcher)
            launcher.sync()
            writes = info.writes
            for i, arr, ptr in arrays:
                if writes is None or i in writes:
                    launcher.to_host(arr, ptr)
        finally:
            for _, _, ptr in arrays:
                launcher.free(ptr)
