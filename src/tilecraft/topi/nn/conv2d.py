"""2-D convolutions as tensor expressions (classic TVM `topi.nn` signatures).

Layouts: NCHW data with OIHW kernels (conv2d_nchw, group_conv2d_nchw), NHWC data with HWIO
kernels (conv2d_nhwc), depthwise NCHW with a [C, multiplier, KH, KW] kernel, and the blocked
NCHW[x]c layout the fast CPU schedule uses (conv2d_NCHWc) with its layout transforms
(nchw_to_nchwc, nchwc_to_nchw, pack_conv_kernel), which the graph compiler applies once to
constant kernels at compile time.

`padding` is an int, (h, w), (top, left, bottom, right), "SAME" or "VALID"; stride and
dilation are an int or (h, w).  Padding is a separate injective stage ("injective,pad") that a
schedule either materialises or inlines (its reads are guarded with if_then_else).
"""

from __future__ import annotations

from ... import te
from .. import tag as _tag
from ..utils import get_const_int, get_const_tuple, guarded_read
from .pad import get_pad_tuple, pad, pair


def _dtype(out_dtype, t) -> str:
    return out_dtype if out_dtype else t.dtype


def _out_size(size, k, dil, before, after, stride, what):
    dk = (k - 1) * dil + 1
    out = (size + before + after - dk) // stride + 1
    if out <= 0:
        raise ValueError(f"{what}: the (dilated) kernel {dk} is larger than the padded input "
                         f"{size + before + after}")
    return out


def _window(H, W, KH, KW, stride, padding, dilation, what):
    """Strides, dilations, padding (top, left, bottom, right) and output size of a 2-D sliding window."""
    sh, sw = pair(stride, "stride")
    dh, dw = pair(dilation, "dilation")
    top, left, bottom, right = get_pad_tuple(padding, ((KH - 1) * dh + 1, (KW - 1) * dw + 1))
    OH = _out_size(H, KH, dh, top, bottom, sh, what)
    OW = _out_size(W, KW, dw, left, right, sw, what)
    return sh, sw, dh, dw, top, left, bottom, right, OH, OW


def _padded(data, top, left, bottom, right, spatial=(2, 3), name="pad_temp"):
    if not (top or left or bottom or right):
        return data
    before = [0] * len(data.shape)
    after = [0] * len(data.shape)
    before[spatial[0]], before[spatial[1]] = top, left
    after[spatial[0]], after[spatial[1]] = bottom, right
    return pad(data, before, after, name=name)


def conv2d(input, filter, strides, padding, dilation, layout="NCHW", out_dtype=None):  # noqa: A002
    """Dispatch on the data layout: "NCHW" (OIHW kernel) or "NHWC" (HWIO kernel)."""
    if layout == "NCHW":
        return conv2d_nchw(input, filter, strides, padding, dilation, out_dtype)
    if layout == "NHWC":
        return conv2d_nhwc(input, filter, strides, padding, dilation, out_dtype)
    raise ValueError(f"conv2d: layout {layout!r} is not supported; use 'NCHW' or 'NHWC' (or conv2d_NCHWc)")


def conv2d_nchw(Input, Filter, stride, padding, dilation, out_dtype=None):
    """Input [N, C, H, W], Filter [O, C, KH, KW] -> [N, O, OH, OW]."""
    return group_conv2d_nchw(Input, Filter, stride, padding, dilation, 1, out_dtype, _tag.CONV2D_NCHW,
                             "conv2d_nchw")


def group_conv2d_nchw(Input, Filter, stride, padding, dilation, groups, out_dtype=None,
                      tag=_tag.GROUP_CONV2D_NCHW, name="group_conv2d_nchw"):
    """Input [N, C, H, W], Filter [O, C // groups, KH, KW] -> [N, O, OH, OW]; output channel o
    reads input channels of group o // (O // groups)."""
    N, C, H, W = get_const_tuple(Input.shape)
    O, CG, KH, KW = get_const_tuple(Filter.shape)
    groups = get_const_int(groups)
    if C % groups or O % groups:
        raise ValueError(f"{name}: input channels {C} and output channels {O} must be divisible by groups={groups}")
    if CG * groups != C:
        raise ValueError(f"{name}: Filter {Filter.name} has {CG} input channels per group but the input has "
                         f"{C} channels in {groups} group(s) (expected {C // groups})")
    sh, sw, dh, dw, top, left, bottom, right, OH, OW = _window(H, W, KH, KW, stride, padding, dilation,
                                                               name)
    temp = _padded(Input, top, left, bottom, right)
    rc = te.reduce_axis((0, CG), "rc")
    ry = te.reduce_axis((0, KH), "ry")
    rx = te.reduce_axis((0, KW), "rx")
    dt = _dtype(out_dtype, Input)
    OG = O // groups

    def body(n, f, y, x):
        c = rc if groups == 1 else f // OG * CG + rc
        return te.sum(temp[n, c, y * sh + ry * dh, x * sw + rx * dw].astype(dt) * Filter[f, rc, ry, rx].astype(dt),
                      axis=[rc, ry, rx])

    return te.compute((N, O, OH, OW), body, name=name, tag=tag)


def conv2d_nhwc(Input, Filter, stride, padding, dilation, out_dtype=None):
    """Input [N, H, W, C], Filter [KH, KW, C, O] -> [N, OH, OW, O]."""
    N, H, W, C = get_const_tuple(Input.shape)
    KH, KW, CI, O = get_const_tuple(Filter.shape)
    if CI != C:
        raise ValueError(f"conv2d_nhwc: the input has {C} channels but Filter {Filter.name} [KH, KW, I, O] "
                         f"expects {CI}")
    sh, sw, dh, dw, top, left, bottom, right, OH, OW = _window(H, W, KH, KW, stride, padding, dilation,
                                                               "conv2d_nhwc")
    temp = _padded(Input, top, left, bottom, right, spatial=(1, 2), name="PaddedInput")
    rc = te.reduce_axis((0, C), "rc")
    ry = te.reduce_axis((0, KH), "ry")
    rx = te.reduce_axis((0, KW), "rx")
    dt = _dtype(out_dtype, Input)
    return te.compute(
        (N, OH, OW, O),
        lambda n, y, x, f: te.sum(temp[n, y * sh + ry * dh, x * sw + rx * dw, rc].astype(dt)
                                  * Filter[ry, rx, rc, f].astype(dt), axis=[ry, rx, rc]),
        name="conv2d_nhwc", tag=_tag.CONV2D_NHWC)


def depthwise_conv2d_nchw(Input, Filter, stride, padding, dilation, out_dtype=None):
    """Input [N, C, H, W], Filter [C, M, KH, KW] -> [N, C * M, OH, OW] (M: channel multiplier)."""
    N, C, H, W = get_const_tuple(Input.shape)
    FC, M, KH, KW = get_const_tuple(Filter.shape)
    if FC != C:
        raise ValueError(f"depthwise_conv2d_nchw: the input has {C} channels but Filter {Filter.name} "
                         f"[C, multiplier, KH, KW] has {FC}")
    sh, sw, dh, dw, top, left, bottom, right, OH, OW = _window(H, W, KH, KW, stride, padding, dilation,
                                                               "depthwise_conv2d_nchw")
    temp = _padded(Input, top, left, bottom, right, name="PaddedInput")
    di = te.reduce_axis((0, KH), "di")
    dj = te.reduce_axis((0, KW), "dj")
    dt = _dtype(out_dtype, Input)

    def body(b, c, i, j):
        ic, m = (c, 0) if M == 1 else (c // M, c % M)
        return te.sum(temp[b, ic, i * sh + di * dh, j * sw + dj * dw].astype(dt) * Filter[ic, m, di, dj].astype(dt),
                      axis=[di, dj])

    return te.compute((N, C * M, OH, OW), body, name="DepthwiseConv2d", tag=_tag.DEPTHWISE_CONV2D_NCHW)


# ---------------------------------------------------------------------- blocked NCHW[x]c layout
def nchw_to_nchwc(data, ic: int, name: str = "data_vec"):
    """[N, C, H, W] -> [N, C // ic, H, W, ic]."""
    N, C, H, W = get_const_tuple(data.shape)
    if C % ic:
        raise ValueError(f"nchw_to_nchwc: channels {C} of {data.name} are not a multiple of the block {ic}")
    return te.compute((N, C // ic, H, W, ic), lambda n, c, h, w, cb: data[n, c * ic + cb, h, w],
                      name=name, tag=_tag.LAYOUT_TRANSFORM)


def nchwc_to_nchw(data, name: str = "output_unpack"):
    """[N, C, H, W, c] -> [N, C * c, H, W]."""
    N, C, H, W, cb = get_const_tuple(data.shape)
    return te.compute((N, C * cb, H, W), lambda n, c, h, w: data[n, c // cb, h, w, c % cb],
                      name=name, tag=_tag.LAYOUT_TRANSFORM)


def pack_conv_kernel(kernel, ic: int, oc: int, name: str = "kernel_vec"):
    """OIHW [O, I, KH, KW] -> [O // oc, I // ic, KH, KW, ic, oc] (the conv2d_NCHWc kernel)."""
    O, I, KH, KW = get_const_tuple(kernel.shape)
    if O % oc or I % ic:
        raise ValueError(f"pack_conv_kernel: kernel {kernel.name} is {O}x{I}; output channels must be a multiple "
                         f"of oc={oc} and input channels of ic={ic}")
    return te.compute((O // oc, I // ic, KH, KW, ic, oc),
                      lambda o, i, h, w, ib, ob: kernel[o * oc + ob, i * ic + ib, h, w],
                      name=name, tag=_tag.LAYOUT_TRANSFORM)


def _check_block_layouts(what: str, layout: str, in_block: int, out_layout: str, out_block: int) -> None:
    """Layout names given to a blocked convolution must be its blocks' (NCHW16c for 16)."""
    for name, value, b in (("layout", layout, in_block), ("out_layout", out_layout, out_block)):
        if value and value != f"NCHW{b}c":
            raise ValueError(f"{what}: {name} {value!r} does not match the block {b} (NCHW{b}c)")


def conv2d_NCHWc(data, kernel, stride, padding, dilation, layout="", out_layout="", out_dtype=None, groups=1):
    """data [N, C // ic, H, W, ic], kernel [O // oc, C // groups // ic, KH, KW, ic, oc]
    -> [N, O // oc, OH, OW, oc].  (layout / out_layout, e.g. "NCHW8c", are checked if given.)
    Grouped (RegNet, ResNeXt): the blocks divide every group's channels, so an output block
    reads only the input blocks of its own group, and the kernel's packing is the grouped
    weight's [O, C // groups, KH, KW] packed as for groups=1."""
    N, ICC, H, W, ic_bn = get_const_tuple(data.shape)
    OCC, KICC, KH, KW, kic_bn, oc_bn = get_const_tuple(kernel.shape)
    groups = int(groups)
    if kic_bn != ic_bn or KICC * groups != ICC:
        raise ValueError(f"conv2d_NCHWc: data {data.name} has {ICC} blocks of {ic_bn} input channels but kernel "
                         f"{kernel.name} expects {KICC} blocks of {kic_bn}" + (f" per group ({groups} groups)"
                                                                               if groups > 1 else ""))
    if groups < 1 or OCC % groups:
        raise ValueError(f"conv2d_NCHWc: {OCC} output blocks of {oc_bn} channels (kernel {kernel.name}) do not split "
                         f"into {groups} groups; blocks must divide every group's channels")
    _check_block_layouts("conv2d_NCHWc", layout, ic_bn, out_layout, oc_bn)
    sh, sw, dh, dw, top, left, bottom, right, OH, OW = _window(H, W, KH, KW, stride, padding, dilation,
                                                               "conv2d_NCHWc")
    data_pad = _padded(data, top, left, bottom, right, name="data_pad")
    ic = te.reduce_axis((0, KICC * ic_bn), "ic")
    kh = te.reduce_axis((0, KH), "kh")
    kw = te.reduce_axis((0, KW), "kw")
    dt = _dtype(out_dtype, data)
    out_blocks_per_group = OCC // groups

    def first_input_block(oc_chunk):
        return oc_chunk // out_blocks_per_group * KICC if groups > 1 else 0

    return te.compute(
        (N, OCC, OH, OW, oc_bn),
        lambda n, oc_chunk, oh, ow, oc_block: te.sum(
            data_pad[n, first_input_block(oc_chunk) + ic // ic_bn, oh * sh + kh * dh, ow * sw + kw * dw,
                     ic % ic_bn].astype(dt)
            * kernel[oc_chunk, ic // ic_bn, kh, kw, ic % ic_bn, oc_block].astype(dt),
            axis=[ic, kh, kw]),
        name="conv2d_NCHWc", tag=_tag.CONV2D_NCHWC)


def depthwise_conv2d_NCHWc(data, kernel, stride, padding, dilation, layout="", out_layout="", out_dtype=None):
    """Depthwise (multiplier 1) on blocked data: data [N, C // b, H, W, b], kernel packed as
    OIHW1i<b>o [C // b, 1, KH, KW, 1, b] -> [N, C // b, OH, OW, b]."""
    N, CC, H, W, cb = get_const_tuple(data.shape)
    KCC, one, KH, KW, one_i, kb = get_const_tuple(kernel.shape)
    if (KCC, kb, one, one_i) != (CC, cb, 1, 1):
        raise ValueError(f"depthwise_conv2d_NCHWc: data {data.name} has {CC} blocks of {cb} channels but kernel "
                         f"{kernel.name} {get_const_tuple(kernel.shape)} is not [{CC}, 1, KH, KW, 1, {cb}] "
                         f"(OIHW1i{cb}o)")
    _check_block_layouts("depthwise_conv2d_NCHWc", layout, cb, out_layout, cb)
    sh, sw, dh, dw, top, left, bottom, right, OH, OW = _window(H, W, KH, KW, stride, padding, dilation,
                                                               "depthwise_conv2d_NCHWc")
    data_pad = _padded(data, top, left, bottom, right, name="data_pad")
    kh = te.reduce_axis((0, KH), "kh")
    kw = te.reduce_axis((0, KW), "kw")
    dt = _dtype(out_dtype, data)
    return te.compute(
        (N, CC, OH, OW, cb),
        lambda n, c, oh, ow, b: te.sum(data_pad[n, c, oh * sh + kh * dh, ow * sw + kw * dw, b].astype(dt)
                                       * kernel[c, 0, kh, kw, 0, b].astype(dt), axis=[kh, kw]),
        name="depthwise_conv2d_NCHWc", tag=_tag.DEPTHWISE_CONV2D_NCHWC)


def conv2d_NCHWc_int8(data, kernel, stride, padding, dilation, layout="", out_layout="", out_dtype="int32",
                      n_elems=4):
    """The blocked convolution of 8-bit integers, for dot-product instructions that add groups of
    `n_elems` byte products: data [N, C // ic, H, W, ic], kernel packed as OIHW<ic/n>i<oc>o<n>i
    [O // oc, C // ic, KH, KW, ic // n, oc, n] (pack_int8_conv_kernel) -> [N, O // oc, OH, OW, oc]."""
    N, ICC, H, W, ic_bn = get_const_tuple(data.shape)
    OCC, KICC, KH, KW, ic_f, oc_bn, n = get_const_tuple(kernel.shape)
    if (KICC, ic_f * n, n) != (ICC, ic_bn, n_elems):
        raise ValueError(f"conv2d_NCHWc_int8: data {data.name} has {ICC} blocks of {ic_bn} input channels but kernel "
                         f"{kernel.name} {get_const_tuple(kernel.shape)} is not [O/oc, {ICC}, KH, KW, "
                         f"{ic_bn // n_elems}, oc, {n_elems}] (OIHW{ic_bn // n_elems}i<oc>o{n_elems}i)")
    _check_block_layouts("conv2d_NCHWc_int8", layout, ic_bn, out_layout, oc_bn)
    sh, sw, dh, dw, top, left, bottom, right, OH, OW = _window(H, W, KH, KW, stride, padding, dilation,
                                                               "conv2d_NCHWc_int8")
    data_pad = _padded(data, top, left, bottom, right, name="data_pad")
    kh = te.reduce_axis((0, KH), "kh")
    kw = te.reduce_axis((0, KW), "kw")
    ic_outer = te.reduce_axis((0, ICC), "ic_outer")
    ic_f_inner = te.reduce_axis((0, ic_f), "ic_f_inner")
    ic_s_inner = te.reduce_axis((0, n), "ic_s_inner")
    dt = _dtype(out_dtype, data)
    return te.compute(
        (N, OCC, OH, OW, oc_bn),
        lambda b, oc_chunk, oh, ow, oc_block: te.sum(
            data_pad[b, ic_outer, oh * sh + kh * dh, ow * sw + kw * dw, ic_f_inner * n + ic_s_inner].astype(dt)
            * kernel[oc_chunk, ic_outer, kh, kw, ic_f_inner, oc_block, ic_s_inner].astype(dt),
            axis=[kh, kw, ic_outer, ic_f_inner, ic_s_inner]),
        name="conv2d_NCHWc_int8", tag=_tag.CONV2D_NCHWC_INT8)


def pack_int8_conv_kernel(kernel, ic: int, oc: int, n_elems: int = 4, name: str = "kernel_vec"):
    """OIHW [O, I, KH, KW] -> OIHW<ic/n>i<oc>o<n>i [ceil(O / oc), ceil(I / ic), KH, KW, ic // n, oc, n];
    channels past O and I are zeros (they add nothing to the sums)."""
    O, I, KH, KW = get_const_tuple(kernel.shape)
    if ic % n_elems:
        raise ValueError(f"pack_int8_conv_kernel: the input channel block {ic} is not a multiple of {n_elems}")

    padded = [d for d, tail in ((0, O % oc), (1, I % ic)) if tail]

    def body(o, i, h, w, f, ob, e):
        return guarded_read(kernel, (o * oc + ob, i * ic + f * n_elems + e, h, w), 0, padded)

    return te.compute((-(-O // oc), -(-I // ic), KH, KW, ic // n_elems, oc, n_elems), body, name=name,
                      tag=_tag.LAYOUT_TRANSFORM)


__all__ = ["conv2d", "conv2d_nchw", "conv2d_nhwc", "group_conv2d_nchw", "depthwise_conv2d_nchw",
           "depthwise_conv2d_NCHWc", "conv2d_NCHWc", "conv2d_NCHWc_int8", "nchw_to_nchwc", "nchwc_to_nchw",
           "pack_conv_kernel", "pack_int8_conv_kernel"]
