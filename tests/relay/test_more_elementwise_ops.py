"""Element-wise operators classic relay code uses (trigonometric, hyperbolic, shifts and bit
operations), through relay.build against numpy on fresh random inputs."""

import numpy as np
import pytest

from tilecraft import relay

UNARY = {"tan": (np.tan, -1.2, 1.2), "atan": (np.arctan, -5, 5), "asin": (np.arcsin, -0.99, 0.99),
         "acos": (np.arccos, -0.99, 0.99), "sinh": (np.sinh, -3, 3), "cosh": (np.cosh, -3, 3),
         "asinh": (np.arcsinh, -5, 5), "acosh": (np.arccosh, 1.01, 6), "atanh": (np.arctanh, -0.99, 0.99)}


def _run(f, *arrays):
    return relay.create_executor("graph", target="llvm").evaluate(f)(*arrays).numpy()


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float_ops(name):
    ref, lo, hi = UNARY[name]
    x = relay.var("x", shape=(4, 33))
    data = np.random.default_rng(0).uniform(lo, hi, (4, 33)).astype("float32")
    np.testing.assert_allclose(_run(relay.Function([x], getattr(relay, name)(x)), data), ref(data),
                               rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name,ref", [("left_shift", np.left_shift), ("right_shift", np.right_shift),
                                      ("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                                      ("bitwise_xor", np.bitwise_xor)])
def test_integer_binary_ops_broadcast(name, ref):
    rng = np.random.default_rng(1)
    a, b = relay.var("a", shape=(3, 17), dtype="int32"), relay.var("b", shape=(17,), dtype="int32")
    x, y = rng.integers(0, 1 << 20, (3, 17)).astype("int32"), rng.integers(0, 8, 17).astype("int32")
    np.testing.assert_array_equal(_run(relay.Function([a, b], getattr(relay, name)(a, b)), x, y), ref(x, y))


def test_bitwise_not_and_logical_xor():
    rng = np.random.default_rng(2)
    a = relay.var("a", shape=(9,), dtype="int32")
    x = rng.integers(-100, 100, 9).astype("int32")
    np.testing.assert_array_equal(_run(relay.Function([a], relay.bitwise_not(a)), x), ~x)
    p, q = relay.var("p", shape=(9,), dtype="bool"), relay.var("q", shape=(9,), dtype="bool")
    u, v = rng.integers(0, 2, 9).astype(bool), rng.integers(0, 2, 9).astype(bool)
    np.testing.assert_array_equal(_run(relay.Function([p, q], relay.logical_xor(p, q)), u, v), u ^ v)
