"""torch.export -> relay: `relay.frontend.from_exported_program(torch.export.export(model, args))`.

The exported program's graph is a list of ATen operator calls (`torch.ops.aten.linear.default`,
...), so it goes through the same converter table as TorchScript (`aten.py`).  Arguments are put
in schema order (positional, keyword, defaults) before a converter sees them; a node whose
arguments are all known at import time is evaluated with torch (`arange`, masks, position ids).

Inputs are named by the program's placeholders (the forward() argument names); parameters and
floating-point buffers become relay inputs named by their state-dict key ("encoder.layer.0...")
and are returned in `params`; integer/bool buffers and lifted constants are folded.
"""

from __future__ import annotations

import operator
import re

from ...ir.module import IRModule
from ..expr import Expr, Function, Var
from ..ty import TensorType
from . import aten
from .aten import Args, AtenContext, dtype_str, is_dynamic
from .common import ConversionError, OpNotImplemented, UnsupportedReport
from .input_infos import normalize_input_infos

__all__ = ["from_exported_program", "supported_ops"]


def _op_name(target) -> str:
    """'aten::linear' for torch.ops.aten.linear.default; the Python name for other callables."""
    schema = getattr(target, "_schema", None)
    if schema is not None:
        return schema.name
    if target is operator.getitem:
        return "getitem"
    return getattr(target, "__name__", str(target))


def _location(node) -> str:
    trace = node.meta.get("stack_trace") or ""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', trace)
    where = ""
    for path, line, fn in reversed(frames):  # innermost last; prefer the model's own code
        if "/torch/" not in path:
            where = f"{path}:{line} ({fn})"
            break
    if not where and frames:
        path, line, fn = frames[-1]
        where = f"{path}:{line} ({fn})"
    stack = node.meta.get("nn_module_stack")
    if stack:
        path = list(stack.values())[-1][0]
        if path:
            where = f"{where} [module {path}]" if where else f"[module {path}]"
    return where or f"node {node.name}"


class ExportedProgramImporter(AtenContext):
    def __init__(self, program, input_infos=None, keep_params_as_input=True):
        import torch

        super().__init__()
        self.torch = torch
        self.ep = program
        self.env: dict = {}
        self.params: dict = {}
        self.param_vars: list = []
        self.infos = input_infos
        self._keep = []

    def _placeholders(self):
        from torch.export.graph_signature import InputKind

        sig = self.ep.graph_signature
        specs = {s.arg.name: s for s in sig.input_specs if hasattr(s.arg, "name")}
        state, consts = self.ep.state_dict, getattr(self.ep, "constants", {}) or {}
        out = []
        for node in self.ep.graph.nodes:
            if node.op != "placeholder":
                continue
            spec = specs.get(node.name)
            if spec is None or spec.kind == InputKind.USER_INPUT:
                out.append((node, "input", None))
                continue
            tgt = spec.target
            t = state.get(tgt) if tgt in state else consts.get(tgt)
            if t is None:
                raise KeyError(f"no value for {spec.kind.name.lower()} {tgt!r} in the exported program")
            weight = spec.kind in (InputKind.PARAMETER, InputKind.BUFFER) and t.is_floating_point()
            out.append((node, "weight" if weight else "const", (tgt, t)))
        return out

    # ------------------------------------------------------------------ scan
    def scan(self, placeholders) -> None:
        report = UnsupportedReport("PyTorch (torch.export)")
        dyn: dict = {}
        for node, kind, _ in placeholders:
            dyn[node] = kind in ("input", "weight")

        def any_dyn(x):
            if isinstance(x, (list, tuple)):
                return any(any_dyn(y) for y in x)
            if isinstance(x, dict):
                return any(any_dyn(y) for y in x.values())
            return dyn.get(x, False) if hasattr(x, "op") else False

        for node in self.ep.graph.nodes:
            if node.op != "call_function":
                continue
            d = any_dyn(node.args) or any_dyn(node.kwargs)
            name = _op_name(node.target)
            if not d:
                dyn[node] = False
                continue
            if name == "getitem":
                dyn[node] = True
                continue
            if aten.lookup(name) is not None:
                dyn[node] = name not in aten.STATIC_RESULT
                continue
            report.add(name, _location(node))
            dyn[node] = True
        report.raise_if_any()

    # ------------------------------------------------------------------ convert
    def convert(self):
        placeholders = self._placeholders()
        self.scan(placeholders)
        user = [n for n, kind, _ in placeholders if kind == "input"]
        infos = self._input_infos(user)
        input_vars = []
        for node, (name, shape, dtype) in zip(user, infos):
            var = Var(name, TensorType(shape, dtype))
            input_vars.append(var)
            self.env[node] = var
        seen: dict = {}
        for node, kind, payload in placeholders:
            if kind == "weight":
                tgt, t = payload
                v = seen.get(id(t))
                if v is None:
                    arr = aten._np(t)
                    v = Var(tgt, TensorType(tuple(arr.shape), str(arr.dtype)))
                    seen[id(t)] = v
                    self.params[tgt] = arr
                    self.param_vars.append(v)
                    self.weights.add(id(v))
                self.env[node] = v
            elif kind == "const":
                self.env[node] = payload[1]
        result = None
        for node in self.ep.graph.nodes:
            if node.op == "call_function":
                try:
                    self._run_node(node)
                except (OpNotImplemented, ConversionError):
                    raise
                except Exception as err:  # noqa: BLE001 - re-raised with the node named
                    raise ConversionError(f"while converting {_op_name(node.target)} ({node.name}) at "
                                           f"{_location(node)}: {type(err).__name__}: {err}") from err
            elif node.op == "output":
                result = self._map(node.args[0])
            elif node.op not in ("placeholder",):
                raise OpNotImplemented(f"FX node kind {node.op!r} ({node.name}) is not supported")
        body = self.output(self._user_outputs(result))
        from ..visitor import post_order

        used = {id(n) for n in post_order(body) if isinstance(n, Var)}
        params = [v for v in self.param_vars if id(v) in used]
        func = Function(tuple(input_vars) + tuple(params), body)
        from ...runtime.ndarray import array

        return IRModule({"main": func}), {p.name_hint: array(self.params[p.name_hint]) for p in params}

    def _user_outputs(self, result):
        from torch.export.graph_signature import OutputKind

        specs = self.ep.graph_signature.output_specs
        if isinstance(result, (list, tuple)) and len(specs) == len(result):
            return [r for r, s in zip(result, specs) if s.kind == OutputKind.USER_OUTPUT]
        return result

    def _input_infos(self, user):
        if self.infos is None:
            out = []
            for node in user:
                val = node.meta.get("val")
                if val is None or not hasattr(val, "shape"):
                    raise ValueError(f"input {node.name} is not a tensor (only tensor inputs are supported)")
                shape = []
                for s in val.shape:
                    if not isinstance(s, int):
                        raise ValueError(f"input {node.name} has a dynamic dimension {s}; export with "
                                                  "static shapes")
                    shape.append(s)
                out.append((node.name, tuple(shape), dtype_str(val.dtype, demote=False)))
            return out
        infos = normalize_input_infos(self.infos, None)
        if len(infos) != len(user):
            raise ValueError(f"the program takes {len(user)} input(s) {[n.name for n in user]} but input_infos "
                             f"describes {len(infos)}")
        out = []
        for node, (name, shape, dtype) in zip(user, infos):
            if dtype is None:  # only a shape given: the program records the dtype it was exported with
                val = node.meta.get("val")
                dtype = dtype_str(val.dtype, demote=False) if hasattr(val, "dtype") else "float32"
            out.append((name, shape, dtype))
        return out

    def _map(self, x):
        if hasattr(x, "op") and hasattr(x, "target"):
            return self.env[x]
        if isinstance(x, (list, tuple)):
            return type(x)(self._map(y) for y in x)
        if isinstance(x, dict):
            return {k: self._map(v) for k, v in x.items()}
        return x

    def _run_node(self, node):
        target = node.target
        name = _op_name(target)
        args = self._map(list(node.args))
        kwargs = self._map(dict(node.kwargs))
        if name == "getitem":
            self.env[node] = args[0][args[1]]
            return
        if not is_dynamic(args) and not is_dynamic(list(kwargs.values())):
            with self.torch.no_grad():
                self.env[node] = target(*args, **kwargs)
            return
        schema = getattr(target, "_schema", None)
        if schema is None:
            raise OpNotImplemented(f"{name} at {_location(node)} is not supported", {name: [_location(node)]})
        values, names = [], []
        for i, arg in enumerate(schema.arguments):
            if i < len(args):
                v = args[i]
            elif arg.name in kwargs:
                v = kwargs[arg.name]
            elif arg.has_default_value():
                v = arg.default_value
            else:
                v = None
            values.append(v)
            names.append(arg.name)
        fn = aten.lookup(name)
        if fn is None:
            raise OpNotImplemented(f"{name} at {_location(node)} is not supported", {name: [_location(node)]})
        try:
            res = fn(self, Args(values, names, schema.overload_name, name))
        except OpNotImplemented as err:
            if err.ops:
                raise
            where = _location(node)
            raise OpNotImplemented(f"{name} at {where}: {err}", {name: [where]}) from err
        if hasattr(res, "size") and hasattr(res, "tuple_value"):
            res = [res[i] for i in range(len(res))]
        self.env[node] = res
        if aten.is_inplace(name) and isinstance(res, Expr) and node.args and hasattr(node.args[0], "op"):
            src = node.args[0]
            if src.op == "call_function" and _op_name(src.target) in aten.VIEW_OPS:
                raise aten.inplace_on_view(name, _location(node), _op_name(src.target))
            self.env[src] = res


def supported_ops() -> list:
    """Operator names this importer converts (the shared ATen table; `getitem` picks tuple results)."""
    return sorted(set(aten.supported_ops()) | {"getitem"})


def from_exported_program(exported_program, input_infos=None, keep_params_as_input=True, **kwargs):
    """Import a torch.export.ExportedProgram into relay; returns (tvm.IRModule, params).

    Inputs keep the program's placeholder names (the forward() argument names) and the shapes
    and dtypes it was exported with, unless input_infos ([(name, shape)] or
    [(name, (shape, dtype))]) renames them.  Raises OpNotImplemented listing every unsupported
    operator before converting anything."""
    del kwargs
    return ExportedProgramImporter(exported_program, input_infos, keep_params_as_input).convert()
