"""FoldConstant: evaluate, at compile time, every part of the graph whose inputs are all constants.

Weight transposes, layout transforms, batch-norm scales: all of them are computed once, while
compiling, and replaced by the constant they produce.  Evaluation is by compilation: the maximal
constant subexpressions of the whole graph are gathered into ONE function returning them all as
a tuple, which is fused, lowered and built (relay/backend/executor.py: the kernels relay.build
would make, without running the optimization pipeline again) and run once, so a model with
hundreds of foldable weights costs one compile, not hundreds.

Not folded:
  * a result much larger than the constants it is computed from (a scalar broadcast to a big
    shape stays a cheap kernel rather than becoming a big stored weight), see `_worth_storing`;
  * calls of fused functions and operators without a compute.
"""

from __future__ import annotations

import numpy as np

from ...transform import module_pass
from ..expr import Call, Constant, Function, Tuple, TupleGetItem
from ..op.registry import Op
from ..ty import TensorType, TupleType
from ..visitor import ExprMutator, children, post_order
from .infer_type import infer_type

# A folded result may be at most this many times the size of the constants it reads
# (or at most MIN_FOLD_ELEMS elements, whatever it reads).
GROWTH_LIMIT = 2
MIN_FOLD_ELEMS = 4096

stats = {"builds": 0}  # how many constant-evaluation builds ran (tests check it is one per fold)


def _elems(ty) -> int:
    if isinstance(ty, TupleType):
        return sum(_elems(f) for f in ty.fields)
    if isinstance(ty, TensorType):
        return int(np.prod(ty.shape, dtype=np.int64))
    return 0


def _const_nodes(nodes) -> dict:
    """id -> True for every node computable from constants alone (Var-free, no fused calls)."""
    const: dict = {}
    for n in nodes:
        if isinstance(n, Constant):
            const[id(n)] = True
        elif isinstance(n, Call):
            const[id(n)] = isinstance(n.op, Op) and n.op.compute is not None and \
                all(const.get(id(a), False) for a in n.args)
        elif isinstance(n, (Tuple, TupleGetItem)):
            const[id(n)] = all(const.get(id(a), False) for a in children(n))
        else:
            const[id(n)] = False
    return const


def is_constant_expr(e) -> bool:
    """True when e reads no graph input: FoldConstant can turn it into a Constant."""
    return _const_nodes(post_order(e))[id(e)]


def _plan(body) -> list:
    """The maximal constant subexpressions of body that are worth storing, producers first."""
    nodes = post_order(body)
    const = _const_nodes(nodes)
    leaf: dict = {}  # id -> elements of the constants it reads (an over-count where they are shared)
    foldable: dict = {}
    for n in nodes:
        if not const[id(n)]:
            continue
        if isinstance(n, Constant):
            leaf[id(n)] = n.data.size
            continue
        leaf[id(n)] = sum(leaf[id(a)] for a in children(n))
        # a field of a tuple literal is taken by the rewrite below, not by evaluation
        foldable[id(n)] = _worth_storing(_elems(n.ty), leaf[id(n)]) and \
            not (isinstance(n, TupleGetItem) and isinstance(n.tuple_value, Tuple))
    users: dict = {}
    for n in nodes:
        for c in children(n):
            users.setdefault(id(c), []).append(n)
    needed: set = {id(body)}
    targets = []
    for n in reversed(nodes):  # consumers before producers
        if id(n) != id(body):
            for u in users.get(id(n), ()):
                if not foldable.get(id(u)) or isinstance(u, Tuple) and id(u) in needed:
                    needed.add(id(n))
                    break
        if id(n) in needed and foldable.get(id(n)) and isinstance(n, (Call, TupleGetItem)):
            targets.append(n)
    return targets[::-1]


def _worth_storing(out_elems: int, in_elems: int) -> bool:
    return out_elems <= MIN_FOLD_ELEMS or out_elems <= GROWTH_LIMIT * in_elems


def evaluate_constants(exprs: list) -> list:
    """Values of Var-free expressions (numpy arrays, or tuples of them), computed by one build."""
    from ..backend.executor import evaluate_closed

    stats["builds"] += 1
    return evaluate_closed(exprs)


def _as_expr(value):
    if isinstance(value, tuple):
        return Tuple(tuple(_as_expr(v) for v in value))
    arr = np.asarray(value, order="C")
    return Constant(arr, TensorType(arr.shape, str(arr.dtype)))


def fold_constant(func):
    """Copy of func (a Function or expression) with its constant subexpressions evaluated."""
    func = infer_type(func)
    body = func.body if isinstance(func, Function) else func
    targets = _plan(body)
    if not targets:
        return func
    try:
        values = evaluate_constants(targets)
    except Exception as err:
        ops = sorted({n.op.name for t in targets for n in post_order(t) if isinstance(n, Call)})
        raise RuntimeError(f"FoldConstant: evaluating the constant parts of the graph (operators {', '.join(ops)}) "
                           f"failed: {err}. Switch the pass off with "
                           "PassContext(disabled_pass=['FoldConstant']) to compile without it.") from err
    folded = {id(t): _as_expr(v) for t, v in zip(targets, values)}

    class Replace(ExprMutator):
        def _dispatch(self, n):
            hit = folded.get(id(n))
            return hit if hit is not None else super()._dispatch(n)

        def visit_tuple_getitem(self, t):
            v = self.new(t.tuple_value)
            if isinstance(v, Tuple):  # a folded tuple or a tuple literal: take the field
                return v.fields[t.index]
            return super().visit_tuple_getitem(t)

    return infer_type(Replace().visit(func))


def FoldConstant(fold_qnn: bool = False):  # noqa: N802  (classic relay.transform name; no qnn ops here)
    @module_pass(opt_level=2, name="FoldConstant")
    def run(mod):
        return mod.with_function("main", fold_constant(mod["main"]))

    return run
