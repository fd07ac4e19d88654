"""CUDA C for one kernel: TIR statements and expressions printed as C++ device code.

Conventions of the printed code:
  * a loop bound to a launch tag is no loop: its variable prints as `((int)threadIdx.x)` (plus
    its min), and a loop narrower than the launch dimension gets `if (threadIdx.x < extent)`;
  * `shared` allocations (and `global`-scope ones made before every thread tag is bound) are
    `__shared__` arrays, `local` ones per-thread arrays; both need a constant size;
  * vector expressions (Ramp/Broadcast from vectorized loops) are printed lane by lane;
  * floor division and modulo use C's operators when both sides are provably non-negative and
    `tc_floordiv`/`tc_floormod` otherwise (correct for negative operands);
  * float32 math calls use the `f` functions (expf, sqrtf, ...); float16 math goes through float.
"""

from __future__ import annotations

import math

import numpy as np

from ...ir import dtype as dt
from ...ir import expr as E
from ...ir.op_attr import lower_intrinsic
from ...tir import stmt as S
from .cuda_split import (
    LAUNCH_TAGS,
    THREAD_TAGS,
    NameTable,
    binding_var_extent,
    is_launch_binding,
)
from .cuda_sync import SyncPlanner
from .nonneg import is_nonneg, positive_const

CTYPES = {"bool": "bool", "int8": "signed char", "int16": "short", "int32": "int", "int64": "long long",
          "uint8": "unsigned char", "uint16": "unsigned short", "uint32": "unsigned int",
          "uint64": "unsigned long long", "float16": "half", "float32": "float", "float64": "double"}

# Math intrinsics with a CUDA function of the same name (float64), `name + "f"` for float32.
_MATH = {"exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "fabs", "floor",
         "ceil", "trunc", "sin", "cos", "tan", "tanh", "erf", "erfc", "atan", "asin", "acos", "sinh", "cosh",
         "asinh", "acosh", "atanh", "cbrt", "tgamma", "lgamma", "pow", "copysign", "fma", "atan2", "fmod",
         "hypot", "nextafter", "nearbyint", "rint"}
_RENAME = {"round": "rint"}  # tilecraft's round is numpy's (half to even)

_CBIN = {E.Add: "+", E.Sub: "-", E.Mul: "*", E.LT: "<", E.LE: "<=", E.GT: ">", E.GE: ">=", E.EQ: "==",
         E.NE: "!=", E.And: "&&", E.Or: "||"}

HELPERS = {
    "floordiv": """\
__device__ __forceinline__ int tc_floordiv(int a, int b) { int q = a / b; return q - ((a % b != 0) && ((a < 0) != (b < 0))); }
__device__ __forceinline__ long long tc_floordiv(long long a, long long b) { long long q = a / b; return q - ((a % b != 0) && ((a < 0) != (b < 0))); }""",  # noqa: E501
    "floormod": """\
__device__ __forceinline__ int tc_floormod(int a, int b) { int r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }
__device__ __forceinline__ long long tc_floormod(long long a, long long b) { long long r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }""",  # noqa: E501
}


class CodegenError(ValueError):
    pass


class KernelPrinter:
    """Prints one `Kernel` (see cuda_split) as an `extern "C" __global__` function."""

    target_kind = "cuda"  # whose intrinsic lowering rules apply (tvm.ir.register_intrin_lowering)
    barrier = "__syncthreads();"
    shared_qualifier = "__shared__"

    def launch_index(self, tag: str) -> str:
        """The C expression of a launch index ("threadIdx.x" in CUDA)."""
        return tag

    def __init__(self, kernel, host_names: NameTable, target, emulate: bool = False):
        self.k = kernel
        self.target = target
        self.emulate = emulate
        self.names = NameTable(host_names)
        self.launch = kernel.launch
        self.threads = [t for t in THREAD_TAGS if t in self.launch]
        self.lines: list = []
        self.ind = 1
        self.helpers: set = set()
        self.uses_half = False
        self.bound: set = set()  # launch tags bound at the current point
        self.nonneg: set = {p[0] for p in kernel.params if p[1] == "scalar"}
        self.lane_arrays: set = set()  # vector LetStmt vars held as arrays
        self.per_thread: set = set()  # data vars of per-thread arrays
        self.guarded: set = set()  # ids of bound loops narrower than the launch
        self.shared_bytes = 0
        self._defined: set = set()
        self._prepass(kernel.body, frozenset())
        self.sync = SyncPlanner(kernel.body, self.launch, self.per_thread, self.guarded, self._defined)
        if self.sync.unsyncable:
            names = sorted({b.name for s in self.sync.unsyncable for b in _stored(s)})
            raise CodegenError(
                f"{kernel.name}: shared memory ({', '.join(names) or '?'}) is written and read by different "
                "threads inside thread-dependent control flow (a guard on threadIdx, or a loop narrower "
                "than the thread block), where no __syncthreads() can be placed; bind the stages so that "
                "each cooperative load covers the whole thread block, or split the loads into their own "
                "stage")

    # ------------------------------------------------------------------ analysis
    def _prepass(self, s, bound) -> None:
        """Decide per-thread vs shared arrays and which bound loops need a guard."""
        if isinstance(s, S.SeqStmt):
            for c in s.seq:
                self._prepass(c, bound)
            return
        tag = is_launch_binding(s)
        if tag:
            var, _, ext = binding_var_extent(s)
            self._defined.add(var)
            full = self.launch[tag]
            if not (ext is full or _same(ext, full)):
                self.guarded.add(id(s))
            self._prepass(s.body, bound | {tag})
            return
        if isinstance(s, S.Allocate):
            self._defined.add(s.buffer.data)
            scope = s.buffer.scope or "global"
            if scope == "local" or scope == "warp" or (scope == "global" and set(self.threads) <= bound):
                self.per_thread.add(s.buffer.data)
            self._prepass(s.body, bound)
            return
        if isinstance(s, S.For):
            self._defined.add(s.loop_var)
        elif isinstance(s, S.LetStmt):
            self._defined.add(s.var)
        for name in ("body", "then_case", "else_case"):
            c = getattr(s, name, None)
            if isinstance(c, S.Stmt):
                self._prepass(c, bound)

    # ------------------------------------------------------------------ output
    def line(self, text: str) -> None:
        self.lines.append("  " * self.ind + text)

    def param_list(self) -> list:
        params = []
        for _, kind, dtype, name in self.k.params:
            if kind == "buffer":
                params.append(f"{self.ctype(dtype)}* __restrict__ {name}")
            else:
                params.append(f"{self.ctype(dtype)} {name}")
        return params

    def signature(self) -> str:
        params = self.param_list()
        threads = 1
        bounds = ""
        for t in self.threads:
            ext = self.launch[t]
            threads = threads * ext.value if isinstance(ext, E.IntImm) and isinstance(threads, int) else None
        if isinstance(threads, int):
            bounds = f"__launch_bounds__({threads}) "
        return f'extern "C" __global__ void {bounds}{self.k.name}({", ".join(params)})'

    def print(self) -> str:
        self.stmt(self.k.body)
        return self.signature() + " {\n" + "\n".join(self.lines) + "\n}\n"

    # ------------------------------------------------------------------ types and constants
    def ctype(self, dtype: str) -> str:
        d = dt.parse(dtype)
        if d.lanes > 1:
            raise CodegenError(f"{self.k.name}: vector type {dtype} reached the C printer unscalarized")
        if d.code == "float" and d.bits == 16:
            self.uses_half = True
        if d.code == "handle":
            return "void*"
        return CTYPES[d.scalar]

    def const(self, e) -> str:
        d = dt.parse(e.dtype)
        v = e.value
        if d.code == "bool":
            return "true" if v else "false"
        if d.code == "float":
            v = float(v)
            bits = d.bits
            if bits == 64:
                if math.isnan(v):
                    return "__longlong_as_double(0x7ff8000000000000LL)"
                if math.isinf(v):
                    return f"__longlong_as_double({'0xfff0000000000000' if v < 0 else '0x7ff0000000000000'}LL)"
                return _fmt_float(repr(v), "")
            if math.isnan(v):
                text = "__int_as_float(0x7fc00000)"
            elif math.isinf(v):
                text = f"__int_as_float({'0xff800000' if v < 0 else '0x7f800000'})"
            else:
                text = _fmt_float(str(np.float32(v)), "f")
            if bits == 16:
                self.uses_half = True
                return f"((half){text})"
            return text
        v = int(v)
        if d.code == "int":
            if d.bits == 64:
                return f"({v}LL)" if v >= 0 or v != -(1 << 63) else "(-9223372036854775807LL - 1)"
            if v == -(1 << 31):
                return "(-2147483647 - 1)"
            text = str(v) if v >= 0 else f"({v})"
            return text if d.bits == 32 else f"(({CTYPES[d.scalar]}){text})"
        suffix = {64: "ULL", 32: "U"}.get(d.bits, "")
        text = f"{v}{suffix}"
        return text if d.bits >= 32 else f"(({CTYPES[d.scalar]}){text})"

    # ------------------------------------------------------------------ expressions
    def ex(self, e, lane=None) -> str:
        m = getattr(self, "ex_" + type(e).__name__, None)
        if m is None:
            for k in type(e).__mro__[1:]:
                m = getattr(self, "ex_" + k.__name__, None)
                if m is not None:
                    break
        if m is None:
            raise CodegenError(f"{self.k.name}: the CUDA code generator cannot print the expression `{e}` "
                               f"({type(e).__name__})")
        if dt.lanes(e.dtype) > 1 and lane is None:
            raise CodegenError(f"{self.k.name}: vector expression `{e}` needs a lane")
        return m(e, lane if dt.lanes(e.dtype) > 1 else None)

    def ex_IntImm(self, e, lane):
        return self.const(e)

    ex_FloatImm = ex_IntImm

    def ex_StringImm(self, e, lane):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def ex_Var(self, e, lane):
        name = self.names.get(e)
        if name is None:
            raise CodegenError(f"{self.k.name}: variable {e.name!r} is used but not defined in the kernel")
        if e in self.lane_arrays:
            return f"{name}[{lane}]"
        return name

    def ex_Cast(self, e, lane):
        src, dst = dt.element_of(e.value.dtype), dt.element_of(e.dtype)
        v = self.ex(e.value, lane)
        if dst == "bool":
            if src == "float16":
                v = f"((float){v})"
            return f"({v} != 0)"
        if src == "float16" and not dt.is_float(dst):
            v = f"((float){v})"
        if dst == "float16" and not dt.is_float(src):
            v = f"((float){v})"
        return f"(({self.ctype(dst)}){v})"

    def ex_BinaryOp(self, e, lane):
        t = type(e)
        a, b = self.ex(e.a, lane), self.ex(e.b, lane)
        if t in _CBIN:
            return f"({a} {_CBIN[t]} {b})"
        is_float = dt.is_float(e.dtype)
        if t is E.Div:
            return f"({a} / {b})"
        if t is E.Mod:
            return f"{self._fn('fmod', e.dtype)}({a}, {b})" if is_float else f"({a} % {b})"
        if t is E.FloorDiv:
            if is_float:
                return f"{self._fn('floor', e.dtype)}({a} / {b})"
            if self.nonneg_expr(e.a) and positive_const(e.b):
                return f"({a} / {b})"
            self.helpers.add("floordiv")
            return f"tc_floordiv({a}, {b})"
        if t is E.FloorMod:
            if is_float:
                return f"({a} - {self._fn('floor', e.dtype)}({a} / {b}) * {b})"
            if self.nonneg_expr(e.a) and positive_const(e.b):
                return f"({a} % {b})"
            self.helpers.add("floormod")
            return f"tc_floormod({a}, {b})"
        if t in (E.Min, E.Max):
            name = "min" if t is E.Min else "max"
            d = dt.element_of(e.dtype)
            if d == "bool":
                return f"({a} {'&&' if t is E.Min else '||'} {b})"
            if is_float:
                return f"{self._fn('f' + name, e.dtype)}({a}, {b})"
            return f"{name}({a}, {b})"
        raise CodegenError(f"{self.k.name}: cannot print the operator {t.__name__} in `{e}`")

    def ex_Not(self, e, lane):
        return f"(!{self.ex(e.a, lane)})"

    def ex_Select(self, e, lane):
        return f"({self.ex(e.condition, lane)} ? {self.ex(e.true_value, lane)} : {self.ex(e.false_value, lane)})"

    def ex_Ramp(self, e, lane):
        return f"({self.ex(e.base)} + {self.ex(E.mul(e.stride, lane))})" if lane else self.ex(e.base)

    def ex_Broadcast(self, e, lane):
        return self.ex(e.value)

    def ex_Let(self, e, lane):
        name = self.names.bind(e.var)
        self.nonneg.discard(e.var)
        if self.nonneg_expr(e.value):
            self.nonneg.add(e.var)
        vt = self.ctype(dt.element_of(e.value.dtype))
        rt = self.ctype(dt.element_of(e.dtype))
        was_array = e.var in self.lane_arrays
        self.lane_arrays.discard(e.var)  # inside the lambda the variable holds this lane only
        body = self.ex(e.body, lane)
        if was_array:
            self.lane_arrays.add(e.var)
        return f"([&]() -> {rt} {{ const {vt} {name} = {self.ex(e.value, lane)}; return {body}; }}())"

    def ex_BufferLoad(self, e, lane):
        name = self.buffer_name(e.buffer)
        return f"{name}[{self.index(e.indices, e.dtype, lane)}]"

    def ex_Call(self, e, lane):
        lowered = lower_intrinsic(e, self.target_kind)
        if lowered is not None:  # a rule registered with tvm.ir.register_intrin_lowering
            return self.ex(lowered, lane)
        op = e.op[4:] if e.op.startswith("tir.") else e.op
        args = e.args
        if op == "if_then_else":
            c, a, b = args
            return f"({self.ex(c, lane)} ? {self.ex(a, lane)} : {self.ex(b, lane)})"
        if op == "likely":
            return self.ex(args[0], lane)
        if op == "reinterpret":
            src, dst = dt.element_of(args[0].dtype), dt.element_of(e.dtype)
            fn = {("int32", "float32"): "__int_as_float", ("uint32", "float32"): "__uint_as_float",
                  ("float32", "int32"): "__float_as_int", ("float32", "uint32"): "__float_as_uint",
                  ("int64", "float64"): "__longlong_as_double",
                  ("float64", "int64"): "__double_as_longlong"}.get((src, dst))
            if fn is None:
                raise CodegenError(f"{self.k.name}: cannot reinterpret {src} as {dst}")
            return f"{fn}({self.ex(args[0], lane)})"
        if op in ("isnan", "isinf", "isfinite"):
            if not dt.is_float(args[0].dtype):
                return "true" if op == "isfinite" else "false"
            return f"{op}({self._as_calc(args[0], lane)})"
        if op == "abs":
            if dt.is_float(e.dtype):
                op = "fabs"
            else:
                return f"abs({self.ex(args[0], lane)})" if not dt.is_uint(e.dtype) else self.ex(args[0], lane)
        if op in ("shift_left", "shift_right", "bitwise_and", "bitwise_or", "bitwise_xor"):
            sym = {"shift_left": "<<", "shift_right": ">>", "bitwise_and": "&", "bitwise_or": "|",
                   "bitwise_xor": "^"}[op]
            return f"({self.ex(args[0], lane)} {sym} {self.ex(args[1], lane)})"
        if op == "bitwise_not":
            return f"(~{self.ex(args[0], lane)})"
        if op == "popcount":
            return f"__popc{'ll' if dt.parse(args[0].dtype).bits == 64 else ''}({self.ex(args[0], lane)})"
        if op == "clz":
            return f"__clz{'ll' if dt.parse(args[0].dtype).bits == 64 else ''}({self.ex(args[0], lane)})"
        if op == "sigmoid":
            x = self._as_calc(args[0], lane)
            one = "1.0" if dt.parse(e.dtype).bits == 64 else "1.0f"
            return self._from_calc(f"({one} / ({one} + {self._fn('exp', e.dtype)}(-{x})))", e.dtype)
        if op in ("call_extern", "call_pure_extern"):
            name = args[0].value
            return f"{name}({', '.join(self.ex(a, lane) for a in args[1:])})"
        op = _RENAME.get(op, op)
        if op in _MATH:
            if not dt.is_float(e.dtype):
                raise CodegenError(f"{self.k.name}: intrinsic {op!r} needs a float argument, got `{e}`")
            inner = ", ".join(self._as_calc(a, lane) for a in args)
            return self._from_calc(f"{self._fn(op, e.dtype)}({inner})", e.dtype)
        raise CodegenError(f"{self.k.name}: the CUDA code generator has no lowering for the intrinsic "
                           f"{e.op!r} (in `{e}`)")

    def _fn(self, name: str, dtype: str) -> str:
        return name if dt.parse(dtype).bits == 64 else name + "f"

    def _as_calc(self, a, lane) -> str:
        v = self.ex(a, lane)
        return f"((float){v})" if dt.element_of(a.dtype) == "float16" else v

    def _from_calc(self, text: str, dtype: str) -> str:
        return f"((half){text})" if dt.element_of(dtype) == "float16" else text

    def index(self, indices, dtype, lane) -> str:
        if len(indices) != 1:
            raise CodegenError(f"{self.k.name}: buffer access with {len(indices)} indices; the CUDA code "
                               "generator needs flattened buffers (run tvm.build, not codegen directly)")
        (i,) = indices
        if dt.lanes(i.dtype) == 1 and dt.lanes(dtype) > 1:
            return f"({self.ex(i)} + {lane})" if lane else self.ex(i)
        return self.ex(i, lane)

    def buffer_name(self, buf) -> str:
        name = self.names.get(buf.data)
        if name is None:
            raise CodegenError(f"{self.k.name}: buffer {buf.name!r} is neither a parameter nor allocated")
        return name

    def nonneg_expr(self, e) -> bool:
        """A cheap proof that the integer e is >= 0 (see codegen/nonneg.py)."""
        return is_nonneg(e, self.nonneg)

    # ------------------------------------------------------------------ statements
    def stmt(self, s) -> None:
        if id(s) in self.sync.syncs:
            self.line(self.barrier)
        m = getattr(self, "st_" + type(s).__name__, None)
        if m is None:
            raise CodegenError(f"{self.k.name}: the CUDA code generator cannot print the statement "
                               f"{type(s).__name__}:\n{s}")
        m(s)

    def block(self, s) -> None:
        self.ind += 1
        self.stmt(s)
        self.ind -= 1

    def st_SeqStmt(self, s):
        for c in s.seq:
            self.stmt(c)

    def st_Evaluate(self, s):
        if not isinstance(s.value, (E.IntImm, E.FloatImm, E.StringImm)):
            self.line(f"(void){self.ex(s.value, 0 if dt.lanes(s.value.dtype) > 1 else None)};")

    def st_For(self, s):
        tag = is_launch_binding(s)
        if tag:
            self._bound(s, tag, s.loop_var, s.min, s.extent)
            return
        name = self.names.bind(s.loop_var)
        ty = self.ctype(s.loop_var.dtype)
        self.nonneg.discard(s.loop_var)
        if self.nonneg_expr(s.min):
            self.nonneg.add(s.loop_var)
        lo = self.ex(s.min)
        hi = self.ex(E.add(s.min, s.extent))
        if s.kind == S.ForKind.UNROLLED:
            self.line("#pragma unroll")
        elif s.kind == S.ForKind.THREAD_BINDING:
            self.line(f"// {s.thread_tag}: a virtual thread, run as a loop")
        self.line(f"for ({ty} {name} = {lo}; {name} < {hi}; ++{name}) {{")
        self.block(s.body)
        self.line("}")

    def st_AttrStmt(self, s):
        tag = is_launch_binding(s)
        if tag:
            var, mn, ext = binding_var_extent(s)
            self._bound(s, tag, var, mn, ext)
            return
        self.stmt(s.body)

    def _bound(self, s, tag, var, mn, ext):
        ty = self.ctype(var.dtype)
        builtin = f"(({ty}){self.launch_index(tag)})"
        expr = builtin if _is_zero(mn) else f"({builtin} + {self.ex(mn)})"
        old = self.names.map.get(var)
        self.names.map[var] = expr
        self.nonneg.discard(var)
        if self.nonneg_expr(mn):
            self.nonneg.add(var)
        had = tag in self.bound
        self.bound.add(tag)
        if id(s) in self.guarded:
            self.line(f"if ({builtin} < {self.ex(ext)}) {{")
            self.block(s.body)
            self.line("}")
        else:
            self.stmt(s.body)
        if not had:
            self.bound.discard(tag)
        if old is None:
            self.names.map.pop(var, None)
        else:
            self.names.map[var] = old

    def st_IfThenElse(self, s):
        self.line(f"if ({self.ex(s.condition)}) {{")
        self.block(s.then_case)
        if s.else_case is not None:
            self.line("} else {")
            self.block(s.else_case)
        self.line("}")

    def st_LetStmt(self, s):
        name = self.names.bind(s.var)
        self.nonneg.discard(s.var)
        if self.nonneg_expr(s.value):
            self.nonneg.add(s.var)
        lanes = dt.lanes(s.value.dtype)
        ty = self.ctype(dt.element_of(s.value.dtype))
        if lanes > 1:
            values = ", ".join(self.ex(s.value, k) for k in range(lanes))
            self.line(f"const {ty} {name}[{lanes}] = {{{values}}};")
            self.lane_arrays.add(s.var)
        else:
            self.line(f"const {ty} {name} = {self.ex(s.value)};")
        self.stmt(s.body)

    def st_AssertStmt(self, s):
        self.line(f"// assert: {s.message}".replace("\n", " "))
        self.stmt(s.body)

    def st_Allocate(self, s):
        buf = s.buffer
        size = 1
        for d in buf.shape:
            if not isinstance(d, E.IntImm):
                raise CodegenError(
                    f"{self.k.name}: buffer {buf.name!r} ({buf.scope or 'global'} scope) has the symbolic "
                    f"size {list(buf.shape)}; arrays inside a GPU kernel need a constant size: split the "
                    "loops it is computed under by constant factors")
            size *= d.value
        name = self.names.bind(buf.data, buf.name)
        ty = self.ctype(dt.element_of(buf.dtype))
        size *= dt.lanes(buf.dtype)
        if buf.data in self.per_thread:
            self.line(f"{ty} {name}[{max(size, 1)}];")
        else:
            self.shared_bytes += max(size, 1) * max(1, dt.parse(buf.dtype).bits // 8)
            self.line(f"{self.shared_qualifier} {ty} {name}[{max(size, 1)}];")
        self.stmt(s.body)

    def st_BufferStore(self, s):
        name = self.buffer_name(s.buffer)
        lanes = max(dt.lanes(s.value.dtype), dt.lanes(s.indices[0].dtype) if len(s.indices) == 1 else 1)
        guard = ""
        if s.buffer.data not in self.per_thread:
            missing = [t for t in self.threads if t not in self.bound]
            if missing:
                guard = " && ".join(f"({self.launch_index(t)} == 0)" for t in missing)
        if guard:
            self.line(f"if ({guard}) {{")
            self.ind += 1
        vt = s.value.dtype if dt.lanes(s.value.dtype) > 1 else dt.with_lanes(s.value.dtype, lanes)
        for k in range(lanes) if lanes > 1 else (None,):
            idx = self.index(s.indices, vt, k)
            self.line(f"{name}[{idx}] = {self.ex(s.value, k)};")
        if guard:
            self.ind -= 1
            self.line("}")


def _same(a, b) -> bool:
    from ...ir.functor import structural_equal

    if isinstance(a, E.IntImm) and isinstance(b, E.IntImm):
        return a.value == b.value
    return structural_equal(a, b)


def _is_zero(e) -> bool:
    return isinstance(e, E.IntImm) and e.value == 0


def _stored(s):
    from ...ir.functor import post_order_visit

    out = []
    post_order_visit(s, lambda n: out.append(n.buffer) if isinstance(n, S.BufferStore) else None)
    return out


def _fmt_float(text: str, suffix: str) -> str:
    if not any(c in text for c in ".eEn"):
        text += ".0"
    if text.startswith("-"):
        return f"({text}{suffix})"
    return text + suffix


__all__ = ["KernelPrinter", "CodegenError", "CTYPES", "HELPERS", "LAUNCH_TAGS"]
