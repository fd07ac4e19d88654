"""Compile a PyTorch model with tilecraft: import (TorchScript trace or torch.export), relay.build,
and a ready graph executor, with the compile time measured."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Compiled:
    module: object  # contrib.graph_executor.GraphModule
    lib: object  # relay.build's factory module (graph JSON, kernels, params)
    input_names: list
    compile_seconds: float
    import_path: str

    def __call__(self, *inputs) -> list:
        """Run on numpy arrays (or torch tensors); returns the outputs as numpy arrays."""
        for name, x in zip(self.input_names, inputs):
            self.module.set_input(name, _np(x))
        self.module.run()
        return [self.module.get_output(i).numpy() for i in range(self.module.get_num_outputs())]


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _import(model, inputs, path: str):
    import torch

    from ..relay import frontend

    if path == "trace":
        with torch.no_grad():
            traced = torch.jit.trace(model, tuple(inputs), check_trace=False)
        infos = [(f"input{i}", (tuple(x.shape), str(x.dtype).replace("torch.", ""))) for i, x in enumerate(inputs)]
        mod, params = frontend.from_pytorch(traced, infos)
        return mod, params, [n for n, _ in infos]
    if path == "export":
        ep = torch.export.export(model, tuple(inputs))
        mod, params = frontend.from_exported_program(ep)
        names = [p.name_hint for p in mod["main"].params if p.name_hint not in params]
        return mod, params, names
    raise ValueError(f"unknown import path {path!r}; use 'trace' (TorchScript) or 'export' (torch.export)")


def compile_torch(model, inputs, path: str = "trace", target: str = "llvm", opt_level: int = 3) -> Compiled:
    """Import `model` (in eval mode) with example `inputs`, build it, and return a runnable Compiled."""
    from .. import transform
    from ..contrib import graph_executor
    from ..relay import build
    from ..runtime import cpu

    t0 = time.perf_counter()
    mod, params, names = _import(model, inputs, path)
    with transform.PassContext(opt_level=opt_level):
        lib = build(mod, target=target, params=params)
    module = graph_executor.GraphModule(lib["default"](cpu(0)))
    return Compiled(module, lib, names, time.perf_counter() - t0, path)
