"""FoldScaleAxis: move a per-output-channel constant scale into the weight of the conv2d / dense
that produces the channels.

    multiply(conv2d(x, W), s)                ->  conv2d(x, W * s[:, None, None, None])
    multiply(add(conv2d(x, W), t), s)        ->  add(conv2d(x, W * s[...]), t * s)
    multiply(bias_add(dense(x, W), b), s)    ->  bias_add(dense(x, W * s[:, None]), b * s)

and chains of those (scales multiply up).  This is what removes batch norm from a conv network
once SimplifyInference has made it `x * scale + shift` and FoldConstant has made scale and shift
constants: the scale goes into the (constant) weight, which the next FoldConstant folds, and the
shift stays as a bias add that fuses into the conv's kernel.

Folded only when the scale is a Constant holding one value per output channel (or one value),
the weight is a constant expression, and every intermediate value has no other consumer.
NCHW/OIHW and NHWC/HWIO convolutions (any groups) and dense are handled.
"""

from __future__ import annotations

import numpy as np

from ...transform import module_pass
from ..expr import Call, Constant
from ..op import tensor as T
from ..op.nn import bias_add
from ..op.registry import Op
from ..visitor import ExprMutator, children, post_order
from .fold_constant import is_constant_expr
from .infer_type import infer_type


def _name(e) -> str | None:
    return e.op.name if isinstance(e, Call) and isinstance(e.op, Op) else None


def _const_side(e):
    """(other, constant) for add/multiply with exactly one Constant operand, else None."""
    a, b = e.args
    if isinstance(b, Constant) and not isinstance(a, Constant):
        return a, b
    if isinstance(a, Constant) and not isinstance(b, Constant):
        return b, a
    return None


def _channel_info(base):
    """(ndim, axis, channels, kernel_scale_shape) for a conv2d / dense whose weight folds, else None."""
    name = _name(base)
    w = base.args[1]
    if not is_constant_expr(w):
        return None
    out = base.ty
    if name == "nn.dense":
        return out.ndim, out.ndim - 1, out.shape[-1], (out.shape[-1], 1)
    if base.attrs["data_layout"] == "NCHW" and base.attrs["kernel_layout"] == "OIHW":
        return 4, 1, out.shape[1], (out.shape[1], 1, 1, 1)
    if base.attrs["data_layout"] == "NHWC" and base.attrs["kernel_layout"] == "HWIO":
        return 4, 3, out.shape[3], (1, 1, 1, out.shape[3])
    return None


def _channel_vector(c: Constant, info, dtype):
    """The constant as one value per channel ([C]) when it varies along the channel axis only."""
    ndim, axis, ch, _ = info
    d = c.data
    if str(d.dtype) != dtype or d.ndim > ndim:
        return None
    padded = (1,) * (ndim - d.ndim) + d.shape
    if any(s != 1 for i, s in enumerate(padded) if i != axis) or padded[axis] not in (1, ch):
        return None
    return np.ascontiguousarray(np.broadcast_to(d.reshape(-1), (ch,)))


class _Fold(ExprMutator):
    def __init__(self, users):
        super().__init__()
        self.users = users

    def visit_call(self, c):
        if _name(c) == "multiply":
            side = _const_side(c)
            if side is not None:
                out = self._fold(side[0], side[1])
                if out is not None:
                    return out
        return super().visit_call(c)

    def _fold(self, top, scale: Constant):
        """The rewrite of `top * scale`, or None."""
        chain, e = [], top
        while True:
            if self.users.get(id(e), 0) != 1:
                return None
            name = _name(e)
            if name in ("nn.conv2d", "nn.dense"):
                break
            if name == "nn.bias_add":
                chain.append((e, None))
                e = e.args[0]
            elif name in ("add", "multiply"):
                side = _const_side(e)
                if side is None:
                    return None
                chain.append((e, side[1]))
                e = side[0]
            else:
                return None
        info = _channel_info(e)
        if info is None:
            return None
        dtype = e.ty.dtype
        v = _channel_vector(scale, info, dtype)
        if v is None:
            return None
        # check every link, collecting the scale that reaches each (top-down)
        plan = []
        for node, k in chain:
            if k is None:  # bias_add
                if node.attrs["axis"] % info[0] != info[1]:
                    return None
                plan.append((node, None, v))
                continue
            kv = _channel_vector(k, info, dtype)
            if kv is None:
                return None
            plan.append((node, k, v))
            if _name(node) == "multiply":
                v = v * kv
        # rebuild bottom-up
        _, axis, _, kshape = info
        w = T.multiply(self.new(e.args[1]), Constant(v.reshape(kshape)))
        out = Call(e.op, (self.new(e.args[0]), w), e.attrs)
        for node, k, vv in reversed(plan):
            if k is None:
                out = bias_add(out, T.multiply(self.new(node.args[1]), Constant(vv)), node.attrs["axis"])
            elif _name(node) == "add":
                vshape = (vv.size,) + (1,) * (info[0] - 1 - axis)
                out = T.add(out, T.multiply(k, Constant(vv.reshape(vshape))))
        return out


def fold_scale_axis(func):
    func = infer_type(func)
    users: dict = {}
    for n in post_order(func):
        for ch in children(n):
            users[id(ch)] = users.get(id(ch), 0) + 1
    users[id(func.body)] = users.get(id(func.body), 0) + 1
    out = _Fold(users).visit(func)
    return func if out is func else infer_type(out)


def FoldScaleAxis():  # noqa: N802  (classic relay.transform name)
    @module_pass(opt_level=3, name="FoldScaleAxis")
    def run(mod):
        return mod.with_function("main", fold_scale_axis(mod["main"]))

    return run


# classic TVM also exposes the two directions; only the backward one (scale after conv) exists here
BackwardFoldScaleAxis = FoldScaleAxis
