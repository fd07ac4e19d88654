"""ONNX importer: `relay.frontend.from_onnx(model, shape_dict)` -> (IRModule, params).

How a model is imported, in order:

1. Every graph input gets a static shape, from `shape_dict` or from the model; a symbolic
   dimension that `shape_dict` does not fix is an error naming the input and the dimension.
2. A pre-pass marks each node whose outputs are known at import time: initializers, Constant
   nodes, Shape/Size (all shapes are static), and every node whose inputs are all known.  Those
   nodes are evaluated with numpy by onnx's own reference implementation (`onnx.reference`), so
   shape arithmetic (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), attention masks built
   from constants and the like never reach the relay graph.
3. Every other node needs a converter below.  If some have none, ONE `OpNotImplemented` error
   lists every unsupported operator type with its count and node names, before anything is
   converted.
4. The remaining nodes become relay calls.  Shapes and dtypes are tracked while converting
   (common.TypeCache types each result as it is built), so converters see concrete shapes, and a
   shape error names the ONNX node that caused it.

Initializers that feed relay operators become relay inputs (named like the initializer) whose
values are returned in `params` — as classic TVM does — unless `freeze_params=True`, which embeds
them as constants instead.  ONNX dtypes are kept (int64 stays int64, bool stays bool), except
that index tensors of Gather/GatherElements/GatherND become int32 (negative indices are handled).
Converters are registered per ONNX operator type in `_CONVERTERS`; `supported_ops()` lists them.
The converters themselves live in onnx_math.py, onnx_nn.py and onnx_shape.py (one file per operator
family), imported at the end of this module.

Better than classic TVM: unsupported operators are all reported at once (classic stops at the
first); errors while converting name the ONNX node, its operator and its input shapes.
"""

from __future__ import annotations

import os

import numpy as np

from ..expr import Expr, Function, Tuple, Var, const
from ..op import tensor as _t
from ..op import transform as _tr
from ..ty import TensorType
from .common import OpNotImplemented, TypeCache, UnsupportedReport

__all__ = ["from_onnx", "OpNotImplemented", "supported_ops"]


class ONNXImportError(ValueError):
    """A node could not be converted; the message names the node, its operator and its inputs."""


# ---------------------------------------------------------------------------- helpers

def _np_dtype(elem_type: int) -> str:
    from onnx import helper

    return str(np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)))


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _str(v):
    return v.decode() if isinstance(v, bytes) else v


def _ints(v) -> list:
    return [int(x) for x in np.asarray(v).reshape(-1)]


def _prod(xs) -> int:
    return int(np.prod(xs, dtype=np.int64)) if len(xs) else 1


# ---------------------------------------------------------------------------- the importer

class GraphProto:
    """Converts one onnx.GraphProto; `values` maps each ONNX tensor name to a numpy array (known at
    import time) or a typed relay expression."""

    def __init__(self, shape=None, dtype="float32", freeze_params=False):
        self.shape_dict = dict(shape or {})
        self.dtype = dtype
        self.freeze_params = freeze_params
        self.values: dict = {}
        self.initializer_names: dict = {}  # id(array) -> initializer name
        self._exprs: dict = {}             # id(array) -> relay Var or Constant made from it
        self.params: dict = {}
        self.param_vars: list = []
        self.opset = 17
        self.node = None
        self.ty = TypeCache()

    # -- value helpers used by converters
    def expr(self, v, dtype=None) -> Expr:
        """A typed relay expression for a value (numpy arrays become constants or param inputs)."""
        if v is None:
            raise ONNXImportError("a required input is missing")
        if isinstance(v, Expr):
            return v
        arr = np.asarray(v)
        if dtype is not None and str(arr.dtype) != dtype:
            return const(np.array(arr, dtype=dtype))
        key = id(v)
        hit = self._exprs.get(key)
        if hit is not None:
            return hit[0]
        name = self.initializer_names.get(key)
        if name is not None and not self.freeze_params:
            e = Var(name, TensorType(arr.shape, str(arr.dtype)))
            self.params[name] = arr
            self.param_vars.append(e)
        else:
            e = const(np.array(arr, order="C"))
        self._exprs[key] = (e, v)  # keep v alive so its id stays unique
        return e

    def shape(self, v) -> tuple:
        """Shape of a value: a numpy array or a relay expression."""
        return self.ty.shape(v) if isinstance(v, Expr) else tuple(np.shape(v))

    def dtype_of(self, v) -> str:
        return self.ty.dtype(v) if isinstance(v, Expr) else str(np.asarray(v).dtype)

    @staticmethod
    def known(v) -> bool:
        """A constant (a sequence is known when all its tensors are)."""
        if isinstance(v, list):
            return all(GraphProto.known(x) for x in v)
        return v is not None and not isinstance(v, Expr)

    def const_input(self, v, what: str):
        """A value that must be known at import time (a shape, axes, pads...)."""
        if v is None:
            return None
        if isinstance(v, Expr):
            raise OpNotImplemented(f"{what} must be known at import time (a constant or computed from shapes), "
                                   f"but here it is computed from the model's inputs")
        return np.asarray(v)

    # -- the import
    def from_onnx(self, graph, opset: int, where: str = "ONNX model"):
        self.opset = opset
        for init in graph.initializer:
            if init.name in self.shape_dict:
                continue  # the user declared it an input
            arr = _initializer_array(init, where)
            self.values[init.name] = arr
            self.initializer_names[id(arr)] = init.name
        inputs = []
        for inp in graph.input:
            if inp.name in self.values:
                continue
            v = Var(inp.name, self._input_type(inp))
            self.values[inp.name] = v
            inputs.append(v)
        unknown = set(self.shape_dict) - {i.name for i in graph.input}
        if unknown:
            raise ValueError(f"shape_dict names {sorted(unknown)}, which are not inputs of the ONNX graph; "
                             f"its inputs are {[v.name_hint for v in inputs]}")
        self._check_supported(graph)
        for node in graph.node:
            self._convert_node(node)
        outs = []
        for o in graph.output:
            if o.name not in self.values:
                raise ONNXImportError(f"graph output {o.name!r} is not produced by any node")
            outs.append(self.expr(self.values[o.name]))
        body = outs[0] if len(outs) == 1 else Tuple(tuple(outs))
        func = Function(tuple(inputs) + tuple(self.param_vars), body)
        from ...ir.module import IRModule
        from ...runtime.ndarray import array

        return IRModule.from_expr(func), {k: array(v) for k, v in self.params.items()}

    def _input_type(self, inp) -> TensorType:
        tt = inp.type.tensor_type
        dtype = _np_dtype(tt.elem_type) if tt.elem_type else None
        if isinstance(self.dtype, dict):
            dtype = self.dtype.get(inp.name, dtype or "float32")
        elif dtype is None:
            dtype = self.dtype
        if inp.name in self.shape_dict:
            shape = tuple(int(s) for s in self.shape_dict[inp.name])
        else:
            dims = []
            for k, d in enumerate(tt.shape.dim):
                if d.HasField("dim_value"):
                    dims.append(int(d.dim_value))
                else:
                    sym = d.dim_param or "?"
                    raise ValueError(f"ONNX input {inp.name!r} has a dynamic dimension {k} ({sym!r}); give its static "
                                     f"shape: from_onnx(model, shape={{{inp.name!r}: (...)}})")
            shape = tuple(dims)
        return TensorType(shape, dtype)

    def _check_supported(self, graph):
        """One error listing every operator that can be neither folded nor converted."""
        known = set(self.values) - {n for n, v in self.values.items() if isinstance(v, Expr)}
        known.add("")
        report = UnsupportedReport("ONNX")
        for node in graph.node:
            op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            foldable = node.op_type in _ALWAYS_KNOWN or (
                all(i in known for i in node.input) and node.op_type not in _NEVER_FOLD
                and node.domain in ("", "ai.onnx") and _reference_op(node.op_type, self.opset) is not None)
            if foldable:
                known.update(node.output)
                continue
            if op not in _CONVERTERS:
                report.add(op, f"node {node.name!r}" if node.name else f"an unnamed {node.op_type} node")
        report.raise_if_any()

    def _convert_node(self, node):
        missing = [i for i in node.input if i and i not in self.values]
        if missing:
            raise ONNXImportError(f"ONNX node {node.name!r} ({node.op_type}) reads {missing}, which no node produced")
        ins = [self.values[i] if i else None for i in node.input]
        self.node = node
        try:
            if self._foldable(node, ins):
                outs = self._fold(node, ins)
            else:
                outs = _CONVERTERS[node.op_type](self, ins, _attrs(node))
            outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
            for v in outs:
                if isinstance(v, Expr):
                    self.ty(v)  # type each result now, so a shape error names this node
        except OpNotImplemented as err:
            raise OpNotImplemented(f"ONNX node {node.name!r} ({node.op_type}): {err}", {node.op_type: [node.name]}) \
                from err
        except (ONNXImportError, TypeError, ValueError) as err:
            raise ONNXImportError(f"ONNX node {node.name!r} ({node.op_type}), inputs "
                                  f"{[self._describe(v) for v in ins]}: {err}") from err
        extra = [n for n in node.output[len(outs):] if n]
        if extra:
            raise OpNotImplemented(f"ONNX node {node.name!r} ({node.op_type}): output(s) {extra} are not supported",
                                   {node.op_type: [node.name]})
        for name, v in zip(node.output, outs):
            if name:
                self.values[name] = v

    def _foldable(self, node, ins) -> bool:
        """Evaluate this node at import time?  (Same rule as the pre-pass in _check_supported.)"""
        if node.op_type in _ALWAYS_KNOWN:
            return True
        return (all(v is None or self.known(v) for v in ins) and node.op_type not in _NEVER_FOLD
                and node.domain in ("", "ai.onnx") and _reference_op(node.op_type, self.opset) is not None)

    def _describe(self, v):
        if v is None:
            return "-"
        return f"{self.dtype_of(v)}{list(self.shape(v))}" + ("" if isinstance(v, Expr) else " (constant)")

    def _fold(self, node, ins):
        if node.op_type in ("Shape", "Size") and isinstance(ins[0], Expr):
            shape = np.array(self.shape(ins[0]), dtype=np.int64)
            if node.op_type == "Size":
                return np.array(_prod(shape), dtype=np.int64)
            a = _attrs(node)
            return shape[a.get("start", 0):a.get("end", None)]
        if node.op_type in _NUMPY_FOLD:
            return _NUMPY_FOLD[node.op_type](*[None if v is None else np.asarray(v) for v in ins], **_attrs(node))
        cls = _reference_op(node.op_type, self.opset)
        impl = cls(node, {"log": lambda *a, **k: None, "opsets": {"": self.opset}, "verbose": 0, "new_ops": None})
        try:
            outs = impl.run(*[None if v is None else np.asarray(v) for v in ins])
        except Exception as err:  # the reference implementation's own error
            raise ONNXImportError(f"evaluating at import time failed: {err}") from err
        return [np.asarray(o) for o in outs]


_REF_CACHE: dict = {}


def _reference_op(op_type: str, opset: int):
    key = (op_type, opset)
    if key not in _REF_CACHE:
        try:
            from onnx.reference.ops import load_op

            _REF_CACHE[key] = load_op("", op_type, opset)
        except Exception:  # not implemented by the reference evaluator
            _REF_CACHE[key] = None
    return _REF_CACHE[key]


def _gather_elements_np(data, indices, axis=0):
    indices = np.where(indices < 0, indices + data.shape[axis], indices)
    return np.take_along_axis(data, indices, axis)


def tile_repeats(repeats, rank: int) -> list:
    """ONNX Tile's repeats as ints: a 1-D tensor with one entry per axis of the input."""
    repeats = np.asarray(repeats)
    if repeats.ndim != 1 or repeats.size != rank:
        raise ONNXImportError(f"Tile's repeats must be a 1-D tensor with one entry per input axis ({rank}), "
                              f"this file gives shape {list(repeats.shape)}: the file is invalid (the "
                              "exporter wrote it; onnxruntime refuses it too): re-export it or fix the repeats")
    return _ints(repeats)


def _tile_np(x, repeats):
    return np.tile(x, tile_repeats(repeats, x.ndim))


# where onnx.reference gets it wrong (its GatherElements fails beyond 32 rows) or says too little
_NUMPY_FOLD = {"GatherElements": _gather_elements_np, "Tile": _tile_np}
_ALWAYS_KNOWN = {"Shape", "Size"}  # shapes are static
_NEVER_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
               "If", "Loop", "Scan", "SequenceMap"}  # random, or with subgraphs


# ---------------------------------------------------------------------------- converters

_CONVERTERS: dict = {}


def supported_ops() -> list:
    """ONNX operators with a relay converter (any operator whose inputs are all known at import
    time is also supported: it is evaluated with numpy)."""
    return sorted(_CONVERTERS)


def _register(*names):
    def deco(fn):
        for n in names:
            _CONVERTERS[n] = fn
        return fn

    return deco


# helpers the converter families share

def _cast_to(g, e, dtype):
    return e if g.dtype_of(e) == dtype else (_t.cast(e, dtype))


def _scalar(v, dtype):
    return const(np.array(v, dtype=dtype))


def _reshape(g, e, shape):
    shape = tuple(int(s) for s in shape)
    return e if tuple(g.shape(e)) == shape else (_tr.reshape(e, shape))


def _axes(g, ins, a, k=1):
    """Axes from the attribute (older opsets) or from input k (newer)."""
    if "axes" in a:
        return _ints(a["axes"])
    if len(ins) > k and ins[k] is not None:
        return _ints(g.const_input(ins[k], f"{g.node.op_type}'s axes"))
    return None


# ---------------------------------------------------------------------------- entry point

def _load_model(path: str):
    """onnx.load, with a file that is not ONNX, or is truncated, reported as an ArtifactError naming it."""
    import onnx
    from google.protobuf.message import DecodeError

    from ...runtime.artifact import ArtifactError

    try:
        model = onnx.load(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"from_onnx: {path} does not exist") from None
    except (DecodeError, ValueError, RuntimeError, OSError, UnicodeDecodeError) as err:
        raise ArtifactError(path, "", f"not an ONNX model, or truncated ({type(err).__name__}: {err})") from None
    if not model.ir_version or not model.HasField("graph"):
        raise ArtifactError(path, "", "not an ONNX model: it has no ir_version or no graph (an empty or foreign "
                            "protobuf file)")
    return model


def _initializer_array(init, where: str) -> np.ndarray:
    """The initializer as a numpy array; a dtype onnx does not know, or data that does not fill its dims,
    is an ArtifactError naming the initializer (numpy_helper would fail with a bare reshape error)."""
    from onnx import TensorProto, helper, numpy_helper

    from ...runtime.artifact import ArtifactError

    what = f"initializer {init.name!r}"
    if init.data_type in (TensorProto.UNDEFINED, TensorProto.STRING) or \
            init.data_type not in TensorProto.DataType.values():
        raise ArtifactError(where, what, f"unsupported data type {init.data_type}")
    if any(d < 0 for d in init.dims):
        raise ArtifactError(where, what, f"negative dimension in dims {list(init.dims)}")
    if init.HasField("raw_data") and init.data_location != TensorProto.EXTERNAL:
        name = TensorProto.DataType.Name(init.data_type)
        if name in ("INT4", "UINT4", "FLOAT4E2M1"):  # two values a byte
            need = (_prod(init.dims) + 1) // 2
        else:
            need = _prod(init.dims) * np.dtype(helper.tensor_dtype_to_np_dtype(init.data_type)).itemsize
        if len(init.raw_data) != need:
            raise ArtifactError(where, what, f"raw_data holds {len(init.raw_data)} bytes, but dims {list(init.dims)} "
                                f"of {TensorProto.DataType.Name(init.data_type)} need {need}")
    try:
        return numpy_helper.to_array(init)
    except (ValueError, TypeError, KeyError) as err:
        raise ArtifactError(where, what, f"its data does not match its dims {list(init.dims)} and data type "
                            f"{TensorProto.DataType.Name(init.data_type)} ({err})") from None


def from_onnx(model, shape=None, dtype="float32", opset=None, freeze_params=False, convert_config=None, *,
              shape_dict=None):
    """Import an ONNX model into relay.

    model: an onnx.ModelProto or a path to a .onnx file.
    shape (classic name: shape_dict): input name -> static shape; needed for inputs whose
        dimensions are symbolic in the model.
    dtype: input dtype where the model does not declare one (a str), or input name -> dtype.
    opset: override the model's default-domain opset.
    freeze_params: embed initializers as constants instead of returning them in params.

    Returns (IRModule, params): params maps initializer names to tvm.nd arrays; pass both to
    relay.build(mod, target=..., params=params).
    """
    import onnx

    if shape is not None and shape_dict is not None:
        raise TypeError("from_onnx: give the input shapes once, as shape= or shape_dict=")
    shape = shape if shape is not None else shape_dict
    if convert_config:
        raise TypeError(f"from_onnx: convert_config is not supported ({convert_config})")
    where = "ONNX model"
    if isinstance(model, (str, os.PathLike)):
        where = os.fspath(model)
        model = _load_model(where)
    if not isinstance(model, onnx.ModelProto):
        raise TypeError(f"from_onnx expects an onnx.ModelProto or a path, got {type(model).__name__}")
    if model.functions:
        from onnx import inliner

        model = inliner.inline_local_functions(model)
    if opset is None:
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    return GraphProto(shape, dtype, freeze_params).from_onnx(model.graph, int(opset), where)


# The converters live in one module per operator family; importing them registers every converter
# in _CONVERTERS.  They import the registry and helpers above from this module, so they are
# imported last.
from . import onnx_math, onnx_nn, onnx_shape  # noqa: E402, F401
