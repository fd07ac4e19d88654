"""FuseOps: group operators into kernels, so intermediate values never go to memory.

Rules (classic Relay's, on a DAG where a producer is fused only into its single consumer):
  * element-wise / broadcast / injective ops fuse into chains;
  * element-wise / broadcast ops after a conv/dense/matmul (OUT_ELEMWISE_FUSABLE) fuse into its
    output (bias, activation, residual add);
  * injective producers fuse into a reduction;
  * a group holds at most one "anchor" (conv, dense, reduction, opaque op);
  * a group holds at most `max_depth` operators (PassContext config "relay.FuseOps.max_depth",
    256 by default, as in classic TVM).
Each group becomes a primitive Function called from main; tensor constants become its parameters,
and so do constant indices (see _INDEXING); other scalar constants stay inside.
"""

from __future__ import annotations

from ...ir.transform import CONFIGS, module_pass
from ..expr import Call, Constant, Function, Tuple, Var
from ..op.registry import Op, OpPattern
from ..visitor import ExprMutator, post_order
from .infer_type import infer_type

# Operators whose second argument is an index tensor.  A constant index is passed to the kernel as
# a (0-d) parameter instead of being compiled into it, so the groups of an unrolled loop that differ
# only in the step they read (x[:, t] for t = 0..127, per layer) are one kernel, lowered and compiled
# once, and compile time does not grow with the number of steps.
_INDEXING = ("take",)


def _is_anchor(p: int) -> bool:
    return p in (OpPattern.OUT_ELEMWISE_FUSABLE, OpPattern.COMM_REDUCE, OpPattern.OPAQUE)


class _Groups:
    def __init__(self):
        self.parent: dict = {}
        self.members: dict = {}
        self.anchor: dict = {}  # group root id -> anchor pattern or None

    def add(self, n):
        self.parent[id(n)] = id(n)
        self.members[id(n)] = [n]
        self.anchor[id(n)] = n.op.pattern if _is_anchor(n.op.pattern) else None

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def merge(self, a, b):
        ra, rb = self.find(id(a)), self.find(id(b))
        self.parent[ra] = rb
        self.members[rb] += self.members.pop(ra)
        self.anchor[rb] = self.anchor[rb] if self.anchor[rb] is not None else self.anchor.pop(ra)
        self.anchor.pop(ra, None)


def _plan(body, opt_level: int, max_depth: int) -> _Groups:
    nodes = post_order(body)
    users: dict = {}
    for n in nodes:
        for a in (n.args if isinstance(n, Call) else getattr(n, "fields", ()) or
                  ((n.tuple_value,) if hasattr(n, "tuple_value") else ())):
            users.setdefault(id(a), []).append(n)
    g = _Groups()
    calls = [n for n in nodes if isinstance(n, Call) and isinstance(n.op, Op)]
    for c in calls:
        g.add(c)
    if opt_level < 1:
        return g
    for c in calls:
        pc = c.op.pattern
        for a in c.args:
            if not (isinstance(a, Call) and isinstance(a.op, Op)) or len(users.get(id(a), ())) != 1 or a is body:
                continue
            ra, rc = g.find(id(a)), g.find(id(c))
            if ra == rc or len(g.members[ra]) + len(g.members[rc]) > max_depth:
                continue
            anchor_a, anchor_c = g.anchor[ra], g.anchor[rc]
            ok = False
            if pc <= OpPattern.INJECTIVE and anchor_a is None and anchor_c is None:
                ok = True  # injective chain
            elif pc <= OpPattern.BROADCAST and anchor_a == OpPattern.OUT_ELEMWISE_FUSABLE and anchor_c is None \
                    and all(m.op.pattern <= OpPattern.BROADCAST or m is a for m in g.members[ra]
                            if not _is_anchor(m.op.pattern)):
                ok = True  # epilogue of conv/dense
            elif pc == OpPattern.COMM_REDUCE and anchor_a is None and rc == id(c) or \
                    pc == OpPattern.COMM_REDUCE and anchor_a is None and anchor_c == OpPattern.COMM_REDUCE:
                ok = True  # injective producers into a reduction
            if ok:
                g.merge(a, c)
    return g


def _build(body, g: _Groups):
    """Rewrite main so each group is one call of a primitive function."""
    root_of = {id(m): r for r, ms in g.members.items() for m in ms}

    class Rewriter(ExprMutator):
        def visit_call(self, c):
            if isinstance(c.op, Function) and c.op.attrs.get("Primitive"):  # fused before: kept whole
                args = tuple(self.visit(a) for a in c.args)
                return c if all(x is y for x, y in zip(args, c.args)) else Call(c.op, args, c.attrs, c.ty)
            if not isinstance(c.op, Op):
                return super().visit_call(c)
            r = root_of[id(c)]
            members = g.members[r]
            if c is not members[-1] and not _is_root(c, members):
                return c  # an inner member: only its group's root is rewritten
            return self._group_call(c, members)

        def _group_call(self, root, members):
            inside = {id(m) for m in members}
            indices = {id(m.args[1]) for m in members if m.op.name in _INDEXING}
            params, args, local = [], [], {}

            def rebuild(n):
                if id(n) in local:
                    return local[id(n)]
                if isinstance(n, Call) and id(n) in inside:
                    out = Call(n.op, tuple(rebuild(a) for a in n.args), n.attrs, n.ty)
                elif isinstance(n, Constant) and n.data.size == 1 and id(n) not in indices:
                    out = n
                elif isinstance(n, Tuple):  # an operator taking a tuple (concatenate) gets its fields
                    out = Tuple(tuple(rebuild(f) for f in n.fields), n.ty)
                else:
                    out = Var(f"p{len(params)}", n.ty, n.ty)
                    params.append(out)
                    args.append(self.visit(n))
                local[id(n)] = out
                return out

            body_ = rebuild(root)
            fn = Function(tuple(params), body_, body_.ty, {"Primitive": 1})
            return Call(fn, tuple(args), {}, root.ty)

    return Rewriter().visit(body)


def _is_root(c, members) -> bool:
    return all(c not in m.args for m in members)


def fuse_ops(func: Function, opt_level: int = 2,
             max_depth: int = CONFIGS["relay.FuseOps.max_depth"].default) -> Function:
    func = infer_type(func)
    g = _plan(func.body, opt_level, max_depth)
    body = _build(func.body, g)
    return infer_type(Function(func.params, body, None, func.attrs))


def FuseOps(fuse_opt_level: int = -1):  # noqa: N802
    @module_pass(opt_level=0, name="FuseOps")
    def run(mod, ctx):
        level = fuse_opt_level if fuse_opt_level >= 0 else ctx.opt_level
        return mod.with_function("main", fuse_ops(mod["main"], level, ctx.get_config("relay.FuseOps.max_depth")))

    return run
