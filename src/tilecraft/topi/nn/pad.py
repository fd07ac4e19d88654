"""Padding (topi.nn.pad) and the padding-argument helper shared by convolutions and pooling."""

from __future__ import annotations

from ... import te
from ...ir.expr import IntImm, const, convert, floormod, logical_and, max_, min_, select
from ...ir.op import if_then_else
from .. import tag as _tag
from ..utils import get_const_int


def get_pad_tuple(padding, kernel) -> tuple:
    """(top, left, bottom, right) from an int, (h, w), (top, left, bottom, right), "SAME" or
    "VALID"; `kernel` is the (dilated) kernel size (kh, kw), used by "SAME"."""
    if isinstance(padding, str):
        if padding.upper() == "VALID":
            return 0, 0, 0, 0
        if padding.upper() == "SAME":
            kh, kw = (get_const_int(k) for k in kernel)
            ph, pw = kh - 1, kw - 1
            return ph // 2, pw // 2, ph - ph // 2, pw - pw // 2
        raise ValueError(f"padding {padding!r}: use an int, (h, w), (top, left, bottom, right), 'SAME' or 'VALID'")
    if isinstance(padding, (int, IntImm)):
        p = get_const_int(padding)
        return p, p, p, p
    padding = tuple(get_const_int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"padding {padding!r}: give an int, (h, w) or (top, left, bottom, right)")


def pair(x, what: str = "stride") -> tuple:
    """(h, w) from an int or a pair."""
    if isinstance(x, (int, IntImm)):
        v = get_const_int(x)
        return v, v
    x = tuple(get_const_int(v) for v in x)
    if len(x) == 1:
        return x[0], x[0]
    if len(x) != 2:
        raise ValueError(f"{what} {x!r}: give an int or a pair (h, w)")
    return x


PAD_MODES = ("constant", "edge", "reflect", "wrap")


def pad(data: te.Tensor, pad_before, pad_after=None, pad_value=0.0, name: str = "PadInput",
        pad_mode: str = "constant") -> te.Tensor:
    """data padded by pad_before[i] / pad_after[i] elements before / after axis i; a negative width
    crops instead.  pad_mode: "constant" (pad_value: a number or a scalar expression), "edge" (the
    border element repeated), "reflect" (mirrored without repeating the border; widths below the
    size), "wrap" (circular).

    Constant reads are guarded with if_then_else (only the taken branch is evaluated), so inlining
    the pad into a consumer never reads out of bounds; the other modes only remap the index."""
    n = len(data.shape)
    pad_before = [get_const_int(p) for p in pad_before]
    pad_after = list(pad_before) if pad_after is None else [get_const_int(p) for p in pad_after]
    if len(pad_before) != n or len(pad_after) != n:
        raise ValueError(f"pad of {data.name}: pad_before/pad_after need {n} entries (one per axis), got "
                         f"{len(pad_before)} and {len(pad_after)}")
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad of {data.name}: pad_mode {pad_mode!r} is not one of {', '.join(PAD_MODES)}")
    out_shape = tuple(convert(s) + b + a for s, b, a in zip(data.shape, pad_before, pad_after))
    for i, s in enumerate(out_shape):
        if isinstance(s, IntImm) and s.value < 0:
            raise ValueError(f"pad of {data.name}: cropping {-pad_before[i]} + {-pad_after[i]} from axis {i} of "
                             f"size {data.shape[i]} leaves {s.value} elements")
    if pad_mode == "reflect":  # the mirror of a width-w pad needs w + 1 elements left after cropping
        short = [i for i, (s, b, a) in enumerate(zip(data.shape, pad_before, pad_after))
                 if isinstance(s, IntImm) and max(b, a) > 0 and max(b, a) >= s.value - max(-b, 0) - max(-a, 0)]
        if short:
            i = short[0]
            raise ValueError(f"pad of {data.name}: reflect padding of axis {i} by {max(pad_before[i], pad_after[i])} "
                             f"needs a width below its size {data.shape[i]} (less what negative widths crop)")
    value = pad_value.astype(data.dtype) if hasattr(pad_value, "dtype") and pad_value.dtype != data.dtype \
        else pad_value if hasattr(pad_value, "dtype") else const(pad_value, data.dtype)

    def source(x, size, b, a):
        """Index into data of output position x: negative widths crop first, then the mode fills the
        positive widths from the cropped extent (ONNX's and numpy-after-slicing order)."""
        cb, ca, pb, pa = max(-b, 0), max(-a, 0), max(b, 0), max(a, 0)
        j = x - pb if pb else x
        if pad_mode != "constant" and (pb or pa):
            last = convert(size) - (cb + ca + 1)
            if pad_mode == "edge":
                j = max_(min_(j, last), const(0))
            elif pad_mode == "wrap":
                j = floormod(j, last + 1)
            else:  # reflect
                j = select(j < 0, -j, j)
                j = select(j > last, 2 * last - j, j)
        return j + cb if cb else j

    def body(*idx):
        conds, src = [], []
        for i, (x, b, a) in enumerate(zip(idx, pad_before, pad_after)):
            if pad_mode == "constant":
                if b > 0:
                    conds.append(x >= b)
                if a > 0:
                    conds.append(x < out_shape[i] - a)
            src.append(source(x, data.shape[i], b, a))
        if not conds:
            return data[tuple(src)]
        cond = conds[0]
        for c in conds[1:]:
            cond = logical_and(cond, c)
        return if_then_else(cond, data[tuple(src)], value)

    return te.compute(out_shape, body, name=name, tag=_tag.PAD)


__all__ = ["pad", "get_pad_tuple", "PAD_MODES"]
