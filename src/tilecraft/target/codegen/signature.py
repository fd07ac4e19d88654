"""A PrimFunc's calling convention, shared by every code generator (LLVM, CUDA).

`artifact.py` fixes the ABI of a compiled function: its buffers and scalars in order, then the
shape variables the runtime reads off the arrays.  Which variables those are, and the FuncInfo
that tells the runtime how to call the function, are worked out here once, so the CPU and GPU
builds of one function agree on its signature.
"""

from __future__ import annotations

from ...ir.expr import Buffer, Call, IntImm, Var
from ...ir.functor import free_vars, post_order_visit
from ...runtime.artifact import FuncInfo, ParamInfo
from ...tir.packed import CALL_PACKED, packed_call_buffers
from ...tir.stmt import BufferStore, PrimFunc


def shape_vars(f: PrimFunc) -> list:
    """The variables in the buffers' shapes, strides and offsets that are not explicit scalar
    parameters, in first-seen order: the trailing arguments the runtime fills from the arrays."""
    explicit = {p for p in f.params if isinstance(p, Var)}
    out: list = []
    for p in f.params:
        if isinstance(p, Buffer):
            for x in (*p.shape, *p.strides, *(() if p.elem_offset is None else (p.elem_offset,))):
                for v in free_vars(x):
                    if v not in explicit and v not in out:
                        out.append(v)
    return out


def _dim(d):
    if isinstance(d, IntImm):
        return d.value
    if isinstance(d, Var):
        return d.name
    return str(d)


def func_info(name: str, f: PrimFunc, shape_vars: list) -> FuncInfo:
    """What the runtime needs to call `f` compiled as `name`: its parameters (buffers with their
    shapes, scalars), its shape variables and the indices of the buffers it writes."""
    params = []
    for p in f.params:
        if isinstance(p, Buffer):
            params.append(ParamInfo("buffer", p.name, p.dtype, tuple(_dim(d) for d in p.shape)))
        elif isinstance(p, Var):
            params.append(ParamInfo("scalar", p.name, p.dtype))
        else:
            raise ValueError(f"parameter {p!r} of function {name!r} is neither a Buffer nor a Var")
    written: set = set()

    def note(n):
        if isinstance(n, BufferStore):
            written.add(n.buffer.data)
        elif isinstance(n, Call) and n.op == CALL_PACKED:  # the callee may write any buffer it gets
            written.update(packed_call_buffers(n))

    post_order_visit(f.body, note)
    writes = tuple(i for i, p in enumerate(f.params) if isinstance(p, Buffer) and p.data in written)
    return FuncInfo(name, tuple(params), tuple((v.name, v.dtype) for v in shape_vars), writes)
