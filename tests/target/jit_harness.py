"""A minimal JIT for testing the LLVM code generator on its own.

The real runtime (tilecraft.runtime) is written separately; these tests only need to run an
Artifact's functions on numpy arrays, so they use llvmlite's MCJIT and ctypes directly,
following the calling convention in artifact.py: buffer pointers, scalars by value, then
the shape variables, returning 0 on success.
"""

from __future__ import annotations

import ctypes
import os

import llvmlite.binding as llvm
import numpy as np

from tilecraft.ir import dtype as dt
from tilecraft.target import Target

LIBGOMP = "/usr/lib/x86_64-linux-gnu/libgomp.so.1"
_CTYPE = {
    "bool": ctypes.c_bool, "int8": ctypes.c_int8, "int16": ctypes.c_int16, "int32": ctypes.c_int32,
    "int64": ctypes.c_int64, "uint8": ctypes.c_uint8, "uint16": ctypes.c_uint16,
    "uint32": ctypes.c_uint32, "uint64": ctypes.c_uint64, "float32": ctypes.c_float,
    "float64": ctypes.c_double, "handle": ctypes.c_void_p,
}
_gomp_loaded = False


def _load_gomp() -> None:
    global _gomp_loaded
    if not _gomp_loaded:
        path = LIBGOMP if os.path.exists(LIBGOMP) else "libgomp.so.1"
        llvm.load_library_permanently(path)
        _gomp_loaded = True


class JitModule:
    """The artifact's functions, callable with numpy arrays and Python scalars."""

    def __init__(self, artifact):
        _load_gomp()
        t = Target(artifact.target)
        tm = llvm.Target.from_triple(t.mtriple).create_target_machine(
            cpu=t.mcpu, features=t.features, opt=3, jit=True)
        mod = llvm.parse_assembly(artifact.source)
        self.engine = llvm.create_mcjit_compiler(mod, tm)
        self.engine.finalize_object()
        self.artifact = artifact
        self.funcs = {f.name: f for f in artifact.functions}
        self._cache: dict = {}

    def __getitem__(self, name):
        return lambda *args: self.call(name, *args)

    def __call__(self, *args):
        return self.call(self.artifact.entry, *args)

    def call(self, name, *args):
        info = self.funcs[name]
        if len(args) != len(info.params):
            raise TypeError(f"{name} takes {len(info.params)} arguments, got {len(args)}")
        fn = self._cache.get(name)
        if fn is None:
            argtypes = [ctypes.c_void_p if p.kind == "buffer" else _CTYPE[p.dtype] for p in info.params]
            argtypes += [_CTYPE[d] for _, d in info.shape_vars]
            addr = self.engine.get_function_address(name)
            fn = self._cache[name] = ctypes.CFUNCTYPE(ctypes.c_int32, *argtypes)(addr)
        cargs = []
        sizes: dict = {}
        for p, a in zip(info.params, args):
            if p.kind == "buffer":
                assert isinstance(a, np.ndarray) and a.flags.c_contiguous, p.name
                assert a.dtype == dt.to_numpy(p.dtype), (p.name, a.dtype, p.dtype)
                for dim, n in zip(p.shape, a.shape):
                    if isinstance(dim, str):
                        sizes[dim] = n
                cargs.append(a.ctypes.data)
            else:
                cargs.append(a)
        cargs += [sizes[n] for n, _ in info.shape_vars]
        return fn(*cargs)


def build(mod, target="llvm"):
    from tilecraft.target.codegen.llvm import codegen_llvm

    return JitModule(codegen_llvm(mod, target))


# ---------------------------------------------------------------------------- TIR builders

def vload(buf, index):
    """BufferLoad whose dtype takes the index's lanes (a vector load for a Ramp index)."""
    from tilecraft.ir.expr import BufferLoad

    lanes = dt.lanes(index.dtype)
    return BufferLoad(buf, (index,), dt.with_lanes(buf.dtype, lanes))


def ramp(base, lanes, stride=1):
    from tilecraft.ir.expr import Ramp, const, convert

    base = convert(base)
    return Ramp(base, const(stride, base.dtype), lanes, dt.with_lanes(base.dtype, lanes))


def elementwise(make, in_dtypes, out_dtype, n=64, lanes=1, name="f"):
    """out[i] = make(x0[i], x1[i], ...), scalar (lanes=1) or with Ramp vector loads/stores."""
    from tilecraft.ir.expr import Var, const, decl_buffer
    from tilecraft.tir.stmt import BufferStore, For, PrimFunc

    ins = [decl_buffer((n,), d, f"x{k}") for k, d in enumerate(in_dtypes)]
    out = decl_buffer((n,), out_dtype, "out")
    i = Var("i")
    if lanes == 1:
        body = For(i, const(0), const(n), "serial", BufferStore(out, make(*[b[i] for b in ins]), (i,)))
    else:
        assert n % lanes == 0
        idx = ramp(i * lanes, lanes)
        value = make(*[vload(b, idx) for b in ins])
        body = For(i, const(0), const(n // lanes), "serial", BufferStore(out, value, (idx,)))
    return PrimFunc(tuple(ins) + (out,), body, name)


def run_elementwise(make, inputs, out_dtype, lanes=1, target="llvm"):
    """Build and run `elementwise` on numpy inputs; returns the output array."""
    n = len(inputs[0])
    f = elementwise(make, [str(a.dtype) for a in inputs], out_dtype, n=n, lanes=lanes)
    out = np.zeros(n, dtype=dt.to_numpy(out_dtype))
    rc = build(f, target)(*inputs, out)
    assert rc == 0
    return out
