"""TorchScript -> relay: `relay.frontend.from_pytorch(traced_or_scripted_module, input_infos)`.

    traced = torch.jit.trace(model.eval(), example_inputs)
    mod, params = relay.frontend.from_pytorch(traced, [("input", (1, 3, 224, 224))])
    lib = relay.build(mod, target="llvm", params=params)

How it works: the module's inlined graph is scanned once (every operator it cannot convert is
reported together, with counts and source lines, before anything is converted — classic TVM
stopped at the first one), then its nodes are visited in order.  Each value is a relay
expression (it depends on an input or a weight), a torch.Tensor or a Python value (known at
import time).  A node whose arguments are all known is evaluated with torch right there, so
shape arithmetic (`x.size(1)`, `prim::ListConstruct` of ints) and constant tensors (`arange`
position ids, causal masks) never become relay operators; the others go through the ATen
converter table in `aten.py`, shared with the torch.export importer.

Scripted modules: the straight-line subset converts; `prim::If` converts when its condition is
known at import time (`if self.training:`, `if x.dim() == 4:`) and `prim::Loop` is unrolled when
its trip count and condition are (`for i in range(3):`).  Control flow that depends on tensor
data is reported as unsupported (trace the model instead).

Weights (parameters and floating-point buffers such as batch-norm statistics) become relay
inputs named by their module path ("layer1.0.conv1.weight") and are returned in `params`;
integer and boolean buffers (position ids, masks) are folded as constants.
"""

from __future__ import annotations

import re

from ...ir.module import IRModule
from ..expr import Expr, Function, Var
from ..ty import TensorType
from . import aten
from .aten import Args, AtenContext, is_dynamic, is_torch_tensor
from .common import ConversionError, OpNotImplemented, UnsupportedReport
from .input_infos import defaulted_note, normalize_input_infos

__all__ = ["from_pytorch", "supported_ops"]

_SCALAR_TYPES = aten.SCALAR_TYPES
_MEMORY_FORMATS = {0: "contiguous_format", 1: "preserve_format", 2: "channels_last", 3: "channels_last_3d"}

# prim:: operators this importer handles itself (control flow, lists, attributes, scalars).
_PRIM_OPS = {
    "prim::Constant", "prim::GetAttr", "prim::ListConstruct", "prim::TupleConstruct", "prim::ListUnpack",
    "prim::TupleUnpack", "prim::TupleIndex", "prim::NumToTensor", "prim::dtype", "prim::device",
    "prim::shape", "prim::If", "prim::unchecked_cast", "prim::RaiseException", "prim::Uninitialized",
    "prim::min", "prim::max", "prim::data", "aten::__getitem__", "aten::len", "aten::Int", "aten::Float",
    "aten::Bool", "aten::ScalarImplicit", "aten::__is__", "aten::__isnot__", "aten::__not__", "aten::warn",
    "prim::isinstance", "prim::layout", "aten::list", "prim::DictConstruct", "aten::dim", "aten::size",
    "aten::numel", "prim::is_cuda", "aten::format", "prim::Print", "prim::Loop",
}
_STATIC_PRIM = {"prim::dtype", "prim::device", "prim::shape", "prim::layout", "aten::dim", "aten::size",
                "aten::numel", "prim::is_cuda", "aten::len", "prim::isinstance", "aten::__is__", "aten::__isnot__"}


class _Module:
    """A submodule reached through prim::GetAttr, with its path from the root."""

    def __init__(self, obj, path: str):
        self.obj, self.path = obj, path


class _Unsupported(Exception):
    pass


def _location(node) -> str:
    """'file.py:123 (function)' of the innermost frame outside torch, plus the module scope."""
    try:
        src = node.sourceRange()
    except Exception:  # noqa: BLE001 - some nodes have none
        src = ""
    where = ""
    frames = re.findall(r"([^\n]+?)\((\d+)\): (\w+)", src or "")  # traced: "path(line): function"
    frames += [(p, ln, "") for p, ln in re.findall(r'File "([^"]+)", line (\d+)', src or "")]  # scripted
    for path, line, fn in frames:
        if "/torch/" not in path:
            where = f"{path.strip()}:{line}" + (f" ({fn})" if fn else "")
            break
    if not where and frames:
        path, line, fn = frames[0]
        where = f"{path.strip()}:{line}" + (f" ({fn})" if fn else "")
    if not where and src:
        where = src.strip().splitlines()[0][:120]
    try:
        scope = node.scopeName()
    except Exception:  # noqa: BLE001
        scope = ""
    if scope:
        scope = scope.split("/")[-1].replace("__module.", "")
        where = f"{where} [module {scope}]" if where else f"[module {scope}]"
    return where


class TorchScriptImporter(AtenContext):
    def __init__(self, module, input_infos, default_dtype="float32", custom_convert_map=None):
        import torch

        super().__init__()
        self.torch = torch
        self.module = module
        self.custom = dict(custom_convert_map or {})
        self.default_dtype = default_dtype
        self.infos = normalize_input_infos(input_infos, None)
        normalize_input_infos([("default_dtype", ((1,), default_dtype))], None)  # a bad default_dtype fails here
        self.defaulted: list = []  # inputs typed default_dtype because neither the user nor the graph said
        self.env: dict = {}
        self.param_vars: dict = {}  # id(tensor) -> Var
        self.params: dict = {}  # name -> numpy
        self._schemas: dict = {}
        self._keep: list = []  # the weight tensors, alive while ids key param_vars

    # ------------------------------------------------------------------ graph
    def graph(self):
        m = self.module
        if hasattr(m, "inlined_graph"):
            return m.inlined_graph
        if hasattr(m, "graph"):
            g = m.graph.copy()
            self.torch._C._jit_pass_inline(g)
            return g
        raise TypeError(f"from_pytorch expects a torch.jit.ScriptModule (torch.jit.trace / torch.jit.script), got "
                        f"{type(m).__name__}; for torch.export programs use relay.frontend.from_exported_program")

    def schema(self, node):
        key = node.kind()
        try:
            text = node.schema()
        except RuntimeError:
            return None
        if text == "(no schema)":
            return None
        s = self._schemas.get(text)
        if s is None:
            s = self.torch._C.parse_schema(text)
            # ScalarType / MemoryFormat / Layout arguments are typed int in the parsed schema
            s = (s, dict((name, kind) for kind, name in
                         re.findall(r"\b(ScalarType|MemoryFormat|Layout)\??\s+(\w+)", text)))
            self._schemas[text] = s
        del key
        return s

    # ------------------------------------------------------------------ weights
    def _tensor_attr(self, t, path: str):
        torch = self.torch
        is_param = isinstance(t, torch.nn.Parameter) or t.requires_grad
        if not (is_param or t.is_floating_point()):
            return t  # integer / bool buffer: a constant
        v = self.param_vars.get(id(t))
        if v is None:
            arr = aten._np(t)
            name = path
            while name in self.params:
                name += "_"
            v = Var(name, TensorType(tuple(arr.shape), str(arr.dtype)))
            self.param_vars[id(t)] = v
            self.params[name] = arr
            self.weights.add(id(v))
            self._keep.append(t)
        return v

    def _get_attr(self, node, owner):
        name = node.s("name")
        if not isinstance(owner, _Module):
            raise TypeError(f"prim::GetAttr {name!r} on a non-module value")
        obj = getattr(owner.obj, name)
        path = f"{owner.path}.{name}" if owner.path else name
        if is_torch_tensor(obj):
            return self._tensor_attr(obj, path)
        if isinstance(obj, self.torch.nn.Module) or hasattr(obj, "_c"):
            return _Module(obj, path)
        return obj

    # ------------------------------------------------------------------ scan
    def scan(self, graph) -> None:
        """Find every operator that cannot be converted; raise one OpNotImplemented naming all."""
        report = UnsupportedReport("PyTorch (TorchScript)")
        dyn: dict = {}
        self._elem_dyn: dict = {}  # a tuple/list value -> which of its elements are run-time tensors
        inputs = list(graph.inputs())
        has_self = bool(inputs) and inputs[0].type().kind() == "ClassType"
        user = inputs[1:] if has_self else inputs
        for v in user:
            dyn[v] = True
        attrs: dict = {}
        if has_self:
            attrs[inputs[0]] = _Module(self.module, "")
        self._scan_block(graph, dyn, attrs, report, conditional=False)
        report.raise_if_any()

    def _scan_block(self, block, dyn, attrs, report, conditional):
        for node in block.nodes():
            kind = node.kind()
            ins = list(node.inputs())
            any_dyn = any(dyn.get(v, False) for v in ins)
            if kind == "prim::GetAttr":
                owner = attrs.get(ins[0])
                val = None
                if owner is not None:
                    try:
                        obj = getattr(owner.obj, node.s("name"))
                    except AttributeError:
                        obj = None
                    if is_torch_tensor(obj):
                        is_w = isinstance(obj, self.torch.nn.Parameter) or obj.requires_grad or obj.is_floating_point()
                        dyn[node.output()] = is_w
                        continue
                    if obj is not None and (isinstance(obj, self.torch.nn.Module) or hasattr(obj, "_c")):
                        path = f"{owner.path}.{node.s('name')}" if owner.path else node.s("name")
                        val = _Module(obj, path)
                if val is not None:
                    attrs[node.output()] = val
                continue
            if kind == "prim::If":
                cond_dyn = dyn.get(ins[0], False)
                if cond_dyn:
                    report.add("prim::If", _location(node), "condition depends on tensor data")
                for b in node.blocks():
                    self._scan_block(b, dyn, attrs, report, conditional=True)
                out_dyn = any(dyn.get(o, False) for b in node.blocks() for o in b.outputs())
                for o in node.outputs():
                    dyn[o] = out_dyn or cond_dyn
                continue
            if kind == "prim::Loop":
                if dyn.get(ins[0], False) or dyn.get(ins[1], False):
                    report.add("prim::Loop", _location(node), "trip count or condition depends on tensor data")
                body = list(node.blocks())[0]
                bins = list(body.inputs())
                dyn[bins[0]] = False
                for p, v in zip(bins[1:], ins[2:]):
                    dyn[p] = dyn.get(v, False)
                for _ in range(2):  # carried values that become run-time tensors in the body
                    self._scan_block(body, dyn, attrs, report, conditional=True)
                    bouts = list(body.outputs())
                    changed = False
                    for p, o in zip(bins[1:], bouts[1:]):
                        if dyn.get(o, False) and not dyn.get(p, False):
                            dyn[p] = changed = True
                    if not changed:
                        break
                if dyn.get(list(body.outputs())[0], False):
                    report.add("prim::Loop", _location(node), "loop condition depends on tensor data")
                for o, p in zip(node.outputs(), bins[1:]):
                    dyn[o] = dyn.get(p, False)
                continue
            if kind in ("prim::TupleConstruct", "prim::ListConstruct"):
                # which elements are run-time tensors: unpacking a tuple of (tensor, static sizes)
                # must not make the sizes look computed from tensor data (Swin's padding sizes)
                self._elem_dyn[node.output()] = [dyn.get(v, False) for v in ins]
                dyn[node.output()] = any_dyn
                continue
            if kind in ("prim::TupleUnpack", "prim::ListUnpack"):
                flags = self._elem_dyn.get(ins[0])
                outs = list(node.outputs())
                if flags is not None and len(flags) == len(outs):
                    for o, f in zip(outs, flags):
                        dyn[o] = f
                    continue
            if kind in _PRIM_OPS:
                if kind == "aten::Int" or kind == "aten::Float" or kind == "aten::ScalarImplicit" or \
                        kind == "aten::Bool":
                    if any_dyn:
                        report.add(kind, _location(node), "a Python number computed from tensor data")
                static = kind in _STATIC_PRIM or kind == "prim::Constant"
                for o in node.outputs():
                    dyn[o] = any_dyn and not static
                continue
            if not any_dyn:
                for o in node.outputs():
                    dyn[o] = False
                continue
            if kind in self.custom or aten.lookup(kind) is not None:
                static = kind in aten.STATIC_RESULT
                for o in node.outputs():
                    dyn[o] = not static
                continue
            if kind.startswith("prim::CallMethod") or kind == "prim::CallFunction":
                report.add(kind, _location(node), "could not inline the call")
            elif not conditional:
                report.add(kind, _location(node))
            for o in node.outputs():
                dyn[o] = True

    # ------------------------------------------------------------------ convert
    def convert(self):
        graph = self.graph()
        self.scan(graph)
        inputs = list(graph.inputs())
        has_self = bool(inputs) and inputs[0].type().kind() == "ClassType"
        user = inputs[1:] if has_self else inputs
        if len(user) != len(self.infos):
            names = [v.debugName() for v in user]
            raise ValueError(f"the module takes {len(user)} input(s) {names} but input_infos describes "
                             f"{len(self.infos)}: {[n for n, _, _ in self.infos]}")
        input_vars = []
        for v, (name, shape, dtype) in zip(user, self.infos):
            if dtype is None:
                dtype = _traced_dtype(v)
            if dtype is None:
                dtype = str(normalize_input_infos([(name, ((1,), self.default_dtype))], None)[0][2])
                self.defaulted.append((name, shape, dtype))
            var = Var(name, TensorType(shape, dtype))
            input_vars.append(var)
            self.env[v] = var
        if has_self:
            self.env[inputs[0]] = _Module(self.module, "")
        try:
            self._run_block(graph)
        except (ConversionError, OpNotImplemented) as err:
            if self.defaulted:
                if isinstance(err, OpNotImplemented):
                    raise OpNotImplemented(f"{err}\n{defaulted_note(self.defaulted)}", err.ops) from err
                raise ConversionError(f"{err}\n{defaulted_note(self.defaulted)}") from err
            raise
        outs = [self.env[o] for o in graph.outputs()]
        body = self.output(outs[0] if len(outs) == 1 else tuple(outs))
        used = self._used_weights(body)
        params = [v for v in self.param_vars.values() if id(v) in used]
        func = Function(tuple(input_vars) + tuple(params), body)
        from ...runtime.ndarray import array

        return IRModule({"main": func}), {p.name_hint: array(self.params[p.name_hint]) for p in params}

    def _used_weights(self, body) -> set:
        from ..visitor import post_order

        return {id(n) for n in post_order(body) if isinstance(n, Var)}

    def _run_block(self, block):
        for node in block.nodes():
            try:
                self._run_node(node)
            except (OpNotImplemented, ConversionError):
                raise
            except Exception as err:  # noqa: BLE001 - re-raised with the node named
                raise ConversionError(f"while converting {node.kind()} at {_location(node) or '?'}: "
                                       f"{type(err).__name__}: {err}") from err

    def _val(self, v):
        return self.env[v]

    def _run_node(self, node):
        kind = node.kind()
        ins = [self.env[v] for v in node.inputs()]
        outs = list(node.outputs())
        if kind == "prim::Constant":
            self.env[outs[0]] = self._constant(node)
            return
        if kind == "prim::GetAttr":
            self.env[outs[0]] = self._get_attr(node, ins[0])
            return
        if kind in ("prim::ListConstruct", "prim::TupleConstruct"):
            self.env[outs[0]] = list(ins) if kind == "prim::ListConstruct" else tuple(ins)
            return
        if kind in ("prim::ListUnpack", "prim::TupleUnpack"):
            seq = ins[0]
            if len(seq) != len(outs):
                raise ValueError(f"unpacking {len(seq)} values into {len(outs)}")
            for o, x in zip(outs, seq):
                self.env[o] = x
            return
        if kind == "prim::If":
            self._if(node, ins[0])
            return
        if kind == "prim::Loop":
            self._loop(node, ins)
            return
        if kind == "prim::RaiseException":
            raise RuntimeError(f"the model raises an exception here: {ins[0] if ins else ''}")
        if kind in self.custom:
            self._set(outs, self.custom[kind](ins, [str(v.type()) for v in node.inputs()]))
            return
        handled, val = self._prim(kind, node, ins)
        if handled:
            self._set(outs, val)
            return
        schema, enums = self.schema(node) or (None, {})
        names = [a.name for a in schema.arguments] if schema is not None else []
        if enums:
            ins = [self._schema_value(enums.get(a.name), v) for a, v in zip(schema.arguments, ins)]
        if not is_dynamic(ins):
            self._set(outs, self._fold(kind, schema, ins, node))
            return
        fn = aten.lookup(kind)
        if fn is None:
            raise OpNotImplemented(f"{kind} at {_location(node)} is not supported", {kind: [_location(node)]})
        args = Args(ins, names, schema.overload_name if schema is not None else "", kind)
        try:
            res = fn(self, args)
        except OpNotImplemented as err:
            if err.ops:
                raise
            raise OpNotImplemented(f"{kind} at {_location(node)}: {err}", {kind: [_location(node)]}) from err
        self._set(outs, res)
        if aten.is_inplace(kind) and isinstance(res, Expr) and isinstance(ins[0], Expr):
            # a later read of the mutated tensor sees the result
            src = list(node.inputs())[0]
            if src.node().kind() in aten.VIEW_OPS:
                raise aten.inplace_on_view(kind, _location(node), src.node().kind())
            self.env[src] = res

    def _set(self, outs, res):
        if len(outs) == 1:
            self.env[outs[0]] = res
            return
        if hasattr(res, "size") and hasattr(res, "tuple_value"):
            res = [res[i] for i in range(len(res))]
        if not isinstance(res, (list, tuple)) or len(res) != len(outs):
            raise ValueError(f"expected {len(outs)} results")
        for o, r in zip(outs, res):
            self.env[o] = r

    def _schema_value(self, t, v):
        """ScalarType / MemoryFormat / Layout arguments come as ints in TorchScript."""
        if t and isinstance(v, int) and not isinstance(v, bool):
            if "ScalarType" in t:
                return getattr(self.torch, _SCALAR_TYPES.get(v, "float32"))
            if "MemoryFormat" in t:
                return getattr(self.torch, _MEMORY_FORMATS.get(v, "contiguous_format"))
            if "Layout" in t:
                return self.torch.strided
        return v

    def _constant(self, node):
        out = node.output()
        if not node.hasAttribute("value"):
            return None
        kind = node.kindOf("value")
        if kind == "t":
            return node.t("value")
        try:
            return out.toIValue()
        except Exception:  # noqa: BLE001
            return {"i": node.i, "f": node.f, "s": node.s}.get(kind, lambda _: None)("value")

    def _fold(self, kind, schema, ins, node):
        """Evaluate a node whose inputs are all known with torch itself."""
        ns, name = kind.split("::", 1)
        packet = getattr(getattr(self.torch.ops, ns), name)
        op = getattr(packet, schema.overload_name or "default") if schema is not None else packet
        if schema is None:
            with self.torch.no_grad():
                return op(*ins)
        pos, kw = [], {}
        for a, v in zip(schema.arguments, ins):
            if a.kwarg_only:
                kw[a.name] = v
            else:
                pos.append(v)
        with self.torch.no_grad():
            return op(*pos, **kw)

    def _prim(self, kind, node, ins):
        torch = self.torch
        if kind == "prim::NumToTensor":
            return True, ins[0] if isinstance(ins[0], Expr) else torch.tensor(ins[0])
        if kind in ("aten::Int", "aten::Float", "aten::ScalarImplicit", "aten::Bool"):
            x = ins[0]
            if isinstance(x, Expr):
                raise OpNotImplemented(f"{kind} of a value computed from tensor data at {_location(node)}",
                                       {kind: [_location(node)]})
            x = x.item() if is_torch_tensor(x) else x
            return True, {"aten::Int": int, "aten::Float": float, "aten::Bool": bool}.get(kind, lambda y: y)(x)
        if kind == "prim::dtype":
            return True, getattr(torch, self.dtype(ins[0]) if isinstance(ins[0], Expr) else str(ins[0].dtype)[6:])
        if kind == "prim::device":
            return True, torch.device("cpu")
        if kind == "prim::layout":
            return True, torch.strided
        if kind == "prim::is_cuda":
            return True, False
        if kind == "prim::shape":
            return True, list(self.shape(ins[0]))
        if kind == "aten::size":
            if len(ins) == 1:
                return True, list(self.shape(ins[0]))
            shape = self.shape(ins[0])
            return True, shape[aten._norm_axis(int(ins[1]), len(shape))]
        if kind == "aten::dim":
            return True, len(self.shape(ins[0]))
        if kind == "aten::numel":
            return True, aten._numel(self.shape(ins[0]))
        if kind in ("prim::unchecked_cast", "prim::data", "aten::list"):
            return True, ins[0] if kind != "aten::list" else list(ins[0])
        if kind == "prim::Uninitialized":
            return True, None
        if kind == "aten::__getitem__" or kind == "prim::TupleIndex":
            seq = ins[0]
            if isinstance(seq, dict):
                return True, seq[ins[1]]
            return True, seq[int(ins[1])]
        if kind == "aten::len":
            x = ins[0]
            return True, (self.shape(x)[0] if isinstance(x, Expr) else len(x))
        if kind in ("prim::min", "prim::max"):
            f = min if kind == "prim::min" else max
            return True, f(ins[0]) if len(ins) == 1 else f(ins[0], ins[1])
        if kind == "aten::__is__":
            return True, ins[0] is ins[1] or (ins[0] is None and ins[1] is None)
        if kind == "aten::__isnot__":
            return True, not (ins[0] is ins[1] or (ins[0] is None and ins[1] is None))
        if kind == "aten::__not__":
            return True, not ins[0]
        if kind in ("aten::warn", "prim::Print"):
            return True, None
        if kind == "aten::format":
            return True, str(ins[0]).format(*ins[1:])
        if kind == "prim::DictConstruct":
            return True, dict(zip(ins[0::2], ins[1::2]))
        if kind == "prim::isinstance":
            return True, True
        return False, None

    MAX_UNROLL = 10000

    def _loop(self, node, ins):
        """Unroll a loop whose trip count and condition are known at import time."""
        trip, cond, carried = ins[0], ins[1], list(ins[2:])
        if isinstance(trip, Expr) or isinstance(cond, Expr):
            raise OpNotImplemented(f"prim::Loop at {_location(node)}: its trip count or condition depends on "
                                   "tensor data", {"prim::Loop": [_location(node)]})
        body = list(node.blocks())[0]
        params, outs = list(body.inputs()), list(body.outputs())
        trip = int(trip.item() if is_torch_tensor(trip) else trip)
        cond = bool(cond.item() if is_torch_tensor(cond) else cond)
        i = 0
        while i < trip and cond:
            if i >= self.MAX_UNROLL:
                raise OpNotImplemented(f"prim::Loop at {_location(node)} runs more than {self.MAX_UNROLL} "
                                       "iterations", {"prim::Loop": [_location(node)]})
            self.env[params[0]] = i
            for p, v in zip(params[1:], carried):
                self.env[p] = v
            self._run_block(body)
            cond = self.env[outs[0]]
            if isinstance(cond, Expr):
                raise OpNotImplemented(f"prim::Loop at {_location(node)}: its condition depends on tensor data",
                                       {"prim::Loop": [_location(node)]})
            cond = bool(cond.item() if is_torch_tensor(cond) else cond)
            carried = [self.env[o] for o in outs[1:]]
            i += 1
        for o, v in zip(node.outputs(), carried):
            self.env[o] = v

    def _if(self, node, cond):
        if isinstance(cond, Expr):
            raise OpNotImplemented(f"prim::If at {_location(node)}: its condition depends on tensor data",
                                   {"prim::If": [_location(node)]})
        if is_torch_tensor(cond):
            cond = bool(cond.item())
        block = list(node.blocks())[0 if cond else 1]
        self._run_block(block)
        for o, b in zip(node.outputs(), block.outputs()):
            self.env[o] = self.env[b]


# TorchScript's names for the dtypes a traced graph records on its inputs ("Tensor Long")
_TS_SCALAR = {"Float": "float32", "Double": "float64", "Half": "float16", "BFloat16": "bfloat16",
              "Long": "int64", "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8", "Bool": "bool"}


def _traced_dtype(value) -> str | None:
    """The dtype torch.jit.trace recorded for a graph input (its example input's), or None (scripted
    modules record none)."""
    try:
        ty = value.type()
        st = ty.scalarType() if ty.kind() == "TensorType" else None
    except Exception:  # noqa: BLE001 - types without a scalar type
        return None
    return _TS_SCALAR.get(st) if st else None


def supported_ops() -> list:
    """Operator kinds this importer converts: the shared ATen table plus TorchScript's prim:: operators."""
    return sorted(set(aten.supported_ops()) | _PRIM_OPS)


def from_pytorch(script_module, input_infos, custom_convert_map=None, default_dtype="float32",
                 use_parser_friendly_name=False, keep_quantized_weight=False, **kwargs):
    """Import a TorchScript module (torch.jit.trace or torch.jit.script) into relay.

    input_infos: [(name, shape)] or [(name, (shape, dtype))], one per forward() argument, in order
    (shapes are static).  Where only a shape is given, the dtype is the one torch.jit.trace recorded
    for that input (its example input's: int64 token ids stay int64); default_dtype is used only
    where the graph records none (scripted modules).  Returns (tvm.IRModule, params): the weights
    are inputs of "main" named by their module path, and params maps those names to NDArrays for
    relay.build(..., params=).
    Raises OpNotImplemented listing every unsupported operator (with counts and source lines)
    before converting anything."""
    del use_parser_friendly_name, keep_quantized_weight, kwargs
    imp = TorchScriptImporter(script_module, input_infos, default_dtype, custom_convert_map)
    return imp.convert()
