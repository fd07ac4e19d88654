"""Tensor intrinsics (classic `te.decl_tensor_intrin`): a small computation, declared as a
te.compute over placeholders, together with the statement that performs it on buffers (usually a
call of a hardware instruction or a hand-written kernel).  `s[C].tensorize(axis, intrin)`
(te/tensorize.py) replaces the loops below `axis` with that statement."""

from __future__ import annotations

from ..ir.expr import (
    Buffer,
    IntImm,
    IterType,
    IterVar,
    PrimExpr,
    ProducerLoad,
    Range,
    Reduce,
    Var,
    const,
    convert,
    decl_buffer,
)
from ..ir.functor import Mutator
from ..tir.stmt import Evaluate, Stmt
from .tensor import ComputeOp, Operation, PlaceholderOp, Tensor, TensorRegion


class TensorIntrin:
    """What decl_tensor_intrin returns: `op` (the declared computation), `inputs` (its placeholder
    tensors), `buffers` (one per input, then one per output), and the statements `body`,
    `reduce_init` and `reduce_update` (the latter two for a reduction split across the
    tensorized point; any may be None)."""

    def __init__(self, name, op, inputs, buffers, body, reduce_init, reduce_update, scalar_params=()):
        self.name, self.op, self.inputs, self.buffers = name, op, tuple(inputs), tuple(buffers)
        self.body, self.reduce_init, self.reduce_update = body, reduce_init, reduce_update
        self.scalar_params = tuple(scalar_params)

    def __repr__(self) -> str:
        return f"TensorIntrin({self.name}, op={self.op.name})"

    def __call__(self, *args, reduce_axis=()):
        """`intrin(A[i, 0:16], B[j, 0:16], reduce_axis=[k])` inside te.compute: the intrinsic applied to
        tensor regions (scalars for its scalar_params, in order, may be interleaved)."""
        regions, scalars = [], []
        for a in args:
            if isinstance(a, TensorRegion):
                regions.append(a)
            elif isinstance(a, Tensor):
                regions.append(a[tuple(slice(None) for _ in a.shape)])
            else:
                scalars.append(convert(a))
        if len(regions) != len(self.inputs) or len(scalars) != len(self.scalar_params):
            raise ValueError(f"tensor intrinsic {self.name!r} takes {len(self.inputs)} tensor region(s) and "
                             f"{len(self.scalar_params)} scalar(s), got {len(regions)} and {len(scalars)}")
        reduce_axis = (reduce_axis,) if isinstance(reduce_axis, IterVar) else tuple(reduce_axis or ())
        return TensorIntrinCall(self, tuple(regions), tuple(scalars), reduce_axis)


class TensorIntrinCall:
    """An intrinsic applied to regions inside te.compute (see intrinsic_compute)."""

    def __init__(self, intrin: TensorIntrin, regions: tuple, scalar_inputs: tuple, reduce_axis: tuple):
        self.intrin, self.regions, self.scalar_inputs, self.reduce_axis = intrin, regions, scalar_inputs, reduce_axis


def intrinsic_compute(shape, outer: tuple, call: TensorIntrinCall, name: str, tag: str, attrs):
    """`te.compute(shape, lambda i: intrin(A[i, 0:16], ...))`: the intrinsic's own computation written
    out over the inner axes, reading the regions, with its stage tensorized at the first inner axis
    when the schedule is created (te/schedule.py).  Returns the output tensor."""
    intrin, iop = call.intrin, call.intrin.op
    inner_shape = shape[len(outer):]
    if len(inner_shape) != len(iop.axis):
        raise ValueError(f"compute {name}: {len(inner_shape)} dimensions after the {len(outer)} indices, but "
                         f"intrinsic {intrin.name!r} computes {len(iop.axis)}")
    for k, (s, jv) in enumerate(zip(inner_shape, iop.axis)):
        if isinstance(s, IntImm) and isinstance(jv.dom.extent, IntImm) and s.value != jv.dom.extent.value:
            raise ValueError(f"compute {name}: dimension {len(outer) + k} has extent {s.value}, intrinsic "
                             f"{intrin.name!r} computes {jv.dom.extent.value}")
    inner = tuple(IterVar(Range(const(0, s.dtype), s), Var(f"ax{k}", s.dtype), IterType.DATA_PAR)
                  for k, s in enumerate(inner_shape))
    rinner = tuple(IterVar(jv.dom, Var(jv.var.name, jv.var.dtype), IterType.COMM_REDUCE) for jv in iop.reduce_axis)
    vmap = {jv.var: iv.var for jv, iv in zip(iop.axis + iop.reduce_axis, inner + rinner)}
    vmap.update(zip(intrin.scalar_params, call.scalar_inputs))
    reads = _RegionReads(dict(zip(intrin.inputs, call.regions)), vmap)
    body = []
    for b in iop.body:
        if isinstance(b, Reduce):
            b = Reduce(b.combiner, tuple(reads.visit(x) for x in b.source), tuple(call.reduce_axis) + rinner,
                       reads.visit(b.condition), b.value_index, b.init, b.dtype)
        else:
            b = reads.visit(b)
        body.append(b)
    attrs = dict(attrs or {})
    attrs["tensor_intrin_call"] = (intrin, len(outer), len(call.reduce_axis), call.scalar_inputs)
    op = ComputeOp(name, tag, attrs, outer + inner, tuple(call.reduce_axis) + rinner, tuple(body))
    return op.output(0) if op.num_outputs == 1 else list(op._outputs)


class _RegionReads(Mutator):
    """The intrinsic's placeholder reads as reads of the regions; its axes and scalars as given."""

    def __init__(self, regions: dict, vmap: dict):
        self.regions, self.vmap = regions, vmap

    def visit_Var(self, v):
        return self.vmap.get(v, v)

    def visit_ProducerLoad(self, n):
        region = self.regions.get(n.producer)
        idx = [self.visit(i) for i in n.indices]
        if region is None:
            return ProducerLoad(n.producer, tuple(idx), n.dtype)
        ranged = [d for d in region.dims if d[2]]
        if len(ranged) != len(idx):
            raise ValueError(f"region of {region.tensor.name} has {len(ranged)} ranged dimension(s), the intrinsic's "
                             f"input {n.producer.name} has {len(idx)}")
        it = iter(idx)
        full = tuple(begin + next(it) if is_range else begin for begin, _, is_range in region.dims)
        return ProducerLoad(region.tensor, full, n.dtype)


def _as_stmt(x, what: str, name: str):
    if x is None or isinstance(x, Stmt):
        return x
    if isinstance(x, PrimExpr):
        return Evaluate(x)
    raise TypeError(f"decl_tensor_intrin {name!r}: fcompute returned {type(x).__name__} for the {what}; "
                    "return a statement (e.g. ib.get()), an expression, or (body, reduce_reset, reduce_update)")


def decl_tensor_intrin(op, fcompute, name="tensor_intrin", binds=None, scalar_params=None,
                       default_buffer_params=None) -> TensorIntrin:
    """Declare a tensor intrinsic: `op` describes what it computes; `fcompute(ins, outs)` gets one
    Buffer per input and output (and the scalar_params, variables of `op`, as a third argument
    when given) and returns the statement that computes it, or a tuple
    (body, reduce_reset, reduce_update) for a reduction.  `binds` maps tensors of `op` to buffers
    declared with tir.decl_buffer (strides, offset_factor); the others get
    `decl_buffer(shape, dtype, name, **default_buffer_params)`."""
    if isinstance(op, Tensor):
        op = op.op
    if not isinstance(op, Operation) or not isinstance(op, ComputeOp):
        raise TypeError(f"decl_tensor_intrin {name!r}: expected the operation of a te.compute (c.op), "
                        f"got {type(op).__name__}")
    scalar_params = tuple(scalar_params or ())
    inputs = list(op.input_tensors)
    for t in inputs:
        if not isinstance(t.op, PlaceholderOp):
            raise ValueError(f"decl_tensor_intrin {name!r}: input {t.name} is computed by another operation; "
                             "an intrinsic's inputs must be te.placeholder tensors")
    binds = dict(binds or {})
    params = dict(default_buffer_params or {})
    tensors = inputs + [op.output(i) for i in range(op.num_outputs)]
    for t in binds:
        if t not in tensors:
            raise ValueError(f"decl_tensor_intrin {name!r}: binds has tensor {getattr(t, 'name', t)!r}, which is "
                             f"not an input or output of {op.name}")
    buffers = []
    for t in tensors:
        buf = binds.get(t)
        if buf is None:
            buf = decl_buffer(t.shape, t.dtype, t.op.name, **params)
        elif not isinstance(buf, Buffer):
            raise TypeError(f"decl_tensor_intrin {name!r}: binds[{t.name}] must be a tir.decl_buffer(...), "
                            f"got {type(buf).__name__}")
        if len(buf.shape) != len(t.shape) or buf.dtype != t.dtype:
            raise ValueError(f"decl_tensor_intrin {name!r}: buffer {buf.name!r} ({len(buf.shape)}-d {buf.dtype}) "
                             f"does not fit tensor {t.name} ({len(t.shape)}-d {t.dtype})")
        buffers.append(buf)
    n = len(inputs)
    result = fcompute(buffers[:n], buffers[n:], list(scalar_params)) if scalar_params else \
        fcompute(buffers[:n], buffers[n:])
    parts = list(result) if isinstance(result, (tuple, list)) else [result]
    if len(parts) > 3:
        raise TypeError(f"decl_tensor_intrin {name!r}: fcompute returned {len(parts)} statements; return one "
                        "(the body) or three (body, reduce_reset, reduce_update)")
    parts += [None] * (3 - len(parts))
    body, init, update = (_as_stmt(x, w, name) for x, w in zip(parts, ("body", "reduce_reset", "reduce_update")))
    return TensorIntrin(name, op, inputs, buffers, body, init, update, scalar_params)
