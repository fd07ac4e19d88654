"""AlterOpLayout (CPU): switch convolutions and dense layers to the layouts their fast kernels want.

    nn.conv2d(x, W)  [NCHW / OIHW, groups 1, W constant]
        ->  layout_transform(nn.contrib_conv2d_NCHWc(layout_transform(x, "NCHW", "NCHW16c"),
                                                     layout_transform(W, "OIHW", "OIHW16i16o")),
                             "NCHW16c", "NCHW")
    nn.conv2d(x, W, groups=G)  [a block of 16 or 8 divides every group's channels]
        ->  the same, with groups=G (each output block reads its own group's input blocks)
    nn.dense(x, W)   [W constant]
        ->  nn.contrib_dense_pack(x, layout_transform(W, "NC", "NC16n"))
    nn.recurrent(xw, W_hh, ...)   [W_hh constant]
        ->  nn.recurrent(xw, layout_transform(W_hh, "NC", "NC128n"), ..., weight_layout="NC128n")

The rewrite happens where the operator's strategy (relay/op/strategy) selects the blocked kernel
(`conv2d_NCHWc.x86`, `dense_pack.x86`), and the blocks come from the selected implementation's
configuration: a tuned one from the current dispatch context, else its default (16 channels, or 8
when 16 does not divide the channel count; a conv whose channels block by neither keeps NCHW).  An
untuned conv keeps the block its input already has, so no transform is needed between convs.
Only constant weights are rewritten, so the FoldConstant after this pass packs every weight once,
at compile time (a non-constant one is packed inside its kernel instead).

Blocked values are not converted back after every conv: the blocked layout travels through
element-wise operators (relu, ...), bias_add, pooling, and broadcast operators whose other operand is a
scalar, a per-channel vector (transformed to match) or a same-shape tensor (transformed to match),
into the next conv, which reads it as it is.  A value is converted back to NCHW once, where an
operator that depends on the layout reads it (pooling, reshape, the graph's outputs, ...).
"""

from __future__ import annotations

import math
from dataclasses import replace

from ... import te, topi
from ...transform import module_pass
from ..expr import Call, Constant, Let, Tuple
from ..op.layout import contrib_conv2d_nchwc, contrib_dense_pack, contrib_depthwise_conv2d_nchwc, layout_transform
from ..op.registry import Op, OpPattern
from ..op.strategy import op_strategy, select_implementation, workload_of
from ..op.tensor import add
from ..op.transform import expand_dims
from ..ty import TensorType
from ..visitor import ExprMutator
from .fold_constant import is_constant_expr
from .infer_type import infer_type


def _blocked(c, name: str):
    """The Selection of implementation `name` (conv2d_NCHWc.x86, dense_pack.x86) whose blocks call c
    takes, or None: the strategy's choice when it is that implementation.  Under the auto-scheduler
    too (which then tunes the blocked operators' own computes), so a tuned model has the untuned
    one's graph and each tuned group competes with the very kernel it replaces."""
    from ...target import Target

    inputs = [te.placeholder(a.ty.shape, a.ty.dtype, name=f"arg{i}") for i, a in enumerate(c.args)]
    chosen = select_implementation(c.op, c.attrs, inputs, c.ty, Target.current(), own_compute=False)
    return chosen if chosen.impl.name == name else None


def _remember(out, c, ib, ob, config):
    """Tell the dispatch context that the blocked call `out` (made from call c with a tuned
    configuration) uses that configuration: its workload is its own (blocked shapes), and the
    configuration's register tile was measured with exactly these blocks."""
    from ...target import Target
    from ...tuning import current_context

    n, ch, h, w = c.args[0].ty.shape
    o, i, kh, kw = c.args[1].ty.shape
    ins = [te.placeholder((n, ch // ib, h, w, ib), c.args[0].ty.dtype, name="data"),
           te.placeholder((o // ob, i // ib, kh, kw, ib, ob), c.args[1].ty.dtype, name="kernel")]
    target = Target.current()
    impl = op_strategy(out.op, out.attrs, ins, None, target).implementations[0]
    current_context().update(target, workload_of(impl, out.attrs, ins, None), config)


_POOLS = frozenset(f"nn.{kind}_pool2d" for kind in ("max", "avg", "global_max", "global_avg", "adaptive_max",
                                                     "adaptive_avg"))


class _Alter(ExprMutator):
    def __init__(self):
        super().__init__()
        self.blocked: dict = {}  # id(new expr) -> channel block of its NCHW[b]c layout
        self.back: dict = {}  # id(new expr) -> its layout_transform back to NCHW (one per value)
        self.into: dict = {}  # (id(new expr), block) -> its layout_transform to NCHW[block]c

    def to_blocked(self, e, b):
        """e in NCHW[b]c: itself when it is in that block already, else (back to NCHW and) transformed."""
        if self.blocked.get(id(e)) == b:
            return e
        e = self.plain(e)
        key = (id(e), b)
        if key not in self.into:
            self.into[key] = layout_transform(e, "NCHW", f"NCHW{b}c")
        return self.into[key]

    def plain(self, e):
        b = self.blocked.get(id(e))
        if b is None:
            return e
        if id(e) not in self.back:
            self.back[id(e)] = layout_transform(e, f"NCHW{b}c", "NCHW")
        return self.back[id(e)]

    def _mark(self, e, b):
        self.blocked[id(e)] = b
        return e

    # ------------------------------------------------------------------ rewrites
    def visit_call(self, c):
        args = self._same(c.args)
        if isinstance(c.op, Op):
            name = c.op.name
            out = None
            if name == "nn.conv2d":
                out = self._conv2d(c, args)
            elif name == "nn.dense":
                out = self._dense(c, args)
            elif name == "nn.recurrent":
                out = self._recurrent(c, args)
            elif any(id(a) in self.blocked for a in args):
                out = self._propagate(c, args)
            if out is not None:
                return out
        op = self.visit(c.op) if not isinstance(c.op, Op) else c.op
        plain = tuple(self.plain(a) for a in args)
        if op is c.op and all(a is b for a, b in zip(plain, c.args)):
            return c
        return Call(op, plain, c.attrs)

    def _conv2d(self, c, args):
        a = c.attrs
        if a["data_layout"] != "NCHW" or a["kernel_layout"] != "OIHW" or a["out_layout"] not in ("", "NCHW") \
                or not is_constant_expr(args[1]):
            return None
        if a["groups"] != 1:
            return self._depthwise(c, args) or self._grouped(c, args)
        chosen = _blocked(c, "conv2d_NCHWc.x86")
        if chosen is None:
            return None
        data, weight = args
        ib, ob = chosen.config["tile_ic"].size[-1], chosen.config["tile_oc"].size[-1]
        if not chosen.tuned:
            ib = self.blocked.get(id(data)) or ib
        data = self.to_blocked(data, ib)
        kl = f"OIHW{ib}i{ob}o"
        out = contrib_conv2d_nchwc(data, layout_transform(weight, "OIHW", kl), a["strides"], a["padding"],
                                   a["dilation"], 1, a["channels"], a["kernel_size"], f"NCHW{ib}c", kl,
                                   f"NCHW{ob}c", a["out_dtype"])
        if chosen.tuned:
            _remember(out, c, ib, ob, chosen.config)
        return self._mark(out, ob)

    def _depthwise(self, c, args):
        """Depthwise (multiplier 1) in the blocked layout of its input (the convolutions and the
        graph tuner decide the blocks), else the default block; its tuned knobs do not depend
        on the block."""
        a = c.attrs
        data, weight = args
        channels = c.args[0].ty.shape[1]
        if a["groups"] != channels or c.args[1].ty.shape[:2] != (channels, 1):
            return None
        chosen = _blocked(c, "depthwise_conv2d_NCHWc.x86")
        if chosen is None:
            return None
        incoming = self.blocked.get(id(data))
        b = incoming if incoming and channels % incoming == 0 else topi.x86.channel_block(channels)
        data = self.to_blocked(data, b)
        kl = f"OIHW1i{b}o"
        out = contrib_depthwise_conv2d_nchwc(data, layout_transform(weight, "OIHW", kl), a["strides"], a["padding"],
                                             a["dilation"], a["groups"], a["channels"], a["kernel_size"],
                                             f"NCHW{b}c", kl, f"NCHW{b}c", a["out_dtype"])
        return self._mark(out, b)

    def _grouped(self, c, args):
        """A grouped convolution (RegNet, ResNeXt) in the blocked layout when a block (16 or 8, or
        the incoming one) divides every group's input and output channels: each output block then
        reads the input blocks of its own group, with the blocked kernel's register tile (the
        direct NCHW schedule ran at a third of its speed)."""
        a = c.attrs
        data, weight = args
        groups = a["groups"]
        ig, og = c.args[0].ty.shape[1] // groups, c.args[1].ty.shape[0] // groups
        incoming = self.blocked.get(id(data))
        b = incoming if incoming and ig % incoming == 0 and og % incoming == 0 else \
            topi.x86.channel_block(math.gcd(ig, og))
        if not b:
            return None
        data = self.to_blocked(data, b)
        kl = f"OIHW{b}i{b}o"
        out = contrib_conv2d_nchwc(data, layout_transform(weight, "OIHW", kl), a["strides"], a["padding"],
                                   a["dilation"], groups, a["channels"], a["kernel_size"], f"NCHW{b}c", kl,
                                   f"NCHW{b}c", a["out_dtype"])
        return self._mark(out, b)

    def _dense(self, c, args):
        data, weight = args
        if not is_constant_expr(weight):
            return None
        chosen = _blocked(c, "dense_pack.x86")
        if chosen is None:
            return None
        nr = topi.x86.dense_pack_panel(chosen.config, int(weight.ty.shape[0]))
        wl = f"NC{nr}n"
        return contrib_dense_pack(data, layout_transform(weight, "NC", wl), c.attrs["units"], c.attrs["out_dtype"], wl)

    def _recurrent(self, c, args):
        """A constant w_hh packed once, at compile time, into the panels the kernel reads."""
        weight = args[1]
        if c.attrs["weight_layout"] != "NC" or not is_constant_expr(weight):
            return None
        layout = topi.nn.packed_weight_layout(int(c.args[3].ty.shape[1]))
        new = (args[0], layout_transform(weight, "NC", layout)) + tuple(self.plain(a) for a in args[2:])
        return Call(c.op, new, {**c.attrs, "weight_layout": layout})

    def _propagate(self, c, args):
        """The call on blocked operands, or None where the operator depends on the layout."""
        pattern, name = c.op.pattern, c.op.name
        if not isinstance(c.ty, TensorType):
            return None
        if pattern == OpPattern.ELEMWISE and len(args) == 1 and c.ty.shape == c.args[0].ty.shape:
            return self._mark(Call(c.op, args, c.attrs), self.blocked[id(args[0])])
        if name in _POOLS and c.attrs["layout"] == "NCHW":  # pooling never mixes channels: blocks pool alike
            b = self.blocked[id(args[0])]
            return self._mark(Call(c.op, args, {**c.attrs, "layout": f"NCHW{b}c"}), b)
        shape = c.ty.shape
        if name == "nn.bias_add":
            if c.attrs["axis"] % 4 != 1 or id(args[0]) not in self.blocked:
                return None
            b, vec = self.blocked[id(args[0])], args[1]
            # [C] -> [1, C, 1, 1] -> [1, C/b, 1, 1, b]
            vec = Constant(vec.data.reshape(1, -1, 1, 1)) if isinstance(vec, Constant) else \
                expand_dims(expand_dims(vec, 0), 2, 2)
            return self._mark(add(args[0], layout_transform(vec, "NCHW", f"NCHW{b}c")), b)
        if pattern != OpPattern.BROADCAST or len(args) != 2 or len(shape) != 4:
            return None
        blocks = {self.blocked[id(a)] for a in args if id(a) in self.blocked}
        if len(blocks) != 1:
            return None
        b = blocks.pop()
        new = []
        for old, a in zip(c.args, args):
            if id(a) in self.blocked:
                if old.ty.shape != shape:  # the blocked operand itself would be broadcast
                    return None
                new.append(a)
                continue
            conv = self._to_blocked(a, old.ty.shape, shape, b)
            if conv is None:
                return None
            new.append(conv)
        return self._mark(Call(c.op, tuple(new), c.attrs), b)

    def _to_blocked(self, e, eshape, out_shape, b):
        """e (of NCHW-broadcastable shape eshape) in a form that broadcasts against NCHW[b]c data."""
        if len(eshape) > 4:
            return None
        padded = (1,) * (4 - len(eshape)) + tuple(eshape)
        if all(s == 1 for s in padded):
            return e  # a scalar broadcasts in any layout
        if padded == (1, out_shape[1], 1, 1) or tuple(eshape) == tuple(out_shape):
            if isinstance(e, Constant):
                e = Constant(e.data.reshape(padded))
            elif len(eshape) < 4:
                e = expand_dims(e, 0, 4 - len(eshape))
            return self.to_blocked(e, b)
        return None

    # ------------------------------------------------------------------ layout boundaries
    def visit_tuple(self, t):
        f = tuple(self.plain(x) for x in self._same(t.fields))
        return t if all(a is b for a, b in zip(f, t.fields)) else Tuple(f)

    def visit_let(self, e):
        var, value, body = self._same((e.var, e.value, e.body))
        value, body = self.plain(value), self.plain(body)
        if var is e.var and value is e.value and body is e.body:
            return e
        return Let(var, value, body)

    def visit_function(self, f):
        out = super().visit_function(f)
        body = self.plain(out.body)
        if body is out.body:
            return out
        return replace(out, body=body, ret_type=None, ty=None)


def alter_op_layout(func):
    func = infer_type(func)
    out = _Alter().visit(func)
    return func if out is func else infer_type(out)


def _cpu_target() -> bool:
    from ...target import Target

    t = Target.current()
    return t is not None and t.kind == "llvm"


def AlterOpLayout():  # noqa: N802  (classic relay.transform name)
    @module_pass(opt_level=3, name="AlterOpLayout")
    def run(mod):
        if not _cpu_target():
            return mod
        return mod.with_function("main", alter_op_layout(mod["main"]))

    return run

