"""relay.annotation: marks on the graph for the passes, removed before kernels are built.

    y = relay.annotation.stop_fusion(y)   # FuseOps ends a kernel at y (y is written to memory)
"""

from __future__ import annotations

from ._rel import identity_rel
from .registry import OpPattern, make_call, register_op
from .tensor import _topi

# OPAQUE: nothing fuses across it; FuseOps drops the call and keeps the boundary (fuse_ops.py).
register_op("annotation.stop_fusion", identity_rel, lambda a, ins, o: _topi("identity")(ins[0]), OpPattern.OPAQUE)


def stop_fusion(data):
    """data, with fusion stopped at it: its producer and its readers end up in different kernels."""
    return make_call("annotation.stop_fusion", (data,))
