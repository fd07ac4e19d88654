"""relay.gather_nd (classic index layout: the index tuple is the first axis) and relay.reverse."""

import numpy as np

from tilecraft import relay


def _run(f, *xs):
    return relay.create_executor("graph", target="llvm").evaluate(f)(*xs).numpy()


def test_gather_nd_matches_numpy_fancy_indexing():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 5, 6)).astype("float32")
    idx = np.stack([rng.integers(0, 4, (3, 2)), rng.integers(0, 5, (3, 2))]).astype("int32")  # (2, 3, 2)
    d, i = relay.var("d", shape=data.shape), relay.var("i", shape=idx.shape, dtype="int32")
    out = _run(relay.Function([d, i], relay.gather_nd(d, i)), data, idx)
    np.testing.assert_array_equal(out, data[idx[0], idx[1]])  # (3, 2, 6)


def test_reverse_along_an_axis():
    data = np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
    d = relay.var("d", shape=data.shape)
    np.testing.assert_array_equal(_run(relay.Function([d], relay.reverse(d, 1)), data), data[:, ::-1])
