"""Build TIR statements imperatively (classic `tvm.tir.ir_builder`):

    ib = tvm.tir.ir_builder.create()
    with ib.for_range(0, n, name="i") as i:
        with ib.if_scope(i > 0):
            ib.emit(tvm.tir.call_extern("int32", "f", buf.access_ptr("w"), i))
    stmt = ib.get()

Each scope collects the statements emitted in it; leaving it wraps them (a loop, a branch, an
attribute).  `emit` also takes a function of the rest of the scope (what `allocate` and `let`
use: the allocation lives until the scope ends).
"""

from __future__ import annotations

from contextlib import contextmanager

from ..ir import dtype as dt
from ..ir.expr import Buffer, BufferLoad, PrimExpr, Var, convert, decl_buffer
from ..ir.op import likely as _likely
from .stmt import Allocate, AttrStmt, BufferStore, Evaluate, For, ForKind, IfThenElse, LetStmt, Stmt, seq

_KINDS = {"serial": ForKind.SERIAL, "parallel": ForKind.PARALLEL, "vectorize": ForKind.VECTORIZED,
          "vectorized": ForKind.VECTORIZED, "unroll": ForKind.UNROLLED}


class BufferVar:
    """`ib.buffer_ptr(buf)` / `ib.allocate(...)`: index it to load, assign to an index to store."""

    def __init__(self, builder: IRBuilder, buffer: Buffer):
        self._builder, self._buffer = builder, buffer

    @property
    def asobject(self) -> Buffer:
        return self._buffer

    @property
    def dtype(self) -> str:
        return self._buffer.dtype

    def _index(self, index) -> tuple:
        idx = tuple(index) if isinstance(index, (tuple, list)) else (index,)
        return tuple(convert(i) for i in idx)

    def __getitem__(self, index) -> PrimExpr:
        return BufferLoad(self._buffer, self._index(index), self._buffer.dtype)

    def __setitem__(self, index, value) -> None:
        value = convert(value, self._buffer.dtype)
        if value.dtype != self._buffer.dtype:
            raise TypeError(f"storing a {value.dtype} value into buffer {self._buffer.name!r} of {self._buffer.dtype}")
        self._builder.emit(BufferStore(self._buffer, value, self._index(index)))


class IRBuilder:
    def __init__(self):
        self._seq_stack: list = [[]]

    # ------------------------------------------------------------------ emitting
    def emit(self, stmt) -> None:
        """Append a statement (an expression becomes Evaluate(expr)), or a function of the rest
        of the scope."""
        if isinstance(stmt, PrimExpr):
            stmt = Evaluate(stmt)
        if not (isinstance(stmt, Stmt) or callable(stmt)):
            raise TypeError(f"ir_builder.emit expects a statement or an expression, got {type(stmt).__name__}")
        self._seq_stack[-1].append(stmt)

    def _pop_seq(self) -> Stmt:
        items = self._seq_stack.pop()
        body = None
        for s in reversed(items):
            if callable(s) and not isinstance(s, Stmt):
                body = s(body if body is not None else seq())
            else:
                body = s if body is None else seq(s, body)
        return body if body is not None else seq()

    def get(self) -> Stmt:
        """The statement built so far (the builder's outermost scope)."""
        if len(self._seq_stack) != 1:
            raise RuntimeError("ir_builder.get() inside an open scope; call it after the `with` blocks")
        stmt = self._pop_seq()
        self._seq_stack.append([])
        return stmt

    # ------------------------------------------------------------------ scopes
    @contextmanager
    def _scope(self, wrap):
        self._seq_stack.append([])
        try:
            yield
        finally:
            body = self._pop_seq()
        self.emit(wrap(body))

    @contextmanager
    def for_range(self, begin, end, name="i", dtype=None, kind="serial"):
        """A loop `for name in range(begin, end)`; yields the loop variable."""
        begin, end = convert(begin), convert(end)
        if kind not in _KINDS:
            raise ValueError(f"for_range kind must be one of {', '.join(_KINDS)}, got {kind!r}")
        dtype = dt.canonical(dtype) if dtype else max(begin.dtype, end.dtype, key=lambda d: dt.parse(d).bits)
        var = Var(name, dtype)
        extent = end if _is_zero(begin) else end - begin
        with self._scope(lambda body: For(var, convert(begin, dtype), convert(extent, dtype), _KINDS[kind], body)):
            yield var

    @contextmanager
    def if_scope(self, cond):
        cond = convert(cond)
        with self._scope(lambda body: IfThenElse(cond, body)):
            yield

    @contextmanager
    def else_scope(self):
        """The else branch of the if_scope just closed."""
        prev = self._seq_stack[-1]
        if not prev or not isinstance(prev[-1], IfThenElse) or prev[-1].else_case is not None:
            raise RuntimeError("else_scope must directly follow an if_scope")
        last = prev.pop()
        with self._scope(lambda body: IfThenElse(last.condition, last.then_case, body)):
            yield

    @contextmanager
    def new_scope(self):
        with self._scope(lambda body: body):
            yield

    def scope_attr(self, node, attr_key: str, value) -> None:
        """The rest of the scope under AttrStmt(node, attr_key, value)."""
        value = convert(value) if not isinstance(value, str) else value
        self.emit(lambda body: AttrStmt(node, attr_key, value, body))

    def let(self, var_name: str, value) -> Var:
        value = convert(value)
        var = Var(var_name, value.dtype)
        self.emit(lambda body: LetStmt(var, value, body))
        return var

    def allocate(self, dtype, shape, name="buf", axis_separators=None, scope="") -> BufferVar:
        """A buffer that lives until the end of the current scope."""
        buf = decl_buffer(shape, dtype, name, scope=scope or "global")
        buf = Buffer(buf.data, buf.name, buf.shape, buf.dtype, (), buf.scope)
        self.emit(lambda body: Allocate(buf, body))
        return BufferVar(self, buf)

    def buffer_ptr(self, buf: Buffer, shape=None) -> BufferVar:
        if not isinstance(buf, Buffer):
            raise TypeError(f"buffer_ptr expects a tir Buffer, got {type(buf).__name__}")
        if shape is not None:
            shape = tuple(convert(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
            buf = Buffer(buf.data, buf.name, shape, buf.dtype, (), buf.scope)
        return BufferVar(self, buf)

    def likely(self, expr) -> PrimExpr:
        return _likely(expr)


def _is_zero(e) -> bool:
    return getattr(e, "value", None) == 0


def create() -> IRBuilder:
    return IRBuilder()


__all__ = ["IRBuilder", "BufferVar", "create"]
