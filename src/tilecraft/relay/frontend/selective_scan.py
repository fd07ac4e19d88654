"""Recurrences as one operator: Mamba's selective scan through `torch.ops.tilecraft.selective_scan`.

Without the mamba-ssm CUDA kernels, transformers runs Mamba's scan as a Python loop over the
tokens, so `torch.jit.trace` and `torch.export` record one small step per token and layer: a
graph that grows with the sequence length and takes minutes to compile.  Recognising that
unrolled pattern in a graph is fragile (it changes with every transformers release), so tilecraft
goes the other way: while tracing, the scan is replaced by a call to a PyTorch custom operator,
`torch.ops.tilecraft.selective_scan`, which both tracers record as one node and both PyTorch
importers convert to `nn.selective_scan` (a loop over time in the compiled kernel):

    import tilecraft as tvm
    with tvm.relay.frontend.recurrences():
        traced = torch.jit.trace(model, inputs)        # or torch.export.export(model, inputs)
    mod, params = tvm.relay.frontend.from_pytorch(traced, [("input_ids", ((1, 128), "int64"))])

The custom operator has a PyTorch implementation (the same loop, in the same rounding order as
transformers' slow path), so the model computes the same inside the context, and the traced
module still runs in PyTorch.  tilecraft's own export path (`tilecraft.measure.export_pytorch_module`,
the model suite) traces inside this context.  Patched: `mamba_selective_scan` of transformers'
Mamba and FalconMamba modelling modules.

    y, h_n = torch.ops.tilecraft.selective_scan(u, delta, A, B, C)

u, delta [b, d, L] (delta with its bias added and through softplus), A [d, n], B, C [b, n, L];
y [b, d, L], h_n [b, d, n] the last state (from a zero initial state).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..op import nn as _nn
from .aten import register
from .common import new_const

__all__ = ["recurrences", "selective_scan_op"]

_OP = None
# transformers modules whose `mamba_selective_scan` the context replaces
_PATCHED_MODULES = ("transformers.models.mamba.modeling_mamba",
                    "transformers.models.falcon_mamba.modeling_falcon_mamba")


def selective_scan_op():
    """`torch.ops.tilecraft.selective_scan`, defined (torch.library) on first use."""
    global _OP
    if _OP is not None:
        return _OP
    import torch

    if hasattr(torch.ops, "tilecraft") and hasattr(torch.ops.tilecraft, "selective_scan"):
        _OP = torch.ops.tilecraft.selective_scan.default
        return _OP

    @torch.library.custom_op("tilecraft::selective_scan", mutates_args=(),
                             schema="(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C) -> (Tensor, Tensor)")
    def selective_scan(u, delta, A, B, C):
        # transformers' slow path, operation for operation
        nb, nd, L = u.shape
        discrete_A = torch.exp(A[None, :, None, :] * delta[:, :, :, None])
        deltaB_u = delta[:, :, :, None] * B.transpose(1, 2)[:, None, :, :] * u[:, :, :, None]
        Ct = C.transpose(1, 2)
        state = torch.zeros(nb, nd, A.shape[-1], dtype=u.dtype, device=u.device)
        ys = []
        for i in range(L):
            state = discrete_A[:, :, i] * state + deltaB_u[:, :, i]
            ys.append(torch.matmul(state, Ct[:, i, :].unsqueeze(-1))[:, :, 0])
        return torch.stack(ys, dim=-1), state

    @selective_scan.register_fake
    def _(u, delta, A, B, C):
        return u.new_empty(u.shape), u.new_empty((u.shape[0], u.shape[1], A.shape[-1]))

    _OP = torch.ops.tilecraft.selective_scan.default
    return _OP


def _mamba_selective_scan(hidden_states, dt, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                          return_last_state=False, use_mambapy=False, use_associative_scan=False, **kwargs):
    """transformers' `mamba_selective_scan` (its recurrent path) with the scan as one custom operator."""
    import torch
    import torch.nn.functional as F

    input_dtype = hidden_states.dtype
    if delta_bias is not None:
        dt = dt + delta_bias.to(dt.dtype)[..., None]
    if delta_softplus:
        dt = F.softplus(dt)
    # transformers computes the scan in the promoted dtype of its operands (float32 for a float32
    # model; float64 for model.double(), whose A stays float32)
    dtype = torch.promote_types(torch.promote_types(dt.dtype, A.dtype), torch.float32)
    dtype = torch.promote_types(dtype, input_dtype)
    y, state = selective_scan_op()(hidden_states.to(dtype), dt.to(dtype), A.to(dtype), B.to(dtype), C.to(dtype))
    y = y.to(input_dtype)
    if D is not None:
        y = y + hidden_states * D[None, :, None]
    if z is not None:
        y = y * F.silu(z)
    return (y, state) if return_last_state else y


@contextlib.contextmanager
def recurrences():
    """Within this context, transformers' Mamba / FalconMamba scans call `torch.ops.tilecraft.selective_scan`,
    so that a trace or export holds one node per layer instead of one step per token (see the module
    docstring).  Trace inside the context; the traced module keeps working after it."""
    import sys

    # Only modules already imported: a model built from them imported them, and importing them
    # here would cost every other model's trace seconds of transformers' import time.
    modules = [sys.modules[name] for name in _PATCHED_MODULES if name in sys.modules]
    if modules:
        selective_scan_op()
    saved = []
    for module in modules:
        if hasattr(module, "mamba_selective_scan"):
            saved.append((module, module.mamba_selective_scan))
            module.mamba_selective_scan = _mamba_selective_scan
    try:
        yield
    finally:
        for module, fn in saved:
            module.mamba_selective_scan = fn


@register("tilecraft::selective_scan")
def _selective_scan(ctx, a):
    """tilecraft::selective_scan(u, delta, A, B, C) -> (y, h_n): nn.selective_scan from a zero state."""
    dt = ctx.dtype(a[0])
    u, delta, A, B, C = (ctx.expr(a[i], dt) for i in range(5))
    nb, nd, _ = (int(s) for s in ctx.shape(u))
    n = int(ctx.shape(A)[1])
    out = _nn.selective_scan(u, delta, A, B, C, new_const(np.zeros((nb, nd, n), dtype=dt)))
    return out[0], out[1]
