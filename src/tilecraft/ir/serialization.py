"""Classic `tvm.ir.save_json` / `load_json`: any tilecraft IR object (expressions, statements,
PrimFuncs, relay graphs, te tensors and schedules) as JSON text and back.

The object graph is written as a table of nodes, so shared sub-trees and variables keep their
identity when loaded: a node is its class (a tilecraft class, by module and name) and its
attributes; numpy arrays are base64 data with dtype and shape; registered singletons (relay
operators) are their `json_key()`, looked up again by `from_json_key`.  Loading creates only tilecraft
classes, so a JSON file cannot make it run other code."""

from __future__ import annotations

import base64
import importlib
import json

_FORMAT = "tilecraft-ir-json/1"
_PRIMITIVES = (type(None), bool, int, float, str)


def _state(obj) -> dict:
    names = []
    for klass in type(obj).__mro__:
        names += [n for n in getattr(klass, "__slots__", ()) if n not in ("__dict__", "__weakref__")]
    state = {n: getattr(obj, n) for n in names if hasattr(obj, n)}
    state.update(getattr(obj, "__dict__", {}))
    return state


def save_json(obj) -> str:
    nodes, index = [], {}

    def enc(x, where: str):
        if isinstance(x, _PRIMITIVES):
            return x if not isinstance(x, float) or x == x and abs(x) != float("inf") else {"float": repr(x)}
        if isinstance(x, (list, tuple)):
            return {"list" if isinstance(x, list) else "tuple": [enc(v, where) for v in x]}
        if isinstance(x, dict):
            return {"dict": [[enc(k, where), enc(v, where)] for k, v in x.items()]}
        if id(x) in index:
            return {"ref": index[id(x)]}
        cls = type(x)
        if any(c.__module__ == "numpy" or c.__module__.startswith("numpy.") for c in cls.__mro__[:-1]):
            import numpy as np

            arr = np.asarray(x)
            node = {"ndarray": base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode(),
                    "dtype": str(arr.dtype), "shape": list(arr.shape), "scalar": not isinstance(x, np.ndarray)}
        elif cls.__module__.split(".")[0] == "tilecraft" and "<locals>" not in cls.__qualname__:
            node = {"type": f"{cls.__module__}:{cls.__qualname__}"}
            if hasattr(x, "json_key"):  # a registered singleton (a relay operator): by name
                node["key"] = x.json_key()
        else:
            raise TypeError(f"save_json: {where} holds {x!r} (a {cls.__name__}), which is not tilecraft IR; "
                            "only IR objects, numbers, strings, lists, dicts and numpy arrays can be saved")
        index[id(x)] = len(nodes)
        nodes.append(node)
        if "type" in node and "key" not in node:
            node["attrs"] = {k: enc(v, f"{where}.{k}") for k, v in _state(x).items()}
        return {"ref": index[id(x)]}

    root = enc(obj, type(obj).__name__)
    return json.dumps({"format": _FORMAT, "root": root, "nodes": nodes})


def load_json(text: str):
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"load_json: not JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise ValueError(f"load_json: not written by tilecraft's save_json (expected format {_FORMAT!r})")
    raw, made = doc["nodes"], {}

    def node(i: int):
        if i in made:
            return made[i]
        spec = raw[i]
        if "ndarray" in spec:
            import numpy as np

            arr = np.frombuffer(base64.b64decode(spec["ndarray"]), spec["dtype"]).reshape(spec["shape"]).copy()
            made[i] = arr[()] if spec["scalar"] else arr
            return made[i]
        module, _, qualname = spec["type"].partition(":")
        if module.split(".")[0] != "tilecraft":
            raise ValueError(f"load_json: refusing to create {spec['type']!r}, which is not a tilecraft class")
        cls = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        if "key" in spec:
            made[i] = cls.from_json_key(spec["key"])
            return made[i]
        obj = made[i] = cls.__new__(cls)  # registered before its attributes: cycles resolve to it
        for k, v in spec["attrs"].items():
            object.__setattr__(obj, k, dec(v))
        if hasattr(obj, "__post_init__"):  # what the constructor adds (relay Constant's .numpy(), Call's op name)
            obj.__post_init__()
        return obj

    def dec(x):
        if isinstance(x, _PRIMITIVES):
            return x
        if "ref" in x:
            return node(x["ref"])
        if "float" in x:
            return float(x["float"])
        if "list" in x:
            return [dec(v) for v in x["list"]]
        if "tuple" in x:
            return tuple(dec(v) for v in x["tuple"])
        return {dec(k): dec(v) for k, v in x["dict"]}

    try:
        return dec(doc["root"])
    except (KeyError, IndexError, TypeError, AttributeError, ImportError) as err:
        raise ValueError(f"load_json: malformed document ({type(err).__name__}: {err})") from None
