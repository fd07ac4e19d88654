"""Intrinsic calls (`Call` nodes) for the LLVM code generator: math, bit operations, and the
control intrinsics `if_then_else`, `likely` and `reinterpret`.

Math maps to LLVM intrinsics where LLVM has one, because LLVM knows their semantics (constant
folding, vector forms, `roundps` for round).  Functions LLVM lacks (tanh, erf, ...) call libm
once per lane: the lowering normally replaces them with polynomial approximations first, so
this path only has to be correct, not fast.
"""

from __future__ import annotations

import re

import llvmlite.ir as ir

from ...ir import dtype as dt
from ...ir.expr import IntImm, StringImm
from ...ir.op_attr import lower_intrinsic
from .llvm_types import I1, const, intrinsic_suffix, lanes_of, value_type

# tilecraft op -> LLVM intrinsic, by arity.  "round" is numpy's round-half-to-even.
_FLOAT_INTRINSICS = {
    "exp": "exp", "exp2": "exp2", "log": "log", "log2": "log2", "log10": "log10",
    "sqrt": "sqrt", "fabs": "fabs", "floor": "floor", "ceil": "ceil", "round": "roundeven",
    "trunc": "trunc", "sin": "sin", "cos": "cos", "nearbyint": "nearbyint", "rint": "rint",
    "pow": "pow", "copysign": "copysign", "fma": "fma",
}
_ARITY = {"pow": 2, "copysign": 2, "fma": 3}
# x86 intrinsics by name prefix -> the alternative feature sets that execute them (LLVM aborts the
# process when asked to select one the target lacks, so the generator refuses first).
_X86_FEATURES = (
    ("llvm.x86.avx512.vpdpbusd.512", (("avx512vnni",),)), ("llvm.x86.avx512.vpdpwssd.512", (("avx512vnni",),)),
    ("llvm.x86.avx512.vpdp", (("avxvnni",), ("avx512vnni", "avx512vl"))),
    ("llvm.x86.avx512.pmaddubs.w.512", (("avx512bw",),)), ("llvm.x86.avx512.pmaddw.d.512", (("avx512bw",),)),
    ("llvm.x86.avx512.", (("avx512f",),)), ("llvm.x86.avx2.", (("avx2",),)), ("llvm.x86.avx.", (("avx",),)),
    ("llvm.x86.fma.", (("fma",),)), ("llvm.x86.sse42.", (("sse4.2",),)), ("llvm.x86.sse41.", (("sse4.1",),)),
    ("llvm.x86.ssse3.", (("ssse3",),)), ("llvm.x86.sse3.", (("sse3",),)), ("llvm.x86.sse2.", (("sse2",),)),
)
_TARGET_SPECIFIC = ("llvm.x86.", "llvm.aarch64.", "llvm.arm.", "llvm.nvvm.", "llvm.amdgcn.", "llvm.wasm.")
_LIBM = {
    "tan": 1, "tanh": 1, "erf": 1, "erfc": 1, "atan": 1, "asin": 1, "acos": 1, "sinh": 1,
    "cosh": 1, "asinh": 1, "acosh": 1, "atanh": 1, "log1p": 1, "expm1": 1, "cbrt": 1,
    "tgamma": 1, "lgamma": 1, "atan2": 2, "fmod": 2, "hypot": 2, "nextafter": 2,
}


class CallsMixin:
    """Call lowering; mixed into the function code generator (needs b, expr, mcg, flags)."""

    def expr_Call(self, e):
        lowered = lower_intrinsic(e, "llvm")
        if lowered is not None:  # a rule registered with tvm.ir.register_intrin_lowering
            return self.expr(lowered)
        op = e.op[4:] if e.op.startswith("tir.") else e.op
        handler = getattr(self, "call_" + op, None)
        if handler is not None:
            return handler(e)
        if op in _FLOAT_INTRINSICS:
            return self._float_intrinsic(e, op)
        if op in _LIBM:
            return self._libm(e, op)
        raise ValueError(f"the LLVM code generator has no lowering for the intrinsic {e.op!r} "
                         f"(in `{e}`); lower it in TIR first or use a supported one: "
                         f"{', '.join(sorted(set(_FLOAT_INTRINSICS) | set(_LIBM)))}")

    # ------------------------------------------------------------------ helpers
    def _args(self, e, n: int):
        if len(e.args) != n:
            raise ValueError(f"intrinsic {e.op!r} takes {n} argument(s), got {len(e.args)} in `{e}`")
        return [self.coerce(self.expr(a), a.dtype, e.dtype) for a in e.args]

    def _require_float(self, e):
        if not dt.is_float(e.dtype):
            raise ValueError(f"intrinsic {e.op!r} needs a float argument, got {e.dtype} in `{e}`; "
                             "cast to float first")

    def _intrinsic(self, name: str, ret: ir.Type, args, arg_types=None):
        types = arg_types or [a.type for a in args]
        fn = self.mcg.declare(f"llvm.{name}.{intrinsic_suffix(ret)}", ret, types)
        return self.b.call(fn, args, fastmath=self.call_flags if _is_float(ret) else ())

    def _float_intrinsic(self, e, op):
        self._require_float(e)
        args = self._args(e, _ARITY.get(op, 1))
        return self._intrinsic(_FLOAT_INTRINSICS[op], value_type(e.dtype), args)

    def _libm(self, e, op):
        """Per-lane calls to the C library (expf/tanhf for float32, tanh for float64)."""
        self._require_float(e)
        args = self._args(e, _LIBM[op])
        d = dt.parse(e.dtype)
        calc = "float64" if d.bits == 64 else "float32"  # float16 computes in float32
        ct = value_type(calc)
        fn = self.mcg.declare(op if d.bits == 64 else op + "f", ct, [ct] * len(args))
        st = value_type(d.scalar)

        def one(vals):
            vals = [v if v.type == ct else self.b.fpext(v, ct) for v in vals]
            r = self.b.call(fn, vals)
            return r if st == ct else self.b.fptrunc(r, st)

        if d.lanes == 1:
            return one(args)
        out = ir.Constant(value_type(e.dtype), ir.Undefined)
        for i in range(d.lanes):
            idx = ir.Constant(ir.IntType(32), i)
            out = self.b.insert_element(out, one([self.b.extract_element(a, idx) for a in args]), idx)
        return out

    # ------------------------------------------------------------------ control
    def call_likely(self, e):
        return self.expr(e.args[0])

    def call_reinterpret(self, e):
        v = self.expr(e.args[0])
        return self.b.bitcast(v, value_type(e.dtype))

    def call_if_then_else(self, e):
        """Evaluate only the chosen side: the other may read out of bounds (padding).

        A vector condition cannot branch, so both sides are evaluated and blended; the
        vectorizer only produces that when both sides are safe to compute.
        """
        if len(e.args) != 3:
            raise ValueError(f"if_then_else takes (cond, then, else), got {len(e.args)} arguments in `{e}`")
        c, t, f = e.args
        if isinstance(c, IntImm):
            return self.coerce(self.expr(t if c.value else f), t.dtype, e.dtype)
        cond = self.expr(c)
        if lanes_of(cond) > 1:
            tv = self.coerce(self.expr(t), t.dtype, e.dtype)
            fv = self.coerce(self.expr(f), f.dtype, e.dtype)
            return self.b.select(cond, tv, fv)
        fn = self.b.function
        then_bb, else_bb, end_bb = (fn.append_basic_block() for _ in range(3))
        self.b.cbranch(cond, then_bb, else_bb)
        self.b.position_at_end(then_bb)
        tv = self.coerce(self.expr(t), t.dtype, e.dtype)
        then_end = self.b.block
        self.b.branch(end_bb)
        self.b.position_at_end(else_bb)
        fv = self.coerce(self.expr(f), f.dtype, e.dtype)
        else_end = self.b.block
        self.b.branch(end_bb)
        self.b.position_at_end(end_bb)
        phi = self.b.phi(value_type(e.dtype))
        phi.add_incoming(tv, then_end)
        phi.add_incoming(fv, else_end)
        return phi

    def call_call_extern(self, e):
        """call_extern(dtype, "name", args...): a C function by name, once per lane for vectors."""
        if not e.args or not isinstance(e.args[0], StringImm):
            raise ValueError(f"{e.op} needs the function name as its first argument, in `{e}`")
        name, args = e.args[0].value, e.args[1:]
        d = dt.parse(e.dtype)
        vals = [self.expr(a) for a in args]
        scalar_dtypes = [dt.element_of(a.dtype) for a in args]
        fn = self.mcg.declare(name, value_type(d.scalar), [value_type(t) for t in scalar_dtypes])
        if d.lanes == 1:
            return self.b.call(fn, vals)
        out = ir.Constant(value_type(e.dtype), ir.Undefined)
        for i in range(d.lanes):
            idx = ir.Constant(ir.IntType(32), i)
            lane = [self.b.extract_element(v, idx) if lanes_of(v) > 1 else v for v in vals]
            out = self.b.insert_element(out, self.b.call(fn, lane), idx)
        return out

    call_call_pure_extern = call_call_extern

    def call_call_llvm_pure_intrin(self, e):
        """An LLVM intrinsic by name (classic call_llvm_pure_intrin): the x86 dot products and
        shuffles kernels use through tensorize.  A leading uint32 constant is classic's count of
        overloaded types; an overloaded generic intrinsic ("llvm.sqrt") gets the result type's suffix."""
        name, args = e.args[0].value, list(e.args[1:])
        if args and isinstance(args[0], IntImm) and args[0].dtype == "uint32":
            args = args[1:]
        self._check_x86_features(name)
        ret = value_type(e.dtype)
        if not name.startswith(_TARGET_SPECIFIC) and not re.search(r"\.(v\d+)?[fi]\d+$", name):
            name = f"{name}.{intrinsic_suffix(ret)}"
        vals = [self.expr(a) for a in args]
        return self.b.call(self.mcg.declare(name, ret, [v.type for v in vals]), vals)

    call_call_llvm_intrin = call_call_llvm_pure_intrin

    def _check_x86_features(self, name: str) -> None:
        target = self.mcg.target
        for prefix, options in _X86_FEATURES:
            if name.startswith(prefix):
                if not any(all(target.has_feature(f) for f in opt) for opt in options):
                    need = " or ".join("+".join(opt) for opt in options)
                    raise ValueError(f"the LLVM intrinsic {name!r} needs {need}, which target {str(target)!r} "
                                     f"lacks; build for a CPU that has it (e.g. -mcpu=cascadelake) or choose "
                                     "the intrinsic by the target's features")
                return

    # ------------------------------------------------------------------ math with no intrinsic
    def call_sigmoid(self, e):
        self._require_float(e)
        (x,) = self._args(e, 1)
        ty = value_type(e.dtype)
        one = const(e.dtype, 1.0)
        ex = self._intrinsic("exp", ty, [self.b.fneg(x, flags=self.flags)])
        return self.b.fdiv(one, self.b.fadd(one, ex, flags=self.flags), flags=self.flags)

    def call_rsqrt(self, e):
        self._require_float(e)
        (x,) = self._args(e, 1)
        s = self._intrinsic("sqrt", value_type(e.dtype), [x])
        return self.b.fdiv(const(e.dtype, 1.0), s, flags=self.flags)

    def call_abs(self, e):
        if dt.is_float(e.dtype):
            return self._float_intrinsic(e, "fabs")
        (x,) = self._args(e, 1)
        if dt.is_uint(e.dtype) or dt.is_bool(e.dtype):
            return x
        return self._intrinsic("abs", x.type, [x, ir.Constant(I1, 0)])

    def _float_test(self, e, kind: str):
        (a,) = e.args
        x = self.expr(a)
        if not dt.is_float(a.dtype):
            return const(e.dtype, kind == "isfinite")
        if kind == "isnan":
            return self.b.fcmp_unordered("uno", x, x)
        ax = self._intrinsic("fabs", x.type, [x])
        inf = const(a.dtype, float("inf"))
        return self.b.fcmp_ordered("==" if kind == "isinf" else "<", ax, inf)

    def call_isnan(self, e):
        return self._float_test(e, "isnan")

    def call_isinf(self, e):
        return self._float_test(e, "isinf")

    def call_isfinite(self, e):
        return self._float_test(e, "isfinite")

    # ------------------------------------------------------------------ bits
    def call_popcount(self, e):
        (x,) = self._args(e, 1)
        return self._intrinsic("ctpop", x.type, [x])

    def call_clz(self, e):
        (x,) = self._args(e, 1)
        return self._intrinsic("ctlz", x.type, [x, ir.Constant(I1, 0)], [x.type, I1])

    def call_shift_left(self, e):
        a, b = self._args(e, 2)
        return self.b.shl(a, b)

    def call_shift_right(self, e):
        a, b = self._args(e, 2)
        return self.b.lshr(a, b) if dt.is_uint(e.dtype) else self.b.ashr(a, b)

    def call_bitwise_and(self, e):
        return self.b.and_(*self._args(e, 2))

    def call_bitwise_or(self, e):
        return self.b.or_(*self._args(e, 2))

    def call_bitwise_xor(self, e):
        return self.b.xor(*self._args(e, 2))

    def call_bitwise_not(self, e):
        return self.b.not_(*self._args(e, 1))


def _is_float(t: ir.Type) -> bool:
    t = t.element if isinstance(t, ir.VectorType) else t
    return isinstance(t, (ir.HalfType, ir.FloatType, ir.DoubleType))
