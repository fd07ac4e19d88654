"""FuseOps: group operators into kernels, so intermediate values never go to memory.

Classic Relay's algorithm, on the graph of operator calls (a tuple read only by one call, e.g.
concatenate's, counts as that call's arguments):

1. The post-dominator tree: the immediate post-dominator of a call is the first call that every
   path from it to the output goes through (none when its value leaves the graph: the function's
   result, a tuple, a TupleGetItem of an opaque call).  A TupleGetItem of an injective call (the
   fields of split) is a node of the graph, injective, so split, its fields and their element-wise
   readers become one kernel.  With it comes the path pattern: the most general operator
   pattern on the edges of those paths (a broadcast whose argument already has the output's
   shape counts as element-wise).
2. Groups start as single calls and grow by fusing a call, and every call on the paths to its
   post-dominator, into the post-dominator's group, when the patterns allow it:
   * after conv/dense/matmul (OUT_ELEMWISE_FUSABLE), element-wise paths ending in ops up to
     broadcast (bias, activations, residual adds: several consumers joining again are fine);
   * element-wise/broadcast calls into injective paths, ending in an injective op, a reduction
     or a conv group's epilogue;
   * injective calls (transpose, reshape, concatenate, ...) into injective paths, in a second
     phase, so conv/dense groups finish first; and, unlike classic Relay, into a reduction that
     ends such a path (the reduction schedules inline them, one kernel less);
   * relay.annotation.stop_fusion is opaque, so nothing fuses across it; the mark is then dropped;
   * a group holds at most `max_depth` calls (PassContext config "relay.FuseOps.max_depth", 256 by
     default, as in classic TVM); reductions and opaque calls are never fused into their users.
Each group becomes a primitive Function called from main; tensor constants become its parameters,
and so do constant indices (see _INDEXING); other scalar constants stay inside.
"""

from __future__ import annotations

from ...ir.transform import CONFIGS, module_pass
from ..expr import Call, Constant, Function, Tuple, TupleGetItem, Var
from ..op.registry import Op, OpPattern
from ..ty import TensorType
from ..visitor import ExprMutator, post_order
from .infer_type import infer_type

# Operators whose second argument is an index tensor.  A constant index is passed to the kernel as
# a (0-d) parameter instead of being compiled into it, so the groups of an unrolled loop that differ
# only in the step they read (x[:, t] for t = 0..127, per layer) are one kernel, lowered and compiled
# once, and compile time does not grow with the number of steps.
_INDEXING = ("take",)


def _is_op_call(n) -> bool:
    return isinstance(n, Call) and isinstance(n.op, Op)


def _is_field(n) -> bool:
    """A field of an injective call's tuple (split's): fused like an injective operator."""
    return isinstance(n, TupleGetItem) and _is_op_call(n.tuple_value) and \
        n.tuple_value.op.pattern <= OpPattern.INJECTIVE


def _is_node(n) -> bool:
    return _is_op_call(n) or _is_field(n)


def _pattern(n) -> int:
    return OpPattern.INJECTIVE if isinstance(n, TupleGetItem) else n.op.pattern


class _Graph:
    """The calls of a body, their users, and the post-dominator tree over them."""

    def __init__(self, body):
        nodes = post_order(body)
        self.calls = [n for n in nodes if _is_node(n)]
        readers: dict = {}
        for n in nodes:
            for a in _inputs(n):
                readers.setdefault(id(a), []).append(n)
        self.users: dict = {id(c): [] for c in self.calls}  # id -> [(user call, edge pattern)]
        self.leaves: set = {id(body)}  # calls whose value is also used outside the call graph
        for c in self.calls:
            for a in _inputs(c):
                fields = a.fields if isinstance(a, Tuple) and len(readers.get(id(a), ())) == 1 else (a,)
                for f in fields:
                    if _is_node(f):
                        self.users[id(f)].append((c, _edge_pattern(f, c)))
        for n in nodes:
            if not _is_node(n):
                for a in _inputs(n):
                    if _is_node(a) and not (isinstance(n, Tuple) and len(readers.get(id(n), ())) == 1
                                            and _is_op_call(readers[id(n)][0]) and n is not body):
                        self.leaves.add(id(a))
        self.ipdom: dict = {}
        self.depth: dict = {}
        self.path_pattern: dict = {}
        for c in reversed(self.calls):
            self._post_dominate(c)

    def _post_dominate(self, c) -> None:
        users = self.users[id(c)]
        if id(c) in self.leaves or not users:
            self.ipdom[id(c)], self.depth[id(c)], self.path_pattern[id(c)] = None, 0, OpPattern.OPAQUE
            return
        p = users[0][0]
        for u, _ in users[1:]:
            p = self._common(p, u)
            if p is None:
                break
        pattern = OpPattern.OPAQUE
        if p is not None:
            pattern = max(max(e, self._climb(u, p)) for u, e in users)
        self.ipdom[id(c)], self.path_pattern[id(c)] = p, pattern
        self.depth[id(c)] = 0 if p is None else self.depth[id(p)] + 1

    def _common(self, a, b):
        """The nearest common post-dominator of a and b (None if they only meet outside the graph)."""
        while a is not None and b is not None and a is not b:
            da, db = self.depth[id(a)], self.depth[id(b)]
            if da >= db:
                a = self.ipdom[id(a)]
            if db >= da:
                b = self.ipdom[id(b)]
        return a if a is b else None

    def _climb(self, u, p) -> int:
        pattern = 0
        while u is not p:
            pattern = max(pattern, self.path_pattern[id(u)])
            u = self.ipdom[id(u)]
        return pattern

    def between(self, src, sink) -> list:
        """The calls on the paths from src to sink (sink included, src not)."""
        out, seen, todo = [], {id(src)}, [u for u, _ in self.users[id(src)]]
        while todo:
            n = todo.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            out.append(n)
            if n is not sink:
                todo.extend(u for u, _ in self.users[id(n)])
        return out


def _inputs(n) -> tuple:
    if isinstance(n, Call):
        return n.args
    if isinstance(n, Tuple):
        return n.fields
    return (n.tuple_value,) if hasattr(n, "tuple_value") else ()


def _edge_pattern(producer, consumer) -> int:
    p = _pattern(consumer)
    if p == OpPattern.BROADCAST and isinstance(producer.ty, TensorType) and isinstance(consumer.ty, TensorType) \
            and tuple(producer.ty.shape) == tuple(consumer.ty.shape):
        return OpPattern.ELEMWISE
    return p


class _Groups:
    """Union-find over calls; each root knows its members, pattern (the most general of theirs) and size."""

    def __init__(self, calls):
        self.parent = {id(c): id(c) for c in calls}
        self.members = {id(c): [c] for c in calls}
        self.pattern = {id(c): _pattern(c) for c in calls}

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def merge_into(self, child, root) -> None:
        rc = self.find(child)
        if rc == root:
            return
        self.parent[rc] = root
        self.members[root] += self.members.pop(rc)
        self.pattern[root] = max(self.pattern[root], self.pattern.pop(rc))


def _kernel_args(members) -> int:
    """Parameters of the kernel a group becomes, as a target's max_function_args counts them: one per
    tensor read from outside (constant scalars stay inside) and one output, plus a shape argument
    per dimension of a tensor with a dimension known only at run time (relay.Any)."""
    from ...ir.expr import Any

    def count(t) -> int:
        if not isinstance(t, TensorType):
            return 1
        anys = sum(isinstance(d, Any) for d in t.shape)
        return 1 + (anys + len(t.shape) if anys else 0)

    inside = {id(m) for m in members}
    seen, n = set(), 0
    for m in members:
        for a in _inputs(m):
            for f in (a.fields if isinstance(a, Tuple) else (a,)):
                if id(f) in inside or id(f) in seen or isinstance(f, Constant) and f.data.size == 1:
                    continue
                seen.add(id(f))
                n += count(f.ty)
    return n


def _plan(body, opt_level: int, max_depth: int, max_args: int = 0) -> _Groups:
    graph = _Graph(body)
    g = _Groups(graph.calls)
    if opt_level < 1:
        return g
    for phase in (0, 1):
        for c in graph.calls:
            sink = graph.ipdom[id(c)]
            rc = g.find(id(c))
            if sink is None or g.pattern[rc] == OpPattern.OPAQUE:
                continue
            rs = g.find(id(sink))
            if rs == rc:
                continue
            path = graph.between(c, sink)
            groups = {g.find(id(n)) for n in path} | {rc}
            if sum(len(g.members[r]) for r in groups) > max_depth:
                continue
            if max_args and _kernel_args([m for r in groups | {rs} for m in g.members[r]]) + 1 > max_args:
                continue  # the target limits a kernel's arguments (OpenCL: 128)
            kind, path_kind = g.pattern[rc], graph.path_pattern[id(c)]
            if kind == OpPattern.OUT_ELEMWISE_FUSABLE:
                ok = phase == 0 and path_kind == OpPattern.ELEMWISE and _path_ok(
                    g, path, sink, lambda k, at_sink: k <= OpPattern.BROADCAST)
            elif kind <= OpPattern.BROADCAST:
                ok = (path_kind <= OpPattern.INJECTIVE or path_kind == OpPattern.COMM_REDUCE) and _path_ok(
                    g, path, sink, lambda k, at_sink: k <= OpPattern.INJECTIVE or at_sink and k in (
                        OpPattern.COMM_REDUCE, OpPattern.OUT_ELEMWISE_FUSABLE))
            elif kind == OpPattern.INJECTIVE:  # and, unlike classic Relay, into a reduction that ends the path
                ok = phase == 1 and (path_kind <= OpPattern.INJECTIVE or path_kind == OpPattern.COMM_REDUCE) \
                    and _path_ok(g, path, sink, lambda k, at_sink: k <= OpPattern.INJECTIVE or at_sink and k == (
                        OpPattern.COMM_REDUCE))
            else:
                ok = False
            if ok:
                for n in [c, *path]:
                    g.merge_into(id(n), rs)
    return g


def _path_ok(g: _Groups, path, sink, allowed) -> bool:
    return all(allowed(g.pattern[g.find(id(n))], n is sink) for n in path)


def _build(body, g: _Groups, link_params: bool = False):
    """Rewrite main so each group is one call of a primitive function; constants read by a group
    stay inside it when they are scalars (not indices) or with link_params, else become parameters."""
    group_of = {}  # id(call) -> (its group's members, whether it is the group's root: read by no member)
    for members in g.members.values():
        read = {id(x) for m in members for a in _inputs(m) for x in (a.fields if isinstance(a, Tuple) else (a,))}
        for m in members:
            group_of[id(m)] = (members, id(m) not in read)

    class Rewriter(ExprMutator):
        def visit_call(self, c):
            if isinstance(c.op, Function) and c.op.attrs.get("Primitive"):  # fused before: kept whole
                args = tuple(self.visit(a) for a in c.args)
                return c if all(x is y for x, y in zip(args, c.args)) else Call(c.op, args, c.attrs, c.ty)
            if not isinstance(c.op, Op):
                return super().visit_call(c)
            if c.op.name == "annotation.stop_fusion":  # opaque, so nothing fused across it: drop the mark
                return self.memo[id(c.args[0])]
            members, is_root = group_of[id(c)]
            if not is_root:
                return c  # an inner member: only its group's root is rewritten
            return self._group_call(c, members)

        def visit_tuple_getitem(self, t):
            members, is_root = group_of.get(id(t), ((t,), False))
            if is_root and len(members) > 1:  # split and its fields, ending the group
                return self._group_call(t, members)
            return super().visit_tuple_getitem(t)

        def _group_call(self, root, members):
            inside = {id(m) for m in members}
            indices = {id(m.args[1]) for m in members if isinstance(m, Call) and m.op.name in _INDEXING}
            params, args, local = [], [], {}

            def rebuild(n):
                if id(n) in local:
                    return local[id(n)]
                if isinstance(n, Call) and id(n) in inside:
                    out = Call(n.op, tuple(rebuild(a) for a in n.args), n.attrs, n.ty)
                elif isinstance(n, TupleGetItem) and id(n) in inside and id(n.tuple_value) in inside:
                    out = TupleGetItem(rebuild(n.tuple_value), n.index, n.ty)
                elif isinstance(n, Constant) and (link_params or n.data.size == 1 and id(n) not in indices):
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


def fuse_ops(func: Function, opt_level: int = 2,
             max_depth: int = CONFIGS["relay.FuseOps.max_depth"].default, max_args: int = 0,
             link_params: bool = False) -> Function:
    """max_args: the most parameters a kernel may take (the target's max_function_args; 0: no limit)."""
    func = infer_type(func)
    g = _plan(func.body, opt_level, max_depth, max_args)
    body = _build(func.body, g, link_params)
    return infer_type(Function(func.params, body, None, func.attrs))


def FuseOps(fuse_opt_level: int = -1):  # noqa: N802
    @module_pass(opt_level=0, name="FuseOps")
    def run(mod, ctx):
        from ...target import Target

        level = fuse_opt_level if fuse_opt_level >= 0 else ctx.opt_level
        target = Target.current()
        max_args = target.max_function_args if target is not None else 0
        return mod.with_function("main", fuse_ops(mod["main"], level, ctx.get_config("relay.FuseOps.max_depth"),
                                                  max_args, ctx.get_config("relay.FuseOps.link_params")))

    return run
