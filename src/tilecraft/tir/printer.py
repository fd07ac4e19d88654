"""Text form of statements and PrimFuncs: Python-like loop nests, readable before and after every pass."""

from __future__ import annotations

from ..ir import expr as E
from ..ir.printer import Printer
from . import stmt as S


class StmtPrinter(Printer):
    """Extends the expression printer with statements; one instance names variables consistently."""

    def stmt(self, s, ind: int, out: list) -> None:
        pad = "    " * ind
        if isinstance(s, S.SeqStmt):
            for x in s.seq:
                self.stmt(x, ind, out)
        elif isinstance(s, S.For):
            kind = {"serial": "serial", "parallel": "parallel", "vectorized": "vectorized",
                    "unroll": "unroll", "thread_binding": "thread_binding"}[s.kind]
            rng = self.expr(s.extent) if is_zero(s.min) else f"{self.expr(s.min)}, {self.expr(s.min + s.extent)}"
            extra = f", thread={s.thread_tag!r}" if s.thread_tag else ""
            ann = "".join(f", {k}={v!r}" if isinstance(v, str) else f", {k}={v}" for k, v in s.annotations)
            fn = "range" if kind == "serial" and not extra and not ann else f"T.{kind}"
            out.append(f"{pad}for {self.name(s.loop_var)} in {fn}({rng}{extra}{ann}):")
            self.stmt(s.body, ind + 1, out)
        elif isinstance(s, S.IfThenElse):
            out.append(f"{pad}if {self.expr(s.condition)}:")
            self.stmt(s.then_case, ind + 1, out)
            if s.else_case is not None:
                out.append(f"{pad}else:")
                self.stmt(s.else_case, ind + 1, out)
        elif isinstance(s, S.BufferStore):
            out.append(f"{pad}{s.buffer.name}[{self.indices(s.indices)}] = {self.expr(s.value)}")
        elif isinstance(s, S.Allocate):
            shape = ", ".join(self.expr(x) for x in s.buffer.shape)
            out.append(f"{pad}{s.buffer.name} = T.allocate([{shape}], {s.buffer.dtype!r}, {s.buffer.scope!r})")
            self.stmt(s.body, ind, out)
        elif isinstance(s, S.LetStmt):
            out.append(f"{pad}{self.name(s.var)} = {self.expr(s.value)}")
            self.stmt(s.body, ind, out)
        elif isinstance(s, S.AttrStmt):
            node = self.expr(s.node) if isinstance(s.node, E.Node) else repr(s.node)
            out.append(f"{pad}with T.attr({node}, {s.attr_key!r}, {self.expr(s.value)}):")
            self.stmt(s.body, ind + 1, out)
        elif isinstance(s, S.AssertStmt):
            out.append(f"{pad}assert {self.expr(s.condition)}, {s.message!r}")
            self.stmt(s.body, ind, out)
        elif isinstance(s, S.Evaluate):
            if not (isinstance(s.value, E.IntImm)):
                out.append(f"{pad}T.evaluate({self.expr(s.value)})")
            elif not out or not out[-1].endswith(":"):
                return
            else:
                out.append(f"{pad}pass")
        else:
            out.append(f"{pad}<{type(s).__name__}>")

    def func(self, f) -> str:
        params = []
        for p in f.params:
            if isinstance(p, E.Buffer):
                shape = ", ".join(self.expr(x) for x in p.shape)
                shape = f"({shape},)" if len(p.shape) == 1 else f"({shape})"
                params.append(f"{p.name}: T.Buffer({shape}, {p.dtype!r})")
            else:
                params.append(f"{self.name(p)}: T.{p.dtype}")
        lines = ["@T.prim_func", f"def {f.name}({', '.join(params)}):"]
        body: list = []
        self.stmt(f.body, 1, body)
        return "\n".join(lines + (body or ["    pass"]))


def is_zero(e) -> bool:
    return isinstance(e, E.IntImm) and e.value == 0


def to_text(node) -> str:
    """Text of a PrimFunc, a statement or an expression."""
    p = StmtPrinter()
    if isinstance(node, S.PrimFunc):
        return p.func(node)
    if isinstance(node, S.Stmt):
        out: list = []
        p.stmt(node, 0, out)
        return "\n".join(out)
    return p.expr(node)
