"""`tvm.transform`: the pass infrastructure, which lives in tilecraft.ir.transform (as classic TVM's does)."""

from .ir.transform import *  # noqa: F401,F403
from .ir.transform import __all__  # noqa: F401
