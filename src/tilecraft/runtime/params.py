"""Parameters as safetensors: an 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}}, then the raw bytes.  Nothing is ever unpickled."""

from __future__ import annotations

import json
import struct

import numpy as np

from .fileio import write_atomic  # noqa: F401  (re-exported for callers saving params)

_TO_ST = {"float16": "F16", "float32": "F32", "float64": "F64", "int8": "I8", "int16": "I16", "int32": "I32",
          "int64": "I64", "uint8": "U8", "uint16": "U16", "uint32": "U32", "uint64": "U64", "bool": "BOOL"}
_FROM_ST = {v: k for k, v in _TO_ST.items()}


def save_param_dict(params: dict) -> bytes:
    """Serialize {name: array} (numpy arrays or NDArrays) to safetensors bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(params):
        value = params[name].numpy() if hasattr(params[name], "numpy") else params[name]
        arr = np.asarray(value, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        if str(arr.dtype) not in _TO_ST:
            raise TypeError(f"parameter {name!r} has dtype {arr.dtype}, which safetensors cannot store")
        data = arr.tobytes()
        header[name] = {"dtype": _TO_ST[str(arr.dtype)], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + b"".join(blobs)


def load_param_dict(data: bytes) -> dict:
    """Parse safetensors bytes into {name: numpy array}; a malformed file gets a clear error."""
    if len(data) < 8:
        raise ValueError("not a safetensors parameter file: too short")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("not a safetensors parameter file: header length exceeds the file")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as err:
        raise ValueError(f"not a safetensors parameter file: bad header ({err})") from None
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if info["dtype"] not in _FROM_ST or not 0 <= start <= end <= len(body):
            raise ValueError(f"parameter {name!r}: bad dtype or offsets in the safetensors header")
        arr = np.frombuffer(body[start:end], dtype=_FROM_ST[info["dtype"]]).reshape(info["shape"])
        out[name] = arr.copy()
    return out
