"""Relay text: one line per call, `%n = op(args, attrs)`, readable before and after every pass."""

from __future__ import annotations

import numpy as np

from ..ir.module import GlobalVar
from .expr import Call, Constant, Function, Let, Tuple, TupleGetItem, Var
from .visitor import post_order


def _attr(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_attr(x) for x in v) + "]"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, np.ndarray):
        return f"array{v.shape}"
    return str(v)


class _Printer:
    def __init__(self):
        self.names: dict = {}
        self.lines: list = []
        self.counter = 0

    def ref(self, e) -> str:
        return self.names[id(e)]

    def function(self, f: Function, name: str = "main", indent: str = "") -> str:
        params = []
        for p in f.params:
            self.names[id(p)] = f"%{p.name_hint}"
            t = p.ty or p.type_annotation
            params.append(f"%{p.name_hint}" + (f": {t}" if t is not None else ""))
        body_lines: list = []
        saved, self.lines = self.lines, body_lines
        result = self.expr_lines(f.body, indent + "  ")
        self.lines = saved
        ret = f" -> {f.body.ty}" if f.body.ty is not None else ""
        attrs = "".join(f", {k}={_attr(v)}" for k, v in f.attrs.items())
        head = f"{indent}fn {'@' + name if name else ''}({', '.join(params)}{attrs}){ret} {{"
        return "\n".join([head, *body_lines, f"{indent}  {result}", f"{indent}}}"])

    def expr_lines(self, e, indent: str) -> str:
        for n in post_order(e):
            if id(n) in self.names:
                continue
            if isinstance(n, Var):
                self.names[id(n)] = f"%{n.name_hint}"
                continue
            if isinstance(n, Constant):
                self.names[id(n)] = (repr(n.data.item()) if n.data.ndim == 0
                                     else f"meta[Constant]{tuple(n.data.shape)}")
                continue
            if isinstance(n, Function):
                self.define_function(n, indent)
                continue
            if isinstance(n, Call) and isinstance(n.op, Function) and id(n.op) not in self.names:
                self.define_function(n.op, indent)
            rhs = self.rhs(n)
            if n is e:
                return rhs
            name = f"%{self.counter}"
            self.counter += 1
            ty = f" /* ty={n.ty} */" if n.ty is not None else ""
            self.lines.append(f"{indent}{name} = {rhs};{ty}")
            self.names[id(n)] = name
        return self.ref(e)

    def define_function(self, f, indent: str) -> None:
        name = f"%{self.counter}"
        self.counter += 1
        text = _Printer().function(f, "", indent)
        self.lines.append(f"{indent}{name} = {text.lstrip()};")
        self.names[id(f)] = name

    def rhs(self, n) -> str:
        if isinstance(n, Call):
            callee = self.ref(n.op) if isinstance(n.op, Function) else n.op.astext() if isinstance(
                n.op, GlobalVar) else n.op.name
            args = [self.ref(a) for a in n.args]
            defaults = getattr(n.op, "defaults", {})
            attrs = [f"{k}={_attr(v)}" for k, v in n.attrs.items() if v is not None and not _default(v, defaults, k)]
            return f"{callee}({', '.join(args + attrs)})"
        if isinstance(n, Tuple):
            return "(" + ", ".join(self.ref(f) for f in n.fields) + ("," if len(n.fields) == 1 else "") + ")"
        if isinstance(n, TupleGetItem):
            return f"{self.ref(n.tuple_value)}.{n.index}"
        if isinstance(n, Let):
            return f"let {self.ref(n.var)} = {self.ref(n.value)}; {self.ref(n.body)}"
        return f"<{type(n).__name__}>"


def astext(e, name: str = "main") -> str:
    p = _Printer()
    if isinstance(e, Function):
        return p.function(e, name)
    result = p.expr_lines(e, "")
    return "\n".join(p.lines + [result])


def _default(value, defaults: dict, key: str) -> bool:
    """Whether a scalar attribute has its operator's default value: not printed, as in classic Relay (shapes
    and windows such as pool_size are always printed: classic has no default for them)."""
    if key not in defaults or type(value) is not type(defaults[key]) or isinstance(value, (tuple, list)):
        return False
    try:
        return bool(value == defaults[key])
    except (TypeError, ValueError):  # arrays and the like: printed
        return False
