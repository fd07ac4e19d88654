"""lower and build: the entry points from a schedule to loop IR and to a runnable module."""

from .build_module import build, lower  # noqa: F401
