"""Classic `relay.analysis`: which variables an expression uses, binds, or leaves free."""

from __future__ import annotations

from .expr import Function, Let, Var
from .visitor import post_order


def all_vars(expr) -> list:
    """Every variable in `expr`, in the order a post-order walk first meets them."""
    return [n for n in post_order(expr) if isinstance(n, Var)]


def bound_vars(expr) -> list:
    """The variables `expr` binds: function parameters and let variables."""
    out = []
    for n in post_order(expr):
        if isinstance(n, Function):
            out += [p for p in n.params if p not in out]
        elif isinstance(n, Let) and n.var not in out:
            out.append(n.var)
    return out


def free_vars(expr) -> list:
    """The variables `expr` uses without binding them (a function's inputs before it is made)."""
    bound = {id(v) for v in bound_vars(expr)}
    return [v for v in all_vars(expr) if id(v) not in bound]


def post_order_visit(expr, fvisit) -> None:
    """Call `fvisit` on every node of `expr`, producers before consumers, each once."""
    for n in post_order(expr):
        fvisit(n)


__all__ = ["all_vars", "bound_vars", "free_vars", "post_order_visit"]
