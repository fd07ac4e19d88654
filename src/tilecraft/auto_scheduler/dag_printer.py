"""A ComputeDAG as classic TVM prints it, one line per operation: `C(i, j) += (A[i, k]*B[k, j])`.
The text is also what a DAG's hash key is made from, so it must stay as classic prints it."""

from __future__ import annotations

from ..ir import expr as E
from ..ir.printer import Printer
from ..te.tensor import PlaceholderOp


def _infix(op: str):
    return lambda p, e: f"({p.expr(e.a)}{op}{p.expr(e.b)})"


def _call2(name: str):
    return lambda p, e: f"{name}({p.expr(e.a)}, {p.expr(e.b)})"


def _float_text(p, e) -> str:
    v = e.value
    return (f"{int(v)}f" if float(v).is_integer() else f"{v}f") if e.dtype == "float32" else repr(v)


# how classic spells each node type where it differs from the ir printer
_CLASSIC = {
    **{t: _infix(op) for t, op in {E.Add: " + ", E.Sub: " - ", E.Mul: "*", E.Div: "/", E.Mod: " % ",
                                   E.EQ: " == ", E.NE: " != ", E.LT: " < ", E.LE: " <= ", E.GT: " > ",
                                   E.GE: " >= ", E.And: " && ", E.Or: " || "}.items()},
    **{t: _call2(name) for t, name in {E.Min: "min", E.Max: "max", E.FloorDiv: "floordiv",
                                       E.FloorMod: "floormod"}.items()},
    E.IntImm: lambda p, e: str(e.value),
    E.FloatImm: _float_text,
    E.Cast: lambda p, e: f"{e.dtype}({p.expr(e.value)})",
    E.Not: lambda p, e: f"!{p.expr(e.a)}",
    E.Select: lambda p, e: f"select({p.indices((e.condition, e.true_value, e.false_value))})",
    E.Call: lambda p, e: f"{e.op if '.' in e.op else f'tir.{e.op}'}({p.indices(e.args)})",
}


class ClassicPrinter(Printer):
    """Expressions as classic TVM prints them in a ComputeDAG: `(A[i, k]*B[k, j])`, every binary
    operation in parentheses, variables by their plain names.  Nodes classic spells as the ir
    printer does (loads, variables, strings, ...) are printed by the ir printer."""

    def name(self, v) -> str:
        return v.name

    def expr(self, e, prec: int = 0) -> str:
        rule = _CLASSIC.get(type(e))
        return rule(self, e) if rule is not None else super().expr(e, prec)


def legacy_repr(e) -> str:
    """An expression as classic TVM prints it in a ComputeDAG: `(A[i, k]*B[k, j])`."""
    return ClassicPrinter().expr(e)


_REDUCE_UPDATE = {E.Add: "+=", E.Max: "max=", E.Min: "min="}


def _reduce_text(r: E.Reduce) -> str:
    res = r.combiner.result[r.value_index] if r.value_index < len(r.combiner.result) else None
    src = legacy_repr(r.source[0])
    update = _REDUCE_UPDATE.get(type(res))
    if update is not None:
        return f" {update} {src}"
    if isinstance(res, E.Select) and len(r.source) > 1:
        return (f" select({legacy_repr(res.condition)}, {legacy_repr(res.true_value)}, "
                f"{legacy_repr(res.false_value)})= ({src},{legacy_repr(r.source[1])})")
    return f" reduce{legacy_repr(res)}"


def print_dag(ops, simple_mode: bool = False) -> str:
    lines = []
    for op in ops:
        if isinstance(op, PlaceholderOp):
            shape = "" if simple_mode else "[" + ", ".join(str(getattr(s, "value", s)) for s in op.shape) + "]"
            lines.append(f"{op.name} = PLACEHOLDER {shape}")
            continue
        axes = ", ".join(iv.var.name for iv in op.axis)
        for k, b in enumerate(op.body):
            head = f"{op.name}({axes})" + (f".v{k}" if len(op.body) > 1 else "")
            if isinstance(b, E.Reduce):
                lines.append(head + _reduce_text(b))
            elif simple_mode and isinstance(b, E.Call):
                lines.append(f"{head} = {b.op}")
            else:
                lines.append(f"{head} = {legacy_repr(b)}")
    return "\n".join(lines) + "\n"
