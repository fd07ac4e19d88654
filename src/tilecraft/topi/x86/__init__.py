"""Default CPU schedules: each takes the output tensors of a fused group and returns a te.Schedule."""

from . import tensor_intrin  # noqa: F401,E402
from .batch_matmul import *  # noqa: F401,F403
from .conv2d import *  # noqa: F401,F403
from .conv2d_int8 import *  # noqa: F401,F403
from .conv2d_transpose import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .dense_int8 import *  # noqa: F401,F403
from .depthwise import *  # noqa: F401,F403
from .injective import *  # noqa: F401,F403
from .matmul import schedule_matmul_packed  # noqa: F401
from .norm import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
