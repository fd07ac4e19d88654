"""pytest plugin for classic TVM test files, as `tvm.testing.plugin` is for TVM's own tests.

It parametrizes every test that takes `target` (and is not parametrized over it already) over
the enabled targets (llvm, and cuda where a GPU runs; TVM_TEST_TARGETS overrides), honouring
`exclude_targets` / `known_failing_targets`; provides the `dev` fixture; registers the
`requires_*` markers.  Enable it with `pytest -p tilecraft.testing.plugin`, or in a conftest.py:

    from tilecraft.testing.plugin import *  # noqa: F401,F403

(`tvm.testing.main()` loads it itself.)
"""

import pytest

from . import utils

__all__ = ["dev", "pytest_configure", "pytest_generate_tests"]


def pytest_configure(config):
    for name, feature in utils.Feature._all_features.items():
        config.addinivalue_line("markers", f"{name}: the test uses {feature.long_name}")


def pytest_generate_tests(metafunc):
    if "target" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        names = names.split(",") if isinstance(names, str) else names
        if "target" in (n.strip() for n in names):
            return  # explicit (or already added by a second copy of this hook)
    metafunc.definition.add_marker(
        pytest.mark.parametrize("target", utils.target_params(metafunc.function), scope="session"))


@pytest.fixture
def dev(target):
    """The device of the test's target: tvm.cpu(0) for llvm, tvm.cuda(0) for cuda."""
    return utils._device_of(target)
