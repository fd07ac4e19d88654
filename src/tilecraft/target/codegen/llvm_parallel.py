"""Parallel loops in the LLVM code generator: a `for` marked parallel is outlined into an
OpenMP body (a kernel over an iteration range, and a wrapper that takes this thread's static
chunk) and run on a team through GOMP_parallel.  A mixin of FunctionCodegen (llvm_func.py),
called from its stmt_For.
"""

from __future__ import annotations

import llvmlite.ir as ir

from ...ir.functor import Visitor
from .llvm_types import I32, PTR, value_type


class ParallelMixin:
    """The OpenMP outlining of FunctionCodegen."""

    def _parallel(self, s):
        """Outline the loop into an OpenMP body and run it on a team via GOMP_parallel.

        `kernel(captured..., begin, end)` runs iterations [begin, end) with the buffers as
        noalias parameters (so the loop still vectorizes without runtime alias checks);
        `body(closure)` unpacks the captured values, takes this thread's static chunk and
        calls the kernel; the caller packs the closure on its stack.  A failed check in any
        thread stores its code in the closure, and the caller returns it.
        """
        mcg = self.mcg
        vt = value_type(s.loop_var.dtype)
        lo = self.coerce(self.expr(s.min), s.min.dtype, s.loop_var.dtype)
        ext = self.coerce(self.expr(s.extent), s.extent.dtype, s.loop_var.dtype)
        captured = [v for v in _used_vars(s.body) if v in self.vars and v is not s.loop_var]
        values = [self.vars[v] for v in captured]
        base = mcg.unique_name(f"{self.name}.parallel")

        kfn = ir.Function(mcg.module, ir.FunctionType(I32, [v.type for v in values] + [vt, vt]),
                          base + ".kernel")
        kfn.linkage = "internal"
        kfn.attributes = mcg.function_attributes()
        kfn.attributes.add("alwaysinline")
        kernel = type(self)(mcg, kfn, self.name, in_parallel=True, nonneg=self.nonneg,
                                 noalias=self.noalias)
        for var, arg in zip(captured, kfn.args):
            kernel.vars[var] = arg
            if isinstance(arg.type, ir.PointerType) and var in self.noalias:
                arg.add_attribute("noalias")
        begin, end = kfn.args[-2], kfn.args[-1]
        kernel.loop(s.loop_var, begin, end, lambda: kernel.stmt(s.body), vt=vt,
                    nonneg=self.is_nonneg(s.min))
        kernel.finish(0)

        fields = [v.type for v in values] + [vt, vt, I32]
        closure_t = ir.LiteralStructType(fields)
        wfn = ir.Function(mcg.module, ir.FunctionType(ir.VoidType(), [PTR]), base)
        wfn.linkage = "internal"
        wfn.attributes = mcg.function_attributes()
        w = type(self)(mcg, wfn, self.name, in_parallel=True)
        cl = wfn.args[0]

        def field(b, base, i):
            return b.gep(base, [ir.Constant(I32, 0), ir.Constant(I32, i)], inbounds=True,
                         source_etype=closure_t)

        wb = w.b
        loaded = [wb.load(field(wb, cl, i), typ=t) for i, t in enumerate(fields[:-1])]
        w_lo, w_ext = loaded[-2], loaded[-1]
        tid = wb.call(mcg.declare("omp_get_thread_num", I32, []), [])
        nth = wb.call(mcg.declare("omp_get_num_threads", I32, []), [])
        if vt != I32:
            tid, nth = wb.sext(tid, vt), wb.sext(nth, vt)
        one = ir.Constant(vt, 1)
        chunk = wb.sdiv(wb.sub(wb.add(w_ext, nth), one), nth)
        start = wb.mul(tid, chunk)
        stop = wb.add(start, chunk)
        start = wb.select(wb.icmp_signed("<", start, w_ext), start, w_ext)
        stop = wb.select(wb.icmp_signed("<", stop, w_ext), stop, w_ext)
        rc = wb.call(kfn, loaded[:-2] + [wb.add(w_lo, start), wb.add(w_lo, stop)])
        fail = wfn.append_basic_block("fail")
        done = wfn.append_basic_block("done")
        wb.cbranch(wb.icmp_signed("!=", rc, ir.Constant(I32, 0)), fail, done)
        wb.position_at_end(fail)
        wb.store(rc, field(wb, cl, len(fields) - 1))  # the code of one failing thread
        wb.branch(done)
        wb.position_at_end(done)
        w.finish(None)

        slot = self.alloca_b.alloca(closure_t)
        slot.type = PTR
        for i, v in enumerate(values + [lo, ext, ir.Constant(I32, 0)]):
            self.b.store(v, field(self.b, slot, i))
        gomp = mcg.declare("GOMP_parallel", ir.VoidType(), [PTR, PTR, I32, I32])
        self.b.call(gomp, [wfn, slot, ir.Constant(I32, mcg.num_threads), ir.Constant(I32, 0)])
        mcg.uses_openmp = True
        err = self.b.load(field(self.b, slot, len(fields) - 1), typ=I32)
        self.fail_unless(self.b.icmp_signed("==", err, ir.Constant(I32, 0)), "parallel", err)


class _UsedVars(Visitor):
    """Variables a statement reads, buffer data pointers included, in first-seen order."""

    def __init__(self):
        self.seen: dict = {}

    def visit_Var(self, v):
        self.seen.setdefault(v, None)

    def _buffer(self, buf):
        self.seen.setdefault(buf.data, None)
        if buf.elem_offset is not None:
            self.visit(buf.elem_offset)

    def visit_BufferLoad(self, e):
        self._buffer(e.buffer)
        self.generic_visit(e)

    def visit_BufferStore(self, s):
        self._buffer(s.buffer)
        self.generic_visit(s)

    def visit_Allocate(self, s):
        for d in s.buffer.shape:
            self.visit(d)
        self.generic_visit(s)


def _used_vars(node) -> list:
    c = _UsedVars()
    c.visit(node)
    return list(c.seen)
