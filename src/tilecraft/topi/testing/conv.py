"""numpy references for convolutions (classic `topi.testing.conv2d_nchw_python` and friends).

Results are float64-accurate sums cast back to the input's dtype; padding takes what topi's
convolutions take (int, (h, w), (top, left, bottom, right), "SAME", "VALID")."""

from __future__ import annotations

import numpy as np

from ..nn.pad import get_pad_tuple


def _pair(v) -> tuple:
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(x) for x in v)


def _windows(a, kh, kw, stride, padding, spatial=(2, 3)):
    """a padded then viewed as windows: (..., OH, OW, KH, KW) over the two spatial axes."""
    sh, sw = _pair(stride)
    top, left, bottom, right = get_pad_tuple(padding, (kh, kw))
    widths = [(0, 0)] * a.ndim
    widths[spatial[0]], widths[spatial[1]] = (top, bottom), (left, right)
    padded = np.pad(a, widths)
    win = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=spatial)
    index = [slice(None)] * a.ndim
    index[spatial[0]], index[spatial[1]] = slice(None, None, sh), slice(None, None, sw)
    return win[tuple(index)]


def conv2d_nchw_python(a_np, w_np, stride, padding, groups=1):
    """a [N, C, H, W], w [O, C/groups, KH, KW] -> [N, O, OH, OW].  Dilate the kernel with
    `dilate_python` first for a dilated convolution, as classic tests do."""
    n, c, _, _ = a_np.shape
    o, cg, kh, kw = w_np.shape
    if c != cg * groups or o % groups:
        raise ValueError(f"conv2d_nchw_python: {c} input channels, weight {w_np.shape}, groups={groups}")
    win = _windows(a_np.astype("float64"), kh, kw, stride, padding)  # N, C, OH, OW, KH, KW
    og = o // groups
    outs = [np.tensordot(win[:, g * cg:(g + 1) * cg], w_np[g * og:(g + 1) * og].astype("float64"),
                         axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) for g in range(groups)]
    return np.concatenate(outs, axis=1).astype(a_np.dtype)


def conv2d_nhwc_python(a_np, w_np, stride, padding, groups=1):
    """a [N, H, W, C], w [KH, KW, C/groups, O] (HWIO) -> [N, OH, OW, O]."""
    out = conv2d_nchw_python(a_np.transpose(0, 3, 1, 2), w_np.transpose(3, 2, 0, 1), stride, padding, groups)
    return out.transpose(0, 2, 3, 1)


def conv2d_hwcn_python(a_np, w_np, stride, padding):
    """a [H, W, C, N], w [KH, KW, C, O] -> [OH, OW, O, N]."""
    out = conv2d_nchw_python(a_np.transpose(3, 2, 0, 1), w_np.transpose(3, 2, 0, 1), stride, padding)
    return out.transpose(2, 3, 1, 0)


def depthwise_conv2d_python_nchw(input_np, filter_np, stride, padding):
    """input [N, C, H, W], filter [C, M, KH, KW] -> [N, C*M, OH, OW]; output channel c*M + m."""
    c, m, kh, kw = filter_np.shape
    win = _windows(input_np.astype("float64"), kh, kw, stride, padding)  # N, C, OH, OW, KH, KW
    out = np.einsum("nchwyx,cmyx->ncmhw", win, filter_np.astype("float64"))
    n, _, _, oh, ow = out.shape
    return out.reshape(n, c * m, oh, ow).astype(input_np.dtype)


def depthwise_conv2d_python_nhwc(input_np, filter_np, stride, padding):
    """input [N, H, W, C], filter [KH, KW, C, M] -> [N, OH, OW, C*M]."""
    out = depthwise_conv2d_python_nchw(input_np.transpose(0, 3, 1, 2), filter_np.transpose(2, 3, 0, 1), stride,
                                       padding)
    return out.transpose(0, 2, 3, 1)


def conv2d_transpose_nchw_python(a_np, w_np, stride, padding, output_padding=0, groups=1):
    """a [N, I, H, W], w [I, O/groups, KH, KW] -> [N, O, OH, OW] with
    OH = (H - 1) * stride - pad_top - pad_bottom + KH + output_padding (the gradient of conv2d)."""
    n, ci, h, w = a_np.shape
    wi, og, kh, kw = w_np.shape
    sh, sw = _pair(stride)
    oph, opw = _pair(output_padding)
    top, left, bottom, right = get_pad_tuple(padding, (kh, kw))
    if wi != ci or ci % groups:
        raise ValueError(f"conv2d_transpose_nchw_python: {ci} input channels, weight {w_np.shape}, groups={groups}")
    full = np.zeros((n, og * groups, (h - 1) * sh + kh + oph, (w - 1) * sw + kw + opw))
    cg = ci // groups
    a64, w64 = a_np.astype("float64"), w_np.astype("float64")
    for g in range(groups):
        src, ker = a64[:, g * cg:(g + 1) * cg], w64[g * cg:(g + 1) * cg]
        for y in range(kh):
            for x in range(kw):
                full[:, g * og:(g + 1) * og, y:y + (h - 1) * sh + 1:sh, x:x + (w - 1) * sw + 1:sw] += np.einsum(
                    "nihw,io->nohw", src, ker[:, :, y, x])
    oh = (h - 1) * sh - top - bottom + kh + oph
    ow = (w - 1) * sw - left - right + kw + opw
    return full[:, :, top:top + oh, left:left + ow].astype(a_np.dtype)


def conv2d_transpose_nhwc_python(a_nhwc, weight, weight_format, stride, padding, output_padding=0):
    """a [N, H, W, I]; weight in `weight_format` ("HWOI", "HWIO", "OIHW" or "IOHW") -> [N, OH, OW, O]."""
    to_iohw = {"HWOI": (3, 2, 0, 1), "HWIO": (2, 3, 0, 1), "OIHW": (1, 0, 2, 3), "IOHW": (0, 1, 2, 3)}
    if weight_format not in to_iohw:
        raise ValueError(f"weight_format {weight_format!r}: use one of {', '.join(to_iohw)}")
    out = conv2d_transpose_nchw_python(a_nhwc.transpose(0, 3, 1, 2), weight.transpose(to_iohw[weight_format]),
                                       stride, padding, output_padding)
    return out.transpose(0, 2, 3, 1)


def dilate_python(input_np, strides, dilation_value=0.0, out_dtype=None):
    """Insert stride-1 copies of dilation_value between elements along each axis."""
    if len(strides) != input_np.ndim:
        raise ValueError(f"dilate_python: {input_np.ndim}-D input but {len(strides)} strides")
    shape = [(d - 1) * s + 1 for d, s in zip(input_np.shape, strides)]
    out = np.full(shape, dilation_value, dtype=out_dtype or input_np.dtype)
    out[tuple(slice(None, None, s) for s in strides)] = input_np
    return out


def _pads(padding, kernel, dilation=None) -> tuple:
    """(before, after) per spatial axis from an int, a string ("SAME", "VALID"), nd or 2*nd ints."""
    nd = len(kernel)
    dilation = dilation or (1,) * nd
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    if isinstance(padding, str):
        if padding.upper() == "VALID":
            return (0,) * nd, (0,) * nd
        return tuple((e - 1 + 1) // 2 for e in eff), tuple((e - 1) // 2 for e in eff)
    p = (padding,) * nd if isinstance(padding, int) else tuple(padding)
    p = p * nd if len(p) == 1 else p
    return (p, p) if len(p) == nd else (tuple(p[:nd]), tuple(p[nd:]))


def conv_nd_python(a_np, w_np, stride, padding, dilation=1, groups=1):
    """Any-rank channels-first convolution: a [N, C, *S], w [O, C/groups, *K] -> [N, O, *S']."""
    nd = a_np.ndim - 2
    kernel = w_np.shape[2:]
    stride = (stride,) * nd if isinstance(stride, int) else tuple(stride)
    dilation = (dilation,) * nd if isinstance(dilation, int) else tuple(dilation)
    before, after = _pads(padding, kernel, dilation)
    a = np.pad(a_np.astype("float64"), [(0, 0), (0, 0), *zip(before, after)])
    out_sp = [(a.shape[2 + i] - ((kernel[i] - 1) * dilation[i] + 1)) // stride[i] + 1 for i in range(nd)]
    n, c = a.shape[:2]
    o, cg = w_np.shape[:2]
    og = o // groups
    out = np.zeros((n, o, *out_sp))
    for tap in np.ndindex(*kernel):
        sl = tuple(slice(t * d, t * d + (m - 1) * s + 1, s) for t, d, m, s in zip(tap, dilation, out_sp, stride))
        x = a[(slice(None), slice(None), *sl)]
        for g in range(groups):
            wg = w_np[(slice(g * og, (g + 1) * og), slice(None), *tap)].astype("float64")  # [og, cg]
            out[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", x[:, g * cg:(g + 1) * cg], wg)
    return out.astype(a_np.dtype)


def conv1d_ncw_python(a_np, w_np, stride, padding, dilation=1):
    """a [N, C, W], w [O, C, KW] -> [N, O, OW]."""
    return conv_nd_python(a_np, w_np, stride, padding, dilation)


def conv1d_nwc_python(a_np, w_np, stride, padding, dilation=1):
    """a [N, W, C], w [KW, C, O] (WIO) -> [N, OW, O]."""
    out = conv_nd_python(a_np.transpose(0, 2, 1), w_np.transpose(2, 1, 0), stride, padding, dilation)
    return out.transpose(0, 2, 1)


def conv3d_ncdhw_python(a_np, w_np, stride, padding, groups=1):
    """a [N, C, D, H, W], w [O, C/groups, KD, KH, KW] -> [N, O, OD, OH, OW]."""
    return conv_nd_python(a_np, w_np, stride, padding, 1, groups)


def conv3d_ndhwc_python(a_np, w_np, stride, padding, groups=1):
    """a [N, D, H, W, C], w [KD, KH, KW, C/groups, O] (DHWIO) -> [N, OD, OH, OW, O]."""
    out = conv_nd_python(a_np.transpose(0, 4, 1, 2, 3), w_np.transpose(4, 3, 0, 1, 2), stride, padding, 1, groups)
    return out.transpose(0, 2, 3, 4, 1)


def conv1d_transpose_ncw_python(a_np, w_np, stride, padding, output_padding=0):
    """a [N, C, W], w [C, O, KW] -> [N, O, (W - 1) * stride - pads + KW + output_padding]."""
    first = lambda v: v if isinstance(v, int) else v[0]  # noqa: E731
    p = (padding, padding) if isinstance(padding, int) else (padding[0], padding[-1])
    out = conv2d_transpose_nchw_python(a_np[:, :, None], w_np[:, :, None], (1, first(stride)), (0, p[0], 0, p[1]),
                                       (0, first(output_padding)))
    return out[:, :, 0]


def conv3d_transpose_ncdhw_python(a_np, w_np, stride, padding, output_padding=0):
    """a [N, C, D, H, W], w [C, O, KD, KH, KW] -> [N, O, (D - 1) * s - pads + KD + output_padding, ...]
    (every input element scatters its kernel, then the padding is cut off)."""
    s = (stride,) * 3 if isinstance(stride, int) else tuple(stride)
    op = (output_padding,) * 3 if isinstance(output_padding, int) else tuple(output_padding)
    before, after = _pads(padding, w_np.shape[2:])
    n, c, *size = a_np.shape
    _, o, *k = w_np.shape
    full = [(i - 1) * st + kk + p for i, st, kk, p in zip(size, s, k, op)]
    out = np.zeros((n, o, *full))
    for tap in np.ndindex(*k):
        contrib = np.einsum("nc...,co->no...", a_np.astype("float64"), w_np[(slice(None), slice(None), *tap)])
        sl = tuple(slice(t, t + (i - 1) * st + 1, st) for t, i, st in zip(tap, size, s))
        out[(slice(None), slice(None), *sl)] += contrib
    crop = tuple(slice(b, f - a) for b, a, f in zip(before, after, full))
    return out[(slice(None), slice(None), *crop)].astype(a_np.dtype)
