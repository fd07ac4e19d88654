"""Type relations shared by many operators."""

from __future__ import annotations

from ..ty import TensorType, dim, dims_equal


def tensor_arg(types, i: int, what: str) -> TensorType:
    t = types[i]
    if not isinstance(t, TensorType):
        raise TypeError(f"{what} must be a tensor, got {t}")
    return t


def same_dtype(*named) -> None:
    """Raise TypeError unless the (name, TensorType) pairs share a dtype where it matters.

    For operators that compute in their inputs' dtype (dense, conv, bias_add, the norms): a
    float64 weight beside float32 data would otherwise be read as float32 bits or silently
    narrowed.  Differing integer dtypes pass (int8 x uint8 quantized kernels, which name their
    out_dtype); a float with anything else does not."""
    dtypes = {n: t.dtype for n, t in named}
    if len(set(dtypes.values())) > 1 and any(d.startswith(("float", "bfloat")) for d in dtypes.values()):
        listed = ", ".join(f"{n} is {d}" for n, d in dtypes.items())
        raise TypeError(f"input dtypes differ ({listed}); insert a cast")


def same_dtype_rel(rel, *names):
    """`rel` after same_dtype on the first len(names) inputs, called `names` in the message."""

    def checked(types, attrs):
        same_dtype(*((n, tensor_arg(types, i, n)) for i, n in enumerate(names)))
        return rel(types, attrs)

    return checked


def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    """numpy broadcasting; a symbolic size broadcasts with 1 or with itself, and relay.Any() with
    anything (the sizes are checked at run time), as classic Relay's BroadcastRel."""
    from ...ir.expr import Any

    out = []
    for k in range(1, max(len(a), len(b)) + 1):
        x = a[-k] if k <= len(a) else 1
        y = b[-k] if k <= len(b) else 1
        if isinstance(x, int) and isinstance(y, int):
            if x != y and x != 1 and y != 1:
                raise ValueError(f"shapes {tuple(a)} and {tuple(b)} do not broadcast (dimension -{k}: {x} vs {y})")
            out.append(max(x, y) if x != 1 and y != 1 else x * y if 0 in (x, y) else max(x, y))
        elif isinstance(x, int) and x == 1:
            out.append(y)
        elif isinstance(y, int) and y == 1:
            out.append(x)
        elif dims_equal(x, y):
            out.append(x)
        elif isinstance(x, Any) or isinstance(y, Any):
            out.append(Any())
        else:
            raise ValueError(f"shapes {tuple(a)} and {tuple(b)} do not broadcast (dimension -{k}: {x} vs {y}: "
                             f"symbolic sizes must be the same variable, or 1)")
    return tuple(reversed(out))


def broadcast_rel(types, attrs):
    a, b = tensor_arg(types, 0, "lhs"), tensor_arg(types, 1, "rhs")
    if a.dtype != b.dtype:
        raise TypeError(f"dtypes differ: {a.dtype} vs {b.dtype}; insert a cast")
    return TensorType(broadcast_shapes(a.shape, b.shape), a.dtype)


def compare_rel(types, attrs):
    t = broadcast_rel(types, attrs)
    return TensorType(t.shape, "bool")


def identity_rel(types, attrs):
    return tensor_arg(types, 0, "input")


def normalize_axis(axis: int, ndim: int, what: str = "axis") -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{what} {axis} is out of range for a tensor of rank {ndim}")
    return axis % ndim if ndim else 0


def reduce_axes(attrs, ndim: int) -> list:
    axis = attrs.get("axis")
    if axis is None:
        axes = list(range(ndim))
    else:
        axes = [normalize_axis(a, ndim) for a in ((axis,) if isinstance(axis, int) else axis)]
    if attrs.get("exclude"):
        axes = [a for a in range(ndim) if a not in axes]
    return sorted(set(axes))


def reduce_rel(types, attrs, dtype=None):
    t = tensor_arg(types, 0, "input")
    axes = reduce_axes(attrs, t.ndim)
    shape = [1 if i in axes else s for i, s in enumerate(t.shape)] if attrs.get("keepdims") else \
        [s for i, s in enumerate(t.shape) if i not in axes]
    return TensorType(tuple(shape), dtype or t.dtype)


def window_out(size, k, stride, dil, before, after, ceil_mode=False):
    """Output size of a sliding window; with ceil_mode the last window may overhang the padding but
    must start inside the input or the padding before it (PyTorch's rule, as topi's pool2d)."""
    span = dim(size + before + after - ((k - 1) * dil + 1))
    out = dim((span + stride - 1) // stride + 1 if ceil_mode else span // stride + 1)
    if ceil_mode and isinstance(out, int) and isinstance(size, int) and (out - 1) * stride >= size + before:
        out -= 1
    if isinstance(out, int) and out <= 0:
        raise ValueError(f"output size {out} <= 0 (input {size}, window {k}, stride {stride}, dilation {dil}, "
                         f"padding {before}+{after})")
    return out


def check_channels(c, i, o, groups: int) -> None:
    """A convolution's data channels c against its weight's i per group (and o divisible by groups)."""
    if dims_equal(c, dim(i * groups)) is False:
        raise ValueError(f"data has {c} channels but weight expects {i} x groups={groups} = {dim(i * groups)}")
    if isinstance(o, int) and o % groups:
        raise ValueError(f"{o} output channels are not divisible by groups={groups}")
