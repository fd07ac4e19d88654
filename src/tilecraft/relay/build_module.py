"""relay.build: optimize the graph, fuse it, lower each group to a kernel, and package the result
as a factory module: graph JSON + one library of kernels + parameters."""

from __future__ import annotations

import os

import numpy as np

from ..ir.module import IRModule
from ..runtime.graph_executor import GraphExecutorFactoryModule
from ..transform import PassContext, Sequential
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


def load_deployed(directory, dev=None):
    """Load the three deploy artifacts into a ready graph executor (no torch, no compiler needed)."""
    from ..runtime import cpu, load_module
    from ..runtime.graph_executor import GraphExecutor, GraphModule

    dev = dev or cpu(0)
    lib = load_module(os.path.join(directory, "deploy_lib.tar"))
    with open(os.path.join(directory, "deploy_graph.json")) as f:
        graph = f.read()
    ex = GraphExecutor(graph, lib, dev)
    with open(os.path.join(directory, "deploy_params.bin"), "rb") as f:
        ex.load_params(f.read())
    return GraphModule(ex)


def build_config(opt_level: int = 2, required_pass=None, disabled_pass=None, config=None):
    """Classic spelling of `tvm.transform.PassContext(opt_level=...)`, as in seed 003."""
    return PassContext(opt_level=opt_level, required_pass=required_pass, disabled_pass=disabled_pass,
                       config=config)


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
