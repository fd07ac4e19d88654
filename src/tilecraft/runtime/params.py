"""Parameters as safetensors: an 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}}, then the raw bytes.  Nothing is ever unpickled."""

from __future__ import annotations

import json
import struct

import numpy as np

from .artifact import ArtifactError
from .fileio import write_atomic  # noqa: F401  (re-exported for callers saving params)

_TO_ST = {"float16": "F16", "float32": "F32", "float64": "F64", "int8": "I8", "int16": "I16", "int32": "I32",
          "int64": "I64", "uint8": "U8", "uint16": "U16", "uint32": "U32", "uint64": "U64", "bool": "BOOL"}
_FROM_ST = {v: k for k, v in _TO_ST.items()}


def save_param_dict(params: dict) -> bytes:
    """Serialize {name: array} (numpy arrays or NDArrays) to safetensors bytes."""
    if not hasattr(params, "items"):
        raise TypeError(f"save_param_dict takes a dict {{name: array}}, got {type(params).__name__}")
    for name in params:  # a graph input is found by its str name: 1 would be saved as "1" and never match
        if not isinstance(name, str):
            raise TypeError(f"save_param_dict: parameter names must be str, got {name!r} "
                            f"({type(name).__name__}); use the graph input's name, e.g. {str(name)!r}")
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


def load_param_dict(data: bytes, where: str = "parameter file") -> dict:
    """Parse safetensors bytes into {name: numpy array}.  Anything malformed (a truncated file, a header
    whose dtype or shape disagrees with its bytes) is an ArtifactError naming `where` and the parameter."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        hint = f" (to read the file {data!r}: load_param_dict(open({data!r}, 'rb').read()))" \
            if isinstance(data, str) else ""
        raise TypeError(f"load_param_dict takes the bytes of a parameter file, e.g. open(path, 'rb').read(); "
                        f"got {type(data).__name__}{hint}")
    if len(data) < 8:
        raise ArtifactError(where, "header", f"not a safetensors parameter file: {len(data)} bytes, too short")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ArtifactError(where, "header", f"not a safetensors parameter file (or truncated): the header "
                            f"length {n} exceeds the {len(data) - 8} bytes that follow")
    try:
        header = json.loads(bytes(data[8:8 + n]))
    except ValueError as err:
        raise ArtifactError(where, "header", f"not a safetensors parameter file: bad header ({err})") from None
    if not isinstance(header, dict):
        raise ArtifactError(where, "header", "not a safetensors parameter file: the header is not a JSON object")
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name != "__metadata__":
            out[name] = _array(where, name, info, body)
    return out


def _array(where: str, name: str, info, body) -> np.ndarray:
    what = f"parameter {name!r}"
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise ArtifactError(where, what, "the header entry needs dtype, shape and data_offsets")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in _FROM_ST:
        raise ArtifactError(where, what, f"unknown dtype {dtype!r}; known: {sorted(_FROM_ST)}")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise ArtifactError(where, what, f"shape {shape!r} is not a list of non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets) \
            or not 0 <= offsets[0] <= offsets[1]:
        raise ArtifactError(where, what, f"data_offsets {offsets!r} are not [start, end]")
    start, end = offsets
    if end > len(body):
        raise ArtifactError(where, what, f"its bytes [{start}, {end}) run past the end of the data "
                            f"({len(body)} bytes): the file is truncated")
    need = int(np.prod(shape, dtype=object)) * np.dtype(_FROM_ST[dtype]).itemsize
    if end - start != need:
        raise ArtifactError(where, what, f"dtype {dtype} and shape {shape} need {need} bytes, the header gives "
                            f"{end - start}")
    return np.frombuffer(body[start:end], dtype=_FROM_ST[dtype]).reshape(shape).copy()


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
