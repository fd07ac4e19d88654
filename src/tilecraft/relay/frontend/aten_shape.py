"""ATen converters, shape family: identity-like and metadata operators (contiguous, dropout,
size, dim, numel ...), view / reshape / flatten / permute / transpose / squeeze / expand /
repeat, cat / stack / split / chunk / unbind, slice / narrow / select / index / gather, flip /
roll / pad, tril / triu / cumsum, and the `*_like` / `new_*` creation operators.  Each converter
registers itself in the shared table of `aten.py` (which imports this module at its end) and uses
its helpers.
"""

from __future__ import annotations

import numpy as np

from ..expr import Expr
from ..op import tensor as _t
from ..op import transform as _tf
from .aten import (
    Args,
    _int,
    _ints,
    _is_float,
    _is_scalar,
    _norm_axis,
    _np,
    _numel,
    _reshape,
    _resolve_shape,
    _scalar,
    dtype_str,
    is_torch_tensor,
    register,
    torch_dtype,
)
from .common import OpNotImplemented, cumsum_expr, new_const

# ------------------------------------------------------------------------------------ identity-like

@register("contiguous", "clone", "detach", "alias", "lift_fresh_copy", "lift_fresh", "lift", "dropout",
          "feature_dropout", "alpha_dropout", "feature_alpha_dropout", "resolve_conj", "resolve_neg",
          "_unsafe_view_copy", "positive", "prim::data")
def _identity(ctx, a):
    return a[0]


@register("copy")
def _copy(ctx, a):
    """copy_(self, src) (and functional copy): self's shape and dtype with src's values, broadcast; the
    importer makes later reads of self see the result."""
    dst = ctx.expr(a[0])
    src = ctx.expr(a[1], ctx.dtype(dst))
    shape = tuple(ctx.shape(dst))
    return src if tuple(ctx.shape(src)) == shape else _tf.broadcast_to(src, shape)


@register("native_dropout")
def _native_dropout(ctx, a):
    import torch

    return (a[0], torch.ones(ctx.shape(a[0]), dtype=torch.bool))


@register("_assert_tensor_metadata", "_assert_async", "_assert_scalar", "sym_constrain_range_for_size",
          "sym_constrain_range", "prim::RaiseException_unreachable")
def _noop(ctx, a):
    return None


@register("size", "sym_size")
def _size(ctx, a):
    shape = ctx.shape(a[0])
    if a.get(1) is None:
        return list(shape)
    return shape[_norm_axis(_int(a[1]), len(shape))]


@register("dim")
def _dim(ctx, a):
    return ctx.ndim(a[0])


@register("numel", "sym_numel")
def _numel_op(ctx, a):
    return _numel(ctx.shape(a[0]))


@register("is_floating_point")
def _is_fp(ctx, a):
    return _is_float(ctx.dtype(a[0]))


@register("is_complex")
def _is_cplx(ctx, a):
    return False


# ------------------------------------------------------------------------------------ shape manipulation

@register("view", "reshape", "_unsafe_view", "_reshape_alias", "view_copy")
def _view(ctx, a):
    x = a[0]
    if isinstance(a[1], Expr) or (a.has("dtype") and not a.has("size") and not a.has("shape")):
        raise OpNotImplemented("view(dtype) reinterpretation is not supported")
    shape = _resolve_shape(a[1] if isinstance(a[1], (list, tuple)) else [a[1]], _numel(ctx.shape(x)))
    return _reshape(ctx, x, shape)


@register("view_as", "reshape_as")
def _view_as(ctx, a):
    return _reshape(ctx, a[0], ctx.shape(a[1]))


@register("flatten")
def _flatten(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    nd = len(shape)
    if nd == 0:
        return _reshape(ctx, x, (1,))
    s = _norm_axis(_int(a.get(1, 0) if a.get(1) is not None else 0), nd)
    e = _norm_axis(_int(a.get(2, -1) if a.get(2) is not None else -1), nd)
    new = tuple(shape[:s]) + (_numel(shape[s:e + 1]),) + tuple(shape[e + 1:])
    return _reshape(ctx, x, new)


@register("unflatten")
def _unflatten(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    d = _norm_axis(_int(a[1]), len(shape))
    sizes = _resolve_shape(a[2], shape[d])
    return _reshape(ctx, x, tuple(shape[:d]) + tuple(sizes) + tuple(shape[d + 1:]))


@register("permute")
def _permute(ctx, a):
    x = a[0]
    nd = ctx.ndim(x)
    axes = tuple(_norm_axis(d, nd) for d in _ints(a[1]))
    if axes == tuple(range(nd)):
        return x
    return _tf.transpose(x, axes)


@register("transpose", "swapaxes", "swapdims")
def _transpose(ctx, a):
    x = a[0]
    nd = ctx.ndim(x)
    if nd < 2:
        return x
    d0, d1 = _norm_axis(_int(a[1]), nd), _norm_axis(_int(a[2]), nd)
    if d0 == d1:
        return x
    axes = list(range(nd))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return _tf.transpose(x, tuple(axes))


@register("t", "numpy_T")
def _t_op(ctx, a):
    nd = ctx.ndim(a[0])
    if nd < 2:
        return a[0]
    return _tf.transpose(a[0], tuple(reversed(range(nd))))


@register("mT", "adjoint")
def _mT(ctx, a):
    return _transpose(ctx, Args([a[0], -2, -1]))


@register("unsqueeze")
def _unsqueeze(ctx, a):
    x = a[0]
    nd = ctx.ndim(x)
    d = _int(a[1])
    d = d + nd + 1 if d < 0 else d
    return _tf.expand_dims(x, d)


@register("squeeze")
def _squeeze(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    if len(a) < 2 or a[1] is None:
        axes = [i for i, s in enumerate(shape) if s == 1]
    else:
        axes = [_norm_axis(d, len(shape)) for d in _ints(a[1])]
        axes = [d for d in axes if shape[d] == 1]
    if not axes or not shape:
        return x
    return _tf.squeeze(x, tuple(axes))


@register("expand", "broadcast_to", "expand_copy")
def _expand(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    sizes = _ints(a[1])
    lead = len(sizes) - len(shape)
    out = [s if s != -1 else shape[i - lead] for i, s in enumerate(sizes)]
    if tuple(out) == tuple(shape):
        return x
    return _tf.broadcast_to(x, tuple(out))


@register("expand_as")
def _expand_as(ctx, a):
    out = ctx.shape(a[1])
    if tuple(out) == ctx.shape(a[0]):
        return a[0]
    return _tf.broadcast_to(a[0], tuple(out))


@register("repeat")
def _repeat(ctx, a):
    x = a[0]
    reps = _ints(a[1])
    nd = ctx.ndim(x)
    if len(reps) > nd:
        x = _reshape(ctx, x, (1,) * (len(reps) - nd) + ctx.shape(x))
    if all(r == 1 for r in reps):
        return x
    return _tf.tile(x, tuple(reps))


@register("repeat_interleave")
def _repeat_interleave(ctx, a):
    x, reps, dim = a[0], a[1], a.get(2)
    if not _is_scalar(_scalar(reps)):
        raise OpNotImplemented("repeat_interleave with a tensor of repeats")
    if dim is None:
        x, dim = _reshape(ctx, x, (_numel(ctx.shape(x)),)), 0
    return _tf.repeat(x, _int(reps), _norm_axis(_int(dim), ctx.ndim(x)))


def _tensor_list(ctx, ts):
    ts = [t for t in ts if not (is_torch_tensor(t) and t.dim() == 1 and t.shape[0] == 0)]
    dt = ctx.dtype(ts[0])
    import torch

    for t in ts[1:]:
        dt = dtype_str(torch.promote_types(torch_dtype(dt), torch_dtype(ctx.dtype(t))))
    return [ctx.expr(t, dt) for t in ts]


@register("cat", "concat", "concatenate")
def _cat(ctx, a):
    ts = _tensor_list(ctx, list(a[0]))
    dim = _int(a.get(1, 0) if a.get(1) is not None else 0)
    if len(ts) == 1:
        return ts[0]
    return _tf.concatenate(ts, _norm_axis(dim, ctx.ndim(ts[0])))


@register("stack")
def _stack(ctx, a):
    ts = _tensor_list(ctx, list(a[0]))
    dim = _int(a.get(1, 0) if a.get(1) is not None else 0)
    nd = ctx.ndim(ts[0]) + 1
    dim = dim + nd if dim < 0 else dim
    return _tf.stack(ts, dim)


def _split_at(ctx, x, sizes, dim):
    dim = _norm_axis(dim, ctx.ndim(x))
    if len(sizes) == 1:
        return [x]
    idx, acc = [], 0
    for s in sizes[:-1]:
        acc += s
        idx.append(acc)
    parts = _tf.split(x, idx, dim)
    return [parts[i] for i in range(len(sizes))]


@register("split", "split_with_sizes", "split_copy", "unsafe_split", "split_with_sizes_copy")
def _split(ctx, a):
    x, size, dim = a[0], a[1], _int(a.get(2, 0) if a.get(2) is not None else 0)
    total = ctx.shape(x)[_norm_axis(dim, ctx.ndim(x))]
    if isinstance(size, (list, tuple)):
        sizes = _ints(size)
    else:
        s = _int(size)
        sizes = [s] * (total // s) + ([total % s] if total % s else [])
    return _split_at(ctx, x, sizes, dim)


@register("chunk", "unsafe_chunk")
def _chunk(ctx, a):
    x, chunks, dim = a[0], _int(a[1]), _int(a.get(2, 0) if a.get(2) is not None else 0)
    total = ctx.shape(x)[_norm_axis(dim, ctx.ndim(x))]
    s = -(-total // chunks)
    sizes = [s] * (total // s) + ([total % s] if total % s else [])
    return _split_at(ctx, x, sizes, dim)


@register("tensor_split")
def _tensor_split(ctx, a):
    x, spec, dim = a[0], a[1], _int(a.get(2, 0) if a.get(2) is not None else 0)
    total = ctx.shape(x)[_norm_axis(dim, ctx.ndim(x))]
    if isinstance(spec, (list, tuple)):
        bounds = [0] + _ints(spec) + [total]
        sizes = [max(0, b - a_) for a_, b in zip(bounds[:-1], bounds[1:])]
    else:
        n = _int(spec)
        sizes = [total // n + (1 if i < total % n else 0) for i in range(n)]
    return _split_at(ctx, x, sizes, dim)


@register("unbind")
def _unbind(ctx, a):
    x, dim = a[0], _norm_axis(_int(a.get(1, 0) if a.get(1) is not None else 0), ctx.ndim(a[0]))
    n = ctx.shape(x)[dim]
    return [_tf.take(x, ctx.scalar_const(i, "int32"), axis=dim) for i in range(n)]


@register("slice", "slice_copy")
def _slice(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    nd = len(shape)
    dim = _norm_axis(_int(a.get(1, 0) if a.get(1) is not None else 0), nd)
    n = shape[dim]
    start = a.get(2)
    end = a.get(3)
    step = _int(a.get(4, 1) if a.get(4) is not None else 1)
    start = 0 if start is None else _int(start)
    end = n if end is None else _int(end)
    start = start + n if start < 0 else start
    end = end + n if end < 0 else end
    start, end = min(max(start, 0), n), min(max(end, 0), n)
    if start == 0 and end == n and step == 1:
        return x
    end = max(end, start)
    return _tf.strided_slice(x, [start], [end], [step], axes=[dim])


@register("narrow")
def _narrow(ctx, a):
    start = _int(a[2])
    return _slice(ctx, Args([a[0], a[1], start, start + _int(a[3]) if start >= 0 else start + _int(a[3]), 1]))


@register("select")
def _select(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    dim = _norm_axis(_int(a[1]), len(shape))
    i = _int(a[2])
    i = i + shape[dim] if i < 0 else i
    if not 0 <= i < shape[dim]:
        raise IndexError(f"select: index {a[2]} out of range for dimension {dim} of size {shape[dim]}")
    return _tf.take(x, ctx.scalar_const(i, "int32"), axis=dim)


@register("index_select")
def _index_select(ctx, a):
    x, dim, idx = a[0], _int(a[1]), a[2]
    dim = _norm_axis(dim, ctx.ndim(x))
    return _tf.take(x, _index_expr(ctx, idx, ctx.shape(x)[dim]), axis=dim, mode="wrap")


def _index_expr(ctx, idx, dim_size):
    """An index tensor for take: constants are wrapped and narrowed to int32 at import time; a run-time
    index of another dtype is cast to an integer type (as classic TVM's embedding converter does)."""
    if isinstance(idx, Expr):
        dt = ctx.dtype(idx)
        if dt == "bool":
            raise OpNotImplemented("boolean mask indexing has a data-dependent shape")
        return idx if dt.startswith(("int", "uint")) else _t.cast(idx, "int64")
    arr = _np(idx).astype(np.int64)
    if arr.dtype == np.bool_:
        raise OpNotImplemented("boolean mask indexing has a data-dependent shape")
    arr = np.where(arr < 0, arr + dim_size, arr)
    return new_const(arr.astype("int32"))


@register("gather")
def _gather(ctx, a):
    x, dim, idx = a[0], _int(a[1]), a[2]
    dim = _norm_axis(dim, ctx.ndim(x))
    return _tf.gather(x, dim, _index_expr(ctx, idx, ctx.shape(x)[dim]))


@register("index")
def _index(ctx, a):
    """x[i0, i1, ...] with index tensors (None keeps a dimension): advanced indexing."""
    x, indices = a[0], list(a[1])
    shape = ctx.shape(x)
    while indices and indices[-1] is None:
        indices.pop()
    pos = [i for i, t in enumerate(indices) if t is not None]
    if not pos:
        return x
    for i in pos:
        t = indices[i]
        dt = ctx.dtype(t)
        if dt == "bool" or dt == "uint8":
            if isinstance(t, Expr):
                raise OpNotImplemented("indexing with a run-time boolean mask has a data-dependent shape")
            idx = np.nonzero(_np(t))
            if len(idx) != 1:
                raise OpNotImplemented("indexing with a multi-dimensional boolean mask")
            indices[i] = idx[0]
    import torch

    idx_shapes = [ctx.shape(indices[i]) if not isinstance(indices[i], np.ndarray) else indices[i].shape for i in pos]
    from ..op._rel import broadcast_shapes

    bshape = ()
    for s in idx_shapes:
        bshape = broadcast_shapes(bshape, tuple(s))
    adjacent = pos == list(range(pos[0], pos[-1] + 1))
    # move the indexed dimensions to the front, flatten them, take along axis 0
    rest = [d for d in range(len(shape)) if d not in pos]
    perm = pos + rest
    xt = x if perm == list(range(len(shape))) else _tf.transpose(x, tuple(perm))
    flat_n = _numel([shape[d] for d in pos])
    xt = _reshape(ctx, xt, (flat_n,) + tuple(shape[d] for d in rest))
    all_const = all(not isinstance(indices[i], Expr) for i in pos)
    if all_const:
        arrs = [np.broadcast_to(_np(torch.as_tensor(indices[i]) if not isinstance(indices[i], np.ndarray)
                                    else indices[i]).astype(np.int64), bshape) for i in pos]
        arrs = [np.where(v < 0, v + shape[d], v) for v, d in zip(arrs, pos)]
        lin = np.ravel_multi_index(tuple(arrs), tuple(shape[d] for d in pos)) if arrs else np.zeros(bshape, np.int64)
        lin_e = new_const(np.asarray(lin).astype("int32"))
    else:
        lin_e = None
        stride = 1
        for i, d in reversed(list(zip(pos, pos))):
            t = indices[i]
            e = ctx.expr(t, "int64") if isinstance(t, Expr) else new_const(_np(torch.as_tensor(t)).astype("int64"))
            e = _t.where(_t.less(e, ctx.scalar_const(0, "int64")), _t.add(e, ctx.scalar_const(shape[d], "int64")), e)
            term = e if stride == 1 else _t.multiply(e, ctx.scalar_const(stride, "int64"))
            lin_e = term if lin_e is None else _t.add(term, lin_e)
            stride *= shape[d]
        if ctx.shape(lin_e) != tuple(bshape):
            lin_e = _tf.broadcast_to(lin_e, tuple(bshape))
    out = _tf.take(xt, lin_e, axis=0)
    nb = len(bshape)
    if adjacent and pos[0] > 0:
        # result dims go where the indexed dims were
        k = pos[0]
        out_nd = nb + len(rest)
        order = list(range(nb, nb + k)) + list(range(nb)) + list(range(nb + k, out_nd))
        out = _tf.transpose(out, tuple(order))
    return out


@register("flip")
def _flip(ctx, a):
    x = a[0]
    shape = ctx.shape(x)
    dims = [_norm_axis(d, len(shape)) for d in _ints(a[1])]
    return _tf.strided_slice(x, [shape[d] - 1 for d in dims], [-shape[d] - 1 for d in dims], [-1] * len(dims),
                             axes=dims)


@register("roll")
def _roll(ctx, a):
    x = a[0]
    shifts, dims = _ints(a[1]), _ints(a[2]) if a.get(2) not in (None, []) else None
    if dims is None:
        n = _numel(ctx.shape(x))
        flat = _reshape(ctx, x, (n,))
        return _reshape(ctx, _roll(ctx, Args([flat, shifts, [0]])), ctx.shape(x))
    for s, d in zip(shifts, dims):
        d = _norm_axis(d, ctx.ndim(x))
        n = ctx.shape(x)[d]
        s %= n
        if s:
            idx = new_const(((np.arange(n) - s) % n).astype("int32"))
            x = _tf.take(x, idx, axis=d)
    return x


_TORCH_PAD_MODES = {"constant": "constant", None: "constant", "reflect": "reflect", "replicate": "edge",
                    "circular": "wrap"}


@register("constant_pad_nd", "pad", "reflection_pad1d", "reflection_pad2d", "reflection_pad3d",
          "replication_pad1d", "replication_pad2d", "replication_pad3d", "_pad_circular")
def _pad(ctx, a):
    """F.pad in every mode (torch's pad list runs from the last axis; negative widths crop)."""
    x, pad = a[0], _ints(a[1])
    name = a.opname.split("::")[-1]
    mode = ("reflect" if "reflection" in name else "replicate" if "replication" in name else
            "circular" if "circular" in name else a.get("mode", "constant") if a.has("mode") else "constant")
    if mode not in _TORCH_PAD_MODES:
        raise OpNotImplemented(f"pad mode {mode!r} (constant, reflect, replicate and circular are supported)")
    value = (_scalar(a.get("value")) if a.has("value") else _scalar(a.get(2))) if name in ("constant_pad_nd", "pad") \
        else None
    value = 0.0 if value is None else float(value)
    nd = ctx.ndim(x)
    width = [[0, 0] for _ in range(nd)]
    for i in range(len(pad) // 2):
        width[nd - 1 - i] = [pad[2 * i], pad[2 * i + 1]]
    if all(p == 0 for w in width for p in w):
        return x
    return _tf.pad(x, width, value, pad_mode=_TORCH_PAD_MODES[mode])


def _tri_conv(lower):
    def conv(ctx, a):
        x, k = a[0], _int(a.get(1, 0) if a.get(1) is not None else 0)
        h, w = ctx.shape(x)[-2:]
        m = np.tril(np.ones((h, w), bool), k) if lower else np.triu(np.ones((h, w), bool), k)
        return _t.where(new_const(m), x, ctx.scalar_const(0, ctx.dtype(x)))

    return conv


register("tril")(_tri_conv(True))
register("triu")(_tri_conv(False))


@register("cumsum")
def _cumsum(ctx, a):
    """cumsum along a (static-length) axis: see common.cumsum_expr (a matmul for floats, an exact integer
    sum for integers).  Integer and bool inputs accumulate in int64 unless dtype= says otherwise, as in
    PyTorch."""
    x, dim = a[0], _norm_axis(_int(a[1]), ctx.ndim(a[0]))
    dtype = a.get("dtype")
    dt = dtype_str(dtype, demote=False) if dtype is not None else (
        ctx.dtype(x) if _is_float(ctx.dtype(x)) else "int64")
    x = ctx.expr(x, dt)
    return cumsum_expr(x, dim, ctx.shape(x), dt)


# ------------------------------------------------------------------------------------ constants like a tensor

def _const_like(shape, value, dtype):
    import torch

    return torch.full(tuple(shape), value, dtype=torch_dtype(dtype))


@register("ones_like")
def _ones_like(ctx, a):
    return _const_like(ctx.shape(a[0]), 1, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("zeros_like", "empty_like")
def _zeros_like(ctx, a):
    return _const_like(ctx.shape(a[0]), 0, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("full_like")
def _full_like(ctx, a):
    return _const_like(ctx.shape(a[0]), _scalar(a[1]), dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("new_ones")
def _new_ones(ctx, a):
    return _const_like(_ints(a[1]), 1, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("new_zeros", "new_empty")
def _new_zeros(ctx, a):
    return _const_like(_ints(a[1]), 0, dtype_str(a.get("dtype")) or ctx.dtype(a[0]))


@register("new_full")
def _new_full(ctx, a):
    return _const_like(_ints(a[1]), _scalar(a[2]), dtype_str(a.get("dtype")) or ctx.dtype(a[0]))
