"""Calls by name from TIR: `call_extern` (a C function the compiled code links against: the C
library, or one brought in with the `import_llvm` pragma) and `call_intrin` (a tilecraft
intrinsic such as "exp").  Classic `tvm.tir.call_extern(dtype, name, *args)`."""

from __future__ import annotations

from ..ir import dtype as dt
from ..ir.expr import Call, PrimExpr, StringImm, convert


def _args(fname: str, args) -> tuple:
    out = []
    for i, a in enumerate(args):
        if isinstance(a, str):
            out.append(StringImm(a))
            continue
        try:
            out.append(convert(a))
        except TypeError:
            raise TypeError(f"{fname}: argument {i} is a {type(a).__name__}; pass expressions, numbers, strings "
                            "or buffer.access_ptr(...) pointers") from None
    return tuple(out)


def call_extern(dtype, func_name: str, *args, span=None) -> PrimExpr:
    """Call the C function `func_name` with `args`; its result has type `dtype`."""
    if not isinstance(func_name, str):
        raise TypeError(f"call_extern: the function name must be a string, got {func_name!r}")
    return Call(dt.canonical(dtype), "call_extern", (StringImm(func_name),) + _args(func_name, args))


def call_pure_extern(dtype, func_name: str, *args, span=None) -> PrimExpr:
    """call_extern of a function without side effects."""
    if not isinstance(func_name, str):
        raise TypeError(f"call_pure_extern: the function name must be a string, got {func_name!r}")
    return Call(dt.canonical(dtype), "call_pure_extern", (StringImm(func_name),) + _args(func_name, args))


def call_intrin(dtype, func_name: str, *args, span=None) -> PrimExpr:
    """The intrinsic `func_name` ("exp", "tir.exp", "popcount", ...) applied to `args`."""
    name = func_name[4:] if func_name.startswith("tir.") else func_name
    return Call(dt.canonical(dtype), name, _args(func_name, args))


def _llvm_intrin(op: str, dtype, name, args) -> PrimExpr:
    if isinstance(name, StringImm):
        name = name.value
    if not isinstance(name, str) or not name.startswith("llvm."):
        raise TypeError(f"{op}: name the LLVM intrinsic by its full name, e.g. 'llvm.x86.avx2.pmadd.wd', "
                        f"got {name!r}")
    return Call(dt.canonical(dtype), op, (StringImm(name),) + _args(name, args))


def call_llvm_pure_intrin(dtype, name: str, *args, span=None) -> PrimExpr:
    """The LLVM intrinsic `name` ("llvm.x86.avx2.pmadd.ub.sw") on `args`, without side effects.
    As in classic code, the first argument may be the number of overloaded types
    (`tir.const(2, "uint32")`); the generator takes the types from the arguments."""
    return _llvm_intrin("call_llvm_pure_intrin", dtype, name, args)


def call_llvm_intrin(dtype, name: str, *args, span=None) -> PrimExpr:
    """call_llvm_pure_intrin of an intrinsic that may have side effects (a prefetch, a store)."""
    return _llvm_intrin("call_llvm_intrin", dtype, name, args)
