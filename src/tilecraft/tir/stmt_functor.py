"""Classic `tvm.tir.stmt_functor`: walk and rewrite loop IR from user code (custom lowering passes)."""

from ..ir.functor import ir_transform, post_order_visit, substitute

__all__ = ["ir_transform", "post_order_visit", "substitute"]
