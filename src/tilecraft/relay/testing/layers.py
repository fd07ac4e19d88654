"""Layer helpers that create their own parameter variables (classic `relay.testing.layers`).

Parameter variables carry their shapes.  Give `in_channels` / `in_units` when the caller knows them;
otherwise the input's shape is found by type inference (correct, slower on big graphs)."""

from __future__ import annotations

from ..expr import var
from ..op import nn as _nn


def _shape(expr) -> tuple:
    from . import run_infer_type

    return run_infer_type(expr).checked_type.concrete_shape


def conv_kernel_layout(data_layout, is_depthwise=False):
    """The kernel layout that goes with a data layout: NCHW -> OIHW, NHWC -> HWIO (HWOI depthwise)."""
    table = {"NCHW": "OIHW", "NHWC": "HWOI" if is_depthwise else "HWIO"}
    if data_layout not in table:
        raise ValueError(f"unknown data layout {data_layout!r}: use NCHW or NHWC")
    return table[data_layout]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _need(name, **given):
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise ValueError(f"{name}: give {' and '.join(missing)} (or the weight) so the weight's shape is known")


def conv2d(data, weight=None, *, name, channels=None, kernel_size=None, in_channels=None, groups=1,
           data_layout="NCHW", kernel_layout=None, dtype="float32", **kwargs):
    """relay.nn.conv2d with a weight variable `<name>_weight` of the right shape."""
    kernel_layout = kernel_layout or conv_kernel_layout(data_layout)
    kh, kw = _pair(kernel_size) if kernel_size is not None else (None, None)
    if weight is None:
        _need(name, channels=channels, kernel_size=kernel_size)
        if in_channels is None:
            in_channels = _shape(data)[data_layout.index("C")]
        per_group = in_channels // groups
        shapes = {"OIHW": (channels, per_group, kh, kw), "HWIO": (kh, kw, per_group, channels)}
        if kernel_layout not in shapes:
            raise ValueError(f"{name}: kernel layout {kernel_layout} is not supported here; use OIHW or HWIO")
        weight = var(f"{name}_weight", shape=shapes[kernel_layout], dtype=dtype)
    kernel_size = None if kernel_size is None else (kh, kw)
    return _nn.conv2d(data, weight, channels=channels, kernel_size=kernel_size, groups=groups,
                      data_layout=data_layout, kernel_layout=kernel_layout, **kwargs)


def conv2d_transpose(data, weight=None, *, name, channels=None, kernel_size=None, in_channels=None,
                     dtype="float32", **kwargs):
    """relay.nn.conv2d_transpose (NCHW data, IOHW weight `<name>_weight`)."""
    kh, kw = _pair(kernel_size) if kernel_size is not None else (None, None)
    if weight is None:
        _need(name, channels=channels, kernel_size=kernel_size)
        if in_channels is None:
            in_channels = _shape(data)[1]
        weight = var(f"{name}_weight", shape=(in_channels, channels, kh, kw), dtype=dtype)
    kernel_size = None if kernel_size is None else (kh, kw)
    return _nn.conv2d_transpose(data, weight, channels=channels, kernel_size=kernel_size, **kwargs)


def batch_norm_infer(data, gamma=None, beta=None, moving_mean=None, moving_var=None, *, name, channels=None,
                     axis=1, dtype="float32", **kwargs):
    """The normalized output of relay.nn.batch_norm, with `<name>_gamma/_beta/_moving_mean/_moving_var`."""
    if channels is None and None in (gamma, beta, moving_mean, moving_var):
        channels = _shape(data)[axis]

    def param(v, suffix):
        return v if v is not None else var(f"{name}_{suffix}", shape=(channels,), dtype=dtype)

    return _nn.batch_norm(data, param(gamma, "gamma"), param(beta, "beta"), param(moving_mean, "moving_mean"),
                          param(moving_var, "moving_var"), axis=axis, **kwargs)[0]


def dense_add_bias(data, weight=None, bias=None, units=None, *, name, in_units=None, dtype="float32", **kwargs):
    """relay.nn.dense then bias_add, with `<name>_weight` [units, in] and `<name>_bias` [units]."""
    if weight is None:
        _need(name, units=units)
        if in_units is None:
            in_units = _shape(data)[-1]
        weight = var(f"{name}_weight", shape=(units, in_units), dtype=dtype)
    if bias is None:
        bias = var(f"{name}_bias", shape=(units,), dtype=dtype)
    return _nn.bias_add(_nn.dense(data, weight, units, **kwargs), bias, axis=-1)


def bias_add(data, *, name, channels, axis=1, dtype="float32"):
    """relay.nn.bias_add with a `<name>_bias` variable."""
    return _nn.bias_add(data, var(f"{name}_bias", shape=(channels,), dtype=dtype), axis=axis)


__all__ = ["batch_norm_infer", "bias_add", "conv2d", "conv2d_transpose", "conv_kernel_layout", "dense_add_bias"]
