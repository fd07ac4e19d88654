"""Loop-level statements, PrimFunc and IRModule: what lowering produces and codegen consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.expr import Buffer, IntImm, Node, PrimExpr, Var, const, convert

_frozen = dataclass(frozen=True, eq=False, repr=False, slots=True)


class Stmt(Node):
    __slots__ = ()
    walked = True
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from .printer import to_text

        return to_text(self)

    __str__ = __repr__


class ForKind:
    SERIAL = "serial"
    PARALLEL = "parallel"
    VECTORIZED = "vectorized"
    UNROLLED = "unroll"
    THREAD_BINDING = "thread_binding"


@_frozen
class For(Stmt):
    loop_var: Var
    min: PrimExpr
    extent: PrimExpr
    kind: str
    body: Stmt
    thread_tag: str = ""
    annotations: tuple = ()  # ((key, value), ...) e.g. ("pragma_unroll_explicit", 1)

    binding_fields = ("loop_var",)

    def __post_init__(self):  # tir.For(i, 0, 8, ...) from user code: bounds as int32 constants
        for name in ("min", "extent"):
            if isinstance(getattr(self, name), int):
                object.__setattr__(self, name, const(getattr(self, name), "int32"))


@_frozen
class SeqStmt(Stmt):
    seq: tuple

    def __getitem__(self, i):  # classic SeqStmt indexing
        return self.seq[i]

    def __len__(self) -> int:
        return len(self.seq)


@_frozen
class IfThenElse(Stmt):
    condition: PrimExpr
    then_case: Stmt
    else_case: Stmt | None = None


@_frozen
class Evaluate(Stmt):
    value: PrimExpr


@_frozen
class LetStmt(Stmt):
    var: Var
    value: PrimExpr
    body: Stmt

    binding_fields = ("var",)


@_frozen
class AttrStmt(Stmt):
    """Annotates `body`: e.g. ("thread_extent", iv, extent) for a GPU launch dimension."""

    node: object
    attr_key: str
    value: PrimExpr
    body: Stmt


@_frozen
class Allocate(Stmt):
    """Memory for `buffer` lives for the duration of `body`."""

    buffer: Buffer
    body: Stmt

    @property
    def extents(self) -> tuple:  # classic Allocate fields
        return tuple(self.buffer.shape)

    @property
    def dtype(self) -> str:
        return self.buffer.dtype


@_frozen
class BufferStore(Stmt):
    buffer: Buffer
    value: PrimExpr
    indices: tuple


def _vstore(self: Buffer, begin, value) -> BufferStore:
    """buffer.vstore(begin, value): store `value` at `begin`; a vector value fills consecutive
    elements from it.  (A statement, so tir gives ir's Buffer this method.)"""
    value = convert(value)
    return BufferStore(self, value, self.vector_index(begin, value.dtype, "vstore")[0])


Buffer.vstore = _vstore


@_frozen
class AssertStmt(Stmt):
    condition: PrimExpr
    message: str
    body: Stmt


def seq(*stmts) -> Stmt:
    """A sequence, flattened, with no-ops dropped; a single statement stays itself."""
    out = []
    for s in stmts:
        if s is None:
            continue
        if isinstance(s, SeqStmt):
            out.extend(s.seq)
        elif not (isinstance(s, Evaluate) and isinstance(s.value, IntImm)):
            out.append(s)
    if not out:
        return Evaluate(const(0))
    return out[0] if len(out) == 1 else SeqStmt(tuple(out))


@dataclass(eq=False, repr=False)
class PrimFunc:
    """A function over buffers: `params` are Buffers (data pointers) and scalar Vars."""

    params: tuple
    body: Stmt
    name: str = "main"
    attrs: dict = field(default_factory=dict)

    binding_fields = ("params",)

    def with_body(self, body: Stmt) -> PrimFunc:
        return PrimFunc(self.params, body, self.name, dict(self.attrs))

    @property
    def buffers(self) -> tuple:
        return tuple(p for p in self.params if isinstance(p, Buffer))

    def __repr__(self) -> str:
        from .printer import to_text

        return to_text(self)

    __str__ = __repr__

    def script(self) -> str:
        return repr(self)


from ..ir.module import IRModule  # noqa: E402,F401  (shared by tir and relay)
