"""Expression IR shared by te and tir: nodes, dtypes, the visitor/mutator and the printer."""

from . import (  # noqa: F401,E402  (tvm.ir.transform, tvm.ir.instrument)
    container,  # noqa: F401
    instrument,
    transform,
)
from .expr import *  # noqa: F401,F403
from .functor import Mutator, Visitor, free_vars, post_order_visit, substitute  # noqa: F401
from .module import GlobalVar  # noqa: F401
from .op_attr import get_op_attr, register_intrin_lowering, register_op_attr  # noqa: F401
from .serialization import load_json, save_json  # noqa: F401
from .structural_equal import assert_structural_equal, structural_equal  # noqa: F401
