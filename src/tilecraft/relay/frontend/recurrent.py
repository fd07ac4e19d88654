"""Recurrent networks (stacked, bidirectional LSTM / GRU / RNN) from nn.recurrent layers.

Both PyTorch importers (aten::lstm, aten::gru, aten::rnn_tanh, aten::rnn_relu) and the ONNX one
(LSTM, GRU, RNN) describe a network the same way once their weights are in PyTorch's gate order:
per layer and direction, w_ih [G*H, I], w_hh [G*H, H] and optional biases. `recurrent_network`
builds it: per layer and direction one nn.dense for the input projection of all timesteps and one
nn.recurrent for the loop over time; the two directions' outputs are concatenated along features
and feed the next layer. The graph has a fixed number of calls per layer whatever the sequence
length. Dropout between layers is an inference no-op.
"""

from __future__ import annotations

import numpy as np

from ..op import nn as _nn
from ..op import transform as _tf
from ..op.recurrent import GATES
from .common import new_const


def initial_state(h, index: int, batch: int, hidden: int, dtype: str):
    """h[index] of an initial state [L*D, B, H] as [B, H]; zeros when h is None."""
    if h is None:
        return new_const(np.zeros((batch, hidden), dtype=dtype))
    return _tf.reshape(_tf.strided_slice(h, [index], [index + 1], axes=[0]), (batch, hidden))


def recurrent_direction(flat, tb, dtype: str, weights, mode: str, hidden: int, h0, c0=None, reverse=False,
                        linear_before_reset: bool = True):
    """One layer in one direction: nn.dense over the flattened input `flat` [T*B, I] (tb = (T, B)),
    then nn.recurrent; h0 / c0 are [B, H] (see initial_state). Returns the nn.recurrent tuple wrapper."""
    T, B = tb
    w_ih, w_hh, b_ih, b_hh = weights
    G = GATES[mode]
    xw = _nn.dense(flat, w_ih)
    if b_ih is not None:
        xw = _nn.bias_add(xw, b_ih, axis=-1)
    xw = _tf.reshape(xw, (T, B, G * hidden))
    if b_hh is None:
        b_hh = new_const(np.zeros((G * hidden,), dtype=dtype))
    return _nn.recurrent(xw, w_hh, b_hh, h0, c0, mode=mode, reverse=reverse, linear_before_reset=linear_before_reset)


def recurrent_network(x, shape, dtype: str, weights, mode: str, hidden: int, num_layers: int,
                      bidirectional: bool, batch_first: bool = False, h0=None, c0=None,
                      linear_before_reset: bool = True):
    """(y, h_n[, c_n]) of a stacked recurrent network, shaped as PyTorch returns them.

    x: the input, [T, B, I] ([B, T, I] with batch_first) of static `shape`; weights: one
    (w_ih, w_hh, b_ih, b_hh) per layer and direction (layer-major, forward first), biases None
    when absent, all in PyTorch's gate order; h0 / c0: [L*D, B, H] or None for zeros.
    y is [T, B, D*H] ([B, T, D*H] with batch_first), h_n and c_n [L*D, B, H]."""
    if mode not in GATES:
        raise ValueError(f"unknown recurrent mode {mode!r}")
    if len(shape) != 3:
        raise ValueError(f"a recurrent layer takes a 3-D input (batched sequence), got shape {tuple(shape)}")
    dirs = 2 if bidirectional else 1
    if len(weights) != num_layers * dirs:
        raise ValueError(f"{mode}: expected weights for {num_layers} layer(s) x {dirs} direction(s), "
                         f"got {len(weights)} sets")
    if batch_first:
        x = _tf.transpose(x, (1, 0, 2))
        shape = (shape[1], shape[0], shape[2])
    T, B, size = (int(s) for s in shape)
    hs, cs = [], []
    for layer in range(num_layers):
        flat = _tf.reshape(x, (T * B, size))
        ys = []
        for d in range(dirs):
            k = layer * dirs + d
            c = initial_state(c0, k, B, hidden, dtype) if mode == "LSTM" else None
            out = recurrent_direction(flat, (T, B), dtype, weights[k], mode, hidden,
                                      initial_state(h0, k, B, hidden, dtype), c, reverse=d == 1,
                                      linear_before_reset=linear_before_reset)
            ys.append(out[0])
            hs.append(out[1])
            if mode == "LSTM":
                cs.append(out[2])
        x = ys[0] if dirs == 1 else _tf.concatenate(ys, axis=2)
        size = dirs * hidden
    y = _tf.transpose(x, (1, 0, 2)) if batch_first else x
    h_n = _tf.stack(hs, axis=0)
    if mode == "LSTM":
        return y, h_n, _tf.stack(cs, axis=0)
    return y, h_n


__all__ = ["recurrent_direction", "recurrent_network", "initial_state"]
