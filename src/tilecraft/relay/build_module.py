"""relay.build: optimize the graph, fuse it, lower each group to a kernel, and package the result
as a factory module: graph JSON + one library of kernels + parameters."""

from __future__ import annotations

import os

import numpy as np

from ..ir.module import IRModule
from ..runtime.graph_executor import GraphExecutorFactoryModule
from ..runtime.ndarray import NDArray
from ..transform import PassContext, Sequential
from .expr import Constant, Function
from .transform import optimization_passes
from .transform.fuse_ops import FuseOps
from .transform.infer_type import InferType
from .transform.inline_globals import inline_global_calls
from .ty import TensorType
from .visitor import replace_nodes


def bind_params_by_name(func: Function, params: dict) -> Function:
    """Replace the parameters named in `params` by constants (weights become compile-time data)."""
    if not params:
        return func
    names = {p.name_hint: p for p in func.params}
    unknown = [k for k in params if k not in names]
    if unknown:
        raise KeyError(f"params {unknown} are not inputs of the function; its inputs are {list(names)}")
    bound = {names[k] for k in params}
    body = bind_vars(func.body, {names[k]: v for k, v in params.items()})
    return Function(tuple(p for p in func.params if p not in bound), body, None, func.attrs)


def bind_vars(expr, values: dict):
    """`expr` with each variable of `values` ({Var: array or NDArray}) replaced by a Constant.

    Each value must have its variable's annotated shape and dtype: a float64 array bound to a
    float32 weight would otherwise compile as a float64 graph (or be read as the wrong bits)."""
    consts = {}
    for var, v in values.items():
        # An NDArray (what the importers return) is viewed, not copied, as classic relay.const shares it:
        # a large model's weights are held once.  Numpy arrays and tensors are copied, as classic
        # tvm.nd.array(value) does, so a caller reusing its buffer does not change the compiled model.
        # Read-only either way, so no pass can write into a weight.
        if isinstance(v, NDArray):
            arr = np.asarray(v).view()
        else:
            arr = np.array(v.numpy() if hasattr(v, "numpy") and not isinstance(v, np.ndarray) else v, order="C")
        arr.flags.writeable = False
        _check_binding(var, arr)
        consts[id(var)] = Constant(arr)
    return replace_nodes(expr, consts)


def _check_binding(var, arr) -> None:
    """TypeError for a dtype, ValueError for a shape that differs from var's annotation."""
    t = getattr(var, "type_annotation", None)
    if not isinstance(t, TensorType):
        return
    got = f"Tensor[{tuple(arr.shape)}, {arr.dtype}]"
    if str(arr.dtype) != t.dtype:
        raise TypeError(f"param {var.name_hint!r} is {t} but the value bound to it is {got} "
                        f"(dtype {arr.dtype}, expected {t.dtype}); cast it before binding")
    if len(t.shape) != arr.ndim or any(isinstance(d, int) and d != n for d, n in zip(t.shape, arr.shape)):
        raise ValueError(f"param {var.name_hint!r} is {t} but the value bound to it is {got} "
                         f"(shape {tuple(arr.shape)}, expected {tuple(t.shape)})")


def load_deployed(directory, dev=None):
    """Load the three deploy artifacts into a ready graph executor (no torch, no compiler needed).
    A malformed, truncated or tampered file, or parameters that do not cover the graph, raise
    runtime.ArtifactError naming the file."""
    from ..runtime import cpu, load_module
    from ..runtime.graph_executor import GraphExecutor, GraphModule

    dev = dev or cpu(0)
    lib = load_module(os.path.join(directory, "deploy_lib.tar"))
    graph_path, params_path = (os.path.join(directory, f) for f in ("deploy_graph.json", "deploy_params.bin"))
    with open(graph_path, "rb") as f:
        graph = f.read()
    ex = GraphExecutor(graph, lib, dev, where=graph_path)
    with open(params_path, "rb") as f:
        ex.load_params(f.read(), where=params_path)
    return GraphModule(ex)


def build_config(opt_level: int = 2, required_pass=None, disabled_pass=None, config=None):
    """Classic spelling of `tvm.transform.PassContext(opt_level=...)`, as in seed 003."""
    return PassContext(opt_level=opt_level, required_pass=required_pass, disabled_pass=disabled_pass,
                       config=config)


def optimize(mod, params=None, target=None):
    """The graph passes relay.build runs (under the current PassContext), up to fused kernels."""
    from ..target import Target

    _check_build_args(mod, params)
    if isinstance(mod, Function):
        mod = IRModule({"main": mod})
    main = inline_global_calls(mod)
    if params:
        main = bind_params_by_name(main, params)
    mod = IRModule({"main": main})
    with Target(target if target is not None else (Target.current() or "llvm")):
        return Sequential([InferType(), *optimization_passes(), FuseOps()])(mod)


def _check_build_args(mod, params) -> None:
    """What relay.build takes, checked first: a bare expression or a list of params would fail far
    inside with "not subscriptable" / "unhashable"."""
    if not isinstance(mod, (IRModule, Function)):
        raise TypeError(f"relay.build takes an IRModule or a relay.Function, got {type(mod).__name__} "
                        f"{_short(mod)}; wrap an expression: relay.Function(relay.analysis.free_vars(e), e), "
                        f"or tvm.IRModule.from_expr(e)")
    if params is None:
        return
    if not hasattr(params, "items"):
        raise TypeError(f"relay.build: params must be a dict {{name: array}} naming the function's parameters, "
                        f"got {type(params).__name__}")
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise TypeError(f"relay.build: params must be a dict {{name: array}} keyed by parameter name (str), "
                        f"got the key {_short(bad[0])}")


def _short(obj) -> str:
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


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


class _Executor:
    """What `relay.create_executor` returns: `.evaluate()` gives a Python function of the module's
    main (or of an expression), compiled once by relay.build and run by the graph executor."""

    def __init__(self, kind: str, mod, device, target, params):
        self.kind, self.mod, self.device, self.target, self.params = kind, mod, device, target, dict(params or {})

    def evaluate(self, expr=None, binds=None):
        from ..runtime import cpu
        from .analysis import free_vars

        if isinstance(expr, Constant):
            from ..runtime.ndarray import array

            return array(expr.data)
        func = self.mod["main"] if expr is None else expr
        if binds:
            func = bind_vars(func, binds)
        if not isinstance(func, Function):  # a closed expression: its value, now
            if free_vars(func):
                names = [v.name_hint for v in free_vars(func)]
                raise ValueError(f"evaluate: the expression uses free variables {names}; bind them with "
                                 "binds={var: value} or wrap it in a relay.Function")
            return self._compile(Function((), func), cpu(0) if self.device is None else self.device)()
        return self._compile(func, cpu(0) if self.device is None else self.device)

    def _compile(self, func: Function, device):
        from ..runtime.graph_executor import GraphModule

        names = [p.name_hint for p in func.params]
        params = {k: v for k, v in self.params.items() if k in names}
        lib = build(self.mod.with_function("main", func), target=self.target, params=params or None)
        module = GraphModule(lib["default"](device))
        free = [n for n in names if n not in params]

        def run(*args, **kwargs):
            if len(args) > len(free):
                raise TypeError(f"the function takes {len(free)} inputs ({', '.join(free)}), got {len(args)}")
            for n, v in (*zip(free, args), *kwargs.items()):
                module.set_input(n, v)
            module.run()
            outs = [module.get_output(i) for i in range(module.get_num_outputs())]
            return outs[0] if len(outs) == 1 else tuple(outs)

        return run


def create_executor(kind: str = "debug", mod=None, device=None, target="llvm", params=None) -> _Executor:
    """Classic `relay.create_executor(kind, mod, device, target).evaluate()(inputs...)`.  Every kind
    ("debug", "graph", "vm", "aot") compiles with relay.build and runs on the graph executor."""
    if kind not in ("debug", "graph", "vm", "aot"):
        raise ValueError(f"create_executor: unknown kind {kind!r}; use 'debug', 'graph', 'vm' or 'aot'")
    if isinstance(mod, Function):
        mod = IRModule({"main": mod})
    return _Executor(kind, mod if mod is not None else IRModule({}), device, target, params)
