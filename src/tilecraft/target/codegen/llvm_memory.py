"""Memory in the LLVM code generator: buffer loads and stores (scalar, contiguous vector,
broadcast, and per-lane gathers / scatters) and Allocate (a stack slot in the entry block when
small and constant, else posix_memalign / free).  A mixin of FunctionCodegen (llvm_func.py).
"""

from __future__ import annotations

import llvmlite.ir as ir

from ...ir import dtype as dt
from ...ir import expr as E
from .llvm_types import I32, I64, PTR, element_align, lanes_of, memory_type, value_type
from .nonneg import is_const

# Allocations up to this size live on the stack; larger or symbolic ones on the heap.
STACK_LIMIT_BYTES = 1 << 20
ALLOC_ALIGN = 64


class MemoryMixin:
    """Load, store and allocation methods of FunctionCodegen."""

    def buffer_ptr(self, buf):
        p = self.vars.get(buf.data)
        if p is None:
            raise ValueError(f"buffer {buf.name!r} is accessed in function {self.name!r} but is "
                             "neither a parameter nor allocated (its data pointer "
                             f"{buf.data.name!r} is unbound)")
        return p

    def call_tvm_access_ptr(self, e):
        """buffer.access_ptr(...): tvm_access_ptr(type_annotation, data, offset, extent, mask) is the
        address of element `offset` of `data` (what an external function receives)."""
        if len(e.args) != 5:
            raise ValueError(f"tvm_access_ptr takes (type_annotation, data, offset, extent, mask), got `{e}`")
        ann, data, offset = e.args[:3]
        ptr = self.vars.get(data)
        if ptr is None:
            raise ValueError(f"access_ptr of {getattr(data, 'name', data)!r} in function {self.name!r}: the buffer "
                             "is neither a parameter nor allocated")
        return self._addr(ptr, memory_type(ann.dtype), offset)

    def _index(self, buf, indices, what):
        if len(indices) != 1:
            raise ValueError(f"{what} of buffer {buf.name!r} has {len(indices)} indices; the LLVM "
                             "code generator needs flattened TIR (one index per access)")
        idx = indices[0]
        off = buf.elem_offset
        if off is not None and not is_const(off, 0):
            idx = E.add(idx, off)
        return idx

    def _addr(self, ptr, elem_ty, index_expr):
        return self.b.gep(ptr, [self.expr(index_expr)], inbounds=True, source_etype=elem_ty)

    def _access(self, buf, idx, value_dtype):
        """Classify an access: ("scalar"|"vector"|"splat", index expr) or ("lanes", lane index exprs)."""
        d = dt.parse(value_dtype)
        elem = dt.parse(buf.dtype)
        il = dt.lanes(idx.dtype)
        if il == 1:
            if d.lanes != elem.lanes and elem.lanes == 1:
                return "splat", idx  # every lane reads the same element
            return "scalar", idx
        if elem.lanes > 1:
            raise ValueError(f"buffer {buf.name!r} holds {buf.dtype} elements; a vector index into it "
                             "is not supported (index it with a scalar)")
        if d.lanes != il:
            raise ValueError(f"access to buffer {buf.name!r} with a {il}-lane index yields "
                             f"{value_dtype}; expected {il} lanes")
        if isinstance(idx, E.Ramp):
            if is_const(idx.stride, 1):
                return "vector", idx.base
            return "lanes", [E.add(idx.base, E.mul(idx.stride, i)) for i in range(idx.lanes)]
        if isinstance(idx, E.Broadcast):
            return "splat", idx.value
        return "lanes", None

    def expr_BufferLoad(self, e):
        buf = e.buffer
        ptr = self.buffer_ptr(buf)
        idx = self._index(buf, e.indices, "a load")
        mem_t = memory_type(buf.dtype)
        align = element_align(buf.dtype)
        kind, where = self._access(buf, idx, e.dtype)
        if kind == "scalar":
            v = self.b.load(self._addr(ptr, mem_t, where), typ=mem_t, align=align)
            return self._from_memory(v, buf.dtype)
        if kind == "splat":
            v = self.b.load(self._addr(ptr, mem_t, where), typ=mem_t, align=align)
            return self.splat(self._from_memory(v, buf.dtype), dt.lanes(e.dtype))
        if kind == "vector":
            vt = memory_type(e.dtype)
            v = self.b.load(self._addr(ptr, mem_t, where), typ=vt, align=align)
            return self._from_memory(v, e.dtype)
        # gather, one lane at a time (portable across LLVM versions; LLVM may re-form gathers)
        out = ir.Constant(value_type(e.dtype), ir.Undefined)
        for i, p in enumerate(self._lane_addrs(ptr, mem_t, idx, where)):
            v = self._from_memory(self.b.load(p, typ=mem_t, align=align), dt.element_of(buf.dtype))
            out = self.b.insert_element(out, v, ir.Constant(I32, i))
        return out

    def _lane_addrs(self, ptr, mem_t, idx, lane_exprs):
        if lane_exprs is not None:
            return [self._addr(ptr, mem_t, x) for x in lane_exprs]
        iv = self.expr(idx)
        return [self.b.gep(ptr, [self.b.extract_element(iv, ir.Constant(I32, i))], inbounds=True,
                           source_etype=mem_t) for i in range(lanes_of(iv))]

    def _from_memory(self, v, dtype):
        if dt.parse(dtype).code == "bool":
            return self.b.icmp_unsigned("!=", v, ir.Constant(v.type, None))
        return v

    def _to_memory(self, v, dtype):
        if dt.parse(dtype).code == "bool":
            return self.b.zext(v, memory_type(dtype))
        return v

    def stmt_BufferStore(self, s):
        buf = s.buffer
        ptr = self.buffer_ptr(buf)
        idx = self._index(buf, s.indices, "a store")
        mem_t = memory_type(buf.dtype)
        align = element_align(buf.dtype)
        value = self.expr(s.value)
        kind, where = self._access(buf, idx, s.value.dtype)
        if kind == "splat":  # every lane stores to one element: the last lane wins, as in a scatter
            if not isinstance(idx, E.Broadcast):
                raise ValueError(f"store of the vector {s.value.dtype} to buffer {buf.name!r} at the "
                                 f"scalar index `{idx}`; use a Ramp index for a vector store")
            value = self.b.extract_element(value, ir.Constant(I32, lanes_of(value) - 1))
            kind = "scalar"
        if kind == "scalar":
            self.b.store(self._to_memory(value, buf.dtype), self._addr(ptr, mem_t, where), align=align)
            return
        if kind == "vector":
            self.b.store(self._to_memory(value, s.value.dtype), self._addr(ptr, mem_t, where), align=align)
            return
        for i, p in enumerate(self._lane_addrs(ptr, mem_t, idx, where)):
            lane = self.b.extract_element(value, ir.Constant(I32, i))
            self.b.store(self._to_memory(lane, dt.element_of(buf.dtype)), p, align=align)

    def stmt_Allocate(self, s):
        buf = s.buffer
        mem_t = memory_type(buf.dtype)
        count = E.const(1, "int64")
        for d in buf.shape:
            count = E.mul(count, E.cast(d, "int64"))
        nbytes = dt.itemsize(buf.dtype) if dt.parse(buf.dtype).code != "bool" else dt.lanes(buf.dtype)
        if isinstance(count, E.IntImm) and count.value * nbytes <= STACK_LIMIT_BYTES:
            # In the entry block, so a loop around this Allocate does not grow the stack.
            slot = self.alloca_b.alloca(ir.ArrayType(mem_t, max(1, count.value)))
            slot.align = ALLOC_ALIGN
            slot.type = PTR
            old = self.bind(buf.data, slot)
            self.noalias.add(buf.data)
            self.stmt(s.body)
            self.unbind(buf.data, old)
            return
        size = self.b.mul(self.expr(count), ir.Constant(I64, nbytes))
        memalign = self.mcg.declare("posix_memalign", I32, [PTR, I64, I64])
        slot = self.alloca_b.alloca(PTR)
        slot.type = PTR
        rc = self.b.call(memalign, [slot, ir.Constant(I64, ALLOC_ALIGN), size])
        self.fail_unless(self.b.icmp_signed("==", rc, ir.Constant(I32, 0)), "alloc")
        ptr = self.b.load(slot, typ=PTR)
        old = self.bind(buf.data, ptr)
        self.noalias.add(buf.data)
        self.heap.append(ptr)
        self.stmt(s.body)
        self.heap.pop()
        self.unbind(buf.data, old)
        self.b.call(self.mcg.declare("free", ir.VoidType(), [PTR]), [ptr])
