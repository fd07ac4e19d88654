"""DeadCodeElimination: drop let bindings nobody reads, and inline let-bound values.

Graphs here are DAGs, so a value computed but never used simply is not reachable from the
output: the only dead code there can be is a `let` whose variable the body never reads.

    let %v = value; body      ->  body                    when %v is not used
    let %v = value; body      ->  body[%v := value]       when inline_once (the default here)

Inlining keeps sharing: every use of %v becomes the same `value` node, so the value is still
computed once even when %v is read several times.  (Classic TVM inlines only values read once,
to avoid duplicating work in its tree form; a DAG cannot duplicate work that way.)  With
inline_once=False only dead bindings are removed.  All operators are pure, so `ignore_impurity`
changes nothing and is accepted for compatibility.
"""

from __future__ import annotations

from ...transform import module_pass
from ..expr import Let, Var
from ..visitor import ExprMutator, children, post_order
from .infer_type import infer_type


def _var_uses(func) -> dict:
    uses: dict = {}
    for n in post_order(func):
        for ch in children(n):
            if isinstance(ch, Var) and not (isinstance(n, Let) and ch is n.var):  # the binding is not a use
                uses[id(ch)] = uses.get(id(ch), 0) + 1
    return uses


class _DCE(ExprMutator):
    def __init__(self, lets: dict, uses: dict, inline: bool):
        super().__init__()
        self.lets, self.uses, self.inline = lets, uses, inline

    def visit_var(self, v):
        let = self.lets.get(id(v))
        if self.inline and let is not None:
            return self.visit(let.value)
        return v

    def visit_let(self, e):
        if self.uses.get(id(e.var), 0) == 0 or self.inline:
            return self.new(e.body)
        return super().visit_let(e)


def dead_code_elimination(func, inline_once: bool = True):
    lets = {id(n.var): n for n in post_order(func) if isinstance(n, Let)}
    if not lets:
        return func
    out = _DCE(lets, _var_uses(func), inline_once).visit(func)
    return infer_type(out) if getattr(func, "ty", None) is not None else out


def DeadCodeElimination(inline_once: bool = True, ignore_impurity: bool = False):  # noqa: N802
    @module_pass(opt_level=1, name="DeadCodeElimination")
    def run(mod):
        return mod.with_function("main", dead_code_elimination(mod["main"], inline_once))

    return run
