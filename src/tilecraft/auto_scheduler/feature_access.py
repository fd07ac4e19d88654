"""Feature extraction, part 2: buffer access analysis of one store -- affine index analysis,
elements touched per loop level, strides, cache lines, reuse -- giving a buffer slot's features
(see feature.py)."""

from __future__ import annotations

import math

from ..ir import dtype as _dt
from ..ir.expr import Add, BufferLoad, Cast, Div, FloorDiv, FloorMod, IntImm, Mod, Mul, Sub, Var
from .feature_walk import const_int

# the features of one buffer slot
BUF_NAMES = ("acc_type.read", "acc_type.write", "acc_type.read_write", "bytes", "unique_bytes", "lines",
             "unique_lines", "reuse_type.loop_multiple_read", "reuse_type.serial_multiple_read_write",
             "reuse_type.no_reuse", "reuse_dis_iter", "reuse_dis_bytes", "reuse_ct", "bytes_d_reuse_ct",
             "unique_bytes_d_reuse_ct", "lines_d_reuse_ct", "unique_lines_d_reuse_ct", "stride",
             "is_contiguous")
N_BUF_FEATURES = len(BUF_NAMES)


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
        return [const_int(s) for s in buf.strides]
    shape = [const_int(d) for d in buf.shape]
    st = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        st[d] = st[d + 1] * shape[d + 1]
    return st


class Access:
    """One access's per-level spans and per-level flattened coefficients."""

    __slots__ = ("touched", "flat", "used", "last_span")

    def __init__(self, buf, indices, level_of, loops, memo):
        n = len(loops)
        geo = memo.get(id(buf))
        if geo is None:
            geo = memo[id(buf)] = ([const_int(d, 1 << 30) for d in buf.shape], _row_strides(buf))
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


def buffer_features(buf, accs, has_read, has_write, st, prod, level_bytes, body_bytes, buf_count, key, line):
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
