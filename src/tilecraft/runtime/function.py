"""Function: a compiled function callable from Python, with every argument checked first.

Generated code trusts its arguments completely (it indexes buffers with the shapes it was
compiled for and assumes they do not alias), so a wrong argument would read or write memory
it does not own.  Everything is therefore checked in Python before the native call: count,
array type, device, dtype, rank, static and symbolic dimensions, contiguity, writability and
overlap.  An error names the function, the argument (index and name) and what to do.

The checks are precompiled per parameter into small closures when the Function is created,
so a call costs a few microseconds on top of ctypes.
"""

from __future__ import annotations

import ctypes
import math
import operator

import numpy as np

from .artifact import FuncInfo
from .device import Device, cpu
from .ndarray import NDArray, dlpack_to_numpy
from .registry import take_packed_error

_CTYPE = {
    "bool": ctypes.c_bool, "int8": ctypes.c_int8, "int16": ctypes.c_int16, "int32": ctypes.c_int32,
    "int64": ctypes.c_int64, "uint8": ctypes.c_uint8, "uint16": ctypes.c_uint16,
    "uint32": ctypes.c_uint32, "uint64": ctypes.c_uint64, "float32": ctypes.c_float,
    "float64": ctypes.c_double,
}


_REAL = (int, float, np.integer, np.floating)


def _address(arr: np.ndarray) -> int:
    """Address of a writable C-contiguous array; several times faster than arr.ctypes.data."""
    if arr.nbytes == 0:
        return arr.ctypes.data
    return ctypes.addressof(ctypes.c_char.from_buffer(arr))


def _int_range(dtype: str) -> tuple[int, int]:
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


class _BindError(Exception):
    """A symbolic dimension got two values; the slow path turns this into a full message."""


class Function:
    """A callable compiled function (classic `tvm.runtime.PackedFunc`)."""

    def __init__(self, info: FuncInfo, address: int, owner, dev: Device = None, asserts=()):
        self.name = info.name
        self.info = info
        self._asserts = tuple(asserts)  # messages of the module's assertions (they return -1)
        self._owner = owner  # keeps the JIT engine or shared library (and so `address`) alive
        self.device = dev or cpu(0)
        self._check_signature()
        params = info.params
        argtypes = [ctypes.c_void_p if p.kind == "buffer" else _CTYPE[p.dtype] for p in params]
        argtypes += [_CTYPE[dt] for _, dt in info.shape_vars]
        self._cfunc = ctypes.CFUNCTYPE(ctypes.c_int32, *argtypes)(address)
        self._convs = tuple(self._buffer_conv(i, p) if p.kind == "buffer" else self._scalar_conv(i, p)
                            for i, p in enumerate(params))
        self._shape_vars = tuple(v for v, _ in info.shape_vars)
        self._shape_var_ranges = tuple(_int_range(dt) for _, dt in info.shape_vars)
        self._nargs = len(params)
        self._all_buffers = all(p.kind == "buffer" for p in params)
        self._validated: dict = {}  # argument signatures already checked -> shape variable values

    # --- construction -----------------------------------------------------------------------
    def _check_signature(self) -> None:
        """Reject a calling convention this runtime cannot honour, before any call is made."""
        bound = {p.name for p in self.info.params if p.kind == "scalar"}
        for p in self.info.params:
            if p.kind == "buffer":
                bound.update(d for d in p.shape if isinstance(d, str))
                np.dtype(p.dtype)
            elif p.kind == "scalar":
                if p.dtype not in _CTYPE:
                    raise TypeError(f"{self.name}: scalar parameter {p.name!r} has dtype {p.dtype}, which "
                                    f"cannot be passed from Python; use one of {', '.join(_CTYPE)}")
            else:
                raise ValueError(f"{self.name}: parameter {p.name!r} has unknown kind {p.kind!r}")
        for var, dtype in self.info.shape_vars:
            if var not in bound:
                raise ValueError(f"{self.name}: shape variable {var!r} is not the size of any buffer "
                                 "parameter, so it cannot be inferred from the arguments")
            if dtype not in ("int32", "int64", "uint32", "uint64"):
                raise TypeError(f"{self.name}: shape variable {var!r} has non-integer dtype {dtype}")

    def _where(self, index: int) -> str:
        return f"{self.name}: argument {index} ({self.info.params[index].name!r})"

    def _buffer_conv(self, index: int, p):
        """A closure that checks one buffer argument and returns (address, nbytes)."""
        want = np.dtype(p.dtype)
        ndim = len(p.shape)
        static = tuple(p.shape) if all(isinstance(d, int) for d in p.shape) else None
        symbolic = tuple((axis, d) for axis, d in enumerate(p.shape) if isinstance(d, str))
        fixed = tuple((axis, d) for axis, d in enumerate(p.shape) if not isinstance(d, str))
        dev = self.device
        where = self._where(index)

        def conv(arg, dims):
            if type(arg) is NDArray:
                arr = arg._np
                if arg._device is not dev and arg._device != dev:
                    raise ValueError(f"{where} is on {arg._device!r} but {self.name} runs on {dev!r}; "
                                     f"copy it first with arr.copyto(tvm.{dev!r})")
                ptr = arg._ptr
            else:
                arr = self._as_numpy(arg, where)
                ptr = _address(arr)
            if arr.dtype != want:
                raise TypeError(f"{where} must have dtype {p.dtype} but has {arr.dtype}; "
                                f"convert it, e.g. x.astype('{p.dtype}')")
            shape = arr.shape
            if static is not None:
                if shape != static:
                    raise ValueError(self._shape_message(where, p, shape))
            else:
                if len(shape) != ndim:
                    raise ValueError(self._shape_message(where, p, shape))
                for axis, d in fixed:
                    if shape[axis] != d:
                        raise ValueError(self._shape_message(where, p, shape))
                for axis, var in symbolic:
                    have = dims.setdefault(var, shape[axis])
                    if have != shape[axis]:
                        raise _BindError(var)
            return ptr, arr.nbytes

        return conv

    def _as_numpy(self, arg, where: str) -> np.ndarray:
        if isinstance(arg, np.ndarray):
            arr = arg
        elif isinstance(arg, NDArray):
            arr = arg._np
        elif hasattr(arg, "__dlpack__"):
            try:
                arr = dlpack_to_numpy(arg, where)
            except (BufferError, TypeError, ValueError) as err:
                raise TypeError(f"{where}: could not view this {type(arg).__name__} through DLPack "
                                f"({err}); pass a CPU tensor or a tvm.nd.array") from err
        else:
            raise TypeError(f"{where} must be an array (tvm.nd.array, numpy array or DLPack tensor), "
                            f"got {type(arg).__name__}")
        if not arr.flags.c_contiguous:
            raise ValueError(f"{where} is not C-contiguous (strides {arr.strides}); "
                             "pass np.ascontiguousarray(x)")
        if not arr.flags.writeable:
            raise ValueError(f"{where} is a read-only array, and compiled code may write to its "
                             "buffer; pass a writable copy, e.g. np.array(x)")
        return arr

    @staticmethod
    def _shape_message(where: str, p, shape: tuple) -> str:
        want = "(" + ", ".join(str(d) for d in p.shape) + ("," if len(p.shape) == 1 else "") + ")"
        if len(shape) != len(p.shape):
            return (f"{where} must have rank {len(p.shape)} (shape {want}) but has rank {len(shape)} "
                    f"(shape {shape})")
        return f"{where} must have shape {want} but has shape {shape}"

    def _scalar_conv(self, index: int, p):
        where = self._where(index)
        name = p.name
        if p.dtype.startswith("float"):
            # the smallest magnitude that rounds to inf in a narrower float: 1e300 would arrive as inf
            fi = np.finfo(p.dtype)
            limit = (2 - 2.0 ** -(fi.nmant + 1)) * 2.0 ** (fi.maxexp - 1) if p.dtype != "float64" else math.inf

            def convert(arg):
                if isinstance(arg, (bool, np.bool_)) or not isinstance(arg, _REAL):
                    raise TypeError(f"{where} must be a number (dtype {p.dtype}), got {arg!r}")
                value = float(arg)
                if abs(value) >= limit and value not in (math.inf, -math.inf):
                    raise ValueError(f"{where} = {arg!r} does not fit in {p.dtype} (largest {float(fi.max):g}): "
                                     f"it would become inf")
                return value
        elif p.dtype == "bool":
            def convert(arg):
                if not isinstance(arg, (bool, np.bool_, int, np.integer)) or arg not in (0, 1):
                    raise TypeError(f"{where} must be a bool, got {arg!r}")
                return bool(arg)
        else:
            lo, hi = _int_range(p.dtype)

            def convert(arg):
                if isinstance(arg, (bool, np.bool_)):
                    raise TypeError(f"{where} must be an integer (dtype {p.dtype}), got {arg!r}")
                try:
                    value = operator.index(arg)
                except TypeError:
                    raise TypeError(f"{where} must be an integer (dtype {p.dtype}), got "
                                    f"{type(arg).__name__} {arg!r}") from None
                if not lo <= value <= hi:
                    raise ValueError(f"{where} = {value} does not fit in {p.dtype} [{lo}, {hi}]")
                return value

        def conv(arg, dims):
            value = convert(arg)
            if dims.setdefault(name, value) != value and value == value:  # (NaN is a legal float argument)
                raise _BindError(name)
            return value

        return conv

    # --- calling ----------------------------------------------------------------------------
    def _prepare(self, args: tuple) -> list:
        """Check `args` and turn them into the native argument list.

        Fast path: arguments that are distinct NDArrays owning their memory, whose dtypes,
        shapes and devices (their `_sig`) were checked by an earlier call, need only their
        addresses; they cannot overlap, and their shapes determine the shape variables.
        """
        try:
            tail = self._validated.get(tuple([a._sig for a in args]))
        except AttributeError:  # not all NDArrays
            tail = None
        if tail is not None and len(set(map(id, args))) == len(args):
            return [a._ptr for a in args] + tail
        values = self._check(args)
        if self._all_buffers and all(type(a) is NDArray and a._sig[-1] for a in args):
            if len(self._validated) >= 64:
                self._validated.clear()
            self._validated[tuple(a._sig for a in args)] = values[self._nargs:]
        return values

    def _check(self, args: tuple) -> list:
        if len(args) != self._nargs:
            names = ", ".join(p.name for p in self.info.params)
            raise TypeError(f"{self.name} takes {self._nargs} arguments ({names}) but {len(args)} "
                            "were given")
        dims = {}
        values = []
        spans = []
        try:
            for conv, arg in zip(self._convs, args):
                value = conv(arg, dims)
                if type(value) is tuple:
                    spans.append(value)
                    value = value[0]
                values.append(value)
        except _BindError as err:
            raise ValueError(self._bind_message(args, err.args[0])) from None
        for var, (lo, hi) in zip(self._shape_vars, self._shape_var_ranges):
            value = dims[var]
            if not lo <= value <= hi:
                raise ValueError(f"{self.name}: size {var} = {value} does not fit the function's "
                                 f"index type [{lo}, {hi}]")
            values.append(value)
        if len(spans) > 1:
            self._check_overlap(spans)
        return values

    def __call__(self, *args):
        rc = self._cfunc(*self._prepare(args))
        if rc != 0:
            err = take_packed_error(self.name)  # a function it called through call_packed failed
            if err is not None:
                raise err
            raise RuntimeError(self.failure_message(rc))

    def failure_message(self, rc: int) -> str:
        """Why the compiled code returned `rc`, as far as the artifact tells."""
        err = take_packed_error(self.name)
        if err is not None:  # callers that cannot chain exceptions (timing, graph executor)
            return str(err)
        if rc <= -2 and -rc - 2 < len(self._asserts):  # the code of one check (codegen's assert_code)
            return f"{self.name}: {self._asserts[-rc - 2]}"
        msg = f"{self.name} failed: the compiled function returned error code {rc}"
        if rc == -1 and self._asserts:  # modules built before checks had codes of their own
            msg += "; a runtime assertion failed: " + " | ".join(self._asserts)
        return msg

    def _check_overlap(self, spans: list) -> None:
        ranges = sorted((start, start + n, i) for i, (start, n) in enumerate(spans) if n)
        if not ranges:
            return
        buffers = [i for i, p in enumerate(self.info.params) if p.kind == "buffer"]
        writes = self.info.writes
        written = [writes is None or buffers[i] in writes for i in range(len(spans))]
        # Overlap matters only where one of the two is written: check written spans against all.
        for s, e, i in ranges:
            if not written[i]:
                continue
            for s2, e2, j in ranges:
                if j != i and s2 < e and s < e2:
                    self._raise_overlap(i, j)

    def _raise_overlap(self, b0: int, b1: int) -> None:
        buffers = [i for i, p in enumerate(self.info.params) if p.kind == "buffer"]
        i, j = sorted((buffers[b0], buffers[b1]))
        raise ValueError(f"{self.name}: argument {i} ({self.info.params[i].name!r}) and argument {j} "
                         f"({self.info.params[j].name!r}) share memory; compiled code assumes buffers "
                         "do not overlap, so pass separate arrays (e.g. a .copy() of one)")

    def _bind_message(self, args: tuple, var: str) -> str:
        """Explain which two arguments disagree about the size `var` (slow path, errors only)."""
        seen = []
        for i, (p, arg) in enumerate(zip(self.info.params, args)):
            if p.kind == "scalar" and p.name == var:
                seen.append((f"argument {i} ({p.name!r})", operator.index(arg)))
            elif p.kind == "buffer":
                shape = arg.shape if hasattr(arg, "shape") else ()
                for axis, d in enumerate(p.shape):
                    if d == var and axis < len(shape):
                        seen.append((f"argument {i} ({p.name!r}) axis {axis}", int(shape[axis])))
        first = seen[0]
        other = next(s for s in seen if s[1] != first[1])
        return (f"{self.name}: inconsistent size {var}: {first[0]} sets {var} = {first[1]} but "
                f"{other[0]} has {other[1]}; all uses of {var} must agree")

    def __repr__(self) -> str:
        sig = ", ".join(f"{p.name}: {p.dtype}" + (str(list(p.shape)) if p.kind == "buffer" else "")
                        for p in self.info.params)
        return f"<Function {self.name}({sig})>"
