"""What a code generator hands the runtime: source text plus the calling convention of each function.

The native calling convention of every generated function is

    int32_t name(<param 0>, <param 1>, ..., <shape var 0>, <shape var 1>, ...)

where a buffer parameter is a pointer to its first element (C-contiguous, row major) and a
scalar parameter is passed by value in its dtype.  Shape variables are the symbolic sizes
used by the buffers' shapes that the user does not pass explicitly; the runtime reads their
values off the arrays it is given.  The function returns 0 on success.

It lives in the runtime, the lower of the two layers, so that code generators build it and the
runtime reads it without the runtime ever importing a code generator.  An "llvm" artifact says
which machine its code is for in `extra` (see runtime/llvm_jit.py), so the runtime never
parses target strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ParamInfo:
    kind: str  # "buffer" or "scalar"
    name: str
    dtype: str
    shape: tuple = ()  # buffers only: ints, or names (str) of shape variables


@dataclass(frozen=True)
class FuncInfo:
    name: str
    params: tuple  # ParamInfo, the user-facing arguments in order
    shape_vars: tuple = ()  # (name, dtype) pairs appended to the native call after params
    writes: tuple | None = None  # indices of the buffer params the function stores to (None: unknown)


@dataclass
class Artifact:
    """Generated source for one target, plus its functions' calling conventions."""

    kind: str  # "llvm", "cuda", "c"
    source: str  # LLVM IR text, CUDA C, or C
    functions: tuple  # FuncInfo
    target: str  # the target string it was generated for
    entry: str = ""
    extra: dict = field(default_factory=dict)

    def meta_json(self) -> str:
        return json.dumps({
            "kind": self.kind, "target": self.target, "entry": self.entry, "extra": self.extra,
            "functions": [{"name": f.name,
                           "params": [[p.kind, p.name, p.dtype, list(p.shape)] for p in f.params],
                           "shape_vars": [list(v) for v in f.shape_vars],
                           "writes": None if f.writes is None else list(f.writes)} for f in self.functions],
        })

    @staticmethod
    def from_meta_json(text: str, source: str) -> Artifact:
        m = json.loads(text)
        funcs = tuple(
            FuncInfo(f["name"], tuple(ParamInfo(k, n, d, tuple(s)) for k, n, d, s in f["params"]),
                     tuple(tuple(v) for v in f["shape_vars"]),
                     None if f.get("writes") is None else tuple(f["writes"]))
            for f in m["functions"])
        return Artifact(m["kind"], source, funcs, m["target"], m["entry"], m.get("extra", {}))
