"""The overlap check agrees with numpy's exact np.shares_memory on arbitrary slices."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 8), st.lists(st.integers(0, 16), min_size=3, max_size=3))
def test_overlap_check_matches_numpy(add_module, size, starts):
    base = np.zeros(24, "float32")
    views = [base[s:s + size] for s in starts]
    overlap = any(np.shares_memory(views[i], views[j]) for i in range(3) for j in range(i + 1, 3))
    if overlap:
        with pytest.raises(ValueError, match="share memory"):
            add_module(*views)
    else:
        add_module(*views)
