"""Relay: the graph IR, its operators, passes, importers, and relay.build."""

from . import frontend, op, transform  # noqa: F401
from .build_module import GraphExecutorFactoryModule, bind_params_by_name, build, build_config, load_deployed, optimize  # noqa
from .expr import Call, Constant, Expr, Function, Let, Tuple, TupleGetItem, Var, const, var  # noqa: F401
from .op import image, nn  # noqa: F401
from .op.layout import layout_transform  # noqa: F401
from .op.tensor import *  # noqa: F401,F403
from .op.transform import (  # noqa: F401
                           broadcast_to,
                           concatenate,
                           expand_dims,
                           gather,
                           repeat,
                           reshape,
                           split,
                           squeeze,
                           stack,
                           strided_slice,
                           take,
                           tile,
                           transpose,
)
from .printer import astext  # noqa: F401
from .ty import FuncType, TensorType, TupleType  # noqa: F401
from .visitor import ExprMutator  # noqa: F401
