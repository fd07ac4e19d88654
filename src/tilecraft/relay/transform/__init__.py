"""Graph passes, one per file; `optimization_passes()` is the pipeline relay.build runs, in order."""

from .fuse_ops import FuseOps, fuse_ops  # noqa: F401
from .infer_type import InferType, RelayTypeError, infer_type  # noqa: F401


def optimization_passes() -> list:
    """Between InferType and FuseOps, in the order relay.build applies them (each has an opt_level)."""
    return []
