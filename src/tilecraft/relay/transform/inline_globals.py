"""InlineGlobals: calls of the module's other functions (and of function literals) become their
bodies, so main is one graph.

    def @f(%a, %b) { add(%a, %b) }
    def @main(%x) { @f(%x, %x) }            ->      def @main(%x) { add(%x, %x) }

The graph executor runs a fixed list of kernels and no calls, so relay.build and the executors
compile main with every call inlined (classic Relay's VM would call the function instead; the
numbers are the same).  Recursion has no such form and is refused by InferType's ordering.
"""

from __future__ import annotations

from ...ir.module import GlobalVar
from ..expr import Function
from ..visitor import ExprMutator, replace_nodes
from .infer_type import RelayTypeError, callee_order


def inline_global_calls(mod) -> Function:
    """mod["main"] with every call of a module function or of a `fn` literal replaced by its body
    (fused functions, marked Primitive, stay calls)."""
    inlined: dict = {}
    for gv in callee_order(mod):
        inlined[gv] = _Inline(inlined).visit(mod[gv])
    return inlined[mod.get_global_var("main")]


class _Inline(ExprMutator):
    def __init__(self, inlined: dict):
        super().__init__()
        self.inlined = inlined

    def visit_call(self, c):
        c = super().visit_call(c)
        if isinstance(c.op, Function) and not c.op.attrs.get("Primitive"):
            fn, what = c.op, "the function"
        elif isinstance(c.op, GlobalVar):
            fn, what = self.inlined.get(c.op), c.op.astext()
            if fn is None:
                raise RelayTypeError(f"call of {what}: the module has no function named {c.op.name_hint!r}")
        else:
            return c
        if len(fn.params) != len(c.args):
            raise RelayTypeError(f"{what} takes {len(fn.params)} arguments, the call gives {len(c.args)}")
        return replace_nodes(fn.body, {id(p): a for p, a in zip(fn.params, c.args)})
