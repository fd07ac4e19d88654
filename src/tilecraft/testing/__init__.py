"""Test helpers classic TVM code imports: `tvm.testing.assert_allclose`, `parameter(s)`,
`fixture`, `parametrize_targets`, `enabled_targets`, `device_enabled`, `requires_*` / `uses_gpu`
markers, `known_failing_targets`, `check_numerical_grads`, `main`.

The pytest plugin (auto-parametrizing tests that take `target`, the `dev` fixture, marker
registration) is `tilecraft.testing.plugin`; see its docstring for how to enable it.
"""

from .utils import *  # noqa: F401,F403
from .utils import __all__  # noqa: F401
