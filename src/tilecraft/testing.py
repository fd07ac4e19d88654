"""Test helpers classic TVM code imports (`tvm.testing.assert_allclose`)."""

from __future__ import annotations

import numpy as np


def assert_allclose(actual, desired, rtol: float = 1e-7, atol: float = 1e-7) -> None:
    """numpy's assert_allclose, accepting NDArrays too (their shapes must match exactly)."""
    actual = actual.numpy() if hasattr(actual, "numpy") else np.asarray(actual)
    desired = desired.numpy() if hasattr(desired, "numpy") else np.asarray(desired)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, verbose=True)
