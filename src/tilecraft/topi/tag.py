"""Operator tags (classic TVM names): what kind of computation a te.compute is.

Schedules and the graph compiler read tags to recognise an operator without looking at its
expression: `traverse_inline` inlines every *injective* stage of a fused group (element-wise,
broadcast, layout transforms) and hands the anchor (a "dense", "conv2d_NCHWc", ... stage) to the
schedule's callback.  A tag may carry a qualifier after a comma ("injective,pad"); the helpers
look at its first part.
"""

from __future__ import annotations

ELEMWISE = "elemwise"
BROADCAST = "broadcast"
INJECTIVE = "injective"
COMM_REDUCE = "comm_reduce"
COMM_REDUCE_IDX = "comm_reduce_idx"

DENSE = "dense"
DENSE_PACK = "dense_pack"
MATMUL = "matmul"
BATCH_MATMUL = "batch_matmul"
CONV2D_NCHW = "conv2d_nchw"
CONV2D_NHWC = "conv2d_nhwc"
CONV2D_NCHWC = "conv2d_NCHWc"
CONV2D_NCHWC_INT8 = "conv2d_NCHWc_int8"
GROUP_CONV2D_NCHW = "group_conv2d_nchw"
DEPTHWISE_CONV2D_NCHW = "depthwise_conv2d_nchw"
DEPTHWISE_CONV2D_NHWC = "depthwise_conv2d_nhwc"
DEPTHWISE_CONV2D_NCHWC = "depthwise_conv2d_NCHWc"
CONV2D_TRANSPOSE_NCHW = "conv2d_transpose_nchw"
PAD = "injective,pad"
LAYOUT_TRANSFORM = "injective,layout_transform"


def _kind(tag) -> str:
    return tag.split(",")[0] if isinstance(tag, str) else ""


def is_elemwise(tag) -> bool:
    return _kind(tag) == ELEMWISE


def is_broadcast(tag) -> bool:
    """Element-wise or broadcast: every output element reads one element of each input."""
    return _kind(tag) in (ELEMWISE, BROADCAST)


def is_injective(tag) -> bool:
    """Element-wise, broadcast or injective (reshape, transpose, pad, layout transform): safe to
    compute_inline into its consumer."""
    return _kind(tag) in (ELEMWISE, BROADCAST, INJECTIVE)


def is_reduction(tag) -> bool:
    return _kind(tag) in (COMM_REDUCE, COMM_REDUCE_IDX)
