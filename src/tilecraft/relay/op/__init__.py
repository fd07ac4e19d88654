"""Relay operators: `relay.add`, `relay.nn.conv2d`, ... and the registry behind them."""

from . import annotation, image, layout, nn, strategy, tensor, transform  # noqa: F401
from .registry import Op, OpPattern, get, list_ops, register_op  # noqa: F401
from .tensor import *  # noqa: F401,F403  (relay.op.add, relay.op.take, ... as classic code spells them)
from .transform import *  # noqa: F401,F403
