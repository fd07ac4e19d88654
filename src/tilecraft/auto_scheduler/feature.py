"""Features of a candidate program for the cost model: one fixed-length vector per innermost store.

The search ranks thousands of candidates, so features come from the program as `lower` returns
it (loops still carry their kinds -- serial, parallel, vectorized, unrolled -- and pragmas, and
buffers are still multi-dimensional), walked once in plain Python:

    state --compute_dag.apply_steps_from_state--> (sch, args) --lower--> PrimFunc
          --per_store_features--> float32 array [n_stores, n_features]

Each BufferStore gets a row (the same idea as classic Ansor's per-store features; the program's
score is the sum of the per-store scores).  Groups, in order (see `feature_names()`):

1. arithmetic (16): float mad/add-sub/mul/div-mod/cmp/math/other-call, int mad/add-sub/mul/div-mod/
   cmp/math/other-call, bool ops, selects -- counted in the store (value and indices) and scaled
   by the product of the enclosing loop extents.
2. annotations (33): for vectorize, unroll, parallel: number of such loops, product and length
   (innermost one) of their extents, and the position of the innermost one (one-hot of 8:
   none, inner/middle/outer spatial, inner/middle/outer reduce, mixed).
3. GPU (8): is_gpu, blockIdx.x/y/z, threadIdx.x/y/z, vthread extents (0 on CPU).
4. buffers (`max_n_bufs` slots of 19, the buffers with most lines/bytes first, zero padded):
   read/write/read-write one-hot, bytes, unique bytes, cache lines, unique lines, reuse type
   one-hot (loop reuse, serial reuse, none), reuse distance in iterations and in bytes, reuse
   count, bytes/unique bytes/lines/unique lines per reuse, stride of the innermost loop that
   moves the address (elements), whether that loop is the innermost one with stride 1.
5. arithmetic intensity curve (10): log flops / log bytes touched, sampled over loop levels.
6. allocation (4): size of the stored buffer when it is allocated in the function, size times
   the loops around the allocation, those outer loops' product, the loops inside it.
7. loop nest (3): product of all enclosing extents, number of loops, auto_unroll_max_step.

Counts, products, bytes and distances are scaled as log2(1 + x); flags stay 0/1.
With the default five buffer slots a vector has 169 entries (57 + 5 * 19 + 17).
Index analysis is affine with floordiv/floormod of a loop variable by a constant understood;
spans are bounding-box estimates, good enough to rank schedules, not exact footprints.
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import dtype as _dt
from ..ir.expr import (
    Add,
    And,
    Broadcast,
    BufferLoad,
    Call,
    Cast,
    CmpOp,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Let,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    Or,
    Ramp,
    Select,
    StringImm,
    Sub,
    Var,
)
from ..tir.stmt import (
    Allocate,
    AssertStmt,
    AttrStmt,
    BufferStore,
    Evaluate,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    PrimFunc,
    SeqStmt,
)

DEFAULT_MAX_N_BUFS = 5
DEFAULT_CACHE_LINE_BYTES = 64
ARITH_INTENSITY_CURVE_SAMPLE_N = 10

_MATH_CALLS = frozenset({
    "exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan",
    "sinh", "cosh", "tanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh", "erf",
    "sigmoid", "pow", "power", "fabs", "abs", "floor", "ceil", "round", "trunc", "nearbyint",
    "fmod", "fma", "copysign", "hypot", "isnan", "isinf", "isfinite", "clz", "popcount",
})
_SELECT_CALLS = frozenset({"if_then_else"})
_TRANSPARENT_CALLS = frozenset({"likely"})

_OP_NAMES = ("float_mad", "float_addsub", "float_mul", "float_divmod", "float_cmp", "float_math_func",
             "float_other_func", "int_mad", "int_addsub", "int_mul", "int_divmod", "int_cmp",
             "int_math_func", "int_other_func", "bool_op", "select_op")
(F_MAD, F_ADD, F_MUL, F_DIV, F_CMP, F_MATH, F_OTHER, I_MAD, I_ADD, I_MUL, I_DIV, I_CMP, I_MATH, I_OTHER,
 BOOL_OP, SELECT_OP) = range(16)
_N_OPS = len(_OP_NAMES)

_POS_NAMES = ("none", "inner_spatial", "middle_spatial", "outer_spatial", "inner_reduce", "middle_reduce",
              "outer_reduce", "mixed")
POS_NONE, POS_MIXED = 0, 7
_ANN_KINDS = (("vec", ForKind.VECTORIZED), ("unroll", ForKind.UNROLLED), ("parallel", ForKind.PARALLEL))
_GPU_NAMES = ("is_gpu", "blockIdx_x_len", "blockIdx_y_len", "blockIdx_z_len", "threadIdx_x_len",
              "threadIdx_y_len", "threadIdx_z_len", "vthread_len")
_GPU_TAGS = {"blockIdx.x": 1, "blockIdx.y": 2, "blockIdx.z": 3, "threadIdx.x": 4, "threadIdx.y": 5,
             "threadIdx.z": 6, "vthread": 7}

_BUF_NAMES = ("acc_type.read", "acc_type.write", "acc_type.read_write", "bytes", "unique_bytes", "lines",
              "unique_lines", "reuse_type.loop_multiple_read", "reuse_type.serial_multiple_read_write",
              "reuse_type.no_reuse", "reuse_dis_iter", "reuse_dis_bytes", "reuse_ct", "bytes_d_reuse_ct",
              "unique_bytes_d_reuse_ct", "lines_d_reuse_ct", "unique_lines_d_reuse_ct", "stride",
              "is_contiguous")
N_BUF_FEATURES = len(_BUF_NAMES)
_TAIL_NAMES = (tuple(f"arith_intensity_curve_{i}" for i in range(ARITH_INTENSITY_CURVE_SAMPLE_N))
               + ("alloc_size", "alloc_prod", "alloc_outer_prod", "alloc_inner_prod",
                  "outer_prod", "num_loops", "auto_unroll_max_step"))


def _head_names() -> tuple:
    names = list(_OP_NAMES)
    for prefix, _ in _ANN_KINDS:
        names += [f"{prefix}_num", f"{prefix}_prod", f"{prefix}_len"]
        names += [f"{prefix}_type.{p}" for p in _POS_NAMES]
    names += _GPU_NAMES
    return tuple(names)


_HEAD_NAMES = _head_names()
_N_HEAD = len(_HEAD_NAMES)  # 57


def feature_names(max_n_bufs: int | None = None) -> list[str]:
    """The name of every entry of a per-store feature vector, in order."""
    n = DEFAULT_MAX_N_BUFS if max_n_bufs is None else max_n_bufs
    names = list(_HEAD_NAMES)
    for b in range(n):
        names += [f"B{b}.{x}" for x in _BUF_NAMES]
    names += _TAIL_NAMES
    return names


def feature_length(max_n_bufs: int | None = None) -> int:
    n = DEFAULT_MAX_N_BUFS if max_n_bufs is None else max_n_bufs
    return _N_HEAD + N_BUF_FEATURES * n + len(_TAIL_NAMES)


# ------------------------------------------------------------------------------------ the walk

class _Loop:
    __slots__ = ("var", "ext", "kind", "tag", "unroll_step")

    def __init__(self, var, ext, kind, tag="", unroll_step=0):
        self.var, self.ext, self.kind, self.tag, self.unroll_step = var, ext, kind, tag, unroll_step


class _Store:
    __slots__ = ("loops", "ops", "accesses", "alloc")

    def __init__(self, loops, ops, accesses, alloc):
        self.loops = loops          # tuple of _Loop, outermost first
        self.ops = ops              # list of _N_OPS per-iteration counts
        self.accesses = accesses    # [(buffer, indices, is_write)]
        self.alloc = alloc          # (elements * bytes, outer loop product, outer loop count) or None


def _const_int(e, default=1):
    if type(e) is IntImm:
        return e.value
    if isinstance(e, int):
        return e
    return default


_FLOAT_DTYPES: dict = {}


def _is_float(dtype: str) -> bool:
    f = _FLOAT_DTYPES.get(dtype)
    if f is None:
        f = _FLOAT_DTYPES[dtype] = dtype.startswith("float") or dtype.startswith("bfloat")
    return f


class _Walker:
    """One pass over the statements, collecting a _Store per BufferStore."""

    def __init__(self):
        self.stores: list[_Store] = []
        self.loops: list[_Loop] = []
        self.allocs: dict = {}  # buffer data var -> (bytes, outer loop product)
        self.prod = 1
        self.unroll_step = 0
        self.gpu = False

    def stmt(self, s):
        t = type(s)
        if t is For:
            ext = _const_int(s.extent)
            step = self.unroll_step
            for k, v in s.annotations:
                if k == "pragma_auto_unroll_max_step":
                    self.unroll_step = max(self.unroll_step, _const_int(v, 0))
            kind = s.kind
            if kind == ForKind.THREAD_BINDING:
                self.gpu = True
            self.loops.append(_Loop(s.loop_var, ext, kind, s.thread_tag, self.unroll_step))
            prod = self.prod
            self.prod = prod * ext
            self.stmt(s.body)
            self.prod = prod
            self.loops.pop()
            self.unroll_step = step
        elif t is SeqStmt:
            for x in s.seq:
                self.stmt(x)
        elif t is BufferStore:
            self.store(s)
        elif t is Allocate:
            b = s.buffer
            n = 1
            for d in b.shape:
                n *= _const_int(d)
            self.allocs[b.data] = (n * _dt.itemsize(b.dtype), self.prod, len(self.loops))
            self.stmt(s.body)
        elif t is AttrStmt:
            if s.attr_key == "thread_extent" or s.attr_key == "virtual_thread":
                self.gpu = True
                iv = s.node
                var = getattr(iv, "var", iv)
                tag = getattr(iv, "thread_tag", "") or ("vthread" if s.attr_key == "virtual_thread" else "")
                ext = _const_int(s.value)
                self.loops.append(_Loop(var, ext, ForKind.THREAD_BINDING, tag, self.unroll_step))
                prod = self.prod
                self.prod = prod * ext
                self.stmt(s.body)
                self.prod = prod
                self.loops.pop()
            elif s.attr_key == "pragma_auto_unroll_max_step":
                step = self.unroll_step
                self.unroll_step = max(step, _const_int(s.value, 0))
                self.stmt(s.body)
                self.unroll_step = step
            else:
                self.stmt(s.body)
        elif t is IfThenElse:
            self.stmt(s.then_case)
            if s.else_case is not None:
                self.stmt(s.else_case)
        elif t is LetStmt or t is AssertStmt:
            self.stmt(s.body)
        elif t is Evaluate:
            pass
        else:  # an unknown statement kind: walk what looks like a body
            body = getattr(s, "body", None)
            if body is not None:
                self.stmt(body)

    def store(self, s: BufferStore):
        ops = [0] * _N_OPS
        accesses = [(s.buffer, s.indices, True)]
        ex = self._expr
        for i in s.indices:
            ex(i, ops, accesses)
        ex(s.value, ops, accesses)
        self.stores.append(_Store(tuple(self.loops), ops, accesses, self.allocs.get(s.buffer.data)))

    def _expr(self, e, ops, accesses):
        """Count operations under e and collect its buffer loads (iterative, explicit stack)."""
        stack = [e]
        pop, push = stack.pop, stack.append
        while stack:
            e = pop()
            t = type(e)
            if t is Var or t is IntImm or t is FloatImm or t is StringImm:
                continue
            if t is BufferLoad:
                accesses.append((e.buffer, e.indices, False))
                for i in e.indices:
                    push(i)
                continue
            if t is Add or t is Sub:
                f = _is_float(e.dtype)
                ops[F_ADD if f else I_ADD] += 1
                if t is Add and (type(e.a) is Mul or type(e.b) is Mul):
                    ops[F_MAD if f else I_MAD] += 1
                push(e.a)
                push(e.b)
            elif t is Mul:
                ops[F_MUL if _is_float(e.dtype) else I_MUL] += 1
                push(e.a)
                push(e.b)
            elif t is FloorDiv or t is FloorMod or t is Div or t is Mod:
                ops[F_DIV if _is_float(e.dtype) else I_DIV] += 1
                push(e.a)
                push(e.b)
            elif t is Min or t is Max:
                ops[F_CMP if _is_float(e.dtype) else I_CMP] += 1
                push(e.a)
                push(e.b)
            elif isinstance(e, CmpOp):
                ops[F_CMP if _is_float(e.a.dtype) else I_CMP] += 1
                push(e.a)
                push(e.b)
            elif t is And or t is Or:
                ops[BOOL_OP] += 1
                push(e.a)
                push(e.b)
            elif t is Not:
                ops[BOOL_OP] += 1
                push(e.a)
            elif t is Select:
                ops[SELECT_OP] += 1
                push(e.condition)
                push(e.true_value)
                push(e.false_value)
            elif t is Call:
                op = e.op
                if op in _SELECT_CALLS:
                    ops[SELECT_OP] += 1
                elif op not in _TRANSPARENT_CALLS:
                    f = _is_float(e.dtype)
                    if op in _MATH_CALLS:
                        ops[F_MATH if f else I_MATH] += 1
                    else:
                        ops[F_OTHER if f else I_OTHER] += 1
                for a in e.args:
                    push(a)
            elif t is Cast:
                push(e.value)
            elif t is Let:
                push(e.value)
                push(e.body)
            elif t is Ramp:
                push(e.base)
                push(e.stride)
            elif t is Broadcast:
                push(e.value)
            else:
                for name in getattr(t, "__dataclass_fields__", ()):
                    v = getattr(e, name)
                    if isinstance(v, tuple):
                        for x in v:
                            if getattr(x, "walked", False):
                                push(x)
                    elif getattr(v, "walked", False):
                        push(v)


# ------------------------------------------------------------------------------ index analysis

def _linear(e, memo):
    """e as {key: coefficient}; keys are Var, ("d", var, c) for var // c, ("m", var, c) for var % c.
    A part that is not affine in that sense contributes each of its variables with coefficient 1."""
    r = memo.get(id(e))
    if r is not None:
        return r
    t = type(e)
    if t is Var:
        r = {e: 1}
    elif t is IntImm:
        r = {}
    elif t is Add or t is Sub:
        a, b = _linear(e.a, memo), _linear(e.b, memo)
        r = dict(a)
        s = 1 if t is Add else -1
        for k, v in b.items():
            r[k] = r.get(k, 0) + s * v
    elif t is Mul and (type(e.b) is IntImm or type(e.a) is IntImm):
        c, x = (e.b.value, e.a) if type(e.b) is IntImm else (e.a.value, e.b)
        r = {k: v * c for k, v in _linear(x, memo).items()}
    elif (t is FloorDiv or t is FloorMod or t is Div or t is Mod) and type(e.a) is Var and type(e.b) is IntImm:
        c = e.b.value
        r = {(("d" if t is FloorDiv or t is Div else "m"), e.a, c): 1} if c != 1 else (
            {e.a: 1} if t is FloorDiv or t is Div else {})
    elif t is Cast:
        r = _linear(e.value, memo)
    else:
        r = {}
        stack = [e]
        while stack:
            x = stack.pop()
            if type(x) is Var:
                r[x] = 1
            elif getattr(x, "walked", False) and type(x) is not BufferLoad:
                for name in type(x).__dataclass_fields__:
                    v = getattr(x, name)
                    if isinstance(v, tuple):
                        stack.extend(y for y in v if getattr(y, "walked", False))
                    elif getattr(v, "walked", False):
                        stack.append(v)
    memo[id(e)] = r
    return r


def _row_strides(buf):
    if buf.strides:
        return [_const_int(s) for s in buf.strides]
    shape = [_const_int(d) for d in buf.shape]
    st = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        st[d] = st[d + 1] * shape[d + 1]
    return st


class _Access:
    """One access's per-level spans and per-level flattened coefficients."""

    __slots__ = ("touched", "flat", "used", "last_span")

    def __init__(self, buf, indices, level_of, loops, memo):
        n = len(loops)
        geo = memo.get(id(buf))
        if geo is None:
            geo = memo[id(buf)] = ([_const_int(d, 1 << 30) for d in buf.shape], _row_strides(buf))
        shape, strides = geo
        # spans[d] accumulates from the innermost level outwards
        contrib = [[0] * len(indices) for _ in range(n)]  # contrib[level][dim]
        flat = [0] * n
        used = [False] * n
        for d, idx in enumerate(indices):
            lin = _linear(idx, memo)
            sd = strides[d] if d < len(strides) else 1
            for key, coef in lin.items():
                if coef == 0:
                    continue
                if type(key) is tuple:
                    mode, var, c = key
                    lv = level_of.get(var)
                    if lv is None:
                        continue
                    ext = loops[lv].ext
                    if mode == "d":
                        contrib[lv][d] += abs(coef) * ((ext - 1) // c)
                    else:
                        contrib[lv][d] += abs(coef) * (min(ext, c) - 1)
                        flat[lv] += coef * sd
                else:
                    lv = level_of.get(key)
                    if lv is None:
                        continue
                    contrib[lv][d] += abs(coef) * (loops[lv].ext - 1)
                    flat[lv] += coef * sd
                used[lv] = True
        # touched[L] = elements touched when loops L..n-1 run fully (touched[n] = 1)
        touched = [1] * (n + 1)
        span = [1] * len(indices)
        last_span = [1] * (n + 1)
        for lv in range(n - 1, -1, -1):
            c = contrib[lv]
            tot = 1
            x = 1
            for d in range(len(span)):
                x = span[d] = span[d] + c[d]
                if x > shape[d]:
                    x = shape[d]
                tot *= x
            touched[lv] = tot
            last_span[lv] = x
        self.touched, self.flat, self.used, self.last_span = touched, flat, used, last_span

    @classmethod
    def merged(cls, accs):
        """One summary of several accesses to a buffer: most elements touched, any use of a loop,
        the smallest non-zero stride per loop."""
        m = cls.__new__(cls)
        m.touched = [max(t) for t in zip(*(a.touched for a in accs))]
        m.last_span = [max(t) for t in zip(*(a.last_span for a in accs))]
        m.used = [any(t) for t in zip(*(a.used for a in accs))]
        m.flat = [min((abs(c) for c in t if c), default=0) for t in zip(*(a.flat for a in accs))]
        return m


# --------------------------------------------------------------------------------- the features

def per_store_features(func, max_n_bufs: int | None = None,
                       cache_line_bytes: int = DEFAULT_CACHE_LINE_BYTES) -> np.ndarray:
    """Features of a lowered function (PrimFunc, or an IRModule of them): float32 [n_stores, n_features]."""
    max_n_bufs = DEFAULT_MAX_N_BUFS if max_n_bufs is None else max_n_bufs
    funcs = [func] if isinstance(func, PrimFunc) else list(getattr(func, "functions", {}).values())
    rows = []
    for f in funcs:
        if isinstance(f, PrimFunc):
            rows.extend(_function_rows(f, max_n_bufs, cache_line_bytes))
    n_feat = feature_length(max_n_bufs)
    if not rows:
        return np.zeros((0, n_feat), dtype=np.float32)
    # rows hold raw counts, bytes and 0/1 flags; log2(1 + x) maps flags to themselves
    out = np.log2(1.0 + np.asarray(rows, dtype=np.float64))
    curve = n_feat - len(_TAIL_NAMES)
    out[:, curve:curve + ARITH_INTENSITY_CURVE_SAMPLE_N] = [
        r[curve:curve + ARITH_INTENSITY_CURVE_SAMPLE_N] for r in rows]
    return out.astype(np.float32)


def store_buffer_names(func, max_n_bufs: int | None = None,
                       cache_line_bytes: int = DEFAULT_CACHE_LINE_BYTES) -> list[list[str]]:
    """For each store (rows of per_store_features, same order), the buffer in each buffer slot."""
    max_n_bufs = DEFAULT_MAX_N_BUFS if max_n_bufs is None else max_n_bufs
    funcs = [func] if isinstance(func, PrimFunc) else list(getattr(func, "functions", {}).values())
    names: list = []
    for f in funcs:
        if isinstance(f, PrimFunc):
            _function_rows(f, max_n_bufs, cache_line_bytes, names)
    return names


def _function_rows(func: PrimFunc, max_n_bufs: int, line: int, names_out: list | None = None) -> list:
    w = _Walker()
    target = str(func.attrs.get("target", "")) if func.attrs else ""
    if "cuda" in target or "gpu" in target:
        w.gpu = True
    w.stmt(func.body)
    stores = w.stores
    if not stores:
        return []
    memo: dict = {}

    # pass 1: per store, per access index analysis and the bytes touched at every loop level
    infos = []
    body_bytes: dict = {}   # id(loop) -> bytes touched in one iteration of that loop (all stores under it)
    buf_count: dict = {}    # (id(loop), buffer var) -> number of stores under the loop touching the buffer
    for st in stores:
        loops = st.loops
        n = len(loops)
        level_of = {lp.var: i for i, lp in enumerate(loops)}
        bufs: dict = {}  # data var -> [buffer, [accesses], has_read, has_write]
        seen: dict = {}  # (buffer var, ids of the index expressions) -> _Access: a read-modify-write shares its indices
        write_used = load_used = None
        for buf, indices, is_write in st.accesses:
            key = buf.data
            ent = bufs.get(key)
            if ent is None:
                ent = bufs[key] = [buf, [], False, False]
            sk = (key, *map(id, indices))
            acc = seen.get(sk)
            if acc is None:
                acc = seen[sk] = _Access(buf, indices, level_of, loops, memo)
            ent[1].append(acc)
            if is_write:
                ent[3] = True
                write_used = acc.used
            else:
                ent[2] = True
                load_used = acc.used if load_used is None else [a or b for a, b in zip(load_used, acc.used)]
        level_bytes = [0] * (n + 1)
        for ent in bufs.values():
            eb = _dt.itemsize(ent[0].dtype)
            accs = ent[1]
            uniq = list(dict.fromkeys(accs))
            m = uniq[0] if len(uniq) == 1 else _Access.merged(uniq)
            ent[1] = (m, len(accs))
            touched = m.touched
            for lv in range(n + 1):
                level_bytes[lv] += touched[lv] * eb
        for lv, lp in enumerate(loops):
            k = id(lp)
            body_bytes[k] = body_bytes.get(k, 0) + level_bytes[lv + 1]
            for key in bufs:
                kk = (k, key)
                buf_count[kk] = buf_count.get(kk, 0) + 1
        # per level: "s" spatial (moves the stored element, or encloses the stored buffer's
        # allocation), "r" reduce (moves only what is read), "" neither
        alloc_depth = st.alloc[2] if st.alloc is not None else 0
        cat = ["s" if write_used[lv] or lv < alloc_depth else ("r" if load_used and load_used[lv] else "")
               for lv in range(n)]
        infos.append((bufs, level_bytes, cat))

    rows = []
    n_feat = feature_length(max_n_bufs)
    for st, (bufs, level_bytes, cat) in zip(stores, infos):
        row = [0.0] * n_feat
        loops = st.loops
        n = len(loops)
        prod = 1
        for lp in loops:
            prod *= lp.ext
        ops = st.ops
        # 1. arithmetic
        for i in range(_N_OPS):
            if ops[i]:
                row[i] = ops[i] * prod
        # 2. annotations
        off = _N_OPS
        for _, kind in _ANN_KINDS:
            num, aprod, alen, pos = 0, 1, 0, POS_NONE
            cats = set()
            for lv, lp in enumerate(loops):
                if lp.kind == kind:
                    num += 1
                    aprod *= lp.ext
                    alen = lp.ext
                    cats.add(cat[lv])
                    pos = _position(cat, lv)
            if num:
                if len(cats) > 1:
                    pos = POS_MIXED
                row[off] = num
                row[off + 1] = aprod
                row[off + 2] = alen
            row[off + 3 + pos] = 1.0
            off += 11
        # 3. GPU
        if w.gpu:
            row[off] = 1.0
            for lp in loops:
                j = _GPU_TAGS.get(lp.tag)
                if j is not None:
                    row[off + j] = lp.ext
        off += len(_GPU_NAMES)
        # 4. buffers
        feats = []
        for key, (buf, accs, has_read, has_write) in bufs.items():
            feats.append(_buffer_features(buf, accs, has_read, has_write, st, prod, level_bytes,
                                          body_bytes, buf_count, key, line))
        feats.sort(key=lambda f: (-f[0], -f[1], f[2]))
        if names_out is not None:
            names_out.append([f[2] for f in feats[:max_n_bufs]])
        for b, f in enumerate(feats[:max_n_bufs]):
            vals = f[3]
            base = off + b * N_BUF_FEATURES
            row[base:base + N_BUF_FEATURES] = vals
        off += max_n_bufs * N_BUF_FEATURES
        # 5. arithmetic intensity curve
        flops = ops[F_MAD] + ops[F_ADD] + ops[F_MUL] + ops[F_DIV] + ops[F_CMP] + ops[F_MATH] + ops[F_OTHER]
        if flops > 0 and n > 0:
            comp, mem = [], []
            inner = 1
            for lv in range(n - 1, -1, -1):
                inner *= loops[lv].ext
                comp.append(math.log2(flops * inner))
                mem.append(math.log2(max(level_bytes[lv], 1)))
            _arith_curve(comp, mem, row, off)
        off += ARITH_INTENSITY_CURVE_SAMPLE_N
        # 6. allocation
        if st.alloc is not None:
            size, outer, _ = st.alloc
            row[off] = size
            row[off + 1] = size * outer
            row[off + 2] = outer
            row[off + 3] = prod / outer if outer else prod
        off += 4
        # 7. loop nest
        row[off] = prod
        row[off + 1] = n
        row[off + 2] = max((lp.unroll_step for lp in loops), default=0)
        rows.append(row)
    return rows


def _position(cat, lv) -> int:
    c = cat[lv]
    if c == "":
        return POS_MIXED
    same = [i for i, x in enumerate(cat) if x == c]
    base = 1 if c == "s" else 4
    if lv == same[-1]:
        return base  # inner
    if lv == same[0]:
        return base + 2  # outer
    return base + 1  # middle


def _arith_curve(comp, mem, row, off):
    """Arithmetic intensity (log flops / log bytes) sampled at evenly spaced log-flop points."""
    last = comp[-1]
    pt = 0
    n = len(comp)
    for i in range(ARITH_INTENSITY_CURVE_SAMPLE_N):
        x = last * (i + 1) / ARITH_INTENSITY_CURVE_SAMPLE_N
        while pt < n - 1 and comp[pt] < x - 1e-4:
            pt += 1
        if pt == 0:
            v = comp[0] / mem[0] if mem[0] > 0 else comp[0]
        else:
            a = comp[pt - 1] / mem[pt - 1] if mem[pt - 1] > 0 else comp[pt - 1]
            b = comp[pt] / mem[pt] if mem[pt] > 0 else comp[pt]
            span = comp[pt] - comp[pt - 1]
            v = a + (b - a) * ((x - comp[pt - 1]) / span if span > 0 else 1.0)
        row[off + i] = v


def _buffer_features(buf, accs, has_read, has_write, st, prod, level_bytes, body_bytes, buf_count, key, line):
    m, n_acc = accs  # the merged summary of the store's accesses to buf, and how many there are
    loops = st.loops
    n = len(loops)
    eb = _dt.itemsize(buf.dtype)
    nbytes = prod * eb * n_acc
    unique_elems = m.touched[0]
    unique_bytes = unique_elems * eb
    # stride: the innermost loop that moves the address
    stride, reduce_ratio, stride_lv = 0, prod, -1
    inner = 1
    flat = m.flat
    for lv in range(n - 1, -1, -1):
        if flat[lv]:
            stride, reduce_ratio, stride_lv = abs(flat[lv]), inner, lv
            break
        inner *= loops[lv].ext
    lines = max(prod / reduce_ratio * min(1.0, stride * eb / line), 1.0)
    last = m.last_span[0]
    rows_touched = unique_elems / last if last else 1
    unique_lines = max(rows_touched * math.ceil(last * eb / line), 1.0)
    contiguous = 1.0 if stride == 1 and stride_lv == n - 1 else 0.0
    # reuse
    reuse_type, dis_iter, dis_bytes, reuse_ct = 2, 0.0, 0.0, 0.0
    inner = 1
    used = m.used
    for lv in range(n - 1, -1, -1):
        lp = loops[lv]
        if lp.ext > 1 and not used[lv]:
            reuse_type, reuse_ct, dis_iter = 0, float(lp.ext), float(inner)
            dis_bytes = float(body_bytes.get(id(loops[lv + 1]), 0) if lv + 1 < n else level_bytes[n])
            break
        inner *= lp.ext
    else:
        inner = 1
        for lv in range(n - 1, -1, -1):
            cnt = buf_count.get((id(loops[lv]), key), 0)
            if cnt > 1:
                reuse_type, reuse_ct, dis_iter = 1, float(cnt), float(inner)
                dis_bytes = body_bytes.get(id(loops[lv]), 0) * loops[lv].ext / cnt
                break
            inner *= loops[lv].ext
    rc = max(reuse_ct, 1.0)
    vals = [0.0] * N_BUF_FEATURES
    vals[0 if not has_write else (1 if not has_read else 2)] = 1.0
    vals[3] = nbytes
    vals[4] = unique_bytes
    vals[5] = lines
    vals[6] = unique_lines
    vals[7 + reuse_type] = 1.0
    vals[10] = dis_iter
    vals[11] = dis_bytes
    vals[12] = reuse_ct
    vals[13] = nbytes / rc
    vals[14] = unique_bytes / rc
    vals[15] = lines / rc
    vals[16] = unique_lines / rc
    vals[17] = stride
    vals[18] = contiguous
    return (lines, nbytes, buf.name, vals)


# ------------------------------------------------------------------------- states and records

def _cache_line_bytes(task) -> int:
    hw = getattr(task, "hardware_params", None)
    v = getattr(hw, "cache_line_bytes", None)
    return int(v) if v else DEFAULT_CACHE_LINE_BYTES


def features_of_state(state, task, max_n_bufs: int | None = None) -> np.ndarray:
    """Replay one state on the task's DAG, lower it and extract its per-store features.
    A state that fails to replay or lower gives an empty (0 x n_features) array."""
    from ..driver.build_module import lower

    try:
        sch, args = task.compute_dag.apply_steps_from_state(state)
        mod = lower(sch, args)
    except Exception:  # noqa: BLE001 -- an invalid candidate is ranked last, never fatal
        return np.zeros((0, feature_length(max_n_bufs)), dtype=np.float32)
    return per_store_features(mod, max_n_bufs, _cache_line_bytes(task))


def _object_array(items) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        out[i] = x
    return out


def get_per_store_features_from_states(states, task, max_n_bufs: int | None = None) -> np.ndarray:
    """Per-store features of each state: an object array, item i is float32 [n_stores_i, n_features]
    (0 rows when state i cannot be replayed or lowered)."""
    return _object_array([features_of_state(s, task, max_n_bufs) for s in states])


def _task_key(task):
    return (getattr(task, "workload_key", None) or id(task), str(getattr(task, "target", "")))


def _mean_cost(res) -> float | None:
    if getattr(res, "error_no", 0) != 0:
        return None
    costs = [float(getattr(c, "value", c)) for c in (getattr(res, "costs", None) or ())]
    if not costs:
        return None
    m = sum(costs) / len(costs)
    return m if m > 0 else None


def get_per_store_features_from_measure_pairs(inputs, results, skip_first_n_feature_extraction: int = 0,
                                              max_n_bufs: int | None = None):
    """Features of measured candidates with their targets.

    Returns (features, normalized_throughputs, task_ids): features as in
    get_per_store_features_from_states (the first `skip_first_n_feature_extraction` left as empty
    arrays, for callers that cache them); throughput = best mean cost of the same task / this mean
    cost, in (0, 1], and 0 for failed measurements; task_ids number the distinct tasks (by workload
    key and target) in order of appearance.
    """
    if len(inputs) != len(results):
        raise ValueError(f"{len(inputs)} measure inputs but {len(results)} results")
    task_index: dict = {}
    task_ids = np.empty(len(inputs), dtype=np.int64)
    costs = np.zeros(len(inputs))
    feats = []
    empty = np.zeros((0, feature_length(max_n_bufs)), dtype=np.float32)
    for i, (inp, res) in enumerate(zip(inputs, results)):
        task = inp.task
        task_ids[i] = task_index.setdefault(_task_key(task), len(task_index))
        c = _mean_cost(res)
        costs[i] = c if c is not None else 0.0
        feats.append(empty if i < skip_first_n_feature_extraction else features_of_state(inp.state, task, max_n_bufs))
    thr = np.zeros(len(inputs), dtype=np.float32)
    for t in range(len(task_index)):
        m = (task_ids == t) & (costs > 0)
        if m.any():
            best = costs[m].min()
            thr[m] = best / costs[m]
    return _object_array(feats), thr, task_ids


__all__ = ["feature_names", "feature_length", "per_store_features", "store_buffer_names", "features_of_state",
           "get_per_store_features_from_states", "get_per_store_features_from_measure_pairs"]
