"""Data movement: reshape, transpose, squeeze, expand_dims, concatenate, split, strided_slice,
take, gather, flatten, tile, repeat, flip.  All tagged "injective": each output element reads
one input element, so these inline into their readers.  Shapes are constant ints, except that
concatenate, squeeze and flatten also take symbolic sizes (classic Relay type-checks graphs so).
"""

from __future__ import annotations

import math

from .. import te
from ..ir.expr import IntImm, PrimExpr, const, convert, floordiv, floormod, max_, min_, select
from ..ir.functor import structural_equal
from ..ir.op import if_then_else
from .reduction import normalize_axes
from .tag import ELEMWISE, INJECTIVE


def const_shape(t: te.Tensor, what: str = "operator") -> tuple:
    """t's shape as Python ints (raises with the operator's name when a size is symbolic)."""
    out = []
    for s in t.shape:
        if not isinstance(s, IntImm):
            raise ValueError(f"{what}: needs a constant shape, {t.name} has {tuple(t.shape)}")
        out.append(s.value)
    return tuple(out)


def shape_dims(t: te.Tensor) -> tuple:
    """t's shape with constant sizes as Python ints and symbolic ones as expressions."""
    return tuple(s.value if isinstance(s, IntImm) else s for s in t.shape)


def _int(v) -> int:
    return int(v.value if isinstance(v, IntImm) else v)


def _ravel(idx, shape) -> PrimExpr:
    flat = const(0)
    for i, s in zip(idx, shape):
        flat = flat * s + i
    return flat


def _unravel(flat, shape) -> tuple:
    out = []
    for s in reversed(shape):
        out.append(floormod(flat, s) if s != 1 else const(0))
        flat = floordiv(flat, s)
    return tuple(reversed(out))


def reshape(a: te.Tensor, newshape):
    """Same elements in row-major order, new shape; -1 infers one size, 0 copies the input's size."""
    shape = const_shape(a, "reshape")
    total = 1
    for s in shape:
        total *= s
    new = [_int(s) for s in (newshape if isinstance(newshape, (list, tuple)) else (newshape,))]
    new = [shape[k] if s == 0 else s for k, s in enumerate(new)]
    if new.count(-1) > 1:
        raise ValueError(f"reshape: at most one -1 in the new shape, got {tuple(new)}")
    if -1 in new:
        known = 1
        for s in new:
            if s != -1:
                known *= s
        if known == 0 or total % known:
            raise ValueError(f"reshape: cannot infer -1 reshaping {shape} into {tuple(new)}")
        new[new.index(-1)] = total // known
    size = 1
    for s in new:
        size *= s
    if size != total:
        raise ValueError(f"reshape: cannot reshape {shape} ({total} elements) into {tuple(new)} ({size})")
    if tuple(new) == shape:
        return te.compute(shape, lambda *i: a[i], name="T_reshape", tag=INJECTIVE)
    return te.compute(tuple(new), lambda *i: a[_unravel(_ravel(i, new), shape)], name="T_reshape",
                      tag=INJECTIVE)


def transpose(a: te.Tensor, axes=None):
    """Permute the axes (reverse them when axes is None); out.shape[k] = a.shape[axes[k]]."""
    n = len(a.shape)
    given = tuple(reversed(range(n))) if axes is None else tuple(_int(x) for x in axes)
    axes = tuple(x % n if -n <= x < n else x for x in given)
    if sorted(axes) != list(range(n)):
        raise ValueError(f"transpose: axes {given} is not a permutation of the {n} axes 0..{n - 1} (or -{n}..-1)")
    shape = tuple(a.shape[x] for x in axes)

    def f(*i):
        idx = [None] * n
        for k, x in enumerate(axes):
            idx[x] = i[k]
        return a[tuple(idx)]

    return te.compute(shape, f, name="T_transpose", tag=INJECTIVE)


def squeeze(a: te.Tensor, axis=None):
    """Drop size-1 axes (all of them when axis is None)."""
    shape = shape_dims(a)
    if axis is None:
        axes = tuple(k for k, s in enumerate(shape) if isinstance(s, int) and s == 1)
    else:
        axes = normalize_axes(len(shape), axis, "squeeze")
        bad = [k for k in axes if isinstance(shape[k], int) and shape[k] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad[0]} has size {shape[bad[0]]}, not 1")
    new = tuple(s for k, s in enumerate(shape) if k not in axes)

    def f(*i):
        it = iter(i)
        return a[tuple(const(0) if k in axes else next(it) for k in range(len(shape)))]

    return te.compute(new, f, name="T_squeeze", tag=INJECTIVE)


def expand_dims(a: te.Tensor, axis: int, num_newaxis: int = 1):
    """Insert num_newaxis size-1 axes at position axis (negative counts from the end of the result)."""
    n = len(a.shape)
    if not -n - 1 <= axis <= n:
        raise ValueError(f"expand_dims: axis {axis} is out of range for rank {n}")
    axis = axis % (n + 1)
    shape = tuple(a.shape[:axis]) + (const(1),) * num_newaxis + tuple(a.shape[axis:])
    return te.compute(shape, lambda *i: a[i[:axis] + i[axis + num_newaxis:]], name="T_expand_dims",
                      tag=INJECTIVE)


def concatenate(tensors, axis: int = 0):
    """Join tensors along axis; the other sizes must agree."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    shapes = [shape_dims(t) for t in tensors]
    n = len(shapes[0])
    axis = normalize_axes(n, axis, "concatenate")[0]
    for t, s in zip(tensors, shapes):
        if len(s) != n or any(not structural_equal(x, y) for k, (x, y) in enumerate(zip(s, shapes[0])) if k != axis):
            raise ValueError(f"concatenate: {t.name} has shape {s}, incompatible with {shapes[0]} "
                             f"outside axis {axis}")
    starts, total = [], 0
    for s in shapes:
        starts.append(total)
        total += s[axis]
    out = list(shapes[0])
    out[axis] = total

    def f(*i):
        j = i[axis]
        val = None
        for k in reversed(range(len(tensors))):
            v = tensors[k][i[:axis] + (j - starts[k],) + i[axis + 1:]]
            val = v if val is None else if_then_else(j < starts[k + 1], v, val)
        return val

    return te.compute(tuple(out), f, name="T_concat", tag=INJECTIVE)


def stack(tensors, axis: int = 0):
    """Join same-shape tensors along a new axis."""
    n = len(tensors[0].shape)
    axis = axis % (n + 1)
    return concatenate([expand_dims(t, axis) for t in tensors], axis)


def _slice_params(shape, begin, end, strides, axes):
    """numpy slicing -> per axis (start, stride, length) with negative values resolved and clamped."""
    n = len(shape)
    axes = list(range(len(begin))) if axes is None else [_int(x) % n for x in axes]
    strides = [1] * len(axes) if strides is None or len(strides) == 0 else list(strides)
    if len(strides) == 1 and len(axes) > 1:
        strides = strides * len(axes)
    params = [(0, 1, s) for s in shape]
    for k, ax in enumerate(axes):
        dim, st = shape[ax], _int(strides[k]) if k < len(strides) else 1
        if st == 0:
            raise ValueError("strided_slice: a stride of 0 is not allowed")
        has_b = k < len(begin) and begin[k] is not None
        has_e = end is not None and k < len(end) and end[k] is not None
        b = _int(begin[k]) if has_b else (0 if st > 0 else dim - 1)
        b = b + dim if b < 0 else b
        if has_e:
            e = _int(end[k])
            e = e + dim if e < 0 else e
        else:
            e = dim if st > 0 else -1
        if st > 0:
            b, e = min(max(b, 0), dim), min(max(e, 0), dim)
            length = max(0, (e - b + st - 1) // st)
        else:
            b, e = min(max(b, -1), dim - 1), min(max(e, -1), dim - 1)
            length = max(0, (b - e + (-st) - 1) // (-st))
        params[ax] = (b, st, length)
    return params


def strided_slice(a: te.Tensor, begin, end, strides=None, axes=None, slice_mode: str = "end"):
    """numpy's a[b0:e0:s0, b1:e1:s1, ...]; negative begin/end count from the end, out-of-range values
    clamp, negative strides walk backwards.  slice_mode="size" reads `end` as sizes (-1: to the end)."""
    shape = const_shape(a, "strided_slice")
    begin = [_int(b) for b in begin]
    if slice_mode == "size":
        ax = list(range(len(begin))) if axes is None else [_int(x) % len(shape) for x in axes]
        end = [shape[x] if _int(s) < 0 else (b % shape[x] if b < 0 else b) + _int(s)
               for x, b, s in zip(ax, begin, end)]
        strides = None
    elif slice_mode != "end":
        raise ValueError(f"strided_slice: slice_mode must be 'end' or 'size', got {slice_mode!r}")
    params = _slice_params(shape, begin, end, strides, axes)
    out = tuple(p[2] for p in params)
    return te.compute(out, lambda *i: a[tuple(b + j * s for j, (b, s, _) in zip(i, params))],
                      name="T_strided_slice", tag=INJECTIVE)


def split(a: te.Tensor, indices_or_sections, axis: int = 0):
    """Split along axis into equal sections (an int) or at the given indices (a list)."""
    shape = const_shape(a, "split")
    axis = normalize_axes(len(shape), axis, "split")[0]
    dim = shape[axis]
    if isinstance(indices_or_sections, (int, IntImm)):
        n = _int(indices_or_sections)
        if n <= 0 or dim % n:
            raise ValueError(f"split: axis {axis} of size {dim} does not divide into {n} equal sections")
        bounds = [k * (dim // n) for k in range(n)] + [dim]
    else:
        bounds = [0] + [_int(i) for i in indices_or_sections] + [dim]
    outs = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        hi = max(lo, min(hi, dim))
        out = list(shape)
        out[axis] = hi - lo
        outs.append(te.compute(tuple(out), lambda *i, lo=lo: a[i[:axis] + (i[axis] + lo,) + i[axis + 1:]],
                               name="T_split", tag=INJECTIVE))
    return outs


def _fix_index(idx, dim: int, mode: str):
    if mode == "clip":
        return min_(max_(idx, const(0, idx.dtype)), const(dim - 1, idx.dtype))
    if mode == "wrap":
        return floormod(idx, const(dim, idx.dtype))
    if mode == "fast":
        return idx
    raise ValueError(f"take: mode must be 'clip', 'wrap' or 'fast', got {mode!r}")


def take(a: te.Tensor, indices, axis=None, mode: str = "clip", batch_dims: int = 0):
    """Pick elements (axis None: of the flattened tensor) or slices along axis by an index tensor.

    out.shape = a.shape[:axis] + indices.shape + a.shape[axis+1:].  mode: "clip" clamps indices into
    range (so -1 reads element 0, as classic TVM), "wrap" counts negative ones from the end,
    "fast" trusts them.  An embedding lookup is take(table, ids, axis=0)."""
    if batch_dims:
        raise ValueError(f"take: batch_dims={batch_dims} is not supported; use batch_dims=0 (gather per batch "
                         "with topi.gather instead)")
    shape = const_shape(a, "take")
    if not isinstance(indices, te.Tensor):
        v = convert(indices)
        ind_shape, read = (), (lambda i: v)
    else:
        ind_shape, read = tuple(indices.shape), (lambda i: indices[i])
    if axis is None:
        total = 1
        for s in shape:
            total *= s
        return te.compute(ind_shape, lambda *i: a[_unravel(_fix_index(read(i), total, mode), shape)],
                          name="T_take", tag=INJECTIVE)
    axis = normalize_axes(len(shape), axis, "take")[0]
    m = len(ind_shape)
    out = tuple(a.shape[:axis]) + ind_shape + tuple(a.shape[axis + 1:])

    def f(*i):
        j = _fix_index(read(i[axis:axis + m]), shape[axis], mode)
        return a[i[:axis] + (j,) + i[axis + m:]]

    return te.compute(out, f, name="T_take", tag=INJECTIVE)


def gather(data: te.Tensor, axis: int, indices: te.Tensor):
    """out[i][j][k] = data[i][indices[i][j][k]][k] for axis=1 (torch.gather / ONNX GatherElements);
    negative indices count from the end."""
    shape = const_shape(data, "gather")
    axis = normalize_axes(len(shape), axis, "gather")[0]

    def f(*i):
        j = indices[i]
        j = select(j < const(0, j.dtype), j + const(shape[axis], j.dtype), j)
        return data[i[:axis] + (j,) + i[axis + 1:]]

    return te.compute(indices.shape, f, name="T_gather", tag=INJECTIVE)


def gather_nd(data: te.Tensor, indices: te.Tensor):
    """out[y...] = data[indices[0, y...], ..., indices[m-1, y...], x...] (classic TVM layout: the
    index tuple is the FIRST axis of `indices`)."""
    m = _int(indices.shape[0])
    out = tuple(indices.shape[1:]) + tuple(data.shape[m:])
    ny = len(indices.shape) - 1

    def f(*i):
        y, x = i[:ny], i[ny:]
        return data[tuple(indices[(const(k),) + y] for k in range(m)) + x]

    return te.compute(out, f, name="T_gather_nd", tag=INJECTIVE)


def flatten(data: te.Tensor):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...) (topi.nn.flatten)."""
    shape = shape_dims(data)
    inner = 1
    for s in shape[1:]:
        inner = inner * s
    if all(isinstance(s, int) for s in shape):
        return reshape(data, (shape[0], inner))

    def f(n, j):  # symbolic sizes: unflatten j by the trailing sizes
        idx = []
        for s in reversed(shape[1:]):
            idx.append(floormod(j, s))
            j = floordiv(j, s)
        return data[(n, *reversed(idx))]

    return te.compute((shape[0], inner), f, name="T_flatten", tag=INJECTIVE)


def tile(a: te.Tensor, reps):
    """numpy.tile: repeat the whole tensor reps[k] times along axis k (reps may be longer than the rank)."""
    shape = const_shape(a, "tile")
    reps = [_int(r) for r in reps]
    n = max(len(shape), len(reps))
    shape_p = (1,) * (n - len(shape)) + shape
    reps = [1] * (n - len(reps)) + reps
    out = tuple(s * r for s, r in zip(shape_p, reps))
    off = n - len(shape)
    return te.compute(out, lambda *i: a[tuple(floormod(i[off + k], s) for k, s in enumerate(shape))],
                      name="T_tile", tag=INJECTIVE)


def repeat(a: te.Tensor, repeats: int, axis: int):
    """numpy.repeat with a scalar count: each element repeated along axis."""
    shape = const_shape(a, "repeat")
    axis = normalize_axes(len(shape), axis, "repeat")[0]
    r = _int(repeats)
    out = list(shape)
    out[axis] *= r
    return te.compute(tuple(out), lambda *i: a[i[:axis] + (floordiv(i[axis], r),) + i[axis + 1:]],
                      name="T_repeat", tag=INJECTIVE)


def flip(a: te.Tensor, axis: int = 0):
    """Reverse the order along axis (topi.flip / reverse)."""
    shape = const_shape(a, "flip")
    axes = normalize_axes(len(shape), axis, "flip")

    def f(*i):
        return a[tuple(shape[k] - 1 - j if k in axes else j for k, j in enumerate(i))]

    return te.compute(shape, f, name="T_reverse", tag=INJECTIVE)


reverse = flip


def arange(start, stop=None, step=1, dtype: str = "float32"):
    """Evenly spaced values in [start, stop), as numpy.arange."""
    if stop is None:
        start, stop = 0, start
    n = max(0, math.ceil((stop - start) / step))
    return te.compute((n,), lambda i: const(start, dtype) + i.astype(dtype) * const(step, dtype),
                      name="T_arange", tag=ELEMWISE)


__all__ = ["const_shape", "reshape", "transpose", "squeeze", "expand_dims", "concatenate", "stack",
           "strided_slice", "split", "take", "gather", "gather_nd", "flatten", "tile", "repeat", "flip",
           "reverse", "arange"]
