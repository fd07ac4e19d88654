"""Relay: the graph IR, its operators, passes, importers, and relay.build."""

from ..contrib import graph_executor as _graph_executor  # noqa: F401,E402  (tvm.contrib.graph_executor after import tvm.relay, as classic)
from ..ir.expr import Any  # noqa: F401,E402  (relay.Any(): a dimension known at run time only)
from . import (  # noqa: F401
                           analysis,  # noqa: F401
                           frontend,
                           op,
                           transform,
)
from .build_module import (  # noqa: F401
                           GraphExecutorFactoryModule,
                           bind_params_by_name,
                           build,
                           build_config,
                           create_executor,
                           load_deployed,
                           optimize,
)
from .expr import Call, Constant, Expr, Function, GlobalVar, Let, Tuple, TupleGetItem, Var, const, var  # noqa: F401
from .op import annotation, image, nn  # noqa: F401
from .op.layout import layout_transform  # noqa: F401
from .op.tensor import *  # noqa: F401,F403
from .op.transform import (  # noqa: F401
                           broadcast_to,
                           concatenate,
                           expand_dims,
                           gather,
                           gather_nd,
                           repeat,
                           reshape,
                           reverse,
                           split,
                           squeeze,
                           stack,
                           strided_slice,
                           take,
                           tile,
                           transpose,
)
from .parser import fromtext, parse_expr  # noqa: F401
from .printer import astext  # noqa: F401
from .ty import FuncType, IncompleteType, TensorType, TupleType  # noqa: F401
from .visitor import ExprMutator  # noqa: F401
