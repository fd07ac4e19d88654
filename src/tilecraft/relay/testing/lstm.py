"""An unrolled LSTM (classic relay.testing.lstm's cell and parameter names).

Classic TVM builds each step as a call to a relay Function with let-bound values and tuple-typed
states; tilecraft's graph executor takes plain dataflow, so the same arithmetic is unrolled into
one graph.  Step i reads its own input: `data` for step 0, `data_<i>` after (classic names every
step's input `data`)."""

import numpy as np

from ... import relay
from . import layers
from .init import initialize


def lstm_cell(inputs, states, num_hidden, name, dtype="float32"):
    """One step: returns (next_h, (next_h, next_c)); parameters `<name>i2h_weight` etc."""
    h, c = states
    i2h = layers.dense_add_bias(inputs, units=num_hidden * 4, name=f"{name}i2h", in_units=num_hidden, dtype=dtype)
    h2h = layers.dense_add_bias(h, units=num_hidden * 4, name=f"{name}h2h", in_units=num_hidden, dtype=dtype)
    gates = relay.split(relay.add(i2h, h2h), indices_or_sections=4, axis=1)
    in_gate, forget_gate = relay.sigmoid(gates[0]), relay.sigmoid(gates[1])
    in_transform, out_gate = relay.tanh(gates[2]), relay.sigmoid(gates[3])
    next_c = relay.add(relay.multiply(forget_gate, c), relay.multiply(in_gate, in_transform))
    next_h = relay.multiply(out_gate, relay.tanh(next_c))
    return next_h, (next_h, next_c)


def get_net(iterations, num_hidden, batch_size=1, dtype="float32"):
    zeros = relay.const(np.zeros((batch_size, num_hidden), dtype=dtype))
    states, out = (zeros, zeros), None
    for i in range(iterations):
        inputs = relay.var("data" if i == 0 else f"data_{i}", shape=(batch_size, num_hidden), dtype=dtype)
        out, states = lstm_cell(inputs, states, num_hidden, f"lstm_{i}_", dtype)
    return out.as_function()


def get_workload(iterations, num_hidden, batch_size=1, dtype="float32"):
    inputs = ["data"] + [f"data_{i}" for i in range(1, iterations)]
    return initialize(get_net(iterations, num_hidden, batch_size, dtype), inputs=inputs)
