"""Buffers: named, strided regions of memory that TIR loads from and stores to.

A buffer declared for a tensorize intrinsic stands for part of a tensor; its `elem_offset` and
symbolic strides get their values when the intrinsic is matched (te/tensorize.py).
"""

from __future__ import annotations

from . import dtype as dt
from .construct import add, const, convert
from .expr import BufferLoad, Call, Node, PrimExpr, Ramp, Var, _frozen


@_frozen
class Buffer(Node):
    """A named region of memory: `data` is its pointer variable; strides are in elements.

    `elem_offset` (elements from `data` to element 0) and symbolic strides are what a buffer
    bound to part of a tensor (a tensorize intrinsic's argument) gets its values through."""

    data: Var
    name: str
    shape: tuple
    dtype: str
    strides: tuple = ()
    scope: str = "global"
    elem_offset: PrimExpr | None = None
    offset_factor: int = 0  # elem_offset is a multiple of this (0: no promise)
    data_alignment: int = -1

    def __getitem__(self, indices):
        if not isinstance(indices, tuple):
            indices = (indices,)
        return BufferLoad(self, tuple(convert(i) for i in indices), self.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def vload(self, begin, dtype=None):
        """The element at index `begin` (a tuple, list or single index), or with a vector `dtype`
        of this buffer's element type ("uint8x4"), that many consecutive elements from it."""
        idx, lanes = self.vector_index(begin, dtype, "vload")
        return BufferLoad(self, idx, dt.with_lanes(self.dtype, lanes) if lanes > 1 else self.dtype)

    def vector_index(self, begin, dtype, what: str) -> tuple:
        """The indices of a (vector) access of `dtype` at `begin`: a Ramp over the last dimension."""
        idx = tuple(convert(i) for i in (begin if isinstance(begin, (tuple, list)) else (begin,)))
        lanes = dt.lanes(dt.canonical(dtype)) if dtype is not None else 1
        if dtype is not None and dt.element_of(dt.canonical(dtype)) != self.dtype:
            raise ValueError(f"buffer {self.name!r} holds {self.dtype}; {what} of {dtype} is not supported "
                             f"(use a vector of {self.dtype}, e.g. {self.dtype}x4, and reinterpret it)")
        if lanes > 1:
            idx = idx[:-1] + (Ramp(idx[-1], const(1, idx[-1].dtype), lanes, dt.with_lanes(idx[-1].dtype, lanes)),)
        return idx, lanes

    def access_ptr(self, access_mask, ptr_type="handle", content_lanes=1, offset=0, extent=None):
        """A pointer to element `offset` of the buffer (after its elem_offset), to hand to an external
        function: `access_mask` is "r", "w", "rw" (or 1 read, 2 write, 3 both)."""
        if isinstance(access_mask, str):
            bad = set(access_mask) - set("rw")
            if bad or not access_mask:
                raise ValueError(f"access_ptr of buffer {self.name!r}: access mask {access_mask!r} must be "
                                 '"r", "w" or "rw"')
            access_mask = ("r" in access_mask) * 1 + ("w" in access_mask) * 2
        base = self.elem_offset if self.elem_offset is not None else const(0)
        if extent is None:
            extent = self.shape[0] * self.strides[0] if self.strides and self.shape else const(1)
            for d in ([] if self.strides else self.shape):
                extent = extent * d
        return Call(ptr_type, "tvm_access_ptr",
                    (Call(self.dtype, "type_annotation", ()), self.data, add(base, convert(offset)),
                     convert(extent), const(int(access_mask))))


def decl_buffer(shape, dtype=None, name="buffer", data=None, strides=None, elem_offset=None, scope="",
                data_alignment=-1, offset_factor=0, buffer_type="", axis_separators=None, span=None) -> Buffer:
    """Declare a buffer (classic `tvm.tir.decl_buffer`).  Strides may be symbolic (`te.var("s1")`):
    binding the buffer to a tensor region gives them values.  With `offset_factor` and no
    `elem_offset`, the offset is a fresh variable `<name>_elem_offset`, bound the same way."""
    shape = tuple(convert(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if buffer_type not in ("", "default", "auto_broadcast"):
        raise ValueError(f"decl_buffer {name!r}: buffer_type must be '' or 'auto_broadcast', got {buffer_type!r}")
    if axis_separators:
        raise ValueError(f"decl_buffer {name!r}: axis_separators are not supported (buffers are flat)")
    index_dtype = shape[0].dtype if shape else "int32"
    if elem_offset is None:
        elem_offset = Var(f"{name}_elem_offset", index_dtype) if offset_factor else const(0, index_dtype)
    if data is None:
        data = Var(name, "handle")
    return Buffer(data, name, shape, dt.canonical(dtype or "float32"),
                  tuple(convert(s) for s in strides) if strides else (), scope or "global",
                  convert(elem_offset), int(offset_factor),
                  int(data_alignment))
