"""Legalize rules: 1-D and 3-D convolution and pooling become the 2-D operators (see relay/op/conv_nd.py).

    conv1d(x, w)            squeeze(conv2d(x[:, :, None], w[:, :, None]), 2)
    conv1d_transpose(x, w)  squeeze(conv2d_transpose(x[:, :, None], w[:, :, None]), 2)
    pool1d(x)               squeeze(pool2d(x[:, :, None]), 2)
    conv3d_transpose(x, w)  conv3d(x dilated by the strides and padded by k - 1 - p, w flipped, I and O swapped)
    conv3d(x, w)            the KD taps of each output depth stacked as channels (groups kept apart):
                            x' [N * D', G * KD * Cg, H, W],  w' [O, KD * Cg, KH, KW],
                            conv2d(x', w', groups=G) -> [N, D', O, H', W'] -> NCDHW
    pool3d(x)               pool2d over (H, W) of [N, C * D, H, W], then over (D, 1) of [N, C, D, H' * W']

Channel-last data (NWC, NDHWC) and weights in other orders (WIO, DHWIO) are transposed around the rewrite,
which AlterOpLayout then blocks like any other conv2d.  Sizes must be known (relay.build's shapes).
"""

from __future__ import annotations

from ..op import nn as _nn
from ..op.conv_nd import conv3d
from ..op.transform import expand_dims, pad, reshape, reverse, squeeze, stack, strided_slice, transpose


def _static(c):
    shapes = [a.ty.shape for a in c.args] + [c.ty.shape]
    if not all(isinstance(s, int) for shape in shapes for s in shape):
        raise ValueError(f"{c.op.name}: building needs every size known, got {', '.join(map(str, shapes))}")
    return c.args[0].ty.shape, (c.args[1].ty.shape if len(c.args) > 1 else None)


def _channels_first(x, layout: str):
    """x in NWC / NDHWC as NCW / NCDHW, and the permutation that puts a result back."""
    if layout[1] == "C":
        return x, None
    n = len(layout)
    return transpose(x, (0, n - 1, *range(1, n - 1))), (0, *range(2, n), 1)


def _back(y, perm):
    return y if perm is None else transpose(y, perm)


def _weight_oi_first(w, layout: str, first: str = "OI"):
    """A weight in any layout as O, I, spatial (IOW for conv1d_transpose: first="IO")."""
    order = first + "".join(a for a in "DHW" if a in layout)
    perm = tuple(layout.index(a) for a in order)
    return w if perm == tuple(range(len(layout))) else transpose(w, perm)


def _conv1d(c, args):
    a = c.attrs
    _static(c)
    x, perm = _channels_first(args[0], a["data_layout"])
    w = _weight_oi_first(args[1], a["kernel_layout"])
    (s,), (d,), (pb, pa) = a["strides"], a["dilation"], a["padding"]
    k = int(c.args[1].ty.shape[a["kernel_layout"].index("W")])
    o = c.ty.shape[a["data_layout"].index("C")]
    y = _nn.conv2d(expand_dims(x, 2), expand_dims(w, 2), strides=(1, s), padding=(0, pb, 0, pa), dilation=(1, d),
                   groups=a["groups"], channels=o, kernel_size=(1, k), out_dtype=a.get("out_dtype"))
    return _back(squeeze(y, [2]), perm)


def _conv1d_transpose(c, args):
    a = c.attrs
    _static(c)
    (s,), (pb, pa), (op,) = a["strides"], a["padding"], a["output_padding"]
    x, perm = _channels_first(args[0], a["data_layout"])
    w = _weight_oi_first(args[1], a["kernel_layout"], "IO")
    k = int(c.args[1].ty.shape[a["kernel_layout"].index("W")])
    y = _nn.conv2d_transpose(expand_dims(x, 2), expand_dims(w, 2), strides=(1, s), padding=(0, pb, 0, pa),
                             output_padding=(0, op), channels=c.ty.shape[a["data_layout"].index("C")],
                             kernel_size=(1, k), out_dtype=a.get("out_dtype"))
    return _back(squeeze(y, [2]), perm)


def _conv3d(c, args):
    a = c.attrs
    _static(c)
    x, perm = _channels_first(args[0], a["data_layout"])
    w = _weight_oi_first(args[1], a["kernel_layout"])
    dl, kl = a["data_layout"], a["kernel_layout"]
    xs, ws = c.args[0].ty.shape, c.args[1].ty.shape
    n, ch, depth, h, wd = (xs[dl.index(k)] for k in "NCDHW")
    o, cg, kd, kh, kw = (ws[kl.index(k)] for k in "OIDHW")
    d_out = c.ty.shape[dl.index("D")]
    g = a["groups"]
    (sd, sh, sw), (dd, dh, dw) = a["strides"], a["dilation"]
    pf, pt, pl, pk, pb, pr = a["padding"]
    if pf or pk:
        x = pad(x, ((0, 0), (0, 0), (pf, pk), (0, 0), (0, 0)))
    taps = [strided_slice(x, (0, 0, t * dd, 0, 0), (n, ch, t * dd + (d_out - 1) * sd + 1, h, wd), (1, 1, sd, 1, 1))
            for t in range(kd)]
    x2 = reshape(stack(taps, 1), (n, kd, g, cg, d_out, h, wd))  # [N, KD, G, Cg, D', H, W]
    x2 = reshape(transpose(x2, (0, 4, 2, 1, 3, 5, 6)), (n * d_out, g * kd * cg, h, wd))
    w2 = reshape(transpose(w, (0, 2, 1, 3, 4)), (o, kd * cg, kh, kw))  # [O, (KD, Cg), KH, KW]
    y = _nn.conv2d(x2, w2, strides=(sh, sw), padding=(pt, pl, pb, pr), dilation=(dh, dw), groups=g, channels=o,
                   kernel_size=(kh, kw), out_dtype=a.get("out_dtype"))
    ho, wo = (c.ty.shape[dl.index(k)] for k in "HW")
    y = transpose(reshape(y, (n, d_out, o, ho, wo)), (0, 2, 1, 3, 4))
    return _back(y, perm)


def _dilate(x, axis: int, shape: list, stride: int):
    """stride - 1 zeros between the elements along `axis` (shape: x's sizes, updated)."""
    if stride == 1:
        return x
    n = shape[axis]
    x = pad(expand_dims(x, axis + 1), [(0, 0)] * (axis + 1) + [(0, stride - 1)] + [(0, 0)] * (len(shape) - axis - 1))
    shape[axis] = n * stride
    x = reshape(x, shape)
    end = list(shape)
    end[axis] = (n - 1) * stride + 1
    shape[axis] = end[axis]
    return strided_slice(x, [0] * len(shape), end)


def _conv3d_transpose(c, args):
    a = c.attrs
    _static(c)
    x, perm = _channels_first(args[0], a["data_layout"])
    w = _weight_oi_first(args[1], a["kernel_layout"], "IO")  # [I, O, KD, KH, KW]
    dl = a["data_layout"]
    shape = [c.args[0].ty.shape[dl.index(k)] for k in "NCDHW"]
    ks = [c.args[1].ty.shape[a["kernel_layout"].index(k)] for k in "DHW"]
    for i in range(3):
        x = _dilate(x, 2 + i, shape, a["strides"][i])
    before = [k - 1 - a["padding"][i] for i, k in enumerate(ks)]
    after = [k - 1 - a["padding"][3 + i] + a["output_padding"][i] for i, k in enumerate(ks)]
    x = pad(x, [(0, 0), (0, 0), *zip(before, after)])
    w = transpose(reverse(reverse(reverse(w, 2), 3), 4), (1, 0, 2, 3, 4))  # flipped taps, [O, I, ...]
    o = c.ty.shape[dl.index("C")]
    y = conv3d(x, w, channels=o, kernel_size=tuple(ks), out_dtype=a.get("out_dtype"))
    return _back(y, perm)


def _pool2d(kind, x, attrs, pool, strides, dilation, padding):
    extra = {"count_include_pad": attrs["count_include_pad"]} if kind == "avg" else {}
    make = _nn.max_pool2d if kind == "max" else _nn.avg_pool2d
    return make(x, pool_size=pool, strides=strides, dilation=dilation, padding=padding,
                ceil_mode=attrs["ceil_mode"], **extra)


def _pool1d(kind):
    def rule(c, args):
        a = c.attrs
        _static(c)
        x, perm = _channels_first(args[0], a["layout"])
        (k,), (s,), (d,), (pb, pa) = a["pool_size"], a["strides"], a["dilation"], a["padding"]
        y = _pool2d(kind, expand_dims(x, 2), a, (1, k), (1, s), (1, d), (0, pb, 0, pa))
        return _back(squeeze(y, [2]), perm)

    return rule


def _pool3d(kind):
    def rule(c, args):
        a = c.attrs
        _static(c)
        x, perm = _channels_first(args[0], a["layout"])
        n, ch, depth, h, w = (c.args[0].ty.shape[a["layout"].index(k)] for k in "NCDHW")
        d_out, h_out, w_out = (c.ty.shape[a["layout"].index(k)] for k in "DHW")
        (kd, kh, kw), (sd, sh, sw), (dd, dh, dw) = a["pool_size"], a["strides"], a["dilation"]
        pf, pt, pl, pk, pb, pr = a["padding"]
        y = _pool2d(kind, reshape(x, (n, ch * depth, h, w)), a, (kh, kw), (sh, sw), (dh, dw), (pt, pl, pb, pr))
        y = _pool2d(kind, reshape(y, (n, ch, depth, h_out * w_out)), a, (kd, 1), (sd, 1), (dd, 1), (pf, 0, pk, 0))
        return _back(reshape(y, (n, ch, d_out, h_out, w_out)), perm)

    return rule


RULES = {"nn.conv1d": _conv1d, "nn.conv3d": _conv3d, "nn.conv1d_transpose": _conv1d_transpose,
         "nn.conv3d_transpose": _conv3d_transpose,
         **{f"nn.{k}_pool{nd}d": (_pool1d if nd == 1 else _pool3d)(k) for k in ("max", "avg") for nd in (1, 3)}}
