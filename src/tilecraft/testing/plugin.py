"""pytest plugin for classic TVM test files, as `tvm.testing.plugin` is for TVM's own tests.

It parametrizes every test that takes `target` (and is not parametrized over it already) over
the enabled targets (llvm, and cuda where a GPU runs; TVM_TEST_TARGETS overrides), honouring
`exclude_targets` / `known_failing_targets`; gives targets listed in an explicit
`@pytest.mark.parametrize("target", [...])` the same marks (so "cuda" skips, with the reason, where
no GPU runs); provides the `dev` fixture; registers the `requires_*` markers.  Enable it with
`pytest -p tilecraft.testing.plugin`, or in a conftest.py:

    from tilecraft.testing.plugin import *  # noqa: F401,F403

(`tvm.testing.main()` loads it itself.)
"""

import pytest

from . import utils

__all__ = ["dev", "pytest_configure", "pytest_generate_tests"]

_target_to_requirement = utils.target_requirement_marks


def pytest_configure(config):
    for name, feature in utils.Feature._all_features.items():
        config.addinivalue_line("markers", f"{name}: the test uses {feature.long_name}")


def _argnames(mark) -> list:
    names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
    return [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]


def _add_target_marks(metafunc, mark, failing) -> None:
    """Give each target of an explicit parametrization its requirement marks (in place; once)."""
    names = _argnames(mark)
    values = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("argvalues")
    if not isinstance(values, list):
        return  # a tuple cannot be rewritten in place; the targets then run unmarked
    at = names.index("target")
    for i, value in enumerate(values):
        if isinstance(value, type(pytest.param(None))):
            params, marks, pid = value.values, list(value.marks), value.id
        else:
            params, marks, pid = ((value,) if len(names) == 1 else tuple(value)), [], None
        target = params[at]
        if not isinstance(target, str) and not hasattr(target, "kind"):
            continue
        wanted = utils._target_marks(target, failing if mark in metafunc.definition.own_markers else ())
        new = [m for m in wanted if m.mark not in [getattr(x, "mark", x) for x in marks]]
        if new:
            values[i] = pytest.param(*params, marks=[*marks, *new], id=pid)


def pytest_generate_tests(metafunc):
    if "target" not in metafunc.fixturenames:
        return
    failing = getattr(metafunc.function, "tvm_known_failing_targets", ())
    explicit = [m for m in metafunc.definition.iter_markers("parametrize") if "target" in _argnames(m)]
    for mark in explicit:
        _add_target_marks(metafunc, mark, failing)
    if not explicit:
        metafunc.definition.add_marker(
            pytest.mark.parametrize("target", utils.target_params(metafunc.function), scope="session"))


@pytest.fixture
def dev(target):
    """The device of the test's target: tvm.cpu(0) for llvm, tvm.cuda(0) for cuda."""
    return utils._device_of(target)
