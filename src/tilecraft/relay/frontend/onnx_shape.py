"""ONNX converters, shape family: Flatten, Reshape, Transpose, Squeeze / Unsqueeze, Concat, Split,
Slice, Gather / GatherElements / GatherND, Expand, Tile, Trilu, Pad, DepthToSpace /
SpaceToDepth. Each converter takes (GraphProto, inputs, attributes) and registers itself with
`_register` in the `_CONVERTERS` table of `onnx.py`, which imports this module at its end, and
uses the helpers there.
"""

from __future__ import annotations

import numpy as np

from ..expr import Expr, const
from ..op import tensor as _t
from ..op import transform as _tr
from ..op._rel import broadcast_shapes
from .common import OpNotImplemented
from .onnx import ONNXImportError, _axes, _cast_to, _ints, _prod, _register, _reshape, _scalar, _str, tile_repeats

# -- shapes and layout

@_register("Flatten")
def _flatten(g, ins, a):
    x = g.expr(ins[0])
    shape = tuple(g.shape(x))
    axis = a.get("axis", 1) % (len(shape) + 1) if shape else 0
    return _reshape(g, x, (_prod(shape[:axis]), _prod(shape[axis:])))


def _reshape_target(in_shape, spec, allowzero=False) -> tuple:
    spec = _ints(spec)
    out = [in_shape[i] if (s == 0 and not allowzero) else s for i, s in enumerate(spec)]
    if out.count(-1) > 1:
        raise ONNXImportError(f"Reshape: more than one -1 in {spec}")
    if -1 in out:
        known = _prod([s for s in out if s != -1])
        out[out.index(-1)] = _prod(in_shape) // known if known else 0
    if _prod(out) != _prod(in_shape):
        raise ONNXImportError(f"Reshape: cannot reshape {tuple(in_shape)} into {tuple(out)} (spec {spec})")
    return tuple(out)


@_register("Reshape")
def _reshape_conv(g, ins, a):
    x = g.expr(ins[0])
    spec = g.const_input(ins[1], "Reshape's shape") if g.opset >= 5 else a["shape"]
    return _reshape(g, x, _reshape_target(g.shape(x), spec, a.get("allowzero", 0)))


@_register("Transpose")
def _transpose(g, ins, a):
    x = g.expr(ins[0])
    n = len(g.shape(x))
    perm = tuple(_ints(a["perm"])) if "perm" in a else tuple(reversed(range(n)))
    if perm == tuple(range(n)):
        return x
    return _tr.transpose(x, perm)


@_register("Squeeze")
def _squeeze(g, ins, a):
    x = g.expr(ins[0])
    shape = tuple(g.shape(x))
    axes = _axes(g, ins, a)
    axes = [i for i, s in enumerate(shape) if s == 1] if axes is None else [ax % len(shape) for ax in axes]
    return _reshape(g, x, tuple(s for i, s in enumerate(shape) if i not in axes))


@_register("Unsqueeze")
def _unsqueeze(g, ins, a):
    x = g.expr(ins[0])
    shape = list(g.shape(x))
    n = len(shape) + len(_axes(g, ins, a))
    for ax in sorted(ax % n for ax in _axes(g, ins, a)):
        shape.insert(ax, 1)
    return _reshape(g, x, shape)


@_register("Concat")
def _concat(g, ins, a):
    vals = [v for v in ins if v is not None]
    dt = next((g.dtype_of(v) for v in vals if isinstance(v, Expr)), g.dtype_of(vals[0]))
    axis = a["axis"] % len(g.shape(vals[0]))
    vals = [v for v in vals if g.shape(v)[axis] != 0] or vals[:1]
    if len(vals) == 1:
        return g.expr(vals[0], dt)
    return _tr.concatenate([g.expr(v, dt) for v in vals], axis)


@_register("Split")
def _split(g, ins, a):
    x = g.expr(ins[0])
    axis = a.get("axis", 0) % len(g.shape(x))
    dim = g.shape(x)[axis]
    if "split" in a:
        sizes = _ints(a["split"])
    elif len(ins) > 1 and ins[1] is not None:
        sizes = _ints(g.const_input(ins[1], "Split's sizes"))
    else:
        n = a.get("num_outputs", len(g.node.output))
        chunk = -(-dim // n)
        sizes = [min(chunk, dim - i * chunk) for i in range(n)]
    if len(sizes) == 1:
        return [x]
    bounds = list(np.cumsum(sizes)[:-1])
    parts = _tr.split(x, [int(b) for b in bounds], axis)
    return [parts[i] for i in range(len(sizes))]


@_register("Slice")
def _slice(g, ins, a):
    x = g.expr(ins[0])
    if g.opset < 10:
        starts, ends, axes, steps = a["starts"], a["ends"], a.get("axes"), None
    else:
        starts = g.const_input(ins[1], "Slice's starts")
        ends = g.const_input(ins[2], "Slice's ends")
        axes = g.const_input(ins[3], "Slice's axes") if len(ins) > 3 else None
        steps = g.const_input(ins[4], "Slice's steps") if len(ins) > 4 else None
    n = len(g.shape(x))
    starts, ends = _ints(starts), _ints(ends)
    axes = list(range(len(starts))) if axes is None else [ax % n for ax in _ints(axes)]
    steps = [1] * len(starts) if steps is None else _ints(steps)
    # clamp the int64 "to the end" sentinels so attributes stay small numbers
    begin, end = [], []
    for b, e, ax in zip(starts, ends, axes):
        dim = g.shape(x)[ax]
        begin.append(max(min(b, dim), -dim - 1))
        end.append(max(min(e, dim), -dim - 1))
    if all(b == 0 for b in begin) and all(e >= g.shape(x)[ax] for e, ax in zip(end, axes)) and \
            all(s == 1 for s in steps):
        return x
    return _tr.strided_slice(x, begin, end, steps, axes)


@_register("Gather")
def _gather(g, ins, a):
    data = g.expr(ins[0])
    axis = a.get("axis", 0) % len(g.shape(data))
    idx = ins[1]
    if g.known(idx):
        idx = np.asarray(idx).astype(np.int64)
        idx = np.where(idx < 0, idx + g.shape(data)[axis], idx).astype(np.int32)
        return _tr.take(data, const(idx), axis=axis, mode="fast")
    return _tr.take(data, _cast_to(g, idx, "int32"), axis=axis, mode="wrap")


@_register("GatherElements")
def _gather_elements(g, ins, a):
    data = g.expr(ins[0])
    axis = a.get("axis", 0) % len(g.shape(data))
    idx = ins[1]
    idx = const(np.asarray(idx).astype(np.int32)) if g.known(idx) else _cast_to(g, idx, "int32")
    return _tr.gather(data, axis, idx)


@_register("GatherND")
def _gather_nd(g, ins, a):
    """As a take on the data with its indexed axes flattened: flat index = sum(index * stride)."""
    data, idx = g.expr(ins[0]), ins[1]
    dshape, ishape = g.shape(data), g.shape(idx)
    b, m = a.get("batch_dims", 0), g.shape(idx)[-1]
    lead = dshape[:b + m]
    strides = np.array([_prod(lead[k + 1:]) for k in range(len(lead))], np.int64)
    offset = np.zeros(ishape[:-1], np.int64)  # the batch axes' share of the flat index
    for k in range(b):
        offset = offset + np.arange(ishape[k]).reshape([-1 if j == k else 1 for j in range(len(ishape) - 1)]) * \
            strides[k]
    dims = np.array(dshape[b:b + m], np.int64)
    if g.known(idx):
        v = np.asarray(idx).astype(np.int64)
        flat = const((offset + (np.where(v < 0, v + dims, v) * strides[b:]).sum(-1)).astype(np.int32))
    else:
        v = _cast_to(g, idx, "int32")
        v = _t.where(_t.less(v, _scalar(0, "int32")), _t.add(v, const(dims.astype(np.int32))), v)
        flat = _t.sum(_t.multiply(v, const(strides[b:].astype(np.int32))), axis=-1)
        if b:
            flat = _t.add(flat, const(offset.astype(np.int32)))
    return _tr.take(_reshape(g, data, (_prod(lead),) + tuple(dshape[b + m:])), flat, axis=0, mode="fast")


@_register("Expand")
def _expand(g, ins, a):
    x = g.expr(ins[0])
    target = broadcast_shapes(tuple(g.shape(x)), tuple(_ints(g.const_input(ins[1], "Expand's shape"))))
    if tuple(target) == tuple(g.shape(x)):
        return x
    return _tr.broadcast_to(x, target)


@_register("Tile")
def _tile(g, ins, a):
    x = g.expr(ins[0])
    return _tr.tile(x, tile_repeats(g.const_input(ins[1], "Tile's repeats"), len(g.shape(x))))


@_register("Trilu")
def _trilu(g, ins, a):
    x = g.expr(ins[0])
    k = int(np.asarray(g.const_input(ins[1], "Trilu's k")).reshape(())) if len(ins) > 1 and ins[1] is not None \
        else 0
    rows, cols = g.shape(x)[-2:]
    ones = np.ones((rows, cols), dtype=bool)
    mask = np.triu(ones, k) if a.get("upper", 1) else np.tril(ones, k)
    return _t.where(const(mask), x, _scalar(0, g.dtype_of(x)))


@_register("Pad")
def _pad(g, ins, a):
    x = g.expr(ins[0])
    n = len(g.shape(x))
    mode = _str(a.get("mode", "constant"))
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise OpNotImplemented(f"Pad mode {mode!r} is not supported (constant, reflect, edge, wrap)")
    if g.opset < 11:
        pads, value = _ints(a["pads"]), a.get("value", 0.0)
    else:
        pads = _ints(g.const_input(ins[1], "Pad's pads"))
        value = ins[2] if len(ins) > 2 and ins[2] is not None else 0.0
        value = float(np.asarray(g.const_input(value, "Pad's constant_value")).reshape(-1)[0]) \
            if np.size(value) else 0.0
        axes = _ints(g.const_input(ins[3], "Pad's axes")) if len(ins) > 3 and ins[3] is not None else None
        if axes is not None:
            full = [0] * (2 * n)
            for k, ax in enumerate(axes):
                full[ax % n], full[ax % n + n] = pads[k], pads[k + len(axes)]
            pads = full
    if not any(pads):
        return x
    return _tr.pad(x, [(pads[i], pads[i + n]) for i in range(n)], value, pad_mode=mode)


@_register("DepthToSpace", "SpaceToDepth")
def _depth_space(g, ins, a):
    x = g.expr(ins[0])
    b = a["blocksize"]
    n, c, h, w = g.shape(x)
    if g.node.op_type == "SpaceToDepth":
        y = _reshape(g, x, (n, c, h // b, b, w // b, b))
        y = _tr.transpose(y, (0, 3, 5, 1, 2, 4))
        return _reshape(g, y, (n, c * b * b, h // b, w // b))
    if _str(a.get("mode", "DCR")) == "DCR":
        y = _tr.transpose(_reshape(g, x, (n, b, b, c // (b * b), h, w)), (0, 3, 4, 1, 5, 2))
    else:
        y = _tr.transpose(_reshape(g, x, (n, c // (b * b), b, b, h, w)), (0, 1, 4, 2, 5, 3))
    return _reshape(g, y, (n, c // (b * b), h * b, w * b))


# ---------------------------------------------------------------------------- sequences
# A sequence (ONNX's list of tensors) is a Python list of values at import time: the exporters write
# SplitToSequence + SequenceAt for a loop over a tensor's slices (Mamba's scan), all with static sizes.

@_register("SplitToSequence")
def _split_to_sequence(g, ins, a):
    x = g.expr(ins[0])
    axis = a.get("axis", 0) % len(g.shape(x))
    dim = g.shape(x)[axis]
    split = None if len(ins) < 2 or ins[1] is None else np.asarray(g.const_input(ins[1], "SplitToSequence's split"))
    if split is None:
        sizes = [1] * dim
    elif split.ndim == 0:
        chunk = int(split)
        sizes = [chunk] * (dim // chunk) + ([dim % chunk] if dim % chunk else [])
    else:
        sizes = _ints(split)
    if sum(sizes) != dim:
        raise ONNXImportError(f"SplitToSequence: sizes {sizes} do not add up to the axis' {dim} elements")
    bounds = [int(b) for b in np.cumsum(sizes)[:-1]]
    parts = _tr.split(x, bounds, axis) if len(sizes) > 1 else None
    seq = [parts[i] for i in range(len(sizes))] if parts is not None else [x]
    if split is None and not a.get("keepdims", 1):
        seq = [_tr.squeeze(p, [axis]) for p in seq]
    return [seq]


def _sequence(v, op: str) -> list:
    if not isinstance(v, list):
        raise ONNXImportError(f"{op} expects a sequence (from SplitToSequence or SequenceConstruct), got a tensor")
    return v


@_register("SequenceAt")
def _sequence_at(g, ins, a):
    seq = _sequence(ins[0], "SequenceAt")
    pos = int(np.asarray(g.const_input(ins[1], "SequenceAt's position")))
    if not -len(seq) <= pos < len(seq):
        raise ONNXImportError(f"SequenceAt: position {pos} is outside the sequence of {len(seq)} tensors")
    return seq[pos]


@_register("SequenceConstruct")
def _sequence_construct(g, ins, a):
    return [list(ins)]


@_register("SequenceLength")
def _sequence_length(g, ins, a):
    return np.array(len(_sequence(ins[0], "SequenceLength")), "int64")


@_register("ConcatFromSequence")
def _concat_from_sequence(g, ins, a):
    seq = [g.expr(v) for v in _sequence(ins[0], "ConcatFromSequence")]
    axis = a["axis"]
    if a.get("new_axis", 0):
        return _tr.stack(seq, axis)
    return _tr.concatenate(seq, axis)
