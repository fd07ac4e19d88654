"""Tensor expressions: declare what to compute (placeholder, compute, reductions) and schedule it."""

from ..ir.expr import (  # noqa: F401
    IterVar,
    Range,
    Var,
    const,
    div,
    floordiv,
    floormod,
    indexdiv,
    indexmod,
    truncdiv,
    truncmod,
)
from ..ir.op import (  # noqa: F401
    abs,
    all,
    any,
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
    max_value,
    min_value,
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
from .bound_inference import infer_bound  # noqa: F401
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
