"""Classic TVM test files run here as in TVM's tree: the tvm.testing plugin is on (tests taking
`target` run once per enabled target; the `dev` fixture; the requires_* markers)."""

from tilecraft.testing.plugin import *  # noqa: F401,F403
