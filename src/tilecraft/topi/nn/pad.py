"""Padding (topi.nn.pad) and the padding-argument helper shared by convolutions and pooling."""

from __future__ import annotations

from ... import te
from ...ir.expr import IntImm, const, convert, logical_and
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


def pad(data: te.Tensor, pad_before, pad_after=None, pad_value=0.0, name: str = "PadInput") -> te.Tensor:
    """data padded with pad_value: pad_before[i] / pad_after[i] elements before / after axis i.

    Reads are guarded with if_then_else (only the taken branch is evaluated), so inlining the pad
    into a consumer never reads out of bounds."""
    n = len(data.shape)
    pad_before = [get_const_int(p) for p in pad_before]
    pad_after = list(pad_before) if pad_after is None else [get_const_int(p) for p in pad_after]
    if len(pad_before) != n or len(pad_after) != n:
        raise ValueError(f"pad of {data.name}: pad_before/pad_after need {n} entries (one per axis), got "
                         f"{len(pad_before)} and {len(pad_after)}")
    if any(p < 0 for p in pad_before + pad_after):
        raise ValueError(f"pad of {data.name}: padding must be >= 0, got {pad_before} / {pad_after}")
    out_shape = tuple(convert(s) + b + a for s, b, a in zip(data.shape, pad_before, pad_after))
    value = const(pad_value, data.dtype)

    def body(*idx):
        conds, src = [], []
        for i, (x, b, a) in enumerate(zip(idx, pad_before, pad_after)):
            if b:
                conds.append(x >= b)
            if a:
                conds.append(x < data.shape[i] + b)
            src.append(x - b if b else x)
        if not conds:
            return data[tuple(src)]
        cond = conds[0]
        for c in conds[1:]:
            cond = logical_and(cond, c)
        return if_then_else(cond, data[tuple(src)], value)

    return te.compute(out_shape, body, name=name, tag=_tag.PAD)


__all__ = ["pad", "get_pad_tuple"]
