"""Image operators (topi.image)."""

from .resize import resize, resize2d  # noqa: F401
