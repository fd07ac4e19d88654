"""prim_func_pass: a pass over each PrimFunc of a module (classic `tvm.tir.transform.prim_func_pass`)."""

from __future__ import annotations

from ...ir.transform import function_pass_decorator
from ..stmt import PrimFunc

prim_func_pass = function_pass_decorator(PrimFunc, "transform_function", "prim_func_pass")
prim_func_pass.__doc__ = """Decorator: a function (func, mod, ctx) -> PrimFunc becomes a Pass applied to every
PrimFunc of a module; on a class with `transform_function(self, func, mod, ctx)`, a constructor of such passes."""
