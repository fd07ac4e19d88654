"""prim_func_pass: a pass over each PrimFunc of a module (classic `tvm.tir.transform.prim_func_pass`)."""

from __future__ import annotations

from ...ir.transform import Pass
from ..stmt import IRModule, PrimFunc


def prim_func_pass(pass_func=None, opt_level: int = 0, name: str | None = None, required=None):
    """Decorator: a function (func, mod, ctx) -> PrimFunc becomes a Pass applied to every PrimFunc.

    Functions of other kinds in the module (relay) are left as they are.  Decorating a class with
    a `transform_function(self, func, mod, ctx)` method gives a constructor of such passes.
    """

    def make(fn):
        if isinstance(fn, type):
            if not hasattr(fn, "transform_function"):
                raise TypeError(f"@prim_func_pass class {fn.__name__} needs a "
                                "transform_function(self, func, mod, ctx) method")

            def create(*args, **kwargs):
                return _pass(fn(*args, **kwargs).transform_function, name or fn.__name__)

            create.__name__ = create.__qualname__ = fn.__name__
            create.__doc__ = fn.__doc__
            return create
        if not callable(fn):
            raise TypeError(f"@prim_func_pass decorates a function (func, mod, ctx) -> func, got {fn!r}")
        return _pass(fn, name or fn.__name__)

    def _pass(fn, pass_name):
        def run(mod, ctx):
            return IRModule({n: fn(f, mod, ctx) if isinstance(f, PrimFunc) else f for n, f in mod.items()})

        return Pass(run, opt_level, pass_name, required)

    return make if pass_func is None else make(pass_func)
