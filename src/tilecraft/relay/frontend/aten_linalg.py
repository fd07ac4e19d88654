"""ATen converters, linear-algebra family: linear, matmul / mm / bmm / mv / dot, addmm / baddbmm /
addmv, einsum, scaled_dot_product_attention, and the fused multi-head-attention /
transformer-encoder fast paths (_native_multi_head_attention, _transformer_encoder_layer_fwd).
Each converter registers itself in the shared table of `aten.py` (which imports this module at
its end) and uses its helpers.
"""

from __future__ import annotations

import math

import numpy as np

from ..expr import Expr
from ..op import nn as _nn
from ..op import tensor as _t
from ..op import transform as _tf
from .aten import _bias, _binary_operands, _int, _is_op, _numel, _reshape, _scalar, register
from .aten_shape import _split_at
from .common import OpNotImplemented, new_const

# ------------------------------------------------------------------------------------ linear algebra

@register("linear")
def _linear(ctx, a):
    x, w, b = a[0], ctx.expr(a[1]), a[2]
    x = ctx.expr(x, ctx.dtype(w)) if ctx.dtype(x) != ctx.dtype(w) else x
    if ctx.ndim(w) == 1:
        return _bias(ctx, _t.sum(_t.multiply(x, w), axis=(-1,)), b)
    return _bias(ctx, _nn.dense(x, w), b)


def _transposed_last2(ctx, e):
    """If e is transpose(src) swapping its last two axes, return src."""
    if _is_op(e, "transpose"):
        axes = e.attrs.get("axes")
        nd = ctx.ndim(e)
        if axes is not None and nd >= 2:
            want = list(range(nd - 2)) + [nd - 1, nd - 2]
            if [ax % nd for ax in axes] == want:
                return e.args[0]
    return None


def _matmul(ctx, x, y):
    x, y, _ = _binary_operands(ctx, x, y)
    sx, sy = ctx.shape(x), ctx.shape(y)
    if len(sx) == 1 and len(sy) == 1:
        return _t.sum(_t.multiply(x, y))
    if len(sy) == 1:
        return _t.sum(_t.multiply(x, y), axis=(-1,))
    if len(sx) == 1:
        out = _matmul(ctx, _tf.expand_dims(x, 0), y)
        return _tf.squeeze(out, (ctx.ndim(out) - 2,))
    if len(sy) == 2:
        m = _numel(sx[:-1])
        src = _transposed_last2(ctx, y)
        if src is not None:  # x @ w.T  ->  dense(x, w)
            return _nn.dense(x, src)
        if ctx.is_weight_expr(y):
            return _nn.dense(x, _tf.transpose(y, (1, 0)))
        x3 = _reshape(ctx, x, (1, m, sx[-1]))
        out = _nn.batch_matmul(x3, _reshape(ctx, y, (1,) + sy), transpose_b=False)
        return _reshape(ctx, out, tuple(sx[:-1]) + (sy[-1],))
    # batched: broadcast the batch dimensions, fold them into one
    from ..op._rel import broadcast_shapes

    batch = broadcast_shapes(tuple(sx[:-2]), tuple(sy[:-2]))
    nb = _numel(batch)
    ysrc = _transposed_last2(ctx, y)
    trans_b = ysrc is not None
    if trans_b:
        y, sy = ysrc, ctx.shape(ysrc)

    def fold(e, s):
        lead = tuple(s[:-2])
        if _numel(lead) == 1:
            return _reshape(ctx, e, (1,) + tuple(s[-2:]))
        if len(lead) != len(batch) or tuple(lead) != tuple(batch):
            e = _tf.broadcast_to(e, tuple(batch) + tuple(s[-2:]))
        return _reshape(ctx, e, (nb,) + tuple(s[-2:]))

    x3 = fold(x, sx)
    y3 = fold(y, sy)
    out = _nn.batch_matmul(x3, y3, transpose_a=False, transpose_b=trans_b)
    n = sy[-2] if trans_b else sy[-1]
    return _reshape(ctx, out, tuple(batch) + (sx[-2], n))


@register("matmul")
def _matmul_conv(ctx, a):
    return _matmul(ctx, a[0], a[1])


@register("mm")
def _mm(ctx, a):
    return _matmul(ctx, a[0], a[1])


@register("bmm")
def _bmm(ctx, a):
    return _matmul(ctx, a[0], a[1])


@register("mv", "dot")
def _mv(ctx, a):
    return _matmul(ctx, a[0], a[1])


def _scaled(ctx, e, s):
    s = _scalar(s)
    if s is None or s == 1:
        return e
    return _t.multiply(e, ctx.scalar_const(s, ctx.dtype(e)))


@register("addmm", "baddbmm", "addmv")
def _addmm(ctx, a):
    inp, m1, m2 = a[0], a[1], a[2]
    beta, alpha = _scalar(a.get("beta", 1)), _scalar(a.get("alpha", 1))
    if ctx.ndim(m2) == 2 and ctx.ndim(m1) == 2:
        src = _transposed_last2(ctx, ctx.expr(m2)) if isinstance(m2, Expr) else None
        if src is not None:
            prod = _nn.dense(ctx.expr(m1), src)
        else:
            prod = _nn.dense(ctx.expr(m1), _tf.transpose(ctx.expr(m2), (1, 0)))
    else:
        prod = _matmul(ctx, m1, m2)
    prod = _scaled(ctx, prod, alpha)
    if beta == 0:
        return prod
    inp = ctx.expr(inp, ctx.dtype(prod))
    inp = _scaled(ctx, inp, beta)
    if ctx.ndim(inp) == 1 and ctx.ndim(prod) == 2 and ctx.shape(inp)[0] == ctx.shape(prod)[1]:
        return _nn.bias_add(prod, inp, axis=-1)
    return _t.add(prod, inp)


@register("einsum")
def _einsum(ctx, a):
    eq, ops = a[0], list(a[1])
    eq = eq.replace(" ", "")
    lhs, rhs = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) != 2 or rhs is None:
        raise OpNotImplemented(f"einsum {eq!r}: only two-operand equations with '->' are supported")
    ta, tb = terms
    x, y = ops
    batch = [c for c in ta if c in tb and c in rhs]
    contract = [c for c in ta if c in tb and c not in rhs]
    fa = [c for c in ta if c not in tb]
    fb = [c for c in tb if c not in ta]
    if any(c not in ta + tb for c in rhs) or "." in eq:
        raise OpNotImplemented(f"einsum {eq!r}")
    sx, sy = ctx.shape(x), ctx.shape(y)
    size = {c: sx[i] for i, c in enumerate(ta)}
    size.update({c: sy[i] for i, c in enumerate(tb)})
    xp = _tf.transpose(x, tuple(ta.index(c) for c in batch + fa + contract))
    yp = _tf.transpose(y, tuple(tb.index(c) for c in batch + contract + fb))
    nb, nm, nk, nn_ = (_numel([size[c] for c in g]) for g in (batch, fa, contract, fb))
    out = _nn.batch_matmul(_reshape(ctx, xp, (nb, nm, nk)), _reshape(ctx, yp, (nb, nk, nn_)), transpose_b=False)
    order = batch + fa + fb
    out = _reshape(ctx, out, tuple(size[c] for c in order))
    perm = tuple(order.index(c) for c in rhs)
    return out if perm == tuple(range(len(perm))) else _tf.transpose(out, perm)


@register("scaled_dot_product_attention")
def _sdpa(ctx, a):
    q, k, v = ctx.expr(a[0]), ctx.expr(a[1]), ctx.expr(a[2])
    mask, causal, scale = a.get(3), bool(a.get(5, False)), _scalar(a.get(6))
    sq, sk, sv = ctx.shape(q), ctx.shape(k), ctx.shape(v)
    if a.has("enable_gqa") and a["enable_gqa"] and len(sq) >= 3 and sk[-3] != sq[-3]:
        # grouped-query attention: each key/value head serves sq[-3] // sk[-3] query heads
        # (PyTorch repeats them with repeat_interleave along the head axis)
        if sk[-3] == 0 or sq[-3] % sk[-3] or sv[-3] != sk[-3]:
            raise ValueError(f"scaled_dot_product_attention(enable_gqa=True): {sq[-3]} query heads cannot be "
                             f"grouped over {sk[-3]} key and {sv[-3]} value heads")
        rep = sq[-3] // sk[-3]
        k, v = _tf.repeat(k, rep, axis=len(sk) - 3), _tf.repeat(v, rep, axis=len(sv) - 3)
        sk, sv = ctx.shape(k), ctx.shape(v)
    dt = ctx.dtype(q)
    e, L, S = sq[-1], sq[-2], sk[-2]
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    from ..op._rel import broadcast_shapes

    batch = broadcast_shapes(tuple(sq[:-2]), tuple(sk[:-2]))
    nb = _numel(batch)

    def fold(t, s):
        if tuple(s[:-2]) != tuple(batch):
            t = _tf.broadcast_to(t, tuple(batch) + tuple(s[-2:]))
        return _reshape(ctx, t, (nb,) + tuple(s[-2:]))

    m = None if mask is None else ctx.expr(mask)
    # The scores stay [nb, L, S] (the batch_matmul's own shape) when the mask's batch axes are all 1 or
    # all of the batch (T5's position bias): the scale and mask then fuse into the batch_matmul as its
    # epilogue and no reshape copies the L x S scores (Whisper's 8 x 1500 x 1500: two per layer).
    mshape = () if m is None else tuple(ctx.shape(m))
    lead = mshape[:-2]
    whole = len(lead) == len(batch) and tuple(lead) == tuple(batch)
    folded = all(d == 1 for d in lead) or whole
    scores = _nn.batch_matmul(fold(q, sq), fold(k, sk), transpose_b=True)
    if folded:
        if m is not None and len(mshape) > 2:
            m = _reshape(ctx, m, ((nb,) if whole else (1,)) + mshape[-2:])
    else:
        scores = _reshape(ctx, scores, tuple(batch) + (L, S))
    scores = _t.multiply(scores, ctx.scalar_const(scale, dt))
    neg_inf = ctx.scalar_const(-np.inf, dt)
    if causal:
        tri = np.tril(np.ones((L, S), dtype=bool))
        scores = _t.where(new_const(tri), scores, neg_inf)
    if m is not None:
        if ctx.dtype(m) == "bool":
            scores = _t.where(m, scores, neg_inf)
        else:
            scores = _t.add(scores, ctx.expr(m, dt))
    attn = safe_softmax(ctx, scores, -1) if (causal or m is not None) else _nn.softmax(scores, axis=-1)
    out = _nn.batch_matmul(attn if folded else fold(attn, ctx.shape(attn)), fold(v, sv), transpose_b=False)
    return _reshape(ctx, out, tuple(batch) + (L, sv[-1]))


def safe_softmax(ctx, x, axis):
    """softmax whose rows of only -inf give 0 instead of NaN, as PyTorch's aten::_safe_softmax (what
    scaled_dot_product_attention uses): a fully masked query row (left padding under a causal mask)
    attends to nothing.  Rows that are partly -inf are a plain softmax."""
    dt = ctx.dtype(x)
    out = _nn.softmax(x, axis=axis)
    empty = _t.equal(_t.max(x, axis=(axis,), keepdims=True), ctx.scalar_const(-np.inf, dt))
    return _t.where(empty, ctx.scalar_const(0.0, dt), out)


@register("_safe_softmax")
def _safe_softmax_conv(ctx, a):
    from .aten import _norm_axis, dtype_str

    x = ctx.expr(a[0])
    dt = dtype_str(a.get(2)) if a.get(2) is not None else None
    if dt is not None and dt != ctx.dtype(x):
        x = _t.cast(x, dt)
    return safe_softmax(ctx, x, _norm_axis(_int(a[1]), ctx.ndim(x)))


# ------------------------------------------------------------------------------------ fused attention (fast paths)

def _heads(ctx, x, b, n, h):
    """(B, N, H*D) -> (B, H, N, D)."""
    e = ctx.shape(x)[-1]
    return _tf.transpose(_reshape(ctx, x, (b, n, h, e // h)), (0, 2, 1, 3))


def _mha(ctx, q_in, k_in, v_in, num_heads, qkv_w, qkv_b, proj_w, proj_b, mask, mask_type):
    """nn.MultiheadAttention's fused inference path (batch first); returns (out, weights (B, H, L, S))."""
    qkv_w, qkv_b = ctx.expr(qkv_w), ctx.expr(qkv_b)
    b, L, E = ctx.shape(q_in)
    S = ctx.shape(k_in)[1]
    dt = ctx.dtype(q_in)
    if q_in is k_in and k_in is v_in:
        qkv = _bias(ctx, _nn.dense(q_in, qkv_w), qkv_b)
        q, k, v = (qkv_part for qkv_part in _split_at(ctx, qkv, [E, E, E], -1))
    else:
        ws = _split_at(ctx, qkv_w, [E, E, E], 0)
        bs = _split_at(ctx, qkv_b, [E, E, E], 0)
        q, k, v = (_bias(ctx, _nn.dense(x, w), bb) for x, w, bb in zip((q_in, k_in, v_in), ws, bs))
    q, k, v = _heads(ctx, q, b, L, num_heads), _heads(ctx, k, b, S, num_heads), _heads(ctx, v, b, S, num_heads)
    d = E // num_heads
    bh = b * num_heads
    scores = _nn.batch_matmul(_reshape(ctx, q, (bh, L, d)), _reshape(ctx, k, (bh, S, d)), transpose_b=True)
    scores = _t.multiply(_reshape(ctx, scores, (b, num_heads, L, S)), ctx.scalar_const(1.0 / math.sqrt(d), dt))
    if mask is not None:
        m = ctx.expr(mask)
        ms = ctx.shape(m)
        if mask_type == 1 or (len(ms) == 2 and ms == (b, S) and mask_type != 0):  # key padding mask (B, S)
            m = _reshape(ctx, m, (b, 1, 1, S))
        if ctx.dtype(m) == "bool":
            scores = _t.where(m, ctx.scalar_const(-np.inf, dt), scores)
        else:
            scores = _t.add(scores, ctx.expr(m, dt))
    attn = _nn.softmax(scores, axis=-1)
    out = _nn.batch_matmul(_reshape(ctx, attn, (bh, L, S)), _reshape(ctx, v, (bh, S, d)), transpose_b=False)
    out = _reshape(ctx, _tf.transpose(_reshape(ctx, out, (b, num_heads, L, d)), (0, 2, 1, 3)), (b, L, E))
    return _bias(ctx, _nn.dense(out, ctx.expr(proj_w)), proj_b), attn


@register("_native_multi_head_attention")
def _native_mha(ctx, a):
    out, attn = _mha(ctx, a[0], a[1], a[2], _int(a[4]), a[5], a[6], a[7], a[8], a[9], _scalar(a[12]))
    if not a[10]:  # need_weights=False
        import torch

        return (out, torch.zeros((0,)))
    if a[11]:  # average over heads
        attn = _t.mean(attn, axis=(1,), keepdims=False)
    return (out, attn)


@register("_transformer_encoder_layer_fwd")
def _encoder_layer(ctx, a):
    """nn.TransformerEncoderLayer's fused inference path, decomposed."""
    x = a[0]
    heads = _int(a[2])
    use_gelu, norm_first, eps = bool(a[7]), bool(a[8]), float(a[9])
    mask, mask_type = a[18], _scalar(a[19])
    if ctx.ndim(x) != 3:
        raise OpNotImplemented("_transformer_encoder_layer_fwd on a nested or unbatched tensor")

    def ln(y, w, b):
        return _nn.layer_norm(y, ctx.expr(w), ctx.expr(b), axis=-1, epsilon=eps)

    def attn(y):
        return _mha(ctx, y, y, y, heads, a[3], a[4], a[5], a[6], mask, mask_type)[0]

    def ffn(y):
        h = _bias(ctx, _nn.dense(y, ctx.expr(a[14])), a[15])
        h = _nn.gelu(h) if use_gelu else _nn.relu(h)
        return _bias(ctx, _nn.dense(h, ctx.expr(a[16])), a[17])

    if norm_first:
        x = _t.add(x, attn(ln(x, a[10], a[11])))
        return _t.add(x, ffn(ln(x, a[12], a[13])))
    x = ln(_t.add(x, attn(x)), a[10], a[11])
    return ln(_t.add(x, ffn(x)), a[12], a[13])
