"""FlattenBuffer: turn every multi-dimensional buffer access into a 1-D one.

Codegen only knows flat memory: a pointer (`buffer.data`) and an element offset.  This pass
computes that offset, `elem_offset + sum(index_k * stride_k)`, where the strides are the
buffer's own (`storage_align` pads rows through them) or the compact row-major ones.

Each distinct Buffer (by identity) gets one flat twin that keeps the same `data` Var, because
pointer identity is how codegen finds the memory; `func.params` keep their user-facing
multi-dimensional buffers for the same reason.  Indices may be vectors (a Ramp in the last
dimension after vectorization); the arithmetic below keeps Ramps as Ramps so codegen can emit a
contiguous vector load instead of a gather.
"""

from __future__ import annotations

from ...ir import dtype as dt
from ...ir.expr import Broadcast, Buffer, BufferLoad, IntImm, PrimExpr, Ramp, add, cast, const, mul
from ...ir.functor import Mutator
from ..stmt import Allocate, BufferStore, PrimFunc
from .function_pass import prim_func_pass


def _lanes(x: PrimExpr) -> int:
    return dt.lanes(x.dtype)


def make_ramp(base, stride, lanes: int) -> PrimExpr:
    """Ramp(base, stride, lanes), or a Broadcast when the stride is 0 (shared with vectorize_loop)."""
    if isinstance(stride, IntImm) and stride.value == 0:
        return Broadcast(base, lanes, dt.with_lanes(base.dtype, lanes))
    if stride.dtype != base.dtype:
        wide = max(base.dtype, stride.dtype, key=lambda d: dt.parse(d).bits)
        base, stride = cast(base, wide), cast(stride, wide)
    return Ramp(base, stride, lanes, dt.with_lanes(base.dtype, lanes))


def index_mul(x: PrimExpr, c: PrimExpr) -> PrimExpr:
    """x * c for a scalar c, where Ramp(b, s, n) * c stays the Ramp(b*c, s*c, n)."""
    if isinstance(x, Ramp):
        return make_ramp(mul(x.base, c), mul(x.stride, c), x.lanes)
    if isinstance(x, Broadcast):
        return Broadcast(mul(x.value, c), x.lanes, x.dtype)
    return mul(x, c)


def index_add(a: PrimExpr, b: PrimExpr) -> PrimExpr:
    """a + b where Ramps and Broadcasts combine into a Ramp (or Broadcast) when they can."""
    if _lanes(a) == 1 and _lanes(b) == 1:
        return add(a, b)
    if _lanes(a) == 1:
        a, b = b, a
    if isinstance(a, Ramp):
        if _lanes(b) == 1:
            return make_ramp(add(a.base, b), a.stride, a.lanes)
        if isinstance(b, Broadcast):
            return make_ramp(add(a.base, b.value), a.stride, a.lanes)
        if isinstance(b, Ramp):
            return make_ramp(add(a.base, b.base), add(a.stride, b.stride), a.lanes)
    if isinstance(a, Broadcast):
        if _lanes(b) == 1:
            return Broadcast(add(a.value, b), a.lanes, a.dtype)
        if isinstance(b, (Ramp, Broadcast)):
            return index_add(b, a)
    return add(a, b)


def compact_strides(shape) -> list:
    """Row-major strides in elements: the last dimension is contiguous."""
    strides = []
    acc = const(1, shape[-1].dtype) if shape else const(1)
    for extent in reversed(shape):
        strides.append(acc)
        acc = mul(acc, extent)
    return strides[::-1]


def flat_size(buf: Buffer) -> PrimExpr:
    """Number of elements the flat buffer spans (padded rows included)."""
    if not buf.shape:
        return const(1)
    if buf.strides:
        return mul(buf.shape[0], buf.strides[0])
    total = buf.shape[0]
    for extent in buf.shape[1:]:
        total = mul(total, extent)
    return total


class _Flattener(Mutator):
    def __init__(self):
        self.flat: dict = {}

    def flat_buffer(self, buf: Buffer) -> Buffer:
        """The 1-D twin of `buf`; a compact 1-D buffer already is its own twin."""
        f = self.flat.get(buf)
        if f is None:
            off = buf.elem_offset
            if len(buf.shape) == 1 and not buf.strides and (off is None or isinstance(off, IntImm) and off.value == 0):
                f = buf
            else:
                f = Buffer(buf.data, buf.name, (flat_size(buf),), buf.dtype, (), buf.scope)
            self.flat[buf] = f
        return f

    def flat_index(self, buf: Buffer, indices: tuple) -> tuple:
        if len(indices) != len(buf.shape) and buf.shape:
            raise ValueError(
                f"buffer {buf.name!r} has {len(buf.shape)} dimensions but is accessed with "
                f"{len(indices)} indices")
        strides = list(buf.strides) if buf.strides else compact_strides(buf.shape)
        offset = buf.elem_offset if buf.elem_offset is not None else const(0)
        for idx, stride in zip(indices, strides):
            offset = index_add(offset, index_mul(idx, stride))
        return (offset,)

    def visit_BufferLoad(self, op: BufferLoad):
        indices = tuple(self.visit(i) for i in op.indices)
        flat = self.flat_buffer(op.buffer)
        if flat is op.buffer and all(a is b for a, b in zip(indices, op.indices)):
            return op
        return BufferLoad(flat, self.flat_index(op.buffer, indices), op.dtype)

    def visit_BufferStore(self, op: BufferStore):
        value = self.visit(op.value)
        indices = tuple(self.visit(i) for i in op.indices)
        flat = self.flat_buffer(op.buffer)
        if flat is op.buffer and value is op.value and all(a is b for a, b in zip(indices, op.indices)):
            return op
        return BufferStore(flat, value, self.flat_index(op.buffer, indices))

    def visit_Allocate(self, op: Allocate):
        body = self.visit(op.body)
        flat = self.flat_buffer(op.buffer)
        if flat is op.buffer and body is op.body:
            return op
        return Allocate(flat, body)


def flatten_buffer(func: PrimFunc) -> PrimFunc:
    """Rewrite every buffer access in `func` to a single flat element index."""
    return func.with_body(_Flattener().visit(func.body))


def FlattenBuffer():  # noqa: N802  (classic tvm.tir.transform name)
    return prim_func_pass(lambda f, mod, ctx: flatten_buffer(f), 0, "FlattenBuffer")
