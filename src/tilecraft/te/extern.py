"""te.extern: a stage whose body is a statement you write, usually a call into a library.

    C = te.extern((n, m), [A, B],
                  lambda ins, outs: tvm.tir.call_packed("tvm.contrib.cblas.matmul",
                                                        ins[0], ins[1], outs[0], False, False),
                  name="C")

`fcompute(ins, outs)` receives one Buffer per input and per output (with .data, .shape, .dtype)
and returns the statement (or expression, e.g. a call_packed) that fills the outputs.  The stage
has no loops to schedule: it is computed as a whole, normally at root (compute_at places the
whole computation inside a loop; compute_inline is refused).  Other stages read its outputs like
any tensor.  Its inputs are read as whole buffers, so a stage an extern op reads must be computed
at root, not inlined or attached to another stage's loop.

Lowering (`extern_body`) replaces the placeholder buffers by the buffers of the actual tensors:
parameters, or allocations of the stages that compute them.
"""

from __future__ import annotations

from ..ir import dtype as dt
from ..ir.expr import Buffer, BufferLoad, PrimExpr, Var
from ..ir.functor import Mutator
from ..tir.stmt import BufferStore, Evaluate, Stmt
from .stage import ScheduleError
from .tensor import Operation, Tensor, _shape


class ExternOp(Operation):
    """An operation computed by an opaque statement over its inputs' and outputs' buffers."""

    def __init__(self, name: str, tag: str, attrs, inputs, input_placeholders, output_placeholders,
                 body: Stmt):
        self.name, self.tag, self.attrs = name, tag, dict(attrs or {})
        self.inputs = tuple(inputs)
        self.input_placeholders = tuple(input_placeholders)
        self.output_placeholders = tuple(output_placeholders)
        self.body = body
        self.axis = ()
        self.reduce_axis = ()
        self._outputs = tuple(Tensor(self, i, tuple(b.shape), b.dtype)
                              for i, b in enumerate(self.output_placeholders))

    @property
    def input_tensors(self) -> list:
        return list(dict.fromkeys(self.inputs))


def _is_shape(x) -> bool:
    return not isinstance(x, (list, tuple)) or all(not isinstance(d, (list, tuple)) for d in x)


def _decl(shape, dtype: str, name: str) -> Buffer:
    return Buffer(Var(name, "handle"), name, tuple(shape), dtype)


def extern(shape, inputs, fcompute, name: str = "extern", dtype=None, in_buffers=None, out_buffers=None,
           tag: str = "", attrs=None):
    """An extern stage (classic `te.extern`); returns its tensor, or a list for several outputs."""
    shapes = [shape] if _is_shape(shape) else list(shape)
    shapes = [_shape(s) for s in shapes]
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"extern {name}: input {i} must be a tensor, got {type(t).__name__}")
    if dtype is None:
        kinds = {t.dtype for t in inputs}
        if len(kinds) != 1:
            raise ValueError(f"extern {name}: cannot infer the output dtype from inputs of dtypes "
                             f"{sorted(kinds) or 'none'}; pass dtype=")
        dtype = kinds.pop()
    dtypes = [dtype] * len(shapes) if isinstance(dtype, str) else list(dtype)
    if len(dtypes) != len(shapes):
        raise ValueError(f"extern {name}: {len(shapes)} output shapes but {len(dtypes)} dtypes")
    dtypes = [dt.canonical(d) for d in dtypes]

    if in_buffers is not None:
        in_buffers = [in_buffers] if isinstance(in_buffers, Buffer) else list(in_buffers)
        if len(in_buffers) != len(inputs):
            raise ValueError(f"extern {name}: {len(inputs)} inputs but {len(in_buffers)} in_buffers")
        for t, b in zip(inputs, in_buffers):
            _check_buffer(name, "input", t.name, b, t.shape, t.dtype)
    else:
        in_buffers = [_decl(t.shape, t.dtype, t.name) for t in inputs]
    if out_buffers is not None:
        out_buffers = [out_buffers] if isinstance(out_buffers, Buffer) else list(out_buffers)
        if len(out_buffers) != len(shapes):
            raise ValueError(f"extern {name}: {len(shapes)} outputs but {len(out_buffers)} out_buffers")
        for k, (s, d, b) in enumerate(zip(shapes, dtypes, out_buffers)):
            _check_buffer(name, "output", str(k), b, s, d)
    else:
        out_buffers = [_decl(s, d, name if len(shapes) == 1 else f"{name}_v{k}")
                       for k, (s, d) in enumerate(zip(shapes, dtypes))]

    body = fcompute(list(in_buffers), list(out_buffers))
    if isinstance(body, PrimExpr):
        body = Evaluate(body)
    if not isinstance(body, Stmt):
        raise TypeError(f"extern {name}: fcompute(ins, outs) must return a statement or an expression "
                        f"(e.g. tvm.tir.call_packed(...)), got {type(body).__name__}")
    op = ExternOp(name, tag, attrs, inputs, in_buffers, out_buffers, body)
    return op.output(0) if op.num_outputs == 1 else list(op._outputs)


def _check_buffer(name, what, which, buf, shape, dtype) -> None:
    if not isinstance(buf, Buffer):
        raise TypeError(f"extern {name}: {what} buffer {which} must be a tvm.tir.decl_buffer, "
                        f"got {type(buf).__name__}")
    if buf.dtype != dtype or len(buf.shape) != len(shape):
        raise ValueError(f"extern {name}: {what} buffer {buf.name!r} ({buf.dtype}, rank {len(buf.shape)}) "
                         f"does not match {what} {which} ({dtype}, rank {len(shape)})")


# ---------------------------------------------------------------------------- lowering
def extern_body(sch, st, storage: dict) -> Stmt:
    """The extern stage's statement over the lowered buffers (`storage`: {Stage: StageStorage})."""
    op: ExternOp = st.op
    bufs: dict = {}
    for t, ph in zip(op.inputs, op.input_placeholders):
        src = sch.stage_map.get(t.op)
        if src is None or src not in storage:
            raise ScheduleError(f"extern {op.name} reads {t.name}, which is neither an argument nor "
                                "computed by this schedule; add it to the argument list")
        if src.attach_type == "scope":
            raise ScheduleError(f"extern {op.name} reads all of {t.name} as one buffer, but stage {t.name} "
                                f"is computed at {src.attach_stage.op.name}.{src.attach_ivar.var.name}; "
                                f"compute it at root (s[{t.name}].compute_root())")
        bufs[ph] = storage[src].buffers[t.value_index]
    for ph, buf in zip(op.output_placeholders, storage[st].buffers):
        bufs[ph] = buf
    return _Rebind(bufs).visit(op.body)


def check_extern_inputs(sch, st) -> None:
    """An extern op's inputs cannot be inlined: it reads them as buffers."""
    for t in st.op.inputs:
        src = sch.stage_map.get(t.op)
        if src is not None and src.attach_type == "inline":
            raise ScheduleError(f"extern {st.op.name} reads {t.name} as a buffer, so stage {t.name} cannot be "
                                f"inlined; remove s[{t.name}].compute_inline()")


class _Rebind(Mutator):
    """Placeholder buffers (and their data pointers) -> the lowered buffers."""

    def __init__(self, bufs: dict):
        self.bufs = bufs
        self.vars = {ph.data: b.data for ph, b in bufs.items()}

    def visit_Var(self, v):
        return self.vars.get(v, v)

    def visit_BufferLoad(self, e):
        idx = tuple(self.visit(i) for i in e.indices)
        return BufferLoad(self.bufs.get(e.buffer, e.buffer), idx, e.dtype)

    def visit_BufferStore(self, s):
        idx = tuple(self.visit(i) for i in s.indices)
        return BufferStore(self.bufs.get(s.buffer, s.buffer), self.visit(s.value), idx)
