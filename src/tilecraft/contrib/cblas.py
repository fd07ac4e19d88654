"""External BLAS calls as te stages (classic `tvm.contrib.cblas`).

    C = cblas.matmul(A, B)                 # a te.extern stage calling "tvm.contrib.cblas.matmul"
    D = te.compute(C.shape, lambda i, j: C[i, j] + bias)

The packed functions are registered by the runtime (runtime/builtin_funcs.py): numpy's BLAS on the
kernel's buffers, written in place.
"""

from __future__ import annotations

from ..ir.expr import IntImm, max_
from ..te.extern import extern
from ..tir.packed import call_packed


def matmul(lhs, rhs, transa: bool = False, transb: bool = False, **kwargs):
    """C = op(lhs) @ op(rhs), where op transposes when transa / transb is set."""
    n = lhs.shape[1] if transa else lhs.shape[0]
    m = rhs.shape[0] if transb else rhs.shape[1]
    return extern((n, m), [lhs, rhs],
                  lambda ins, outs: call_packed("tvm.contrib.cblas.matmul", ins[0], ins[1], outs[0], transa,
                                                transb),
                  name=kwargs.pop("name", "C"), **kwargs)


def batch_matmul(lhs, rhs, transa: bool = False, transb: bool = False, iterative: bool = False, **kwargs):
    """C[b] = op(lhs[b]) @ op(rhs[b]) for 3-D inputs (a batch of 1 is broadcast)."""
    b0, b1 = lhs.shape[0], rhs.shape[0]
    batch = (b0 if b0.value >= b1.value else b1) if isinstance(b0, IntImm) and isinstance(b1, IntImm) \
        else max_(b0, b1)
    n = lhs.shape[2] if transa else lhs.shape[1]
    m = rhs.shape[1] if transb else rhs.shape[2]
    name = "tvm.contrib.cblas.batch_matmul" + ("_iterative" if iterative else "")
    return extern((batch, n, m), [lhs, rhs],
                  lambda ins, outs: call_packed(name, ins[0], ins[1], outs[0], transa, transb),
                  name=kwargs.pop("name", "C"), **kwargs)
