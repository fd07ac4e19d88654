"""Global functions: Python callables registered by name, and the bridge compiled code calls them by.

    @tvm.register_func("my.addone")
    def addone(x, y):                      # x, y: NDArrays viewing the kernel's buffers
        y.copyfrom(x.numpy() + 1)

    tvm.get_global_func("my.addone")       # the function itself; None if missing and allow_missing

A kernel reaches these functions through `tir.call_packed("my.addone", A, B)`.  The LLVM code
generator turns each such call into a call through the module's global function pointer
`@__tilecraft_call_packed` (CALL_PACKED_SYMBOL), with the C signature

    int32_t call_packed(const char *name, int32_t nargs, const int32_t *type_codes,
                        const TVMValue *values, TVMValue *ret_value, int32_t *ret_code)

where a TVMValue is 8 bytes (int64, double or pointer) and the type codes are classic TVM's:
0 int, 1 uint, 2 float, 3 opaque pointer, 4 null, 7 DLTensor*, 11 C string, 15 bool.  A buffer
travels as a pointer to a DLTensor (data, device, ndim, dtype, shape, strides, byte_offset) on
the kernel's stack; the Python function receives an NDArray viewing that memory (no copy), so
what it writes is what the kernel reads afterwards.

When a module with packed calls is loaded (JIT-compiled, or a shared library opened), the
runtime stores the address of one ctypes callback in that pointer (`bind_packed_calls`).  The
callback never lets a Python exception unwind through native frames: it records the exception
and returns -1, the kernel returns non-zero at once, and the caller (runtime/function.py) raises
the recorded error, naming the kernel and the packed function, with the original exception as
its cause.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ..error import TVMError

CALL_PACKED_SYMBOL = "__tilecraft_call_packed"

# Classic TVM's argument type codes (c_runtime_api.h).
INT, UINT, FLOAT, HANDLE, NULL, DLTENSOR, STR, BOOL = 0, 1, 2, 3, 4, 7, 11, 15
# DLPack data type codes, as stored in a DLTensor's dtype.
DL_INT, DL_UINT, DL_FLOAT, DL_BOOL = 0, 1, 2, 6

_REGISTRY: dict = {}
_LOCK = threading.Lock()


class PackedFuncError(TVMError):
    """A function called from compiled code through call_packed failed (or is not registered)."""


# ---------------------------------------------------------------------------- the registry
def register_func(func_name, f=None, override: bool = False):
    """Register `f` as the global function `func_name` (classic `tvm.register_func`).

    Forms: `@register_func("name")`, `@register_func` (the function's own name),
    `register_func("name", f)`.  Registering a name twice is an error unless `override=True`.
    Returns `f` (or, without `f`, a decorator that registers and returns it)."""
    if callable(func_name) and f is None:
        f, func_name = func_name, func_name.__name__
    if not isinstance(func_name, str) or not func_name:
        raise TypeError(f"register_func: the name must be a non-empty string, got {func_name!r}")

    def register(fn):
        if not callable(fn):
            raise TypeError(f"register_func({func_name!r}): expected a callable, got {type(fn).__name__}")
        with _LOCK:
            if func_name in _REGISTRY and not override:
                raise ValueError(f"global function {func_name!r} is already registered; pass "
                                 "override=True to replace it")
            _REGISTRY[func_name] = fn
        return fn

    return register(f) if f is not None else register


def get_global_func(name: str, allow_missing: bool = False):
    """The function registered as `name`; None if there is none and `allow_missing`, else an error."""
    fn = _REGISTRY.get(name)
    if fn is None and not allow_missing:
        raise ValueError(f"no global function {name!r} is registered; register it with "
                         f"@tvm.register_func({name!r}) (registered: {', '.join(sorted(_REGISTRY)) or 'none'})")
    return fn


def list_global_func_names() -> list:
    return sorted(_REGISTRY)


def remove_global_func(name: str) -> None:
    """Unregister `name` (classic `tvm._ffi.registry.remove_global_func`)."""
    with _LOCK:
        if _REGISTRY.pop(name, None) is None:
            raise ValueError(f"no global function {name!r} is registered")


def convert(value):
    """Classic `tvm.runtime.convert`: Python numbers become IR constants, lists and tuples are
    converted element by element, and everything else (strings, callables, arrays, IR nodes) is
    returned as it is, since tilecraft uses those objects directly."""
    from ..ir.construct import convert as to_expr

    if isinstance(value, (list, tuple)):
        return [convert(v) for v in value]
    if isinstance(value, dict):
        return {k: convert(v) for k, v in value.items()}
    if isinstance(value, (bool, int, float, np.generic)):
        return to_expr(value)
    return value


# ---------------------------------------------------------------------------- the native bridge
class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32),
                ("ndim", ctypes.c_int32), ("dtype_code", ctypes.c_uint8), ("dtype_bits", ctypes.c_uint8),
                ("dtype_lanes", ctypes.c_uint16), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


_DL_DTYPE = {DL_INT: "int", DL_UINT: "uint", DL_FLOAT: "float"}

_pending: list = []  # (kernel-independent) errors raised by packed functions, oldest first


def _numpy_dtype(code: int, bits: int, lanes: int) -> np.dtype:
    if lanes != 1:
        raise TypeError(f"a buffer of {lanes}-lane vector elements cannot be passed to a Python function")
    if code == DL_BOOL or (code == DL_UINT and bits == 1):
        return np.dtype(bool)
    if code not in _DL_DTYPE:
        raise TypeError(f"unknown DLPack dtype code {code}")
    return np.dtype(f"{_DL_DTYPE[code]}{bits}")


def _view(address: int):
    """An NDArray viewing the memory a DLTensor describes."""
    from .device import cpu
    from .ndarray import NDArray

    t = DLTensor.from_address(address)
    dtype = _numpy_dtype(t.dtype_code, t.dtype_bits, t.dtype_lanes)
    shape = tuple(int(t.shape[i]) for i in range(t.ndim))
    count = int(np.prod(shape, dtype=np.int64))
    if t.strides:
        compact, acc = [], 1
        for d in reversed(shape):
            compact.append(acc)
            acc *= d
        strides = tuple(int(t.strides[i]) for i in range(t.ndim))
        if strides != tuple(reversed(compact)) and count > 1:
            raise TypeError(f"a buffer with strides {strides} (shape {shape}) is not contiguous and cannot "
                            "be passed to a Python function as an NDArray")
    base = (t.data or 0) + int(t.byte_offset)
    if count == 0 or not base:
        arr = np.empty(shape, dtype)
    else:
        raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(base)
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return NDArray(arr, cpu(0))


def _decode(nargs: int, codes_addr: int, values_addr: int) -> list:
    if nargs == 0:
        return []
    codes = (ctypes.c_int32 * nargs).from_address(codes_addr)
    ints = (ctypes.c_int64 * nargs).from_address(values_addr)
    floats = (ctypes.c_double * nargs).from_address(values_addr)
    ptrs = (ctypes.c_void_p * nargs).from_address(values_addr)
    args = []
    for i in range(nargs):
        code = codes[i]
        if code == INT:
            args.append(int(ints[i]))
        elif code == UINT:
            args.append(int(ints[i]) & 0xFFFFFFFFFFFFFFFF)
        elif code == FLOAT:
            args.append(float(floats[i]))
        elif code == BOOL:
            args.append(bool(ints[i]))
        elif code == DLTENSOR:
            args.append(_view(ptrs[i]))
        elif code == STR:
            args.append(ctypes.string_at(ptrs[i]).decode())
        elif code == HANDLE:
            args.append(ptrs[i])
        elif code == NULL:
            args.append(None)
        else:
            raise TypeError(f"argument {i} has unknown type code {code}")
    return args


def _encode(result, ret_addr: int, code_addr: int) -> None:
    if not ret_addr or not code_addr:
        return
    code = ctypes.c_int32.from_address(code_addr)
    if result is None:
        ctypes.c_int64.from_address(ret_addr).value = 0
        code.value = NULL
    elif isinstance(result, (bool, np.bool_)):
        ctypes.c_int64.from_address(ret_addr).value = int(result)
        code.value = BOOL
    elif isinstance(result, (int, np.integer)):
        ctypes.c_int64.from_address(ret_addr).value = int(result)
        code.value = INT
    elif isinstance(result, (float, np.floating)):
        ctypes.c_double.from_address(ret_addr).value = float(result)
        code.value = FLOAT
    else:
        value = getattr(result, "value", None)  # an IntImm / FloatImm
        if isinstance(value, (int, float)):
            _encode(value, ret_addr, code_addr)
            return
        raise TypeError(f"returned a {type(result).__name__}; a function called from compiled code may "
                        "return only None, a bool, an int or a float (write results into an output buffer)")


def _dispatch(name, nargs, codes, values, ret, ret_code) -> int:
    fname = "?"
    try:
        fname = name.decode() if name else "?"
        fn = _REGISTRY.get(fname)
        if fn is None:
            raise PackedFuncError(f"the packed function {fname!r} is not registered; register it with "
                                  f"@tvm.register_func({fname!r}) before calling the compiled function")
        _encode(fn(*_decode(nargs, codes, values)), ret, ret_code)
        return 0
    except BaseException as err:  # noqa: BLE001  (nothing may unwind through the native frames)
        with _LOCK:
            _pending.append((fname, err))
        return -1


_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32, ctypes.c_void_p,
                                  ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_CALLBACK = _CALLBACK_TYPE(_dispatch)  # kept alive for the life of the process
_CALLBACK_ADDRESS = ctypes.cast(_CALLBACK, ctypes.c_void_p).value


def bind_packed_calls(slot_address: int) -> None:
    """Point a loaded module's `@__tilecraft_call_packed` (at `slot_address`) at the callback."""
    if not slot_address:
        raise RuntimeError(f"the module calls packed functions but its {CALL_PACKED_SYMBOL} pointer "
                           "was not found (a code generator bug)")
    ctypes.c_void_p.from_address(slot_address).value = _CALLBACK_ADDRESS


def take_packed_error(kernel: str):
    """The error a packed function raised during the last failed call of `kernel` (None if none),
    as a PackedFuncError naming both, caused by the original exception.  Clears what is pending."""
    with _LOCK:
        if not _pending:
            return None
        fname, err = _pending[0]
        _pending.clear()
    if isinstance(err, PackedFuncError) and err.__cause__ is None:
        return PackedFuncError(f"{kernel}: {err}")
    if isinstance(err, (KeyboardInterrupt, SystemExit)):
        return err
    out = PackedFuncError(f"{kernel}: the packed function {fname!r} raised {type(err).__name__}: {err}")
    out.__cause__ = err
    return out
