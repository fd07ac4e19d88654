"""Neural-network operators: dense, convolutions, pooling, normalization, activations."""

from ..elemwise import (  # noqa: F401
    elu,
    gelu,
    gelu_tanh,
    hardsigmoid,
    hardswish,
    leaky_relu,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    silu,
    softplus,
)
from .batch_matmul import *  # noqa: F401,F403
from .conv2d import *  # noqa: F401,F403
from .conv2d_transpose import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .pad import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .selective_scan import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
