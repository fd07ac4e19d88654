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

The statement walk is feature_walk.py, the buffer access analysis feature_access.py; this file
lays out the vector, assembles the rows and extracts them from states and measure records.
"""

from __future__ import annotations

import math

import numpy as np

from ..ir import dtype as _dt
from ..tir.stmt import ForKind, PrimFunc
from .feature_access import BUF_NAMES, N_BUF_FEATURES, Access, buffer_features
from .feature_walk import F_ADD, F_CMP, F_DIV, F_MAD, F_MATH, F_MUL, F_OTHER, N_OPS, OP_NAMES, Walker

DEFAULT_MAX_N_BUFS = 5
DEFAULT_CACHE_LINE_BYTES = 64
ARITH_INTENSITY_CURVE_SAMPLE_N = 10

_POS_NAMES = ("none", "inner_spatial", "middle_spatial", "outer_spatial", "inner_reduce", "middle_reduce",
              "outer_reduce", "mixed")
POS_NONE, POS_MIXED = 0, 7
_ANN_KINDS = (("vec", ForKind.VECTORIZED), ("unroll", ForKind.UNROLLED), ("parallel", ForKind.PARALLEL))
_GPU_NAMES = ("is_gpu", "blockIdx_x_len", "blockIdx_y_len", "blockIdx_z_len", "threadIdx_x_len",
              "threadIdx_y_len", "threadIdx_z_len", "vthread_len")
_GPU_TAGS = {"blockIdx.x": 1, "blockIdx.y": 2, "blockIdx.z": 3, "threadIdx.x": 4, "threadIdx.y": 5,
             "threadIdx.z": 6, "vthread": 7}

_TAIL_NAMES = (tuple(f"arith_intensity_curve_{i}" for i in range(ARITH_INTENSITY_CURVE_SAMPLE_N))
               + ("alloc_size", "alloc_prod", "alloc_outer_prod", "alloc_inner_prod",
                  "outer_prod", "num_loops", "auto_unroll_max_step"))


def _head_names() -> tuple:
    names = list(OP_NAMES)
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
        names += [f"B{b}.{x}" for x in BUF_NAMES]
    names += _TAIL_NAMES
    return names


def feature_length(max_n_bufs: int | None = None) -> int:
    n = DEFAULT_MAX_N_BUFS if max_n_bufs is None else max_n_bufs
    return _N_HEAD + N_BUF_FEATURES * n + len(_TAIL_NAMES)


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
    w = Walker()
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
        seen: dict = {}  # (buffer var, ids of the index expressions) -> Access: a read-modify-write shares its indices
        write_used = load_used = None
        for buf, indices, is_write in st.accesses:
            key = buf.data
            ent = bufs.get(key)
            if ent is None:
                ent = bufs[key] = [buf, [], False, False]
            sk = (key, *map(id, indices))
            acc = seen.get(sk)
            if acc is None:
                acc = seen[sk] = Access(buf, indices, level_of, loops, memo)
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
            m = uniq[0] if len(uniq) == 1 else Access.merged(uniq)
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
        for i in range(N_OPS):
            if ops[i]:
                row[i] = ops[i] * prod
        # 2. annotations
        off = N_OPS
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
            feats.append(buffer_features(buf, accs, has_read, has_write, st, prod, level_bytes,
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
