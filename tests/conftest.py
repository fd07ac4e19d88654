"""Fixtures shared by test folders."""

import pytest


@pytest.fixture
def registered():
    """Register Python functions for one test: registered(name, f); all removed afterwards."""
    import tilecraft as tvm

    names = []

    def register(name, f):
        tvm.register_func(name, f, override=True)
        names.append(name)
        return f

    yield register
    for name in names:
        if tvm.get_global_func(name, allow_missing=True) is not None:  # a test may have removed it
            tvm.runtime.remove_global_func(name)
