"""Host/device split for the CUDA code generator.

A flattened PrimFunc is a host program around GPU kernels.  Every statement subtree whose root
is a loop bound to `blockIdx.*`/`threadIdx.*` becomes one kernel (classic TVM's
SplitHostDevice); what stays on the host is a small *plan* that the runtime interprets:

    {"op": "launch", "kernel": name}                      launch one kernel
    {"op": "alloc", "buffer", "dtype", "size", "body"}    a device temporary between kernels
    {"op": "for", "var", "min", "extent", "body"}         a host loop around launches
    {"op": "let", "var", "value", "body"}
    {"op": "if", "cond", "then", "else"}
    {"op": "assert", "cond", "message", "body"}

Expressions in the plan (sizes, bounds, launch dimensions) are Python expression strings over
the function's shape variables and scalar parameters, using only integer arithmetic and the
helpers `min`, `max`, `tdiv`, `tmod`; the runtime evaluates them with a restricted evaluator,
so the plan stays plain JSON and survives export.

Semantics of a kernel (TVM's convention): a loop bound to a thread tag is not a loop on the
GPU: its variable *is* that builtin index, and the launch dimension of a tag is the largest
extent bound to it in the kernel (smaller ones get a guard).  Statements that store to memory
other threads can see while not all of the block's thread tags are bound are executed by the
threads whose missing indices are 0.  Where a kernel needs barriers is worked out in
cuda_sync.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...ir import dtype as dt
from ...ir import expr as E
from ...ir.functor import post_order_visit, structural_equal
from ...tir import stmt as S

BLOCK_TAGS = ("blockIdx.x", "blockIdx.y", "blockIdx.z")
THREAD_TAGS = ("threadIdx.x", "threadIdx.y", "threadIdx.z")
LAUNCH_TAGS = BLOCK_TAGS + THREAD_TAGS


def is_launch_binding(s) -> str:
    """The launch tag a statement binds ("" if none): a thread_binding For or a thread_extent attr."""
    if isinstance(s, S.For) and s.kind == S.ForKind.THREAD_BINDING and s.thread_tag in LAUNCH_TAGS:
        return s.thread_tag
    if isinstance(s, S.AttrStmt) and s.attr_key == "thread_extent":
        tag = getattr(s.node, "thread_tag", "")
        if tag in LAUNCH_TAGS:
            return tag
    return ""


def has_binding(s) -> bool:
    found = False

    def f(n):
        nonlocal found
        if not found and is_launch_binding(n):
            found = True

    post_order_visit(s, f)
    return found


def binding_var_extent(s):
    """(var, min, extent) of a launch binding statement."""
    if isinstance(s, S.For):
        return s.loop_var, s.min, s.extent
    iv = s.node
    return iv.var, E.const(0, iv.var.dtype), s.value


# ---------------------------------------------------------------------------- names

def c_ident(name: str) -> str:
    out = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "v"
    if out[0].isdigit():
        out = "v_" + out
    return out


_RESERVED = frozenset((
    "int", "float", "double", "char", "short", "long", "signed", "unsigned", "bool", "void", "half",
    "for", "if", "else", "while", "do", "return", "const", "static", "auto", "break", "continue",
    "switch", "case", "default", "struct", "union", "enum", "typedef", "sizeof", "new", "delete",
    "template", "class", "this", "true", "false", "min", "max", "threadIdx", "blockIdx", "blockDim",
    "gridDim", "warpSize", "register", "volatile", "extern", "inline", "goto", "namespace", "operator",
    "private", "public", "protected", "virtual", "friend", "using", "asm", "try", "catch", "throw",
    "tdiv", "tmod",
))


class NameTable:
    """Unique C identifiers for Vars; a name is never handed out twice in one table."""

    def __init__(self, parent: NameTable | None = None):
        self.map: dict = dict(parent.map) if parent else {}
        self.used: set = set(parent.used) if parent else set()

    def fresh(self, base: str) -> str:
        base = c_ident(base)
        if base in _RESERVED or base.startswith("tc_") or base.startswith("__"):
            base = "v_" + base.lstrip("_")
        name, k = base, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def bind(self, var, base: str | None = None) -> str:
        name = self.fresh(base or var.name)
        self.map[var] = name
        return name

    def get(self, var) -> str | None:
        return self.map.get(var)


# ---------------------------------------------------------------------------- host expressions

_PY_BIN = {E.Add: "+", E.Sub: "-", E.Mul: "*", E.FloorDiv: "//", E.FloorMod: "%", E.LT: "<", E.LE: "<=",
           E.GT: ">", E.GE: ">=", E.EQ: "==", E.NE: "!=", E.And: "and", E.Or: "or"}


class HostExprError(ValueError):
    pass


def py_expr(e, names: NameTable) -> str:
    """A TIR integer expression as a Python expression string (see the module docstring)."""
    t = type(e)
    if t is E.IntImm:
        return str(int(e.value)) if e.dtype != "bool" else ("True" if e.value else "False")
    if isinstance(e, E.Var):
        n = names.get(e)
        if n is None:
            raise HostExprError(f"`{e.name}` is not known on the host")
        return n
    if t in _PY_BIN:
        return f"({py_expr(e.a, names)} {_PY_BIN[t]} {py_expr(e.b, names)})"
    if t is E.Div and not dt.is_float(e.dtype):
        return f"tdiv({py_expr(e.a, names)}, {py_expr(e.b, names)})"
    if t is E.Mod and not dt.is_float(e.dtype):
        return f"tmod({py_expr(e.a, names)}, {py_expr(e.b, names)})"
    if t in (E.Min, E.Max):
        return f"{'min' if t is E.Min else 'max'}({py_expr(e.a, names)}, {py_expr(e.b, names)})"
    if t is E.Not:
        return f"(not {py_expr(e.a, names)})"
    if t is E.Select:
        return (f"({py_expr(e.true_value, names)} if {py_expr(e.condition, names)} "
                f"else {py_expr(e.false_value, names)})")
    if t is E.Call and e.op in ("if_then_else", "tir.if_then_else") and len(e.args) == 3:
        c, a, b = (py_expr(x, names) for x in e.args)
        return f"({a} if {c} else {b})"
    if t is E.Call and e.op in ("likely", "tir.likely"):
        return py_expr(e.args[0], names)
    if t is E.Cast and not dt.is_float(e.dtype) and not dt.is_float(e.value.dtype):
        return py_expr(e.value, names)
    raise HostExprError(f"`{e}` cannot be evaluated on the host (only integer arithmetic can)")


# ---------------------------------------------------------------------------- split

@dataclass
class Kernel:
    name: str
    body: S.Stmt
    params: list  # (var, "buffer" | "scalar", dtype, c name); buffers first
    launch: dict  # tag -> PrimExpr extent (host-evaluable)
    buffers: dict = field(default_factory=dict)  # data var -> Buffer, for every buffer it touches


def _stmt_label(s) -> str:
    stores = []
    post_order_visit(s, lambda n: stores.append(n.buffer.name) if isinstance(n, S.BufferStore) else None)
    if stores:
        return "the computation of " + ", ".join(dict.fromkeys(stores))
    return "a statement"


class HostDeviceSplitter:
    """Split one PrimFunc; `plan` is the host plan and `kernels` the device functions."""

    def __init__(self, func: S.PrimFunc, name: str, shape_vars: list):
        self.func = func
        self.fname = name
        self.names = NameTable()
        self.buffers: dict = {}  # data var -> Buffer known on the host
        self.host_vars: list = []  # in the order kernel parameters take them
        for p in func.params:
            if isinstance(p, E.Buffer):
                self.buffers[p.data] = p
                self.names.bind(p.data, p.name)
                self.host_vars.append(p.data)
        for p in list(func.params) + list(shape_vars):
            if isinstance(p, E.Var) and p not in self.names.map:
                self.names.bind(p)
                self.host_vars.append(p)
        self.kernels: list = []
        if not has_binding(func.body):
            raise ValueError(
                f"no loop of {name} is bound to a GPU thread; bind the outer loops with "
                "s[T].bind(axis, te.thread_axis('blockIdx.x')) and the inner ones with "
                "te.thread_axis('threadIdx.x') before building for 'cuda'")
        self.plan = self.host(func.body)

    # -------------------------------------------------------------- host statements
    def host(self, s) -> list:
        if isinstance(s, S.SeqStmt):
            out = []
            for x in s.seq:
                out.extend(self.host(x))
            return out
        if is_launch_binding(s):
            return [self.make_kernel(s)]
        if isinstance(s, S.Evaluate) and isinstance(s.value, (E.IntImm, E.FloatImm, E.StringImm)):
            return []
        if not has_binding(s):
            if isinstance(s, S.AssertStmt):
                return self.host(S.AssertStmt(s.condition, s.message, S.Evaluate(E.const(0))))
            if isinstance(s, S.Evaluate):
                return []
            raise ValueError(
                f"{_stmt_label(s)} in {self.fname} is not inside any loop bound to a GPU thread, so it "
                "would have to run on the host; bind its outer loops with s[T].bind(axis, "
                "te.thread_axis('blockIdx.x')) / te.thread_axis('threadIdx.x'), or compute_at it "
                "inside a bound loop")
        if isinstance(s, S.For):
            return [self._scoped(s.loop_var, lambda v: {
                "op": "for", "var": v, "min": self.hexpr(s.min, s), "extent": self.hexpr(s.extent, s),
                "body": self.host(s.body)})]
        if isinstance(s, S.LetStmt):
            value = self.hexpr(s.value, s)
            return [self._scoped(s.var, lambda v: {"op": "let", "var": v, "value": value,
                                                   "body": self.host(s.body)})]
        if isinstance(s, S.IfThenElse):
            return [{"op": "if", "cond": self.hexpr(s.condition, s), "then": self.host(s.then_case),
                     "else": self.host(s.else_case) if s.else_case is not None else []}]
        if isinstance(s, S.AssertStmt):
            return [{"op": "assert", "cond": self.hexpr(s.condition, s), "message": s.message},
                    *self.host(s.body)]
        if isinstance(s, S.AttrStmt):
            return self.host(s.body)
        if isinstance(s, S.Allocate):
            buf = s.buffer
            if buf.scope not in ("global", ""):
                raise ValueError(
                    f"buffer {buf.name!r} (scope {buf.scope!r}) of {self.fname} is allocated outside every "
                    f"GPU kernel; a {buf.scope!r} cache must be computed inside the thread-bound loops: "
                    f"s[{buf.name}].compute_at(s[consumer], <a loop bound to blockIdx or threadIdx>)")
            size = E.const(1, "int64")
            for d in buf.shape:
                size = E.mul(size, E.cast(d, "int64"))
            size_s = self.hexpr(size, s)
            self.buffers[buf.data] = buf
            name = self.names.bind(buf.data, buf.name)
            self.host_vars.append(buf.data)
            return [{"op": "alloc", "buffer": name, "dtype": buf.dtype, "size": size_s,
                     "body": self.host(s.body)}]
        raise ValueError(f"the CUDA code generator cannot place a {type(s).__name__} on the host in "
                         f"{self.fname}:\n{s}")

    def _scoped(self, var, build):
        name = self.names.bind(var)
        self.host_vars.append(var)
        return build(name)

    def hexpr(self, e, where) -> str:
        try:
            return py_expr(e, self.names)
        except HostExprError as err:
            raise ValueError(f"{self.fname}: {err}; it is needed on the host to launch kernels, in:\n"
                             f"{where}") from None

    # -------------------------------------------------------------- kernels
    def make_kernel(self, s) -> dict:
        name = f"{self.fname}_kernel{len(self.kernels)}"
        used, defined, bufs = _kernel_vars(s)
        launch = _launch_extents(s, name, defined)
        params = []
        for v in self.host_vars:
            if v in used and v not in defined:
                if v in self.buffers:
                    b = self.buffers[v]
                    params.append((v, "buffer", b.dtype, self.names.get(v)))
                else:
                    params.append((v, "scalar", v.dtype, self.names.get(v)))
        known = set(self.host_vars)
        missing = [v for v in used if v not in defined and v not in known]
        if missing:
            raise ValueError(f"{name}: variable(s) {', '.join(v.name for v in missing)} used on the GPU are "
                             f"not parameters of {self.fname} nor defined in the kernel")
        for tag, ext in launch.items():
            try:
                py_expr(ext, self.names)
            except HostExprError:
                raise ValueError(
                    f"{name}: the extent `{ext}` of the loop bound to {tag} depends on a value computed "
                    "inside the kernel; thread-bound loops need extents known at launch (constants or "
                    "shape variables)") from None
        params.sort(key=lambda p: p[1] != "buffer")
        self.kernels.append(Kernel(name, s, params, launch, bufs))
        return {"op": "launch", "kernel": name}


def _kernel_vars(s):
    """(vars used, vars defined inside, {data var: Buffer}) of a kernel statement."""
    used: dict = {}
    defined: set = set()
    bufs: dict = {}

    def f(n):
        if isinstance(n, E.Var):
            used.setdefault(n, None)
        elif isinstance(n, (E.BufferLoad, S.BufferStore)):
            used.setdefault(n.buffer.data, None)
            bufs.setdefault(n.buffer.data, n.buffer)
        elif isinstance(n, S.For):
            defined.add(n.loop_var)
        elif isinstance(n, (S.LetStmt, E.Let)):
            defined.add(n.var)
        elif isinstance(n, S.Allocate):
            defined.add(n.buffer.data)
            bufs[n.buffer.data] = n.buffer
        elif isinstance(n, S.AttrStmt) and n.attr_key == "thread_extent":
            defined.add(n.node.var)

    post_order_visit(s, f)
    return list(used), defined, bufs


def _launch_extents(s, kname: str, defined: set) -> dict:
    """tag -> extent: the largest constant extent bound to the tag, or its one symbolic extent."""
    per_tag: dict = {}

    def f(n):
        tag = is_launch_binding(n)
        if tag:
            per_tag.setdefault(tag, []).append(binding_var_extent(n)[2])

    post_order_visit(s, f)
    out = {}
    for tag in LAUNCH_TAGS:
        exts = per_tag.get(tag)
        if not exts:
            continue
        if all(isinstance(x, E.IntImm) for x in exts):
            out[tag] = E.const(max(x.value for x in exts), "int32")
            continue
        first = exts[0]
        if not all(structural_equal(first, x) for x in exts):
            raise ValueError(f"{kname}: loops bound to {tag} have different extents "
                             f"({', '.join(str(x) for x in exts)}) and not all are constants; the launch "
                             "dimension must be one value: use the same split factor for every stage "
                             "bound to this tag")
        out[tag] = first
    return out
