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

from ..error import TVMError


class ArtifactError(ValueError, TVMError):
    """A file tilecraft reads back (library, graph JSON, parameters, model) is malformed or was edited
    after it was written.  The message names the file and the field: a bad artifact must stop with an
    error before any kernel runs on it, never with a crash.  A ValueError for code that checks its
    inputs, a TVMError (RuntimeError) for classic TVM code."""

    def __init__(self, where: str, what: str, why: str):
        super().__init__(f"{where}: {what}: {why}" if what else f"{where}: {why}")
        self.where, self.what = where, what


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
    def from_meta_json(text: str, source: str, where: str = "metadata") -> Artifact:
        """The artifact `meta_json` describes; any malformed field is an ArtifactError naming `where`."""
        try:
            m = json.loads(text)
        except ValueError as err:
            raise ArtifactError(where, "", f"not valid JSON ({err})") from None
        get = _Fields(where)
        m = get.obj(m, "metadata", dict)
        funcs = tuple(_func_info(get, f, f"functions[{i}]")
                      for i, f in enumerate(get.field(m, "functions", list, "metadata")))
        extra = m.get("extra", {})
        get.obj(extra, "extra", dict)
        return Artifact(get.field(m, "kind", str, "metadata"), source, funcs, get.field(m, "target", str, "metadata"),
                        get.field(m, "entry", str, "metadata"), extra)


class _Fields:
    """Typed reads of a parsed JSON document, each failure an ArtifactError naming the field."""

    def __init__(self, where: str):
        self.where = where

    def obj(self, value, what: str, kind):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ArtifactError(self.where, what, f"expected a {_NAMES.get(kind, kind.__name__)}, "
                                f"got {json.dumps(value)[:80]}")
        return value

    def field(self, parent: dict, key: str, kind, what: str):
        if key not in parent:
            raise ArtifactError(self.where, f"{what}.{key}", "missing")
        return self.obj(parent[key], f"{what}.{key}", kind)


_NAMES = {dict: "JSON object", list: "JSON list", str: "string", int: "integer"}


def _func_info(get: _Fields, f, what: str) -> FuncInfo:
    get.obj(f, what, dict)
    name = get.field(f, "name", str, what)
    shape_vars = []
    for i, v in enumerate(get.field(f, "shape_vars", list, what)):
        v = get.obj(v, f"{what}.shape_vars[{i}]", list)
        if len(v) != 2 or not all(isinstance(x, str) for x in v):
            raise ArtifactError(get.where, f"{what}.shape_vars[{i}]", "expected [name, dtype]")
        shape_vars.append(tuple(v))
    known = {v for v, _ in shape_vars}
    params = []
    for i, p in enumerate(get.field(f, "params", list, what)):
        at = f"{what}.params[{i}]"
        p = get.obj(p, at, list)
        if len(p) != 4 or p[0] not in ("buffer", "scalar") or not all(isinstance(x, str) for x in p[1:3]):
            raise ArtifactError(get.where, at, "expected [\"buffer\" or \"scalar\", name, dtype, shape]")
        for d in get.obj(p[3], f"{at}.shape", list):
            ok = d in known if isinstance(d, str) else isinstance(d, int) and not isinstance(d, bool) and d >= 0
            if not ok:
                raise ArtifactError(get.where, f"{at}.shape", f"dimension {json.dumps(d)} is neither a "
                                    f"non-negative integer nor one of the shape variables {sorted(known)}")
        params.append(ParamInfo(p[0], p[1], p[2], tuple(p[3])))
    writes = f.get("writes")
    if writes is not None:
        ok = isinstance(writes, list) and all(isinstance(w, int) and 0 <= w < len(params) for w in writes)
        if not ok:
            raise ArtifactError(get.where, f"{what}.writes", f"expected parameter indices, got {writes!r}")
        writes = tuple(writes)
    return FuncInfo(name, tuple(params), tuple(shape_vars), writes)
