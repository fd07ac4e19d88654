"""InjectVirtualThread: a loop bound to a virtual thread (`vthread`, `vthread.x`, `cthread`)
becomes a serial loop.

A virtual thread is no hardware index: classic TVM interleaves its iterations to expose
instruction-level parallelism, and runs the same computation.  A serial loop computes the same
values on every target (the CPU has no thread index to bind it to), so tilecraft runs that.
"""

from __future__ import annotations

from ...ir.functor import Mutator
from ..stmt import For, ForKind, PrimFunc
from .function_pass import prim_func_pass


def is_virtual_thread(tag: str) -> bool:
    return tag.startswith("vthread") or tag == "cthread"


class _VirtualThreadToSerial(Mutator):
    def visit_For(self, s):
        s = self.generic_visit(s)
        if s.kind == ForKind.THREAD_BINDING and is_virtual_thread(s.thread_tag):
            return For(s.loop_var, s.min, s.extent, ForKind.SERIAL, s.body, "", s.annotations)
        return s

    def visit_PrimExpr(self, e):
        return e  # only loops change


def inject_virtual_thread(func: PrimFunc) -> PrimFunc:
    """`func` with its virtual-thread loops run as serial loops."""
    return func.with_body(_VirtualThreadToSerial().visit(func.body))


def InjectVirtualThread():  # noqa: N802  (classic tvm.tir.transform name)
    return prim_func_pass(lambda f, mod, ctx: inject_virtual_thread(f), 0, "InjectVirtualThread")
