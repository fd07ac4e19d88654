"""nn.recurrent: one recurrent layer (LSTM, GRU, Elman RNN) in one direction over a sequence.

    y, h_n[, c_n] = nn.recurrent(xw, w_hh, b_hh, h0[, c0], mode="LSTM", reverse=False,
                                 linear_before_reset=True, weight_layout="NC")

`xw` [T, B, G*H] is the input projection of every timestep with the input bias (x @ w_ih^T +
b_ih: one nn.dense, computed by the caller, so it fuses and tunes like any dense); w_hh [G*H, H]
and b_hh [G*H] are the recurrent weight and bias; h0 (and c0 for LSTM) [B, H] the initial state.
Gate order is PyTorch's (LSTM i, f, g, o; GRU r, z, n). The outputs are y [T, B, H] in input
time order, h_n and, for LSTM, c_n [B, H]. The kernel (topi.nn.recurrent) is a loop over time,
so the graph and the compiled program do not grow with T. Importers build multi-layer and
bidirectional networks from it (relay/frontend/recurrent.py). The kernel reads w_hh transposed in
column panels; AlterOpLayout packs a constant w_hh so at compile time (weight_layout "NC<b>n" or
"CN"), otherwise the kernel packs it at every call.
"""

from __future__ import annotations

from ..ty import TensorType, TupleType
from ._rel import same_dtype, tensor_arg
from .registry import OpPattern, make_call, register_op

GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _recurrent_rel(types, attrs):
    mode = attrs["mode"]
    if mode not in GATES:
        raise ValueError(f"nn.recurrent: mode must be one of {', '.join(GATES)}, got {mode!r}")
    names = ["xw", "w_hh", "b_hh", "h0"] + (["c0"] if mode == "LSTM" else [])
    if len(types) != len(names):
        raise TypeError(f"nn.recurrent {mode} takes {len(names)} inputs ({', '.join(names)}), got {len(types)}")
    ts = [tensor_arg(types, i, n) for i, n in enumerate(names)]
    same_dtype(*zip(names, ts))
    xw, w, b, h0 = ts[:4]
    if not xw.dtype.startswith("float"):
        raise TypeError(f"nn.recurrent: xw must be a float tensor, got {xw.dtype}")
    if xw.ndim != 3 or h0.ndim != 2:
        raise ValueError(f"nn.recurrent: xw must be [T, B, G*H] and h0 [B, H], got {xw.shape} and {h0.shape}")
    T, B, GH = xw.shape
    H = h0.shape[1]
    G = GATES[mode]
    from ...topi.nn.recurrent import weight_shape

    expect = {"xw": (T, B, G * H), "w_hh": weight_shape(attrs.get("weight_layout", "NC"), G * H, H),
              "b_hh": (G * H,), "h0": (B, H), "c0": (B, H)}
    for n, t in zip(names, ts):
        if tuple(t.shape) != expect[n]:
            raise ValueError(f"nn.recurrent {mode} with {G} gate(s) of hidden size {H}, batch {B}: {n} must have "
                             f"shape {expect[n]}, got {tuple(t.shape)}")
    out = [TensorType((T, B, H), xw.dtype), TensorType((B, H), xw.dtype)]
    if mode == "LSTM":
        out.append(TensorType((B, H), xw.dtype))
    return TupleType(tuple(out))


def _recurrent_compute(attrs, ins, out):
    from ... import topi

    c0 = ins[4] if attrs["mode"] == "LSTM" else None
    return list(topi.nn.recurrent(ins[0], ins[1], ins[2], ins[3], c0, mode=attrs["mode"], reverse=attrs["reverse"],
                                  linear_before_reset=attrs["linear_before_reset"],
                                  weight_layout=attrs.get("weight_layout", "NC")))


register_op("nn.recurrent", _recurrent_rel, _recurrent_compute, OpPattern.OPAQUE,
            {"mode": "LSTM", "reverse": False, "linear_before_reset": True, "weight_layout": "NC"}, doc=__doc__)


def recurrent(xw, w_hh, b_hh, h0, c0=None, mode="LSTM", reverse=False, linear_before_reset=True,
              weight_layout="NC"):
    """One recurrent layer; returns a tuple wrapper (y, h_n) or (y, h_n, c_n) for LSTM."""
    from .nn import _TupleWrapper

    args = (xw, w_hh, b_hh, h0) + ((c0,) if c0 is not None else ())
    call = make_call("nn.recurrent", args, mode=str(mode), reverse=bool(reverse),
                     linear_before_reset=bool(linear_before_reset), weight_layout=str(weight_layout))
    return _TupleWrapper(call, 3 if mode == "LSTM" else 2)
