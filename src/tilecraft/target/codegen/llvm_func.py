"""Code generation for one function body: TIR expressions and statements to llvmlite IR.

The input is flattened TIR: every BufferLoad/BufferStore has one index, and the buffer's
`data` variable names the memory.  Values live in SSA registers (loop variables are phis, not
stack slots) so that LLVM's loop passes see canonical loops without running mem2reg first.

FunctionCodegen is assembled from one mixin per concern; this file holds its state (variable
bindings, the entry and body builders), the dispatch of nodes to `expr_<Node>` / `stmt_<Node>`
methods, control flow (sequences, lets, asserts, branches) and serial loops:

    llvm_exprs.py     constants, casts, arithmetic, comparisons, Ramp / Broadcast
    llvm_memory.py    buffer loads and stores, Allocate
    llvm_calls.py     intrinsic and extern calls
    llvm_packed.py    tvm_call_packed: calls into registered Python functions
    llvm_parallel.py  parallel loops outlined into OpenMP bodies
"""

from __future__ import annotations

import llvmlite.ir as ir

from ...ir import dtype as dt
from ...ir import expr as E
from ...ir.functor import free_vars, post_order_visit
from ...tir import stmt as S
from .llvm_calls import CallsMixin
from .llvm_exprs import ExprMixin
from .llvm_memory import MemoryMixin
from .llvm_packed import PackedCallMixin
from .llvm_parallel import ParallelMixin
from .llvm_types import I32, PTR, value_type
from .nonneg import is_const, is_nonneg


class FunctionCodegen(ExprMixin, MemoryMixin, ParallelMixin, CallsMixin, PackedCallMixin):
    """Emits one LLVM function.  `mcg` is the module-level context (declarations, target)."""

    def __init__(self, mcg, fn: ir.Function, name: str, in_parallel: bool = False,
                 nonneg: set | None = None, noalias: set | None = None):
        self.mcg = mcg
        self.fn = fn
        self.name = name
        self.in_parallel = in_parallel
        self.vars: dict = {}  # tir Var -> llvm value (buffer data vars -> pointers)
        self.nonneg: set = set(nonneg or ())  # vars known to be >= 0 (loop vars from 0, sizes)
        self.noalias: set = set(noalias or ())  # pointer vars that alias no other buffer
        self.flags = mcg.float_flags
        self.call_flags = mcg.call_flags
        self.heap: list = []  # heap allocations live at the current point: freed on an early return
        entry = fn.append_basic_block("entry")
        self.alloca_b = ir.IRBuilder(entry)  # static allocas gather here, ahead of the body
        self.b = ir.IRBuilder(fn.append_basic_block("body"))

    def finish(self, ret_value=0) -> None:
        """Close the function: return `ret_value` and jump from the alloca block to the body."""
        if ret_value is None:
            self.b.ret_void()
        else:
            self.b.ret(ir.Constant(I32, ret_value))
        self.alloca_b.branch(self.fn.blocks[1])

    # ================================================================== helpers
    def bind(self, var, value, nonneg: bool = False):
        """Bind var for the duration of a scope; returns the previous state to restore."""
        old = (self.vars.get(var, _UNBOUND), var in self.nonneg)
        self.vars[var] = value
        if nonneg:
            self.nonneg.add(var)
        else:
            self.nonneg.discard(var)
        return old

    def unbind(self, var, old) -> None:
        value, was_nonneg = old
        if value is _UNBOUND:
            self.vars.pop(var, None)
        else:
            self.vars[var] = value
        if was_nonneg:
            self.nonneg.add(var)
        else:
            self.nonneg.discard(var)

    def fail_unless(self, cond, label: str, code=-1) -> None:
        """Return `code` (-1, an assertion's code, or an i32 value) from the function unless `cond`
        holds; code after this runs in the `<label>.ok` block."""
        ok = self.fn.append_basic_block(f"{label}.ok")
        fail = self.fn.append_basic_block(f"{label}.fail")
        self.b.cbranch(cond, ok, fail)
        self.b.position_at_end(fail)
        for ptr in reversed(self.heap):  # a failed assert or packed call must not leak buffers
            self.b.call(self.mcg.declare("free", ir.VoidType(), [PTR]), [ptr])
        self.b.ret(code if isinstance(code, ir.Value) else ir.Constant(I32, code))
        self.b.position_at_end(ok)

    def is_nonneg(self, e) -> bool:
        """A cheap proof that the integer e is >= 0 (see codegen/nonneg.py)."""
        return is_nonneg(e, self.nonneg)

    # ================================================================== expressions
    def expr(self, e):
        f = _EXPR.get(type(e))
        if f is None:
            f = _lookup(_EXPR, type(e))
            if f is None:
                raise ValueError(f"the LLVM code generator cannot compile the expression `{e}` "
                                 f"({type(e).__name__}); lower it to TIR first")
        return f(self, e)

    # ================================================================== statements
    def stmt(self, s):
        f = _STMT.get(type(s))
        if f is None:
            f = _lookup(_STMT, type(s))
            if f is None:
                raise ValueError(f"the LLVM code generator cannot compile the statement "
                                 f"{type(s).__name__}:\n{s}")
        f(self, s)

    def stmt_SeqStmt(self, s):
        for x in s.seq:
            self.stmt(x)

    def stmt_Evaluate(self, s):
        if not isinstance(s.value, (E.IntImm, E.FloatImm, E.StringImm)):
            self.expr(s.value)

    def stmt_LetStmt(self, s):
        old = self.bind(s.var, self.expr(s.value), self.is_nonneg(s.value))
        self.stmt(s.body)
        self.unbind(s.var, old)

    def stmt_AttrStmt(self, s):
        if s.attr_key == "thread_extent":
            node = s.node
            name = getattr(node, "name", None) or getattr(getattr(node, "var", None), "name", str(node))
            raise ValueError(f"loop variable {name!r} is bound to a GPU thread; build for target "
                             "'cuda' or remove the bind")
        self.stmt(s.body)

    def stmt_AssertStmt(self, s):
        cond = self.expr(s.condition)
        if isinstance(cond, ir.Constant) and cond.constant:
            self.stmt(s.body)
            return
        self.fail_unless(cond, "assert", self.mcg.assert_code(s.message))
        self.stmt(s.body)

    def stmt_IfThenElse(self, s):
        if isinstance(s.condition, E.IntImm):
            branch = s.then_case if s.condition.value else s.else_case
            if branch is not None:
                self.stmt(branch)
            return
        if dt.lanes(s.condition.dtype) > 1:
            raise ValueError(f"IfThenElse needs a scalar condition, got the vector `{s.condition}`")
        cond = self.expr(s.condition)
        then_bb = self.fn.append_basic_block("if.then")
        end_bb = self.fn.append_basic_block("if.end")
        else_bb = self.fn.append_basic_block("if.else") if s.else_case is not None else end_bb
        self.b.cbranch(cond, then_bb, else_bb)
        self.b.position_at_end(then_bb)
        self.stmt(s.then_case)
        self.b.branch(end_bb)
        if s.else_case is not None:
            self.b.position_at_end(else_bb)
            self.stmt(s.else_case)
            self.b.branch(end_bb)
        self.b.position_at_end(end_bb)

    # ------------------------------------------------------------------ loops
    def stmt_For(self, s):
        kind = s.kind
        if kind == S.ForKind.THREAD_BINDING or s.thread_tag:
            tag = f" ({s.thread_tag})" if s.thread_tag and s.thread_tag != s.loop_var.name else ""
            raise ValueError(f"loop variable {s.loop_var.name!r}{tag} is bound to a GPU thread; "
                             "build for target 'cuda' or remove the bind")
        if isinstance(s.extent, E.IntImm) and s.extent.value <= 0:
            return
        if kind == S.ForKind.PARALLEL and not self.in_parallel and not is_const(s.extent, 1):
            self._parallel(s)
            return
        md = []
        ann = dict(s.annotations)
        if kind == S.ForKind.UNROLLED or ann.get("llvm.loop.unroll.full"):
            md.append(("llvm.loop.unroll.full",))
        elif "llvm.loop.unroll.count" in ann:
            md.append(("llvm.loop.unroll.count", int(ann["llvm.loop.unroll.count"])))
        if s.loop_var in self.mcg.taken_modulo_power_of_two:
            md.append(("llvm.loop.vectorize.enable", False))  # see vars_taken_modulo_power_of_two
        elif kind == S.ForKind.VECTORIZED or ann.get("llvm.loop.vectorize.enable"):
            md.append(("llvm.loop.vectorize.enable", True))
        vt = value_type(s.loop_var.dtype)
        lo = self.coerce(self.expr(s.min), s.min.dtype, s.loop_var.dtype)
        if is_const(s.extent, 1):
            old = self.bind(s.loop_var, lo, self.is_nonneg(s.min))
            self.stmt(s.body)
            self.unbind(s.loop_var, old)
            return
        ext = self.coerce(self.expr(s.extent), s.extent.dtype, s.loop_var.dtype)
        end = self.b.add(lo, ext, flags=("nsw",))
        nonempty = isinstance(s.extent, E.IntImm) and s.extent.value > 0
        self.loop(s.loop_var, lo, end, lambda: self.stmt(s.body), md, nonempty, vt,
                  nonneg=self.is_nonneg(s.min))

    def loop(self, var, begin, end, body, md=(), nonempty=False, vt=I32, nonneg=False):
        """for (var = begin; var < end; ++var) body(): bottom-tested, guarded unless nonempty."""
        pre = self.b.block
        body_bb = self.fn.append_basic_block("for.body")
        exit_bb = self.fn.append_basic_block("for.end")
        if nonempty:
            self.b.branch(body_bb)
        else:
            self.b.cbranch(self.b.icmp_signed("<", begin, end), body_bb, exit_bb)
        self.b.position_at_end(body_bb)
        phi = self.b.phi(vt)
        phi.add_incoming(begin, pre)
        old = self.bind(var, phi, nonneg)
        body()
        nxt = self.b.add(phi, ir.Constant(vt, 1), flags=("nsw",))
        br = self.b.cbranch(self.b.icmp_signed("<", nxt, end), body_bb, exit_bb)
        phi.add_incoming(nxt, self.b.block)
        if md:
            br.set_metadata("llvm.loop", self.mcg.loop_id(md))
        self.unbind(var, old)
        self.b.position_at_end(exit_bb)


class _Unbound:
    pass


_UNBOUND = _Unbound()


def _lookup(table, t):
    for k in t.__mro__:
        f = table.get(k)
        if f is not None:
            table[t] = f
            return f
    return None


def _table(prefix: str, module_ns) -> dict:
    out = {}
    for name in dir(FunctionCodegen):
        if name.startswith(prefix):
            cls = getattr(module_ns, name[len(prefix):], None)
            if cls is not None:
                out[cls] = getattr(FunctionCodegen, name)
    return out


_EXPR = _table("expr_", E)
_EXPR[E.CmpOp] = FunctionCodegen.expr_CmpOp
_STMT = _table("stmt_", S)


def vars_taken_modulo_power_of_two(body) -> set:
    """The variables of `body` taken modulo a power of two (a fused loop's inner index), in one walk.

    LLVM 22's loop vectorizer miscompiles a loop over such a variable inside another loop: it treats
    `B[k*4 + i % 4]` as consecutive in `i` (a 16-wide load of B[k*4 : k*4+16]) and drops the
    run-time check that would keep `i % 4 == i`.  Those loops are left to scalar code (tilecraft's
    own VectorizeLoop has already vectorized what the schedule asked for).
    """
    found: set = set()

    def visit(n):
        if (type(n) in (E.FloorMod, E.Mod) and isinstance(n.b, E.IntImm) and n.b.value > 1
                and n.b.value & (n.b.value - 1) == 0):
            found.update(free_vars(n.a))

    post_order_visit(body, visit)
    return found
