"""Layout operators: `layout_transform`, and the blocked-layout conv2d and the packed-weight dense
that AlterOpLayout rewrites to.

Layouts are classic TVM strings; the ones supported here are the CPU's blocked forms:

    "NCHW"  <->  "NCHW16c"      data:   [N, C, H, W]  <->  [N, C/16, H, W, 16]
    "OIHW"   ->  "OIHW16i16o"   kernel: [O, I, KH, KW] ->  [O/16, I/16, KH, KW, 16, 16]
    "NC"     ->  "NC16n"        dense weight: [N, K]   ->  [N/16, K, 16]
    "NCHW"  <->  "NHWC", "OIHW" -> "HWIO", ...   any re-ordering of the same axes (a transpose)

A kernel or dense weight that is a constant is packed once, at compile time, by FoldConstant.
"""

from __future__ import annotations

import re

from ..ty import TensorType
from ._rel import tensor_arg
from .registry import OpPattern, make_call, register_op

_BLOCKED_DATA = re.compile(r"^NCHW(\d+)c$")
_BLOCKED_KERNEL = re.compile(r"^OIHW(\d+)i(\d+)o$")
_BLOCKED_DENSE = re.compile(r"^NC(\d+)n$")


# ---------------------------------------------------------------------------- layout_transform

def _transform_kind(src: str, dst: str):
    """('to_nchwc', c) | ('from_nchwc', c) | ('kernel', (ic, oc)) | ('dense', n); ValueError otherwise."""
    m = _BLOCKED_DATA.match(dst)
    if src == "NCHW" and m:
        return "to_nchwc", int(m.group(1))
    m = _BLOCKED_DATA.match(src)
    if dst == "NCHW" and m:
        return "from_nchwc", int(m.group(1))
    m = _BLOCKED_KERNEL.match(dst)
    if src == "OIHW" and m:
        return "kernel", (int(m.group(1)), int(m.group(2)))
    m = _BLOCKED_DENSE.match(dst)
    if src == "NC" and m:
        return "dense", int(m.group(1))
    if src.isalpha() and len(set(src)) == len(src) and sorted(src) == sorted(dst):
        return "permute", tuple(src.index(a) for a in dst)
    raise ValueError(f"layout_transform from {src!r} to {dst!r} is not supported; supported: NCHW <-> NCHW<c>c, "
                     "OIHW -> OIHW<i>i<o>o, NC -> NC<n>n, and re-orderings of the same axes (NCHW -> NHWC)")


def _layout_transform_rel(types, attrs):
    t = tensor_arg(types, 0, "data")
    kind, b = _transform_kind(attrs["src_layout"], attrs["dst_layout"])
    s = t.shape
    want = {"to_nchwc": 4, "from_nchwc": 5, "kernel": 4, "dense": 2, "permute": len(attrs["src_layout"])}[kind]
    if t.ndim != want:
        raise ValueError(f"layout {attrs['src_layout']} needs a {want}-D tensor, got shape {s}")
    if kind == "permute":
        return TensorType(tuple(s[a] for a in b), t.dtype)
    if kind == "to_nchwc":
        if s[1] % b:
            raise ValueError(f"{s[1]} channels are not a multiple of the block {b}")
        return TensorType((s[0], s[1] // b, s[2], s[3], b), t.dtype)
    if kind == "from_nchwc":
        if s[4] != b:
            raise ValueError(f"the inner block of shape {s} is {s[4]}, not {b} ({attrs['src_layout']})")
        return TensorType((s[0], s[1] * b, s[2], s[3]), t.dtype)
    if kind == "kernel":
        ic, oc = b
        if s[0] % oc or s[1] % ic:
            raise ValueError(f"kernel {s} (OIHW) does not split into blocks of {ic} inputs and {oc} outputs")
        return TensorType((s[0] // oc, s[1] // ic, s[2], s[3], ic, oc), t.dtype)
    if s[0] % b:
        raise ValueError(f"{s[0]} rows are not a multiple of the panel width {b}")
    return TensorType((s[0] // b, s[1], b), t.dtype)


def _layout_transform_compute(attrs, ins, out):
    from ... import topi

    kind, b = _transform_kind(attrs["src_layout"], attrs["dst_layout"])
    x = ins[0]
    if kind == "to_nchwc":
        return topi.nn.nchw_to_nchwc(x, b)
    if kind == "from_nchwc":
        return topi.nn.nchwc_to_nchw(x)
    if kind == "kernel":
        return topi.nn.pack_conv_kernel(x, b[0], b[1])
    if kind == "permute":
        return topi.transpose(x, b)
    return topi.nn.dense_pack_weight(x, b)


register_op("layout_transform", _layout_transform_rel, _layout_transform_compute, OpPattern.INJECTIVE,
            {"src_layout": "", "dst_layout": ""},
            doc="Re-arrange a tensor between a plain and a blocked layout.")


def layout_transform(data, src_layout: str, dst_layout: str):
    """relay.layout_transform(x, "NCHW", "NCHW16c")."""
    _transform_kind(src_layout, dst_layout)
    return make_call("layout_transform", (data,), src_layout=src_layout, dst_layout=dst_layout)


# ---------------------------------------------------------------------------- conv2d in NCHW[x]c

def _conv2d_nchwc_rel(types, attrs):
    from ._rel import window_out
    from .nn import _pad4, _pair

    d, w = tensor_arg(types, 0, "data"), tensor_arg(types, 1, "weight")
    if d.ndim != 5 or w.ndim != 6:
        raise ValueError(f"contrib_conv2d_NCHWc expects 5-D data and a 6-D packed kernel, got {d.shape} and {w.shape}")
    n, icc, h, wd, ic = d.shape
    occ, kicc, kh, kw, kic, oc = w.shape
    groups = attrs["groups"]
    if (kicc * groups, kic) != (icc, ic):
        raise ValueError(f"data has {icc} blocks of {ic} input channels but the kernel expects {kicc} blocks of {kic}"
                         + (f" per group ({groups} groups)" if groups != 1 else ""))
    if groups < 1 or occ % groups:
        raise ValueError(f"contrib_conv2d_NCHWc: {occ} output blocks do not split into {groups} groups")
    sh, sw = _pair(attrs["strides"])
    dh, dw = _pair(attrs["dilation"])
    pt, pl, pb, pr = _pad4(attrs["padding"])
    return TensorType((n, occ, window_out(h, kh, sh, dh, pt, pb), window_out(wd, kw, sw, dw, pl, pr), oc),
                      attrs.get("out_dtype") or d.dtype)


def _conv2d_nchwc_compute(attrs, ins, out):
    from ... import topi
    from .nn import _pad4, _pair

    return topi.nn.conv2d_NCHWc(ins[0], ins[1], _pair(attrs["strides"]), _pad4(attrs["padding"]),
                                _pair(attrs["dilation"]), attrs["data_layout"], attrs["out_layout"],
                                attrs.get("out_dtype"), attrs["groups"])


register_op("nn.contrib_conv2d_NCHWc", _conv2d_nchwc_rel, _conv2d_nchwc_compute, OpPattern.OUT_ELEMWISE_FUSABLE,
            {"strides": (1, 1), "padding": (0, 0, 0, 0), "dilation": (1, 1), "groups": 1, "channels": None,
             "kernel_size": None, "data_layout": "NCHW16c", "kernel_layout": "OIHW16i16o", "out_layout": "",
             "out_dtype": None},
            doc="conv2d on blocked data [N, C/ic, H, W, ic] with a packed kernel [O/oc, C/groups/ic, KH, KW, ic, oc].")


def contrib_conv2d_nchwc(data, kernel, strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, channels=None,
                         kernel_size=None, data_layout="NCHW16c", kernel_layout="OIHW16i16o", out_layout="",
                         out_dtype=None):
    """relay.nn.contrib_conv2d_nchwc, as classic TVM spells it."""
    from .nn import _pad4, _pair

    return make_call("nn.contrib_conv2d_NCHWc", (data, kernel), strides=_pair(strides), padding=_pad4(padding),
                     dilation=_pair(dilation), groups=int(groups), channels=channels, kernel_size=kernel_size,
                     data_layout=data_layout, kernel_layout=kernel_layout, out_layout=out_layout,
                     out_dtype=out_dtype)


# ---------------------------------------------------------------------------- depthwise conv2d in NCHW[x]c

def _depthwise_nchwc_rel(types, attrs):
    from ._rel import window_out
    from .nn import _pad4, _pair

    d, w = tensor_arg(types, 0, "data"), tensor_arg(types, 1, "weight")
    if d.ndim != 5 or w.ndim != 6:
        raise ValueError(f"contrib_depthwise_conv2d_NCHWc expects 5-D data and a 6-D packed kernel, got {d.shape} "
                         f"and {w.shape}")
    n, cc, h, wd, cb = d.shape
    if (w.shape[0], w.shape[1], w.shape[4], w.shape[5]) != (cc, 1, 1, cb):
        raise ValueError(f"data has {cc} blocks of {cb} channels but the kernel {w.shape} is not "
                         f"[{cc}, 1, KH, KW, 1, {cb}] (OIHW1i{cb}o)")
    sh, sw = _pair(attrs["strides"])
    dh, dw = _pair(attrs["dilation"])
    pt, pl, pb, pr = _pad4(attrs["padding"])
    oh, ow = window_out(h, w.shape[2], sh, dh, pt, pb), window_out(wd, w.shape[3], sw, dw, pl, pr)
    return TensorType((n, cc, oh, ow, cb), attrs.get("out_dtype") or d.dtype)


def _depthwise_nchwc_compute(attrs, ins, out):
    from ... import topi
    from .nn import _pad4, _pair

    return topi.nn.depthwise_conv2d_NCHWc(ins[0], ins[1], _pair(attrs["strides"]), _pad4(attrs["padding"]),
                                          _pair(attrs["dilation"]), attrs["data_layout"], attrs["out_layout"],
                                          attrs.get("out_dtype"))


register_op("nn.contrib_depthwise_conv2d_NCHWc", _depthwise_nchwc_rel, _depthwise_nchwc_compute,
            OpPattern.OUT_ELEMWISE_FUSABLE,
            {"strides": (1, 1), "padding": (0, 0, 0, 0), "dilation": (1, 1), "groups": 1, "channels": None,
             "kernel_size": None, "data_layout": "NCHW16c", "kernel_layout": "OIHW1i16o", "out_layout": "",
             "out_dtype": None},
            doc="depthwise conv2d on blocked data [N, C/b, H, W, b] with a kernel packed as [C/b, 1, KH, KW, 1, b].")


def contrib_depthwise_conv2d_nchwc(data, kernel, strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                                   channels=None, kernel_size=None, data_layout="NCHW16c", kernel_layout="OIHW1i16o",
                                   out_layout="", out_dtype=None):
    """relay.nn.contrib_depthwise_conv2d_nchwc, as classic TVM spells it."""
    from .nn import _pad4, _pair

    return make_call("nn.contrib_depthwise_conv2d_NCHWc", (data, kernel), strides=_pair(strides),
                     padding=_pad4(padding), dilation=_pair(dilation), groups=int(groups), channels=channels,
                     kernel_size=kernel_size, data_layout=data_layout, kernel_layout=kernel_layout,
                     out_layout=out_layout, out_dtype=out_dtype)


# ---------------------------------------------------------------------------- dense with packed weight

def _dense_pack_rel(types, attrs):
    d, w = tensor_arg(types, 0, "data"), tensor_arg(types, 1, "weight")
    if w.ndim != 3:
        raise ValueError(f"packed weight must be 3-D [N/n, K, n], got shape {w.shape}")
    if d.shape[-1] != w.shape[1]:
        raise ValueError(f"data has {d.shape[-1]} features but the packed weight expects {w.shape[1]}")
    return TensorType(tuple(d.shape[:-1]) + (w.shape[0] * w.shape[2],), attrs.get("out_dtype") or d.dtype)


def _dense_pack_compute(attrs, ins, out):
    from ... import topi
    from .nn import on_rows

    data, weight = ins
    return on_rows(data, lambda rows: topi.nn.dense_pack(rows, weight, out_dtype=attrs.get("out_dtype")))


register_op("nn.contrib_dense_pack", _dense_pack_rel, _dense_pack_compute, OpPattern.OUT_ELEMWISE_FUSABLE,
            {"units": None, "out_dtype": None, "weight_layout": "NC16n"},
            doc="dense with the weight packed in column panels [N/n, K, n] (see layout_transform 'NC' -> 'NC<n>n').")


def contrib_dense_pack(data, weight, units=None, out_dtype=None, weight_layout="NC16n"):
    """relay.nn.contrib_dense_pack(data, packed_weight)."""
    return make_call("nn.contrib_dense_pack", (data, weight), units=units, out_dtype=out_dtype,
                     weight_layout=weight_layout)
