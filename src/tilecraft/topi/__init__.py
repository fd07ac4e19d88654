"""Operators as tensor expressions (topi), with a default schedule per target (topi/x86, topi/cuda).

`topi.add`, `topi.reshape`, `topi.sum`, ... are here; neural-network operators are in
`topi.nn`; CPU schedules in `topi.x86`, GPU ones in `topi.cuda`; `topi.generic.default_schedule` is
correct for any group.
"""

from . import cuda, generic, generic_op_impl, image, nn, tag, utils, x86  # noqa: F401
from .broadcast import *  # noqa: F401,F403
from .elemwise import *  # noqa: F401,F403
from .matmul import matmul_packed  # noqa: F401
from .reduction import *  # noqa: F401,F403
from .transform import *  # noqa: F401,F403
