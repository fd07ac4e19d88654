"""Operator arguments that cannot work are refused where they are given (found by the bad-input table)."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.relay.transform.infer_type import RelayTypeError


def _infer(body, *params):
    return relay.transform.InferType()(tvm.IRModule.from_expr(relay.Function(list(params), body)))


x = relay.var("x", shape=(2, 3))
d = relay.var("d", shape=(1, 3, 8, 8))
w = relay.var("w", shape=(4, 3, 3, 3))


@pytest.mark.parametrize("make, error, match", [
    (lambda: relay.var("y", shape=(2, 3), dtype="float33"), ValueError, "unknown dtype 'float33'"),
    (lambda: relay.var("y", shape=(2, -3)), ValueError, r"shape \(2, -3\): sizes must be >= 0"),
    (lambda: relay.cast(x, "float33"), ValueError, "unknown dtype 'float33'"),
    (lambda: relay.const("abc"), TypeError, "relay.const takes numbers.*'abc'"),
    (lambda: relay.nn.conv2d(d, w, strides=(0, 0)), ValueError, r"strides must be positive, got \(0, 0\)"),
    (lambda: relay.nn.conv2d(d, w, dilation=0), ValueError, r"dilation must be positive"),
    (lambda: _infer(relay.transpose(x, (0, 5)), x), RelayTypeError, r"transpose.*axes \(0, 5\) is not a permutation"),
    (lambda: _infer(relay.nn.softmax(x, axis=5), x), RelayTypeError, "nn.softmax: axis 5 is out of range"),
    (lambda: _infer(relay.nn.max_pool2d(d, pool_size=(20, 20)), d), RelayTypeError,
     "nn.max_pool2d.*20x20 window.*does not fit the 8x8 input"),
])
def test_refused_with_the_argument_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_legal_neighbours_still_work():
    assert _infer(relay.transpose(x, (-1, 0)), x)["main"].body.checked_type.shape == (3, 2)
    assert _infer(relay.nn.softmax(x, axis=-2), x)["main"].body.checked_type.shape == (2, 3)
    assert _infer(relay.nn.max_pool2d(d, pool_size=(8, 8)), d)["main"].body.checked_type.shape == (1, 3, 1, 1)
    assert relay.const(np.float32(2.0)).data.dtype == np.float32
