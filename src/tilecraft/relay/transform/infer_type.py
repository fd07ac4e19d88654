"""InferType: fill in every node's `ty` (shape and dtype) from the inputs' annotations."""

from __future__ import annotations

from dataclasses import replace

from ...error import TVMError
from ...ir.module import GlobalVar
from ...transform import module_pass
from ..expr import Call, Constant, Function, Let, Tuple, TupleGetItem, Var
from ..ty import FuncType, TensorType, TupleType
from ..visitor import ExprMutator


class RelayTypeError(TypeError, TVMError):
    """An operator's inputs do not fit together; the message names the operator and the inputs."""


class _Infer(ExprMutator):
    """One inference pass.  A variable created without a type (classic `relay.var("w")`) takes the type
    an operator's `solve` gives it from the other inputs and attributes (conv2d's weight from
    `channels` and `kernel_size`): such types are collected in `found`, and a second pass gives every
    use of the variable the same typed object."""

    def __init__(self, solved=None, globals_=None):
        super().__init__()
        self.globals = globals_ or {}  # GlobalVar -> the module's typed function it names
        self.rel_cache: dict = {}  # (op, argument types, attributes) -> result type
        self.solved = solved or {}  # id(untyped var) -> its type, from an earlier pass
        self.found: dict = {}  # the same, found in this pass
        self.untyped: list = []  # untyped variables met, solved by a call or not

    def visit(self, e):
        from ..visitor import post_order

        if not hasattr(self, "let_values"):
            self.let_values = {}
        self.let_values.update((id(n.var), n.value) for n in post_order(e, self.memo) if isinstance(n, Let))
        return super().visit(e)

    def visit_var(self, v):
        if v.ty is not None:
            return v
        if id(v) in self.let_values:  # a let variable has its value's type (visited first)
            return replace(v, ty=self.new(self.let_values[id(v)]).ty)
        if v.type_annotation is not None:
            return replace(v, ty=v.type_annotation)
        if id(v) in self.solved:  # the solved type is also the annotation, as classic InferType fills it in
            return replace(v, ty=self.solved[id(v)], type_annotation=self.solved[id(v)])
        self.untyped.append(v)
        return v  # the call using it solves it (visit_call), or says it cannot

    def visit_constant(self, c):
        return c if c.ty is not None else replace(c, ty=TensorType(c.data.shape, str(c.data.dtype)))

    def visit_call(self, c):
        args = self._same(c.args)
        fn = self.visit(c.op) if isinstance(c.op, Function) else self._callee(c.op) if isinstance(
            c.op, GlobalVar) else c.op
        if c.ty is not None and fn is c.op and _unchanged(args, c.args):
            return c  # typed before, inputs unchanged: passes re-infer only what they rebuilt
        if any(a.ty is None for a in args):
            args = self._solve_untyped(c, fn, args)
        arg_types = [a.ty for a in args]
        if isinstance(c.op, GlobalVar):
            return replace(c, args=args, ty=fn.body.ty)
        if isinstance(c.op, Function):
            return replace(c, op=fn, args=args, ty=fn.body.ty)
        key = _rel_key(c.op, arg_types, c.attrs)
        ty = self.rel_cache.get(key) if key is not None else None
        if ty is not None:
            return replace(c, args=args, ty=ty)
        try:
            ty = c.op.type_rel(arg_types, c.attrs)
            if key is not None:
                self.rel_cache[key] = ty
        except RelayTypeError:
            raise
        except (TypeError, ValueError, IndexError, KeyError) as err:
            shapes = ", ".join(str(t) for t in arg_types)
            raise RelayTypeError(f"{c.op.name}: {err} (inputs: {shapes})") from err
        return replace(c, args=args, ty=ty)

    def _callee(self, gv):
        fn = self.globals.get(gv)
        if fn is None:
            raise RelayTypeError(f"call of {gv.astext()}: the module has no function named {gv.name_hint!r} "
                                 f"(it has {', '.join(self.globals) or 'no other functions'})")
        return fn

    def _solve_untyped(self, c, fn, args) -> tuple:
        """Arguments that are untyped variables, typed from what the callee needs there."""
        types = [a.ty for a in args]
        if isinstance(fn, Function):  # its parameters' types, given or found from their use in its body
            got = {i: p.ty if p.ty is not None else self.found.get(id(p)) for i, p in enumerate(fn.params)}
        elif getattr(c.op, "solve", None) is not None:
            try:
                got = c.op.solve(types, c.attrs)
            except (TypeError, ValueError, IndexError, KeyError) as err:
                raise RelayTypeError(f"{c.op.name}: {err} (inputs: {', '.join(str(t) for t in types)})") from err
        else:
            got = {}
        out = list(args)
        for i, a in enumerate(args):
            if a.ty is not None:
                continue
            if not isinstance(a, Var) or got.get(i) is None:
                name = a.name_hint if isinstance(a, Var) else type(a).__name__
                what = c.op.name if not isinstance(fn, Function) else "the called function"
                raise RelayTypeError(f"input %{name} has no type and {what} cannot infer it from its other "
                                     f"inputs; create it with relay.var({name!r}, shape=..., dtype=...)")
            self.found[id(a)] = got[i]
            out[i] = replace(a, ty=got[i])
        return tuple(out)

    def visit_tuple(self, t):
        f = self._same(t.fields)
        if t.ty is not None and _unchanged(f, t.fields):
            return t
        return replace(t, fields=f, ty=TupleType(tuple(x.ty for x in f)))

    def visit_tuple_getitem(self, t):
        v = self.new(t.tuple_value)
        if t.ty is not None and v is t.tuple_value:
            return t
        if not isinstance(v.ty, TupleType):
            raise RelayTypeError(f"TupleGetItem on a non-tuple value of type {v.ty}")
        if not 0 <= t.index < len(v.ty.fields):
            raise RelayTypeError(f"tuple index {t.index} out of range for {v.ty}")
        return replace(t, tuple_value=v, ty=v.ty.fields[t.index])

    def visit_let(self, e):
        body = self.new(e.body)
        return Let(self.new(e.var), self.new(e.value), body, body.ty)

    def visit_function(self, f):
        body = self.new(f.body)  # first: the body's calls type the untyped parameters
        params = self._same(f.params)
        for p in params:
            if p.ty is None and id(p) not in self.found:
                raise RelayTypeError(f"input %{p.name_hint} has no type and no use of it says what it is; "
                                     f"create it with relay.var({p.name_hint!r}, shape=..., dtype=...)")
        if f.ty is not None and f.ret_type is not None and body is f.body and _unchanged(params, f.params):
            return f
        return replace(f, params=params, body=body, ret_type=body.ty,
                       ty=FuncType(tuple(p.ty for p in params), body.ty))


def _unchanged(new, old) -> bool:
    return all(a is b for a, b in zip(new, old))


def _freeze(v):
    """A hashable stand-in for an attribute value, with the type of every leaf (1, 1.0 and True differ)."""
    if isinstance(v, dict):
        return ("dict", tuple(sorted((k, _freeze(x)) for k, x in v.items())))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(_freeze(x) for x in v))
    hash(v)  # unhashable values (arrays) raise TypeError: such a call is not cached
    return (type(v).__name__, v)


def _rel_key(op, arg_types, attrs):
    """Type relations are functions of (operator, argument types, attributes), and a graph repeats the
    same few (one per layer, per token of an unrolled loop): each is computed once per inference."""
    try:
        key = (op.name, tuple(arg_types), _freeze(attrs))
        hash(key)
        return key
    except TypeError:
        return None


def infer_type(expr, globals_=None):
    """Typed copy of a relay expression or function; `globals_` maps the GlobalVars it calls to the
    module's typed functions."""
    first = _Infer(None, globals_)
    typed = first.visit(expr)
    left = [v for v in first.untyped if id(v) not in first.found]
    if left:  # used only where nothing says its type (a tuple field, the result itself)
        raise RelayTypeError(f"input %{left[0].name_hint} has no type and no use of it says what it is; create "
                             f"it with relay.var({left[0].name_hint!r}, shape=..., dtype=...)")
    return _Infer(first.found, globals_).visit(expr) if first.found else typed


_RELAY = (Function, Call, Tuple, Var, Constant, TupleGetItem, Let)


def callee_order(mod) -> list:
    """The module's relay functions, each after the functions it calls; recursion is refused (the
    graph executor runs no calls at run time, so a call is inlined)."""
    from ..visitor import post_order

    order, state = [], {}

    def visit(gv, path):
        if state.get(gv) == "done":
            return
        if state.get(gv) == "open":
            cycle = " -> ".join(g.astext() for g in path[path.index(gv):] + [gv])
            raise RelayTypeError(f"recursive relay functions are not supported ({cycle}): write the loop "
                                 "out, or as a relay operator")
        state[gv] = "open"
        for n in post_order(mod[gv]):
            if isinstance(n, Call) and isinstance(n.op, GlobalVar) and n.op in mod:
                visit(mod.get_global_var(n.op), path + [gv])
        state[gv] = "done"
        order.append(gv)

    for gv, f in mod.items():
        if isinstance(f, _RELAY):
            visit(gv, [])
    return order


def InferType():  # noqa: N802  (classic relay.transform name)
    @module_pass(opt_level=0, name="InferType")
    def infer(mod):
        typed = {}
        for gv in callee_order(mod):
            typed[gv] = infer_type(mod[gv], typed)
        return mod.__class__({k: typed.get(k, f) for k, f in mod.items()})

    return infer
