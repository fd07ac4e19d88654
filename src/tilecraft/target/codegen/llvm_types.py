"""LLVM types and constants for tilecraft dtypes, shared by the LLVM code generator's parts.

Booleans are `i1` in registers but one byte in memory (numpy's layout), so there are two
mappings: `value_type` for SSA values and `memory_type` for loads, stores and allocations.
"""

from __future__ import annotations

from functools import cache

import llvmlite.ir as ir

from ...ir import dtype as dt

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
PTR = ir.PointerType()
VOID = ir.VoidType()

_SCALAR = {
    "bool": I1, "int8": I8, "uint8": I8, "int16": ir.IntType(16), "uint16": ir.IntType(16),
    "int32": I32, "uint32": I32, "int64": I64, "uint64": I64,
    "float16": ir.HalfType(), "float32": ir.FloatType(), "float64": ir.DoubleType(),
    "handle": PTR,
}


@cache
def value_type(dtype: str) -> ir.Type:
    """The SSA type of a value of `dtype` ("float32x8" -> <8 x float>)."""
    d = dt.parse(dtype)
    t = _SCALAR[d.scalar if d.code != "handle" else "handle"]
    return ir.VectorType(t, d.lanes) if d.lanes > 1 else t


@cache
def memory_type(dtype: str) -> ir.Type:
    """The in-memory type of `dtype`: like value_type, but bool is a byte."""
    d = dt.parse(dtype)
    if d.code != "bool":
        return value_type(dtype)
    return ir.VectorType(I8, d.lanes) if d.lanes > 1 else I8


@cache
def element_align(dtype: str) -> int:
    """Alignment we may assume for an element of `dtype` in any buffer: its scalar size."""
    d = dt.parse(dtype)
    return max(1, d.bits // 8) if d.code != "bool" else 1


def const(dtype: str, value) -> ir.Constant:
    """A constant of `dtype`, splatted over the lanes of a vector dtype."""
    d = dt.parse(dtype)
    st = _SCALAR[d.scalar]
    if d.code == "float":
        c = ir.Constant(st, float(value))
    elif d.code == "bool":
        c = ir.Constant(st, int(bool(value)))
    else:
        v = int(value) & ((1 << d.bits) - 1)
        if v >= 1 << (d.bits - 1):
            v -= 1 << d.bits  # LLVM prints integer constants signed
        c = ir.Constant(st, v)
    if d.lanes == 1:
        return c
    return ir.Constant(ir.VectorType(st, d.lanes), [c] * d.lanes)


def lanes_of(value) -> int:
    t = value.type
    return t.count if isinstance(t, ir.VectorType) else 1


def intrinsic_suffix(t: ir.Type) -> str:
    """LLVM's name mangling of an overloaded intrinsic's type: f32, v8f32, i64, v4i32."""
    if isinstance(t, ir.VectorType):
        return f"v{t.count}{intrinsic_suffix(t.element)}"
    if isinstance(t, ir.IntType):
        return f"i{t.width}"
    return {"half": "f16", "float": "f32", "double": "f64"}[str(t)]


class LoopID(ir.values.MDValue):
    """`distinct !{!self, ...}`: loop metadata must refer to itself, which add_metadata cannot."""

    def __init__(self, module: ir.Module, operands):
        super().__init__(module, operands, name=str(len(module.metadata)))

    def descr(self, buf):
        ops = ", ".join([self.get_reference()] + [op.get_reference() for op in self.operands])
        buf += (f"distinct !{{ {ops} }}", "\n")

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other


class FunctionAttributes(ir.values.FunctionAttributes):
    """llvmlite only knows keyword attributes; this adds string ones ("target-cpu"="znver3")."""

    def __init__(self, strings=()):
        super().__init__(("nounwind",))
        self.strings = list(strings)

    def _to_list(self, ret_type):
        return super()._to_list(ret_type) + self.strings
