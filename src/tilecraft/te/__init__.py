"""Tensor expressions: declare what to compute (placeholder, compute, reductions) and schedule it."""

from ..ir.expr import IterVar, Range, Var, const  # noqa: F401
from ..ir.op import (  # noqa: F401
    abs,
    ceil,
    cos,
    erf,
    exp,
    exp2,
    floor,
    if_then_else,
    log,
    log1p,
    log2,
    log10,
    pow,
    power,
    round,
    rsqrt,
    sigmoid,
    sin,
    sqrt,
    tanh,
    trunc,
)
from .reduce import comm_reducer, max, min, prod, sum  # noqa: F401
from .schedule import Schedule, ScheduleError, Stage, create_schedule  # noqa: F401
from .tensor import (  # noqa: F401
    ComputeOp,
    Operation,
    PlaceholderOp,
    Tensor,
    compute,
    placeholder,
    reduce_axis,
    size_var,
    thread_axis,
    var,
)
