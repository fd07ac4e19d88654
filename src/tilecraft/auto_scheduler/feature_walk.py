"""Feature extraction, part 1: one walk over a lowered function's statements that records, for
each BufferStore, its enclosing loops (extent, kind, thread tag, auto_unroll_max_step), the
operations it computes (counted by kind) and the buffer accesses it makes (see feature.py)."""

from __future__ import annotations

from ..ir import dtype as _dt
from ..ir.expr import (
    Add,
    And,
    Broadcast,
    BufferLoad,
    Call,
    Cast,
    CmpOp,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Let,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    Or,
    Ramp,
    Select,
    StringImm,
    Sub,
    Var,
)
from ..tir.stmt import (
    Allocate,
    AssertStmt,
    AttrStmt,
    BufferStore,
    Evaluate,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    SeqStmt,
)

_MATH_CALLS = frozenset({
    "exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan",
    "sinh", "cosh", "tanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh", "erf",
    "sigmoid", "pow", "power", "fabs", "abs", "floor", "ceil", "round", "trunc", "nearbyint",
    "fmod", "fma", "copysign", "hypot", "isnan", "isinf", "isfinite", "clz", "popcount",
})
_SELECT_CALLS = frozenset({"if_then_else"})
_TRANSPARENT_CALLS = frozenset({"likely"})

OP_NAMES = ("float_mad", "float_addsub", "float_mul", "float_divmod", "float_cmp", "float_math_func",
            "float_other_func", "int_mad", "int_addsub", "int_mul", "int_divmod", "int_cmp",
            "int_math_func", "int_other_func", "bool_op", "select_op")
(F_MAD, F_ADD, F_MUL, F_DIV, F_CMP, F_MATH, F_OTHER, I_MAD, I_ADD, I_MUL, I_DIV, I_CMP, I_MATH, I_OTHER,
 BOOL_OP, SELECT_OP) = range(16)
N_OPS = len(OP_NAMES)

class _Loop:
    __slots__ = ("var", "ext", "kind", "tag", "unroll_step")

    def __init__(self, var, ext, kind, tag="", unroll_step=0):
        self.var, self.ext, self.kind, self.tag, self.unroll_step = var, ext, kind, tag, unroll_step


class _Store:
    __slots__ = ("loops", "ops", "accesses", "alloc")

    def __init__(self, loops, ops, accesses, alloc):
        self.loops = loops          # tuple of _Loop, outermost first
        self.ops = ops              # list of N_OPS per-iteration counts
        self.accesses = accesses    # [(buffer, indices, is_write)]
        self.alloc = alloc          # (elements * bytes, outer loop product, outer loop count) or None


def const_int(e, default=1):
    if type(e) is IntImm:
        return e.value
    if isinstance(e, int):
        return e
    return default


_FLOAT_DTYPES: dict = {}


def _is_float(dtype: str) -> bool:
    f = _FLOAT_DTYPES.get(dtype)
    if f is None:
        f = _FLOAT_DTYPES[dtype] = dtype.startswith("float") or dtype.startswith("bfloat")
    return f


class Walker:
    """One pass over the statements, collecting a _Store per BufferStore."""

    def __init__(self):
        self.stores: list[_Store] = []
        self.loops: list[_Loop] = []
        self.allocs: dict = {}  # buffer data var -> (bytes, outer loop product)
        self.prod = 1
        self.unroll_step = 0
        self.gpu = False

    def stmt(self, s):
        t = type(s)
        if t is For:
            ext = const_int(s.extent)
            step = self.unroll_step
            for k, v in s.annotations:
                if k == "pragma_auto_unroll_max_step":
                    self.unroll_step = max(self.unroll_step, const_int(v, 0))
            kind = s.kind
            if kind == ForKind.THREAD_BINDING:
                self.gpu = True
            self.loops.append(_Loop(s.loop_var, ext, kind, s.thread_tag, self.unroll_step))
            prod = self.prod
            self.prod = prod * ext
            self.stmt(s.body)
            self.prod = prod
            self.loops.pop()
            self.unroll_step = step
        elif t is SeqStmt:
            for x in s.seq:
                self.stmt(x)
        elif t is BufferStore:
            self.store(s)
        elif t is Allocate:
            b = s.buffer
            n = 1
            for d in b.shape:
                n *= const_int(d)
            self.allocs[b.data] = (n * _dt.itemsize(b.dtype), self.prod, len(self.loops))
            self.stmt(s.body)
        elif t is AttrStmt:
            if s.attr_key == "thread_extent" or s.attr_key == "virtual_thread":
                self.gpu = True
                iv = s.node
                var = getattr(iv, "var", iv)
                tag = getattr(iv, "thread_tag", "") or ("vthread" if s.attr_key == "virtual_thread" else "")
                ext = const_int(s.value)
                self.loops.append(_Loop(var, ext, ForKind.THREAD_BINDING, tag, self.unroll_step))
                prod = self.prod
                self.prod = prod * ext
                self.stmt(s.body)
                self.prod = prod
                self.loops.pop()
            elif s.attr_key == "pragma_auto_unroll_max_step":
                step = self.unroll_step
                self.unroll_step = max(step, const_int(s.value, 0))
                self.stmt(s.body)
                self.unroll_step = step
            else:
                self.stmt(s.body)
        elif t is IfThenElse:
            self.stmt(s.then_case)
            if s.else_case is not None:
                self.stmt(s.else_case)
        elif t is LetStmt or t is AssertStmt:
            self.stmt(s.body)
        elif t is Evaluate:
            pass
        else:  # an unknown statement kind: walk what looks like a body
            body = getattr(s, "body", None)
            if body is not None:
                self.stmt(body)

    def store(self, s: BufferStore):
        ops = [0] * N_OPS
        accesses = [(s.buffer, s.indices, True)]
        ex = self._expr
        for i in s.indices:
            ex(i, ops, accesses)
        ex(s.value, ops, accesses)
        self.stores.append(_Store(tuple(self.loops), ops, accesses, self.allocs.get(s.buffer.data)))

    def _expr(self, e, ops, accesses):
        """Count operations under e and collect its buffer loads (iterative, explicit stack)."""
        stack = [e]
        pop, push = stack.pop, stack.append
        while stack:
            e = pop()
            t = type(e)
            if t is Var or t is IntImm or t is FloatImm or t is StringImm:
                continue
            if t is BufferLoad:
                accesses.append((e.buffer, e.indices, False))
                for i in e.indices:
                    push(i)
                continue
            if t is Add or t is Sub:
                f = _is_float(e.dtype)
                ops[F_ADD if f else I_ADD] += 1
                if t is Add and (type(e.a) is Mul or type(e.b) is Mul):
                    ops[F_MAD if f else I_MAD] += 1
                push(e.a)
                push(e.b)
            elif t is Mul:
                ops[F_MUL if _is_float(e.dtype) else I_MUL] += 1
                push(e.a)
                push(e.b)
            elif t is FloorDiv or t is FloorMod or t is Div or t is Mod:
                ops[F_DIV if _is_float(e.dtype) else I_DIV] += 1
                push(e.a)
                push(e.b)
            elif t is Min or t is Max:
                ops[F_CMP if _is_float(e.dtype) else I_CMP] += 1
                push(e.a)
                push(e.b)
            elif isinstance(e, CmpOp):
                ops[F_CMP if _is_float(e.a.dtype) else I_CMP] += 1
                push(e.a)
                push(e.b)
            elif t is And or t is Or:
                ops[BOOL_OP] += 1
                push(e.a)
                push(e.b)
            elif t is Not:
                ops[BOOL_OP] += 1
                push(e.a)
            elif t is Select:
                ops[SELECT_OP] += 1
                push(e.condition)
                push(e.true_value)
                push(e.false_value)
            elif t is Call:
                op = e.op
                if op in _SELECT_CALLS:
                    ops[SELECT_OP] += 1
                elif op not in _TRANSPARENT_CALLS:
                    f = _is_float(e.dtype)
                    if op in _MATH_CALLS:
                        ops[F_MATH if f else I_MATH] += 1
                    else:
                        ops[F_OTHER if f else I_OTHER] += 1
                for a in e.args:
                    push(a)
            elif t is Cast:
                push(e.value)
            elif t is Let:
                push(e.value)
                push(e.body)
            elif t is Ramp:
                push(e.base)
                push(e.stride)
            elif t is Broadcast:
                push(e.value)
            else:
                for name in getattr(t, "__dataclass_fields__", ()):
                    v = getattr(e, name)
                    if isinstance(v, tuple):
                        for x in v:
                            if getattr(x, "walked", False):
                                push(x)
                    elif getattr(v, "walked", False):
                        push(v)
