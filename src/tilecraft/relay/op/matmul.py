"""nn.matmul: a [..., M, K] (transpose_a: [..., K, M]) times a 2-D b [K, N] (transpose_b: [N, K]).

Leading axes of a are rows, as for dense (nn.on_rows); the x86 strategy computes the 2-D product."""

from __future__ import annotations

from ..ty import TensorType, dims_equal
from ._rel import same_dtype_rel, tensor_arg
from .nn import on_rows
from .registry import OpPattern, make_call, register_op


def _matmul_rel(types, attrs):
    """a [..., M, K] (transpose_a: [..., K, M]) times b [K, N] (transpose_b: [N, K]) -> [..., M, N]."""
    a, b = tensor_arg(types, 0, "tensor_a"), tensor_arg(types, 1, "tensor_b")
    if a.ndim < 2 or b.ndim != 2:
        raise ValueError(f"matmul needs tensor_a of rank >= 2 and a 2-D tensor_b, got {a.shape} and {b.shape}")
    m, k = (a.shape[-1], a.shape[-2]) if attrs["transpose_a"] else (a.shape[-2], a.shape[-1])
    k2, n = (b.shape[1], b.shape[0]) if attrs["transpose_b"] else b.shape
    if dims_equal(k, k2) is False:
        raise ValueError(f"inner dimensions differ: {k} vs {k2} (tensor_a {a.shape}, tensor_b {b.shape})")
    return TensorType(tuple(a.shape[:-2]) + (m, n), attrs.get("out_dtype") or a.dtype)


def _matmul_solve(types, attrs):
    a = types[0]
    if a is None or attrs.get("units") is None:
        return {}
    k = a.shape[-2] if attrs["transpose_a"] else a.shape[-1]
    return {1: TensorType((attrs["units"], k) if attrs["transpose_b"] else (k, attrs["units"]), a.dtype)}


def _matmul_compute(a, ins, o):
    from ... import topi

    x, w = ins
    if len(x.shape) > 2 and a["transpose_a"]:  # swap the last two axes, then the rows are data rows
        x = topi.transpose(x, tuple(range(len(x.shape) - 2)) + (len(x.shape) - 1, len(x.shape) - 2))
    transpose_a = a["transpose_a"] and len(ins[0].shape) == 2
    return on_rows(x, lambda rows: topi.nn.matmul(rows, w, transpose_a=transpose_a, transpose_b=a["transpose_b"],
                                                  out_dtype=a.get("out_dtype")))


register_op("nn.matmul", same_dtype_rel(_matmul_rel, "tensor_a", "tensor_b"), _matmul_compute,
            OpPattern.OUT_ELEMWISE_FUSABLE,
            {"transpose_a": False, "transpose_b": False, "units": None, "out_dtype": None}, solve=_matmul_solve)


def matmul(tensor_a, tensor_b, units=None, out_dtype=None, transpose_a=False, transpose_b=False):
    return make_call("nn.matmul", (tensor_a, tensor_b), transpose_a=bool(transpose_a),
                     transpose_b=bool(transpose_b), units=units, out_dtype=out_dtype)
