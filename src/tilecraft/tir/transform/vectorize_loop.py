"""VectorizeLoop: turn a `vectorized` For of constant extent L into L-lane vector code.

As in TVM, the loop variable becomes Ramp(min, 1, L) and lanes propagate upward through the
expressions of the body: an operation on a vector and a loop-invariant scalar broadcasts the
scalar, affine integer index arithmetic stays a Ramp (so codegen sees a contiguous access),
anything else becomes a general vector operation (a gather/scatter when it ends up in an
index).  Loop-invariant values stay scalar.  The loop itself disappears; statements of its
body run once, on all lanes, and inner loops that do not depend on the vectorized variable
stay loops around vector statements.

Correctness comes first.  Whenever the loop's iterations cannot be shown to be independent
lane by lane, the loop is kept as a plain serial loop instead (scalar code, same body):

- the extent is not a constant (or is below 2);
- control flow depends on the variable: an IfThenElse/Assert condition, an inner loop's
  bounds, or an `if_then_else` condition guarding a branch that reads memory or divides
  integers (if neither branch can fault, it becomes a Select).  One exception: a body that is
  all guarded by affine comparisons of the variable (the tail of a split that does not divide)
  is versioned, vector code where every lane passes and the serial loop where some do not;
- the body allocates memory, calls an op that is not an element-wise math intrinsic, or
  already holds vector code (a nested vectorized loop);
- a store of a varying value into an invariant element (a horizontal reduction);
- memory dependences between lanes: for every buffer the body writes, all accesses must use
  one identical index that depends on no variable bound inside the loop, and, when the buffer
  is also read, that index must be a Ramp of non-zero stride in some dimension so lanes touch
  distinct elements.  (A write-only buffer may be scattered with repeated indices: lanes are
  stored in order, so the last iteration wins, as in the serial loop.)
"""

from __future__ import annotations

from ...ir import dtype as dt
from ...ir import expr as E
from ...ir.functor import Mutator, Visitor, post_order_visit, structural_equal, substitute, uses_var
from ..stmt import AssertStmt, AttrStmt, BufferStore, For, ForKind, IfThenElse, LetStmt, PrimFunc
from .flatten_buffer import make_ramp
from .function_pass import prim_func_pass

# Element-wise math intrinsics: vectorizing one means calling it on vector operands.
ELEMENTWISE_CALLS = frozenset({
    "exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "fabs",
    "floor", "ceil", "round", "nearbyint", "trunc", "pow", "sin", "cos", "tan", "tanh", "sigmoid",
    "erf", "fma", "copysign", "fast_exp", "fast_tanh", "fast_erf", "reinterpret", "likely",
})


class _Fallback(Exception):
    """Raised inside the vectorizer when the loop must stay scalar."""


def _lanes(x) -> int:
    return dt.lanes(x.dtype)


def _bcast(x, lanes: int):
    return x if _lanes(x) == lanes else E.Broadcast(x, lanes, dt.with_lanes(x.dtype, lanes))


_INT_DIVISIONS = (E.Div, E.Mod, E.FloorDiv, E.FloorMod)


def _speculable(e) -> bool:
    """True when evaluating `e` cannot fault: no memory reads, calls or integer divisions."""
    bad = []

    def f(n):
        int_division = isinstance(n, _INT_DIVISIONS) and not dt.is_float(n.dtype)
        if int_division or isinstance(n, (E.BufferLoad, E.Call)):
            bad.append(n)

    post_order_visit(e, f)
    return not bad


class _Vectorizer(Mutator):
    """Rewrites one loop body with `var` standing for the lanes of Ramp(min, 1, lanes)."""

    def __init__(self, var: E.Var, ramp: E.Ramp):
        self.lanes = ramp.lanes
        self.vmap: dict = {var: ramp}

    # ---------------------------------------------------------------- expressions
    def visit_Var(self, v):
        return self.vmap.get(v, v)

    def visit_Ramp(self, op):
        raise _Fallback("already vectorized")

    visit_Broadcast = visit_Ramp

    def visit_BinaryOp(self, op):
        a, b = self.visit(op.a), self.visit(op.b)
        if a is op.a and b is op.b:
            return op
        if _lanes(a) == 1 and _lanes(b) == 1:
            return type(op)(a, b, op.dtype)
        if dt.is_int(op.dtype):
            r = self._affine(type(op), a, b)
            if r is not None:
                return r
        a, b = _bcast(a, self.lanes), _bcast(b, self.lanes)
        return type(op)(a, b, dt.with_lanes(op.dtype, self.lanes))

    def _affine(self, cls, a, b):
        """Ramp arithmetic that stays a Ramp: Ramp +- invariant, Ramp * invariant, Ramp +- Ramp."""
        ra, rb = isinstance(a, E.Ramp), isinstance(b, E.Ramp)
        sa, sb = _lanes(a) == 1, _lanes(b) == 1
        if cls is E.Add:
            if ra and sb:
                return make_ramp(E.add(a.base, b), a.stride, a.lanes)
            if sa and rb:
                return make_ramp(E.add(a, b.base), b.stride, b.lanes)
            if ra and rb:
                return make_ramp(E.add(a.base, b.base), E.add(a.stride, b.stride), a.lanes)
        elif cls is E.Sub:
            if ra and sb:
                return make_ramp(E.sub(a.base, b), a.stride, a.lanes)
            if sa and rb:
                return make_ramp(E.sub(a, b.base), E.sub(E.const(0, b.stride.dtype), b.stride), b.lanes)
            if ra and rb:
                return make_ramp(E.sub(a.base, b.base), E.sub(a.stride, b.stride), a.lanes)
        elif cls is E.Mul:
            if ra and sb:
                return make_ramp(E.mul(a.base, b), E.mul(a.stride, b), a.lanes)
            if sa and rb:
                return make_ramp(E.mul(a, b.base), E.mul(a, b.stride), b.lanes)
        return None

    def visit_Not(self, op):
        a = self.visit(op.a)
        return op if a is op.a else E.Not(a, a.dtype)

    def visit_Cast(self, op):
        v = self.visit(op.value)
        if v is op.value:
            return op
        return E.Cast(dt.with_lanes(op.dtype, _lanes(v)), v)

    def visit_Select(self, op):
        parts = [self.visit(x) for x in (op.condition, op.true_value, op.false_value)]
        if all(p is q for p, q in zip(parts, (op.condition, op.true_value, op.false_value))):
            return op
        lanes = max(_lanes(p) for p in parts)
        c, t, f = (_bcast(p, lanes) for p in parts)
        return E.Select(c, t, f, t.dtype)

    def visit_Call(self, op):
        if op.op == "if_then_else":
            return self._if_then_else(op)
        args = tuple(self.visit(a) for a in op.args)
        if all(a is b for a, b in zip(args, op.args)):
            return op
        if op.op not in ELEMENTWISE_CALLS:
            raise _Fallback(f"call to {op.op} on vector operands")
        lanes = max(_lanes(a) for a in args)
        return E.Call(dt.with_lanes(op.dtype, lanes), op.op, tuple(_bcast(a, lanes) for a in args))

    def _if_then_else(self, op):
        """A per-lane condition needs both branches evaluated: fine (a Select) only when
        neither can fault, i.e. neither reads memory nor divides integers."""
        cond = self.visit(op.args[0])
        if _lanes(cond) > 1 and not all(_speculable(a) for a in op.args[1:]):
            raise _Fallback("if_then_else on the vectorized variable guards a load")
        t, f = self.visit(op.args[1]), self.visit(op.args[2])
        if cond is op.args[0] and t is op.args[1] and f is op.args[2]:
            return op
        lanes = max(_lanes(cond), _lanes(t), _lanes(f))
        t, f = _bcast(t, lanes), _bcast(f, lanes)
        if _lanes(cond) > 1:
            return E.Select(cond, t, f, t.dtype)
        return E.Call(t.dtype, op.op, (cond, t, f))

    def visit_Let(self, op):
        value = self.visit(op.value)
        var = self._bind(op.var, value)
        body = self.visit(op.body)
        if value is op.value and var is op.var and body is op.body:
            return op
        return E.Let(var, value, body, body.dtype)

    def _bind(self, var, value):
        """A let-bound variable whose value became a vector is re-declared with the vector type."""
        if _lanes(value) == 1:
            return var
        new = E.Var(var.name, value.dtype)
        self.vmap[var] = new
        return new

    def visit_BufferLoad(self, op):
        indices = tuple(self.visit(i) for i in op.indices)
        if all(a is b for a, b in zip(indices, op.indices)):
            return op
        lanes = max(_lanes(i) for i in indices)
        return E.BufferLoad(op.buffer, indices, dt.with_lanes(op.dtype, lanes))

    def visit_Reduce(self, op):
        raise _Fallback("unlowered reduction")

    visit_ProducerLoad = visit_Reduce

    # ---------------------------------------------------------------- statements
    def visit_BufferStore(self, op):
        value = self.visit(op.value)
        indices = tuple(self.visit(i) for i in op.indices)
        index_lanes = max(_lanes(i) for i in indices) if indices else 1
        if index_lanes == 1:
            if _lanes(value) > 1:
                raise _Fallback(f"horizontal reduction into {op.buffer.name}")
        else:
            value = _bcast(value, index_lanes)
        if value is op.value and all(a is b for a, b in zip(indices, op.indices)):
            return op
        return BufferStore(op.buffer, value, indices)

    def _invariant(self, e):
        e2 = self.visit(e)
        if _lanes(e2) > 1:
            raise _Fallback("control flow depends on the vectorized variable")
        return e2

    def visit_IfThenElse(self, op):
        cond = self._invariant(op.condition)
        then = self.visit(op.then_case)
        other = self.visit(op.else_case) if op.else_case is not None else None
        if cond is op.condition and then is op.then_case and other is op.else_case:
            return op
        return IfThenElse(cond, then, other)

    def visit_AssertStmt(self, op):
        cond = self._invariant(op.condition)
        body = self.visit(op.body)
        if cond is op.condition and body is op.body:
            return op
        return AssertStmt(cond, op.message, body)

    def visit_For(self, op):
        if op.kind in (ForKind.PARALLEL, ForKind.THREAD_BINDING, ForKind.VECTORIZED):
            raise _Fallback(f"{op.kind} loop inside")
        mn, ext = self._invariant(op.min), self._invariant(op.extent)
        body = self.visit(op.body)
        if mn is op.min and ext is op.extent and body is op.body:
            return op
        return For(op.loop_var, mn, ext, op.kind, body, op.thread_tag, op.annotations)

    def visit_AttrStmt(self, op):
        value = self._invariant(op.value)
        body = self.visit(op.body)
        if value is op.value and body is op.body:
            return op
        return AttrStmt(op.node, op.attr_key, value, body)

    def visit_LetStmt(self, op):
        value = self.visit(op.value)
        var = self._bind(op.var, value)
        body = self.visit(op.body)
        if value is op.value and var is op.var and body is op.body:
            return op
        return LetStmt(var, value, body)

    def visit_Allocate(self, op):
        raise _Fallback("allocation inside")

    def visit_Evaluate(self, op):
        if not isinstance(op.value, (E.IntImm, E.FloatImm)):
            raise _Fallback("evaluated call inside")
        return op


class _Accesses(Visitor):
    """Collects, per written memory, the (buffer, indices) of every access and the variables
    bound inside the vectorized body (inner loop variables, let variables)."""

    def __init__(self):
        self.stores: dict = {}  # data Var -> [(Buffer, indices)]
        self.loads: dict = {}
        self.bound: set = set()

    def visit_BufferLoad(self, op):
        self.loads.setdefault(op.buffer.data, []).append((op.buffer, op.indices))
        self.generic_visit(op)

    def visit_BufferStore(self, op):
        self.stores.setdefault(op.buffer.data, []).append((op.buffer, op.indices))
        self.generic_visit(op)

    def visit_For(self, op):
        self.bound.add(op.loop_var)
        self.generic_visit(op)

    def visit_LetStmt(self, op):
        self.bound.add(op.var)
        self.generic_visit(op)

    def visit_Let(self, op):
        self.bound.add(op.var)
        self.generic_visit(op)


def _distinct_lanes(indices) -> bool:
    """True when the lanes of an index tuple address distinct elements."""
    return any(isinstance(i, E.Ramp) and isinstance(i.stride, E.IntImm) and i.stride.value != 0
               for i in indices)


def _check_dependences(body) -> None:
    acc = _Accesses()
    acc.visit(body)
    for data, stores in acc.stores.items():
        loads = acc.loads.get(data, [])
        buf, first = stores[0]
        if any(b is not buf or not structural_equal(first, idx) for b, idx in stores[1:] + loads):
            raise _Fallback("a written buffer is accessed at different indices")
        if acc.bound and any(uses_var(i, acc.bound) for i in first):
            raise _Fallback("a written index depends on an inner loop")
        if loads and not _distinct_lanes(first):
            raise _Fallback("lanes may read each other's writes")


class _LoopVectorizer(Mutator):
    """Finds vectorized loops, innermost first, and replaces each by vector code or a serial loop."""

    def __init__(self, enable: bool = True):
        self.enable = enable

    def visit_For(self, op):
        body = self.visit(op.body)
        if op.kind != ForKind.VECTORIZED:
            if body is op.body:
                return op
            return For(op.loop_var, op.min, op.extent, op.kind, body, op.thread_tag, op.annotations)
        try:
            if not self.enable:
                raise _Fallback("vectorization is disabled (tir.disable_vectorize)")
            return self._vectorize(op, body)
        except _Fallback:
            return For(op.loop_var, op.min, op.extent, ForKind.SERIAL, body, op.thread_tag, op.annotations)

    @staticmethod
    def _vectorize(op: For, body):
        if not isinstance(op.extent, E.IntImm) or op.extent.value < 2:
            raise _Fallback("extent is not a constant of at least 2")
        lanes = op.extent.value
        ramp = E.Ramp(op.min, E.const(1, op.min.dtype), lanes, dt.with_lanes(op.min.dtype, lanes))
        if op.min.dtype != op.loop_var.dtype:
            raise _Fallback("loop min and variable differ in type")
        guarded = _tail_guard(body, op.loop_var, ramp)
        if guarded is not None:
            return _LoopVectorizer._version(op, body, ramp, *guarded)
        new = _Vectorizer(op.loop_var, ramp).visit(body)
        _check_dependences(new)
        return new

    @staticmethod
    def _version(op: For, body, ramp, cond, then):
        """A body guarded by a condition on the loop variable (the tail of a split that does not
        divide, e.g. softmax over 197 columns in vectors of 16): vector code for the iterations
        where every lane passes, the serial loop for the tail.  The condition is a conjunction of
        affine comparisons, so its lanes pass exactly when the first and the last one do."""
        vec = _Vectorizer(op.loop_var, ramp).visit(then)
        _check_dependences(vec)
        last = op.min + E.const(op.extent.value - 1, op.min.dtype)
        every_lane = E.And(substitute(cond, {op.loop_var: op.min}), substitute(cond, {op.loop_var: last}), "bool")
        serial = For(op.loop_var, op.min, op.extent, ForKind.SERIAL, body, op.thread_tag, op.annotations)
        return IfThenElse(every_lane, vec, serial)


def _tail_guard(body, var, ramp):
    """(condition, guarded statement) when `body` is `if (cond) stmt` (no else) with cond a
    conjunction of comparisons whose sides are affine in `var`; else None."""
    if not isinstance(body, IfThenElse) or body.else_case is not None or not uses_var(body.condition, {var}):
        return None
    return (body.condition, body.then_case) if _convex_in(body.condition, var, _Vectorizer(var, ramp)) else None


def _convex_in(cond, var, lanes: _Vectorizer) -> bool:
    """cond's set of values of the vectorized variable is an interval: an And of (in)equalities
    whose sides the vectorizer keeps a Ramp or a loop invariant (affine in the variable)."""
    if isinstance(cond, E.And):
        return _convex_in(cond.a, var, lanes) and _convex_in(cond.b, var, lanes)
    if isinstance(cond, E.Call) and cond.op == "likely" and len(cond.args) == 1:
        return _convex_in(cond.args[0], var, lanes)
    if isinstance(cond, (E.LT, E.LE, E.GT, E.GE, E.EQ)) and dt.is_int(cond.a.dtype):
        return all(isinstance(v, E.Ramp) or _lanes(v) == 1 for v in (lanes.visit(cond.a), lanes.visit(cond.b)))
    return not uses_var(cond, {var})


def vectorize_loop(func: PrimFunc, enable: bool = True) -> PrimFunc:
    """Replace every `vectorized` loop of `func` by vector code (or, if unsafe or not `enable`, a serial loop)."""
    return func.with_body(_LoopVectorizer(enable).visit(func.body))


def VectorizeLoop(enable_vectorize: bool = True):  # noqa: N802  (classic tvm.tir.transform name)
    """The pass; the build pipeline passes `not tir.disable_vectorize`."""
    return prim_func_pass(lambda f, mod, ctx: vectorize_loop(f, enable_vectorize), 0, "VectorizeLoop")

