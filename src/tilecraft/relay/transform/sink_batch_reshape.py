"""SinkBatchReshape: a reshape that only regroups the leading (batch) axes, followed by element-wise
operators and last-axis softmax and then a reshape that regroups them back, is sunk through the
operators and meets the second: both vanish.

    bmm [nb, L, S] -> reshape [B, H, L, S] -> * scale -> + bias [1, H, L, S] -> softmax(-1)
        -> reshape [nb, L, S] -> bmm
  becomes
    bmm [nb, L, S] -> * scale -> + bias' [nb, L, S] -> softmax(-1) -> bmm

Attention written with 4-D matmuls (Hugging Face's eager attention, T5's position bias, every ONNX
export) otherwise copies the L x S scores in two reshape kernels per layer, and the scale and mask
cannot fuse into the batch_matmul as its epilogue.

The other operands of an element-wise operator must line up with the regrouped shape: one of at most
two axes broadcasts as it is; one whose leading axes are all 1 loses them; one whose leading axes are
exactly the reshape's is regrouped too (a constant then folds).  Anything else, and a reshape read by
more than one operator, stays where it is.
"""

from __future__ import annotations

from ...transform import module_pass
from ..expr import Call
from ..op import transform as _tf
from ..op.registry import Op, OpPattern
from ..ty import TensorType
from ..visitor import ExprMutator, children, post_order
from .infer_type import infer_type

_SOFTMAX = ("nn.softmax", "nn.log_softmax")


def _shape(e):
    return tuple(e.ty.shape) if isinstance(getattr(e, "ty", None), TensorType) else None


def _batch_regroup(e) -> bool:
    """e is a reshape that keeps the last two axes and regroups only the ones before them."""
    if not (isinstance(e, Call) and isinstance(e.op, Op) and e.op.name == "reshape"):
        return False
    src, dst = _shape(e.args[0]), _shape(e)
    return src is not None and dst is not None and len(src) >= 2 and len(dst) >= 2 and src[-2:] == dst[-2:]


def _line_up(old, arg, lead, new_lead):
    """Operand `arg` (typed as `old`) beside the regrouped value (leading axes `lead` -> `new_lead`):
    itself, regrouped, or None when it does not line up."""
    shape = _shape(old)
    if shape is None:
        return None
    if len(shape) <= 2:
        return arg  # broadcasts over any leading axes
    own, tail = shape[:-2], shape[-2:]
    if all(d == 1 for d in own):
        return _tf.reshape(arg, tail)
    if tuple(own) == tuple(lead):
        return _tf.reshape(arg, tuple(new_lead) + tuple(tail))
    return None


class _Cancel(ExprMutator):
    """At each regrouping reshape, walk up the chain of operators it reads (each read only by the next)
    to a reshape that regrouped the other way; when every operand lines up, rebuild the chain in that
    reshape's input shape and drop both."""

    def __init__(self, uses: dict):
        super().__init__()
        self.uses = uses

    def visit_call(self, c):
        new = super().visit_call(c)
        if _batch_regroup(c):
            rebuilt = self._cancel(c)
            if rebuilt is not None:
                return rebuilt
        return new

    def _cancel(self, down):
        lead, new_lead = _shape(down.args[0])[:-2], _shape(down)[:-2]
        path, e = [], down.args[0]  # path: [(operator, index of the operand the chain runs through)]
        while True:
            if self.uses.get(id(e), 0) != 1:
                return None
            if _batch_regroup(e) and _shape(e.args[0])[:-2] == new_lead:
                break
            if not (isinstance(e, Call) and isinstance(e.op, Op) and _movable(e)):
                return None
            through = [i for i, a in enumerate(e.args) if _shape(a) == _shape(e)]
            if not through:
                return None
            path.append((e, through[0]))
            e = e.args[through[0]]
        value = self.new(e.args[0])
        for call, i in reversed(path):
            args = []
            for j, old in enumerate(call.args):
                lined = value if j == i else _line_up(old, self.new(old), lead, new_lead)
                if lined is None:
                    return None
                args.append(lined)
            value = Call(call.op, tuple(args), dict(call.attrs, axis=-1) if call.op.name in _SOFTMAX else call.attrs)
        return value


def _movable(c) -> bool:
    """An operator a batch regrouping commutes with: element-wise or broadcasting without an axis
    attribute (bias_add's axis would point elsewhere), or softmax over the last axis."""
    if c.op.name in _SOFTMAX:
        return c.attrs.get("axis") in (-1, len(_shape(c) or ()) - 1)
    return c.op.pattern <= OpPattern.BROADCAST and not {"axis", "axes"} & set(c.attrs)


def _use_counts(body) -> dict:
    uses: dict = {}
    for n in post_order(body):
        for ch in children(n):
            uses[id(ch)] = uses.get(id(ch), 0) + 1
    return uses


def sink_batch_reshape(func):
    """func with each pair of batch regroupings that undo each other around element-wise operators
    removed (the operators then run in the first reshape's input shape)."""
    func = infer_type(func)
    out = _Cancel(_use_counts(func)).visit(func)
    return func if out is func else infer_type(out)


def SinkBatchReshape():  # noqa: N802  (pass constructors are named like classes)
    @module_pass(opt_level=2, name="SinkBatchReshape")
    def run(mod):
        return mod.with_function("main", sink_batch_reshape(mod["main"]))

    return run
