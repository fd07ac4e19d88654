"""Text form of expressions, in the TVMScript-like syntax the loop nests print in (tir/printer.py)."""

from __future__ import annotations

from . import expr as E

_BIN = {
    E.Add: ("+", 4), E.Sub: ("-", 4), E.Mul: ("*", 5), E.Div: ("/", 5), E.FloorDiv: ("//", 5),
    E.FloorMod: ("%", 5), E.EQ: ("==", 3), E.NE: ("!=", 3), E.LT: ("<", 3), E.LE: ("<=", 3),
    E.GT: (">", 3), E.GE: (">=", 3), E.And: ("and", 2), E.Or: ("or", 1),
}


class Printer:
    def __init__(self):
        self.names: dict = {}
        self.used: set = set()

    def name(self, v) -> str:
        n = self.names.get(v)
        if n is None:
            base = v.name or "v"
            n, k = base, 1
            while n in self.used:
                n = f"{base}_{k}"
                k += 1
            self.used.add(n)
            self.names[v] = n
        return n

    # -------------------------------------------------------------- expressions
    def expr(self, e, prec: int = 0) -> str:
        t = type(e)
        if t in _BIN:
            op, p = _BIN[t]
            s = f"{self.expr(e.a, p)} {op} {self.expr(e.b, p + 1)}"
            return f"({s})" if p < prec else s
        if isinstance(e, E.Var):
            return self.name(e)
        if isinstance(e, E.IntImm):
            if e.dtype == "bool":
                return "True" if e.value else "False"
            return str(e.value) if e.dtype in ("int32",) else f"T.{e.dtype}({e.value})"
        if isinstance(e, E.FloatImm):
            return repr(e.value) if e.dtype == "float32" else f"T.{e.dtype}({e.value!r})"
        if isinstance(e, E.StringImm):  # double quotes, as classic TVM prints strings
            return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(e, E.Cast):
            return f"T.Cast({e.dtype!r}, {self.expr(e.value)})"
        if isinstance(e, (E.Min, E.Max)):
            return f"T.{t.__name__.lower()}({self.expr(e.a)}, {self.expr(e.b)})"
        if isinstance(e, E.Div):
            return f"T.truncdiv({self.expr(e.a)}, {self.expr(e.b)})" if e.dtype.startswith(("int", "uint")) \
                else self._wrap(f"{self.expr(e.a, 5)} / {self.expr(e.b, 6)}", 5, prec)
        if isinstance(e, E.Mod):
            return f"T.truncmod({self.expr(e.a)}, {self.expr(e.b)})"
        if isinstance(e, E.Not):
            return self._wrap(f"not {self.expr(e.a, 7)}", 6, prec)
        if isinstance(e, E.Select):
            return f"T.Select({self.expr(e.condition)}, {self.expr(e.true_value)}, {self.expr(e.false_value)})"
        if isinstance(e, E.Call):
            return f"T.{e.op}({', '.join(self.expr(a) for a in e.args)})"
        if isinstance(e, E.Let):
            return f"T.let({self.name(e.var)} = {self.expr(e.value)}, {self.expr(e.body)})"
        if isinstance(e, E.Ramp):
            return f"T.Ramp({self.expr(e.base)}, {self.expr(e.stride)}, {e.lanes})"
        if isinstance(e, E.Broadcast):
            return f"T.Broadcast({self.expr(e.value)}, {e.lanes})"
        if isinstance(e, E.BufferLoad):
            return f"{e.buffer.name}[{self.indices(e.indices)}]"
        if isinstance(e, E.ProducerLoad):
            return f"{e.producer.name}[{self.indices(e.indices)}]"
        if isinstance(e, E.Reduce):
            return self.reduce(e)
        if isinstance(e, E.IterVar):
            dom = f"T.Range({self.expr(e.dom.min)}, {self.expr(e.dom.extent)})" if e.dom else "None"
            return f"T.iter_var({self.name(e.var)}, {dom}, {e.thread_tag!r})" if e.thread_tag \
                else f"T.iter_var({self.name(e.var)}, {dom})"
        if isinstance(e, E.Range):
            return f"T.Range({self.expr(e.min)}, {self.expr(e.extent)})"
        if isinstance(e, E.Buffer):
            return f"T.Buffer({e.name}, {tuple(self.expr(s) for s in e.shape)}, {e.dtype!r}, scope={e.scope!r})"
        if isinstance(e, E.CommReducer):
            return (f"T.comm_reducer(lambda {', '.join(self.name(v) for v in e.lhs + e.rhs)}: "
                    f"({', '.join(self.expr(r) for r in e.result)}), "
                    f"[{', '.join(self.expr(i) for i in e.identity_element)}])")
        return f"<{t.__name__}>"

    @staticmethod
    def _wrap(s, p, prec):
        return f"({s})" if p < prec else s

    def indices(self, idx) -> str:
        return ", ".join(self.expr(i) for i in idx)

    def reduce(self, e) -> str:
        kind = getattr(e.combiner, "name", None) or "T.comm_reducer"
        axes = ", ".join(self.name(a.var) for a in e.axis)
        src = ", ".join(self.expr(s) for s in e.source)
        cond = "" if isinstance(e.condition, E.IntImm) and e.condition.value else f", where={self.expr(e.condition)}"
        return f"T.{kind}({src}, axis=[{axes}]{cond})"


def to_text(node) -> str:
    """Text of an expression node; statements and PrimFuncs print through tir.printer."""
    return Printer().expr(node)
