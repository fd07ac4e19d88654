"""Image operators (topi.image)."""

from .resize import resize, resize2d, resize3d  # noqa: F401
