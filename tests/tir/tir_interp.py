"""A tiny reference interpreter for TIR, used by the pass tests to check numbers.

It executes a PrimFunc statement by statement on numpy arrays, so a pass can be checked by
running the function before and after it on the same random inputs.  Vector values (Ramp,
Broadcast, lanes > 1) are 1-D numpy arrays; scalars are numpy scalars of the node's dtype, so
int32 arithmetic wraps and float32 rounds as compiled code would.  Every memory access is
bounds-checked (numpy would silently wrap a negative index), and intermediate buffers start
out filled with NaN / a sentinel so that a read of memory never written shows up in results.
"""

from __future__ import annotations

import math

import numpy as np

from tilecraft.ir import dtype as dt
from tilecraft.ir import expr as E
from tilecraft.tir import stmt as S

_erf = np.vectorize(math.erf, otypes=[np.float64])

_CALLS = {
    "exp": np.exp, "exp2": np.exp2, "log": np.log, "log2": np.log2, "log10": np.log10,
    "sqrt": np.sqrt, "fabs": np.abs, "floor": np.floor, "ceil": np.ceil, "round": np.rint,
    "nearbyint": np.rint, "trunc": np.trunc, "pow": np.power, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "tanh": np.tanh, "copysign": np.copysign, "log1p": np.log1p, "expm1": np.expm1,
    "rsqrt": lambda x: 1 / np.sqrt(x), "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "erf": lambda x: _erf(x), "fma": lambda a, b, c: a * b + c,
}


def _np(dtype: str):
    return np.bool_ if dt.is_bool(dtype) else dt.to_numpy(dtype).type


def _typed(v, dtype: str):
    """Give a value exactly the element type of `dtype` (scalars stay numpy scalars)."""
    t = _np(dtype)
    if isinstance(v, np.ndarray):
        return v.astype(t, copy=False)
    return t(v) if not isinstance(v, np.generic) or v.dtype != t else v


def _trunc_div(a, b):
    q = np.floor_divide(a, b)
    return q + ((np.mod(a, b) != 0) & ((a < 0) != (b < 0)))


def _binary(e, a, b):
    float_ = dt.is_float(e.a.dtype)
    t = type(e)
    if t is E.Add:
        return a + b
    if t is E.Sub:
        return a - b
    if t is E.Mul:
        return a * b
    if t is E.Div:
        return a / b if float_ else _trunc_div(a, b)
    if t is E.Mod:
        return np.fmod(a, b) if float_ else a - _trunc_div(a, b) * b
    if t is E.FloorDiv:
        return np.floor(a / b) if float_ else np.floor_divide(a, b)
    if t is E.FloorMod:
        return a - np.floor(a / b) * b if float_ else np.mod(a, b)
    if t is E.Min:
        return np.minimum(a, b)
    if t is E.Max:
        return np.maximum(a, b)
    if t is E.And:
        return np.logical_and(a, b)
    if t is E.Or:
        return np.logical_or(a, b)
    cmp = {E.EQ: np.equal, E.NE: np.not_equal, E.LT: np.less, E.LE: np.less_equal,
           E.GT: np.greater, E.GE: np.greater_equal}
    return cmp[t](a, b)


class Interpreter:
    def __init__(self):
        self.mem: dict = {}  # buffer.data Var -> flat numpy array
        self.env: dict = {}  # Var -> value

    # ------------------------------------------------------------------ memory
    def offsets(self, buf: E.Buffer, indices) -> np.ndarray | np.generic:
        shape = [int(self.ev(s)) for s in buf.shape]
        if buf.strides:
            strides = [int(self.ev(s)) for s in buf.strides]
        else:
            strides = [int(np.prod(shape[k + 1:], dtype=np.int64)) for k in range(len(shape))]
        off = np.int64(int(self.ev(buf.elem_offset)) if buf.elem_offset is not None else 0)
        for idx, stride in zip(indices, strides):
            off = off + np.asarray(self.ev(idx)).astype(np.int64) * stride
        arr = self.mem[buf.data]
        if np.any(off < 0) or np.any(off >= arr.size):
            raise IndexError(f"access to {buf.name} at {off} is outside its {arr.size} elements")
        return off

    def load(self, e: E.BufferLoad):
        arr = self.mem[e.buffer.data]
        return _typed(arr[self.offsets(e.buffer, e.indices)], e.dtype)

    def store(self, s: S.BufferStore):
        value = self.ev(s.value)
        off = self.offsets(s.buffer, s.indices)
        if np.ndim(off) == 0 and np.ndim(value) != 0:
            raise ValueError(f"store of a vector into the single element {s.buffer.name}[{off}]")
        self.mem[s.buffer.data][off] = value

    # ------------------------------------------------------------------ expressions
    def ev(self, e):
        t = type(e)
        if isinstance(e, E.Var):
            return self.env[e]
        if t in (E.IntImm, E.FloatImm):
            return _typed(e.value, e.dtype)
        if isinstance(e, E.BinaryOp):
            with np.errstate(all="ignore"):
                return _typed(_binary(e, self.ev(e.a), self.ev(e.b)), e.dtype)
        if t is E.Not:
            return np.logical_not(self.ev(e.a))
        if t is E.Cast:
            with np.errstate(all="ignore"):
                return _typed(self.ev(e.value), e.dtype)
        if t is E.Select:
            c, a, b = self.ev(e.condition), self.ev(e.true_value), self.ev(e.false_value)
            return _typed(np.where(c, a, b), e.dtype)
        if t is E.Ramp:
            base, stride = self.ev(e.base), self.ev(e.stride)
            with np.errstate(all="ignore"):
                return _typed(base + stride * np.arange(e.lanes), e.dtype)
        if t is E.Broadcast:
            return np.full(e.lanes, self.ev(e.value), dtype=_np(e.dtype))
        if t is E.BufferLoad:
            return self.load(e)
        if t is E.Let:
            old = self.env.get(e.var)
            self.env[e.var] = self.ev(e.value)
            try:
                return self.ev(e.body)
            finally:
                self.env[e.var] = old
        if t is E.Call:
            return self.call(e)
        raise NotImplementedError(f"interpreter: expression {t.__name__}")

    def call(self, e: E.Call):
        if e.op == "if_then_else":
            c = self.ev(e.args[0])
            if np.ndim(c) == 0:
                return _typed(self.ev(e.args[1] if c else e.args[2]), e.dtype)
            return _typed(np.where(c, self.ev(e.args[1]), self.ev(e.args[2])), e.dtype)
        args = [self.ev(a) for a in e.args]
        if e.op == "likely":
            return args[0]
        if e.op == "reinterpret":
            return np.asarray(args[0]).view(_np(e.dtype))[()]
        with np.errstate(all="ignore"):
            return _typed(_CALLS[e.op](*args), e.dtype)

    # ------------------------------------------------------------------ statements
    def ex(self, s):
        t = type(s)
        if t is S.SeqStmt:
            for x in s.seq:
                self.ex(x)
        elif t is S.For:
            lo, n = int(self.ev(s.min)), int(self.ev(s.extent))
            vt = _np(s.loop_var.dtype)
            for k in range(lo, lo + n):
                self.env[s.loop_var] = vt(k)
                self.ex(s.body)
        elif t is S.BufferStore:
            self.store(s)
        elif t is S.IfThenElse:
            c = self.ev(s.condition)
            if np.ndim(c) != 0:
                raise ValueError("IfThenElse with a vector condition")
            if c:
                self.ex(s.then_case)
            elif s.else_case is not None:
                self.ex(s.else_case)
        elif t is S.LetStmt:
            self.env[s.var] = self.ev(s.value)
            self.ex(s.body)
        elif t is S.AttrStmt:
            self.ex(s.body)
        elif t is S.AssertStmt:
            if not self.ev(s.condition):
                raise AssertionError(s.message)
            self.ex(s.body)
        elif t is S.Evaluate:
            self.ev(s.value)
        elif t is S.Allocate:
            self.allocate(s)
        else:
            raise NotImplementedError(f"interpreter: statement {t.__name__}")

    def allocate(self, s: S.Allocate):
        buf = s.buffer
        if buf.strides:
            size = int(self.ev(buf.shape[0])) * int(self.ev(buf.strides[0])) if buf.shape else 1
        else:
            size = int(np.prod([int(self.ev(x)) for x in buf.shape], dtype=np.int64))
        t = _np(buf.dtype)
        fill = np.nan if np.issubdtype(t, np.floating) else (True if t is np.bool_ else 0x5A)
        self.mem[buf.data] = np.full(size, fill, dtype=t)
        try:
            self.ex(s.body)
        finally:
            del self.mem[buf.data]


def run(func: S.PrimFunc, *args) -> None:
    """Execute `func` in place on `args`: numpy arrays for buffers, numbers for scalar params."""
    it = Interpreter()
    for p, a in zip(func.params, args, strict=True):
        if isinstance(p, E.Buffer):
            flat = a.reshape(-1)
            assert np.shares_memory(flat, a), f"{p.name}: pass a contiguous array"
            it.mem[p.data] = flat
        else:
            it.env[p] = _typed(a, p.dtype)
    it.ex(func.body)


def eval_expr(e, env: dict):
    """Evaluate one expression with `env` mapping Vars to numpy values (arrays work lane-wise)."""
    it = Interpreter()
    it.env.update({k: _typed(v, k.dtype) for k, v in env.items()})
    return it.ev(e)
