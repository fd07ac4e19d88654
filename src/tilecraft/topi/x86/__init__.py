"""Default CPU schedules."""

from .matmul import schedule_matmul_packed  # noqa: F401
