"""relay.build: optimize the graph, fuse it, lower each group to a kernel, and package the result
as a factory module: graph JSON + one library of kernels + parameters."""

from __future__ import annotations

import os

import numpy as np

from ..ir.module import IRModule
from ..transform import Sequential
from .expr import Constant, Function
from .transform import optimization_passes
from .transform.fuse_ops import FuseOps
from .transform.infer_type import InferType
from .visitor import ExprMutator


def bind_params_by_name(func: Function, params: dict) -> Function:
    """Replace the parameters named in `params` by constants (weights become compile-time data)."""
    if not params:
        return func
    names = {p.name_hint: p for p in func.params}
    unknown = [k for k in params if k not in names]
    if unknown:
        raise KeyError(f"params {unknown} are not inputs of the function; its inputs are {list(names)}")
    consts = {}
    for k, v in params.items():
        arr = np.asarray(v.numpy() if hasattr(v, "numpy") else v, order="C")  # 0-d stays 0-d
        consts[id(names[k])] = Constant(arr)

    class Bind(ExprMutator):
        def visit_var(self, v):
            return consts.get(id(v), v)

    body = Bind().visit(func.body)
    return Function(tuple(p for p in func.params if id(p) not in consts), body, None, func.attrs)


class GraphExecutorFactoryModule:
    """What relay.build returns: `lib["default"](dev)` makes a graph executor."""

    def __init__(self, graph_json: str, lib, params: dict, mod_name: str = "default", ir_mod=None):
        self.graph_json, self.lib, self.params, self.mod_name = graph_json, lib, params, mod_name
        self.ir_mod = ir_mod

    def get_graph_json(self) -> str:
        return self.graph_json

    def get_lib(self):
        return self.lib

    def get_params(self) -> dict:
        from ..runtime.ndarray import array

        return {k: array(v) for k, v in self.params.items()}

    def __getitem__(self, name: str):
        if name != self.mod_name:
            raise KeyError(f"factory module has {self.mod_name!r}, not {name!r}")
        return self._create

    def _create(self, dev):
        from ..contrib.graph_executor import GraphExecutor
        from ..runtime.params import save_param_dict

        ex = GraphExecutor(self.graph_json, self.lib, dev)
        if self.params:
            ex.load_params(save_param_dict(self.params))
        return ex

    def export_library(self, path) -> None:
        self.lib.export_library(path)

    def save(self, directory) -> dict:
        """Write deploy_lib.tar, deploy_graph.json and deploy_params.bin (safetensors), each atomically."""
        from ..runtime.params import save_param_dict, write_atomic

        os.makedirs(directory, exist_ok=True)
        paths = {k: os.path.join(directory, f) for k, f in
                 (("lib", "deploy_lib.tar"), ("graph", "deploy_graph.json"), ("params", "deploy_params.bin"))}
        self.lib.export_library(paths["lib"])
        write_atomic(paths["graph"], self.graph_json.encode())
        write_atomic(paths["params"], save_param_dict(self.params))
        return paths


def load_deployed(directory, dev=None):
    """Load the three deploy artifacts into a ready graph executor (no torch, no compiler needed)."""
    from ..contrib.graph_executor import GraphExecutor, GraphModule
    from ..runtime import cpu, load_module

    dev = dev or cpu(0)
    lib = load_module(os.path.join(directory, "deploy_lib.tar"))
    with open(os.path.join(directory, "deploy_graph.json")) as f:
        graph = f.read()
    ex = GraphExecutor(graph, lib, dev)
    with open(os.path.join(directory, "deploy_params.bin"), "rb") as f:
        ex.load_params(f.read())
    return GraphModule(ex)


def optimize(mod, params=None, target=None):
    """The graph passes relay.build runs (under the current PassContext), up to fused kernels."""
    from ..target import Target

    if isinstance(mod, Function):
        mod = IRModule({"main": mod})
    main = mod["main"]
    if params:
        main = bind_params_by_name(main, params)
    mod = IRModule({"main": main})
    with Target(target if target is not None else (Target.current() or "llvm")):
        return Sequential([InferType(), *optimization_passes(), FuseOps()])(mod)


def build(mod, target=None, target_host=None, params=None, mod_name: str = "default"):
    """Compile a relay module for `target`; returns a GraphExecutorFactoryModule."""
    from ..driver.build_module import resolve_target
    from .backend.executor import compile_fused

    if isinstance(target, dict):
        target = next(iter(target.values()))
    tgt = resolve_target(target, target_host)
    if tgt.kind != "llvm":
        raise ValueError(f"relay.build supports target 'llvm' (CPU) for now, got {tgt.kind!r}")
    with tgt:
        fused = optimize(mod, params, tgt)
        graph_json, lib, consts = compile_fused(fused["main"], tgt)
    return GraphExecutorFactoryModule(graph_json, lib, consts, mod_name, fused)
