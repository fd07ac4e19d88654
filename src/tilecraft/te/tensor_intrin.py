"""Tensor intrinsics (classic `te.decl_tensor_intrin`): a small computation, declared as a
te.compute over placeholders, together with the statement that performs it on buffers (usually a
call of a hardware instruction or a hand-written kernel).  `s[C].tensorize(axis, intrin)`
(te/tensorize.py) replaces the loops below `axis` with that statement."""

from __future__ import annotations

from ..ir.expr import Buffer, PrimExpr, decl_buffer
from ..tir.stmt import Evaluate, Stmt
from .tensor import ComputeOp, Operation, PlaceholderOp, Tensor


class TensorIntrin:
    """What decl_tensor_intrin returns: `op` (the declared computation), `inputs` (its placeholder
    tensors), `buffers` (one per input, then one per output), and the statements `body`,
    `reduce_init` and `reduce_update` (the latter two for a reduction split across the
    tensorized point; any may be None)."""

    def __init__(self, name, op, inputs, buffers, body, reduce_init, reduce_update):
        self.name, self.op, self.inputs, self.buffers = name, op, tuple(inputs), tuple(buffers)
        self.body, self.reduce_init, self.reduce_update = body, reduce_init, reduce_update

    def __repr__(self) -> str:
        return f"TensorIntrin({self.name}, op={self.op.name})"

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"calling tensor intrinsic {self.name!r} inside te.compute is not supported; "
                                  "declare the computation with loops and use s[C].tensorize(axis, intrin)")


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
    Buffer per input and output and returns the statement that computes it, or a tuple
    (body, reduce_reset, reduce_update) for a reduction.  `binds` maps tensors of `op` to buffers
    declared with tir.decl_buffer (strides, offset_factor); the others get
    `decl_buffer(shape, dtype, name, **default_buffer_params)`."""
    if isinstance(op, Tensor):
        op = op.op
    if not isinstance(op, Operation) or not isinstance(op, ComputeOp):
        raise TypeError(f"decl_tensor_intrin {name!r}: expected the operation of a te.compute (c.op), "
                        f"got {type(op).__name__}")
    if scalar_params:
        raise NotImplementedError(f"decl_tensor_intrin {name!r}: scalar_params are not supported")
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
    result = fcompute(buffers[:n], buffers[n:])
    parts = list(result) if isinstance(result, (tuple, list)) else [result]
    if len(parts) > 3:
        raise TypeError(f"decl_tensor_intrin {name!r}: fcompute returned {len(parts)} statements; return one "
                        "(the body) or three (body, reduce_reset, reduce_update)")
    parts += [None] * (3 - len(parts))
    body, init, update = (_as_stmt(x, w, name) for x, w in zip(parts, ("body", "reduce_reset", "reduce_update")))
    return TensorIntrin(name, op, inputs, buffers, body, init, update)
