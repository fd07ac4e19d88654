"""nn.selective_scan: the selective scan of a state-space model (Mamba) over a whole sequence.

    y, h_n = nn.selective_scan(u, delta, A, B, C, h0)

u, delta [b, d, L] (delta biased and through softplus already), A [d, n], B, C [b, n, L], h0
[b, d, n].  Per channel, h = exp(delta_t * A) * h + delta_t * B_t * u_t and y_t = <h, C_t>; the
outputs are y [b, d, L] and the last state h_n [b, d, n].  The kernel (topi.nn.selective_scan) is
a loop over time, so the graph and the compiled program do not grow with L.  Importers create it
from `torch.ops.tilecraft.selective_scan` (relay/frontend/selective_scan.py).
"""

from __future__ import annotations

from ..ty import TensorType, TupleType
from ._rel import same_dtype, tensor_arg
from .registry import OpPattern, make_call, register_op

_NAMES = ("u", "delta", "A", "B", "C", "h0")


def _selective_scan_rel(types, attrs):
    if len(types) != len(_NAMES):
        raise TypeError(f"nn.selective_scan takes {len(_NAMES)} inputs ({', '.join(_NAMES)}), got {len(types)}")
    ts = [tensor_arg(types, i, n) for i, n in enumerate(_NAMES)]
    same_dtype(*zip(_NAMES, ts))
    u, A = ts[0], ts[2]
    if not u.dtype.startswith("float"):
        raise TypeError(f"nn.selective_scan: u must be a float tensor, got {u.dtype}")
    if u.ndim != 3 or A.ndim != 2:
        raise ValueError(f"nn.selective_scan: u must be [b, d, L] and A [d, n], got {u.shape} and {A.shape}")
    b, d, L = u.shape
    n = A.shape[1]
    expect = {"u": (b, d, L), "delta": (b, d, L), "A": (d, n), "B": (b, n, L), "C": (b, n, L), "h0": (b, d, n)}
    for name, t in zip(_NAMES, ts):
        if tuple(t.shape) != expect[name]:
            raise ValueError(f"nn.selective_scan with u {tuple(u.shape)} and state size {n}: {name} must have "
                             f"shape {expect[name]}, got {tuple(t.shape)}")
    return TupleType((TensorType((b, d, L), u.dtype), TensorType((b, d, n), u.dtype)))


def _selective_scan_compute(attrs, ins, out):
    from ... import topi

    return list(topi.nn.selective_scan(*ins))


register_op("nn.selective_scan", _selective_scan_rel, _selective_scan_compute, OpPattern.OPAQUE, {}, doc=__doc__)


def selective_scan(u, delta, A, B, C, h0):
    """The selective scan; returns a tuple wrapper (y, h_n)."""
    from .nn import _TupleWrapper

    return _TupleWrapper(make_call("nn.selective_scan", (u, delta, A, B, C, h0)), 2)
