"""Devices: where an array lives and where a function runs.

A `Device` is a (device_type, device_id) pair with the DLPack device-type codes, so it can be
handed to DLPack consumers unchanged.  CUDA presence is probed through the driver library with
ctypes: asking whether a GPU exists must never fail or need a CUDA toolkit.
"""

from __future__ import annotations

import ctypes
import functools

CPU = 1  # kDLCPU
CUDA = 2  # kDLCUDA
# Devices classic code names that tilecraft has no runtime for: they exist as names (so that
# `tvm.device("opencl").exist` is a question with an answer, False) but hold no arrays.
OPENCL, VULKAN, METAL, ROCM = 4, 7, 8, 10

_TYPE_NAME = {CPU: "cpu", CUDA: "cuda", OPENCL: "opencl", VULKAN: "vulkan", METAL: "metal", ROCM: "rocm"}
_NAME_TYPE = {"cpu": CPU, "llvm": CPU, "c": CPU, "stackvm": CPU,
              "cuda": CUDA, "gpu": CUDA, "nvptx": CUDA,
              "opencl": OPENCL, "cl": OPENCL, "vulkan": VULKAN, "metal": METAL, "rocm": ROCM}


class Device:
    """A device, compared and hashed by (device_type, device_id)."""

    __slots__ = ("device_type", "device_id")

    def __init__(self, device_type: int, device_id: int = 0):
        if device_type not in _TYPE_NAME:
            raise ValueError(f"unknown device type {device_type!r}; tilecraft knows cpu (1), cuda (2), opencl (4), "
                             f"vulkan (7), metal (8) and rocm (10)")
        if not isinstance(device_id, int) or device_id < 0:
            raise ValueError(f"device id must be a non-negative int, got {device_id!r}")
        self.device_type = device_type
        self.device_id = device_id

    @property
    def kind(self) -> str:
        """The device's name: "cpu", "cuda", "opencl", ..."""
        return _TYPE_NAME[self.device_type]

    @property
    def exist(self) -> bool:
        """Whether this device is present: a CPU always is; a GPU only if the CUDA driver says so (the
        runtimes of OpenCL, Vulkan, Metal and ROCm are not part of tilecraft)."""
        if self.device_type == CPU:
            return self.device_id == 0
        return self.device_type == CUDA and self.device_id < cuda_device_count()

    def sync(self) -> None:
        """Wait until all work queued on the device has finished (a no-op on the CPU)."""
        if self.device_type == CUDA:
            require_cuda(self)
            lib = _cuda_driver()
            err = lib.cuCtxSynchronize()
            if err not in (0, 201):  # 201: no context is current yet, so nothing was queued
                raise RuntimeError(f"cuCtxSynchronize on {self!r} failed with CUDA error {err}")

    def __eq__(self, other) -> bool:
        return (isinstance(other, Device) and self.device_type == other.device_type
                and self.device_id == other.device_id)

    def __hash__(self) -> int:
        return hash((self.device_type, self.device_id))

    def __repr__(self) -> str:
        return f"{self.kind}({self.device_id})"

    def _dlpack_device(self) -> tuple[int, int]:
        return (self.device_type, self.device_id)


def cpu(dev_id: int = 0) -> Device:
    return Device(CPU, dev_id)


def cuda(dev_id: int = 0) -> Device:
    return Device(CUDA, dev_id)


gpu = cuda


def opencl(dev_id: int = 0) -> Device:
    return Device(OPENCL, dev_id)


cl = opencl


def vulkan(dev_id: int = 0) -> Device:
    return Device(VULKAN, dev_id)


def metal(dev_id: int = 0) -> Device:
    return Device(METAL, dev_id)


def rocm(dev_id: int = 0) -> Device:
    return Device(ROCM, dev_id)


def device(dev_type, dev_id: int = 0) -> Device:
    """`device("cuda", 0)`; also accepts a target string ("llvm -mcpu=znver3"), a type code or a Device."""
    if isinstance(dev_type, Device):
        return dev_type
    if isinstance(dev_type, int):
        return Device(dev_type, dev_id)
    if isinstance(dev_type, str):
        words = dev_type.split()
        name = words[0].lower() if words else ""
        if name in _NAME_TYPE:
            return Device(_NAME_TYPE[name], dev_id)
    raise ValueError(f"unknown device {dev_type!r}; use one of {', '.join(sorted(_NAME_TYPE))}")


@functools.lru_cache(maxsize=1)
def _cuda_driver():
    """The CUDA driver library after a successful cuInit, or None when there is no usable driver."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            if lib.cuInit(0) == 0:
                return lib
        except AttributeError:
            pass
        return None
    return None


@functools.lru_cache(maxsize=1)
def cuda_device_count() -> int:
    """How many CUDA devices the driver reports; 0 when there is no driver or no device."""
    lib = _cuda_driver()
    if lib is None:
        return 0
    count = ctypes.c_int(0)
    if lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return 0
    return count.value


def require_cuda(dev: Device) -> None:
    """Raise a clear error when `dev` is a GPU that this machine does not have."""
    if dev.device_type not in (CPU, CUDA):
        raise RuntimeError(f"{dev!r}: tilecraft has no {dev.kind} runtime (it runs code on the CPU and on CUDA "
                           "GPUs); use tvm.cpu(0) or tvm.cuda(0)")
    if dev.device_type == CUDA and not dev.exist:
        n = cuda_device_count()
        if n == 0:
            raise RuntimeError(f"{dev!r} is not available: no CUDA device is present on this machine "
                               "(the CUDA driver libcuda could not be loaded or reports no GPU); "
                               "use tvm.cpu(0) instead")
        raise RuntimeError(f"{dev!r} is not available: this machine has {n} CUDA device(s) "
                           f"(ids 0..{n - 1})")
