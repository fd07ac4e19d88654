"""Default GPU schedules (CUDA): each takes the output tensors of a fused group and returns a te.Schedule."""

from .injective import *  # noqa: F401,F403
