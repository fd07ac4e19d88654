"""Workloads by name: `@register_workload` functions that return a computation's tensors, and
workload keys, as classic: the JSON list `["name", args...]` for a registered function, or
`["<md5 of the DAG text>", shapes...]` for an anonymous DAG (a relay subgraph), registered with
its tensors.

A spawned worker process does not have the registrations of the parent's `__main__`;
`serialize_workload_registry_entry` / `deserialize_workload_registry_entry` carry an entry across
(a function by reference when importable, otherwise the tensors it built for that key).
"""

from __future__ import annotations

import json

from ..te.tensor import Tensor

WORKLOAD_FUNC_REGISTRY: dict = {}
_NAME_OF: dict = {}  # function -> the name it was registered under (register_workload("name"))


def get_func_name(func) -> str:
    return getattr(func, "func_name", None) or func.__name__


def register_workload(func_name, f=None, override: bool = False):
    """Register a function that returns a workload's tensors ([inputs..., outputs...]).

        @auto_scheduler.register_workload
        def matmul(N, M, K): ...

        @auto_scheduler.register_workload("my_matmul")
        def matmul(N, M, K): ...
    """
    if callable(func_name):
        f, func_name = func_name, get_func_name(func_name)
    if not isinstance(func_name, str):
        raise ValueError(f"register_workload expects a function or a name, got {func_name!r}")

    def register(myf):
        if func_name in WORKLOAD_FUNC_REGISTRY and not override and WORKLOAD_FUNC_REGISTRY[func_name] is not myf:
            raise RuntimeError(f"workload {func_name!r} is registered already; pass override=True to replace it")
        WORKLOAD_FUNC_REGISTRY[func_name] = myf
        if callable(myf):
            _NAME_OF[myf] = func_name
        return myf

    return register(f) if f is not None else register


def register_workload_tensors(workload_key: str, tensors, override: bool = True) -> str:
    """Register a workload by its tensors under a key (tasks extracted from a model)."""
    register_workload(workload_key, override=override)(list(tensors))
    return workload_key


def serialize_args(args) -> list:
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(["TENSOR", [int(getattr(s, "value", s)) for s in a.shape], a.dtype])
        elif isinstance(a, (list, tuple)):
            out.append(serialize_args(a))
        elif hasattr(a, "value") and isinstance(a.value, (int, float)):
            out.append(a.value)
        else:
            out.append(a)
    return out


def deserialize_args(args) -> list:
    from ..te import placeholder

    out = []
    for a in args:
        if isinstance(a, list) and len(a) == 3 and a[0] == "TENSOR":
            out.append(placeholder(tuple(a[1]), dtype=a[2]))
        elif isinstance(a, list):
            out.append(tuple(deserialize_args(a)))
        else:
            out.append(a)
    return out


def make_workload_key(func, args) -> str:
    """The key of a registered function applied to args: '["matmul", 128, 128, 128, "float32"]'."""
    if callable(func):
        name = _NAME_OF.get(func) or get_func_name(func)
    elif isinstance(func, str):
        name = func
    else:
        raise ValueError(f"make_workload_key expects a registered function or its name, got {func!r}")
    if name not in WORKLOAD_FUNC_REGISTRY:
        raise ValueError(f"workload {name!r} is not registered; decorate it with @auto_scheduler.register_workload")
    return json.dumps([name] + serialize_args(args or ()))


def decode_workload_key(workload_key: str):
    """(name or hash, args) of a key; args is None for a key that names tensors directly."""
    try:
        wkl = json.loads(workload_key)
    except ValueError:
        return workload_key, None
    if not isinstance(wkl, list) or not wkl:
        return workload_key, None
    return wkl[0], deserialize_args(wkl[1:])


def workload_key_to_tensors(workload_key: str) -> list:
    """The tensors a key stands for: registered tensors, or the registered function called on
    the key's arguments."""
    entry = WORKLOAD_FUNC_REGISTRY.get(workload_key)
    if entry is not None and not callable(entry):
        return list(entry)
    try:
        wkl = json.loads(workload_key)
    except ValueError:
        raise ValueError(f"workload key {workload_key!r} is not JSON") from None
    name = wkl[0]
    value = WORKLOAD_FUNC_REGISTRY.get(name)
    if value is None:
        raise KeyError(f"workload {name!r} (key {workload_key}) is not registered in this process; import or "
                       f"define the @auto_scheduler.register_workload function first")
    if not callable(value):
        return list(value)
    result = value(*deserialize_args(wkl[1:]))
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _importable(f) -> bool:
    mod = getattr(f, "__module__", None)
    return bool(mod) and mod != "__main__" and "<locals>" not in getattr(f, "__qualname__", "<locals>")


def serialize_workload_registry_entry(workload_key: str, tensors=None):
    """Picklable data that registers the key's workload in another process: the function by
    reference when it can be imported there, else the tensors (built now if not given)."""
    name = workload_key if workload_key in WORKLOAD_FUNC_REGISTRY else decode_workload_key(workload_key)[0]
    value = WORKLOAD_FUNC_REGISTRY.get(name)
    if value is not None and callable(value) and _importable(value):
        return name, value
    if tensors is None:
        tensors = workload_key_to_tensors(workload_key)
    return workload_key, list(tensors)


def deserialize_workload_registry_entry(data) -> None:
    name, value = data
    if name not in WORKLOAD_FUNC_REGISTRY:
        WORKLOAD_FUNC_REGISTRY[name] = value
