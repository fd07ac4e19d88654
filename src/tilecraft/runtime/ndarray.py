"""NDArray: a dense, C-contiguous array on a device; the type that compiled functions take.

On the CPU the storage is a numpy array whose first element sits on a 64-byte boundary (we
allocate 63 spare bytes and start at the first aligned offset), so vector loads in generated
code never straddle a cache line at the start of a buffer.  Sharing with numpy and PyTorch goes
through DLPack in both directions without copies: `np.from_dlpack(nd)` / `torch.from_dlpack(nd)`
view our memory, and `from_dlpack(tensor)` views theirs.
"""

from __future__ import annotations

import numpy as np

from .device import CPU, Device, cpu, device, require_cuda

ALIGNMENT = 64


def _aligned_empty(shape: tuple, dtype: np.dtype) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    raw = np.empty(max(size, 1) * dtype.itemsize + ALIGNMENT, dtype=np.uint8)
    offset = -raw.ctypes.data % ALIGNMENT
    # Slicing the typed view (rather than viewing an empty byte slice) keeps the aligned address
    # even for arrays with no elements.
    return raw[offset:offset + max(size, 1) * dtype.itemsize].view(dtype)[:size].reshape(shape)


def _np_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"unknown dtype {dtype!r}; use a numpy dtype name such as 'float32'") from err
    if dt.kind not in "biuf" or not dt.isnative:
        raise TypeError(f"dtype {dtype!r} is not supported by tilecraft arrays; "
                        "use bool, int8..int64, uint8..uint64 or float16/32/64 in native byte order")
    return dt


def _check_device(dev) -> Device:
    dev = device(dev)
    if dev.device_type != CPU:
        require_cuda(dev)
        raise RuntimeError(f"arrays on {dev!r} are created by the CUDA backend, which is not part of this "
                           "build; create the array on tvm.cpu(0)")
    if dev.device_id != 0:
        raise ValueError(f"there is only one CPU device, cpu(0); got {dev!r}")
    return dev


class NDArray:
    """A dense array on a device (classic `tvm.nd.NDArray`)."""

    __slots__ = ("_np", "_device", "_ptr", "_sig", "__weakref__")

    def __init__(self, storage: np.ndarray, dev: Device, owns_memory: bool = False):
        # `storage` is a C-contiguous numpy array that this NDArray views (it is not copied).
        # `owns_memory`: the storage was allocated for this array alone, so no other NDArray
        # overlaps it; compiled functions use that to skip their overlap check.
        self._np = storage
        self._device = dev
        self._ptr = storage.ctypes.data
        # What a compiled function checks about an argument, as one hashable value.
        self._sig = (storage.dtype, storage.shape, dev.device_type, dev.device_id, owns_memory)

    # --- properties -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._np.shape

    @property
    def dtype(self) -> str:
        return str(self._np.dtype)

    @property
    def device(self) -> Device:
        return self._device

    ctx = device  # the pre-0.8 TVM name

    @property
    def ndim(self) -> int:
        return self._np.ndim

    @property
    def size(self) -> int:
        return self._np.size

    @property
    def nbytes(self) -> int:
        return self._np.nbytes

    @property
    def data_ptr(self) -> int:
        """Address of the first element."""
        return self._ptr

    handle = data_ptr

    # --- copies -----------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A numpy copy of the contents (later writes to either side do not affect the other)."""
        return self._np.copy()

    asnumpy = numpy

    def copyfrom(self, source) -> NDArray:
        """Overwrite the contents from a numpy array, an NDArray, or a (nested) list of numbers.

        Arrays must match shape and dtype exactly: a silent cast could hide a wrong input.
        """
        if isinstance(source, NDArray):
            src = source._np
        elif isinstance(source, np.ndarray):
            src = source
        elif hasattr(source, "__dlpack__"):
            src = dlpack_to_numpy(source, "copyfrom")
        else:
            src = np.asarray(source, dtype=self._np.dtype)
        if src.dtype != self._np.dtype:
            raise ValueError(f"copyfrom: source dtype {src.dtype} does not match this array's dtype "
                             f"{self.dtype}; convert it first, e.g. source.astype('{self.dtype}')")
        if src.shape != self.shape:
            raise ValueError(f"copyfrom: source shape {src.shape} does not match this array's shape "
                             f"{self.shape}")
        np.copyto(self._np, src)
        return self

    def copyto(self, target) -> NDArray:
        """Copy into another NDArray (same shape and dtype), or to a new array on a Device."""
        if isinstance(target, NDArray):
            target.copyfrom(self)
            return target
        if isinstance(target, (Device, str)):
            return array(self, device=target)
        raise TypeError(f"copyto expects an NDArray or a Device, got {type(target).__name__}")

    def __setitem__(self, key, value) -> None:
        """Only `arr[:] = value`, as in classic TVM: a full overwrite."""
        if not (isinstance(key, slice) and key == slice(None)):
            raise ValueError("NDArray supports only full assignment `arr[:] = value`; "
                             "edit a numpy copy and copy it back with copyfrom")
        if isinstance(value, (int, float, bool, np.generic)):
            self._np[...] = value
        else:
            self.copyfrom(value)

    # --- interop ----------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if copy:
            return self._np.astype(dtype) if dtype is not None else self._np.copy()
        return self._np if dtype is None else self._np.astype(dtype, copy=False)

    def __dlpack__(self, *args, **kwargs):
        return self._np.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._device._dlpack_device()

    def to_dlpack(self):
        return self.__dlpack__()

    def same_as(self, other) -> bool:
        return isinstance(other, NDArray) and self._ptr == other._ptr and self.shape == other.shape

    def __repr__(self) -> str:
        body = np.array2string(self._np, separator=", ", threshold=64, edgeitems=3)
        return f"<tvm.nd.NDArray shape={self.shape}, {self._device!r}>\n{body}"

    def __str__(self) -> str:
        return str(self._np)


def empty(shape, dtype="float32", device=cpu(0)) -> NDArray:  # noqa: B008 - Device is immutable
    """An uninitialised array (classic `tvm.nd.empty`)."""
    dev = _check_device(device)
    shape = _shape(shape)
    dt = _np_dtype(dtype)
    nbytes = int(np.prod(shape, dtype=object)) * dt.itemsize  # Python ints: int64 would wrap to 0
    if nbytes >= 1 << 62:
        raise ValueError(f"empty: shape {shape} of {dt} needs {nbytes} bytes, more than any memory")
    try:
        return NDArray(_aligned_empty(shape, dt), dev, owns_memory=True)
    except MemoryError:
        raise MemoryError(f"empty: cannot allocate shape {shape} of {dt} ({nbytes} bytes)") from None


def _shape(shape) -> tuple:
    """`shape` as a tuple of ints: an int, or a sequence of ints (IntImm and numpy ints too);
    a float or a string is refused rather than truncated or read digit by digit."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        shape = (shape,)
    out = []
    for s in shape:
        if isinstance(s, (bool, np.bool_)) or not hasattr(s, "__index__"):
            raise TypeError(f"empty: shape {tuple(shape)!r} must hold integers, got {s!r} "
                            f"({type(s).__name__})")
        out.append(int(s.__index__()))
    if any(s < 0 for s in out):
        raise ValueError(f"empty: shape {tuple(out)} has a negative dimension")
    return tuple(out)


def array(obj, device=cpu(0), dtype=None) -> NDArray:  # noqa: B008 - Device is immutable
    """A new array holding a copy of `obj` (numpy array, list, scalar, NDArray or DLPack tensor)."""
    dev = _check_device(device)
    if isinstance(obj, NDArray):
        src = obj._np
    elif isinstance(obj, np.ndarray):
        src = obj
    elif hasattr(obj, "__dlpack__"):
        if hasattr(obj, "detach") and type(obj).__module__.startswith("torch"):
            obj = obj.detach()  # we copy anyway, so autograd history is irrelevant
        src = dlpack_to_numpy(obj, "array")
    else:
        try:
            src = np.asarray(obj)
        except ValueError as err:  # a ragged nested list: numpy's message names no input
            raise ValueError(f"nd.array: the nested lists {_short(obj)} are ragged (rows of different "
                             f"lengths); every row must have the same length ({err})") from None
        if src.dtype == object and dtype is None:
            raise TypeError(f"nd.array: cannot make a numeric array of {_short(obj)}")
    dt = _np_dtype(dtype if dtype is not None else src.dtype)
    out = _aligned_empty(src.shape, dt)
    np.copyto(out, src, casting="unsafe" if dtype is not None else "same_kind")
    return NDArray(out, dev, owns_memory=True)


def _short(obj) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


def dlpack_to_numpy(obj, who: str) -> np.ndarray:
    """A numpy view of a DLPack tensor on the CPU; a clear error for tensors on other devices."""
    if isinstance(obj, np.ndarray):
        return obj
    dev_type, dev_id = obj.__dlpack_device__() if hasattr(obj, "__dlpack_device__") else (CPU, 0)
    if int(dev_type) != CPU:
        where = repr(Device(2, int(dev_id))) if int(dev_type) == 2 else f"DLPack device type {dev_type}"
        raise RuntimeError(f"{who}: the tensor lives on {where}; only CPU tensors can be used here; "
                           "move it to the CPU first (e.g. t.cpu())")
    return np.from_dlpack(obj)


def from_dlpack(obj) -> NDArray:
    """View a DLPack tensor (e.g. a torch CPU tensor) as an NDArray, sharing its memory."""
    src = dlpack_to_numpy(obj, "from_dlpack")
    if not src.flags.c_contiguous:
        raise ValueError(f"from_dlpack: the tensor is not C-contiguous (shape {src.shape}, strides "
                         f"{src.strides}); make it contiguous first, e.g. t.contiguous()")
    _np_dtype(src.dtype)
    return NDArray(src, cpu(0))
