"""The layout model the graph tuners optimise: which convolution's output reaches which convolution,
and where AlterOpLayout would insert a layout transform for a given choice of channel blocks.

The relay graph is taken after relay.build's graph passes with AlterOpLayout disabled (the graph
`extract_from_program` takes tasks from), so every nn.conv2d here is one tuning workload.  Each
tunable convolution is a *variable* whose states are candidate records; a state has an input
block `ib` and an output block `ob` (`None` = plain NCHW, which is what the direct kernel
conv2d_nchw.x86 reads and writes).  The model follows relay/transform/alter_op_layout.py:

* a blocked value travels unchanged through element-wise operators with one operand, bias_add,
  and broadcast operators whose other operands are scalars, per-channel vectors or constants,
  and through depthwise convolutions (approximation: their own choice of block is not modelled);
* a convolution whose input arrives in block `o` pays T(shape, o, ib), zero when o == ib
  (AlterOpLayout goes through NCHW: NCHW<o>c -> NCHW -> NCHW<ib>c, fused into one kernel);
* an operator that depends on the layout (pooling, reshape, concatenate, dense, the graph's
  outputs, ...) is a *layout boundary*: a blocked operand pays T(shape, o, None) once per value;
* a broadcast operator with several same-shape tensor operands (a residual add) is a *merge*
  variable whose state is its output block: an operand already in that block costs nothing, a
  plain operand pays the transform into it, plain output makes each blocked operand pay its way
  back, and two different blocks cannot meet (AlterOpLayout would go to NCHW instead).

Costs are pairwise (between two variables) or unary, which is what DP and PBQP need.  Two
approximations, both small: a value read by several convolutions that want the same new block
is transformed once in the build but paid per reader here, and a depthwise convolution is
assumed to keep the block it receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...relay.expr import Call, Constant, Function, Tuple, TupleGetItem, Var
from ...relay.op.registry import Op, OpPattern
from ...relay.op.strategy import op_strategy
from ...relay.transform.fold_constant import is_constant_expr
from ...relay.ty import TensorType
from ...relay.visitor import post_order
from ...te import placeholder

NCHWC, DIRECT = "conv2d_NCHWc.x86", "conv2d_nchw.x86"


@dataclass
class Candidate:
    """One state of a convolution: a record (MeasureInput, MeasureResult), its blocks and its cost."""

    inp: object
    res: object
    ib: int | None
    ob: int | None
    cost: float


@dataclass
class ConvNode:
    """A tunable nn.conv2d: its workloads (blocked kernel, direct kernel), shapes and candidates."""

    call: Call
    workload: tuple
    direct_workload: tuple | None
    in_shape: tuple
    out_shape: tuple
    candidates: list = field(default_factory=list)

    @property
    def outs(self) -> list:
        return [c.ob for c in self.candidates]


@dataclass
class MergeNode:
    """A residual add (or other broadcast of same-shape tensors): its states are output blocks."""

    shape: tuple
    outs: list = field(default_factory=list)


@dataclass
class Factor:
    """kind "feed" (src -> conv input), "merge" (src -> merge), "sink" (src -> plain NCHW); src None:
    a plain NCHW value (graph input or a non-tuned operator's output)."""

    kind: str
    src: int | None
    dst: int | None
    shape: tuple


def _shape(e) -> tuple | None:
    ty = getattr(e, "ty", None)
    return tuple(int(s) for s in ty.shape) if isinstance(ty, TensorType) else None


class LayoutGraph:
    """Variables (ConvNode / MergeNode, producers first) and the factors between them."""

    def __init__(self, func: Function, input_names, target):
        self.target = target
        self.input_names = set(input_names)
        self.variables: list = []
        self.factors: list = []
        self.convs: list = []  # indices of ConvNode variables, in graph order
        self._src: dict = {}  # id(expr) -> variable index carrying its layout, or None (plain)
        self._sunk: set = set()
        for n in post_order(func.body):
            self._src[id(n)] = self._visit(n)
        self._sink(func.body)

    def set_merge_states(self) -> None:
        """A merge's states: plain NCHW and every output block of a candidate that divides its channels
        (called once the convolutions have their candidates)."""
        blocks = {b for v in self.convs for b in self.variables[v].outs if b}
        for v in self.variables:
            if isinstance(v, MergeNode):
                v.outs = [None] + sorted(b for b in blocks if v.shape[1] % b == 0)

    # ---------------------------------------------------------------- building
    def _add_var(self, node) -> int:
        self.variables.append(node)
        return len(self.variables) - 1

    def _sink(self, e) -> None:
        src = self._src.get(id(e))
        if src is not None and id(e) not in self._sunk:
            self._sunk.add(id(e))
            self.factors.append(Factor("sink", src, None, _shape(e)))

    def _visit(self, n):
        if isinstance(n, (Var, Constant, Function)):
            return None
        if isinstance(n, Tuple):
            for f in n.fields:
                self._sink(f)
            return None
        if isinstance(n, TupleGetItem):
            self._sink(n.tuple_value)
            return None
        if not isinstance(n, Call) or not isinstance(n.op, Op):
            for a in getattr(n, "args", ()):
                self._sink(a)
            return None
        if n.op.name == "nn.conv2d":
            conv = self._conv(n)
            if conv is not None:
                v = self._add_var(conv)
                self.convs.append(v)
                self.factors.append(Factor("feed", self._src[id(n.args[0])], v, conv.in_shape))
                return v
            if _depthwise(n):
                return self._src[id(n.args[0])]
        if all(self._src[id(a)] is None for a in n.args):
            return None
        return self._propagate(n)

    def _propagate(self, n):
        """The variable carrying n's layout when n keeps its operands' layout; otherwise n is a
        layout boundary and its blocked operands pay their way back to NCHW."""
        out = _shape(n)
        args = n.args
        if n.op.pattern == OpPattern.ELEMWISE and len(args) == 1 and out == _shape(args[0]):
            return self._src[id(args[0])]
        if n.op.name == "nn.bias_add" and n.attrs.get("axis", 1) % 4 == 1:
            return self._src[id(args[0])]
        if n.op.pattern == OpPattern.BROADCAST and out is not None and len(out) == 4 and len(args) == 2:
            tensors = [a for a in args if _shape(a) == out and not is_constant_expr(a)]
            ids = {id(a) for a in tensors}
            small = [a for a in args if id(a) not in ids and (_broadcasts_per_channel(_shape(a), out)
                                                             or _shape(a) == out)]
            blocked_ok = all(self._src[id(a)] is None or id(a) in ids for a in args)
            if len(tensors) + len(small) == len(args) and blocked_ok and tensors:
                if len(tensors) == 1:
                    return self._src[id(tensors[0])]
                m = self._add_var(MergeNode(out))
                for a in tensors:
                    self.factors.append(Factor("merge", self._src[id(a)], m, out))
                return m
        for a in args:
            self._sink(a)
        return None

    def _conv(self, n) -> ConvNode | None:
        """The ConvNode of n when the blocked kernel can compute it and AlterOpLayout would rewrite it."""
        a = n.attrs
        data, weight = n.args
        if a.get("data_layout", "NCHW") != "NCHW" or a.get("kernel_layout", "OIHW") != "OIHW" \
                or a.get("out_layout", "") not in ("", "NCHW") or a.get("groups", 1) != 1:
            return None
        if not (is_constant_expr(weight) or (isinstance(weight, Var) and weight.name_hint not in self.input_names)):
            return None  # a weight computed from the graph's inputs is never re-laid out
        ins = [placeholder(x.ty.shape, x.ty.dtype, name=f"arg{i}") for i, x in enumerate(n.args)]
        impls = {i.name: i for i in op_strategy(n.op, a, ins, n.ty, self.target).implementations}
        if NCHWC not in impls:
            return None
        direct = impls.get(DIRECT)
        return ConvNode(n, _workload(impls[NCHWC], a, ins, n.ty),
                        None if direct is None else _workload(direct, a, ins, n.ty), _shape(data), _shape(n))


def _workload(impl, attrs, ins, out_type) -> tuple:
    return impl.template.workload(impl.args(attrs, ins, out_type))


def _depthwise(n) -> bool:
    shape = _shape(n.args[0])
    return shape is not None and n.attrs.get("groups", 1) == shape[1] > 1


def _broadcasts_per_channel(shape, out) -> bool:
    """A scalar or a [C] / [C,1,1] / [1,C,1,1] vector: broadcasts against blocked data for free."""
    if shape is None or len(shape) > 4:
        return False
    padded = (1,) * (4 - len(shape)) + tuple(shape)
    return all(s == 1 for s in padded) or padded == (1, out[1], 1, 1)
