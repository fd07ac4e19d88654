"""The classic CPU GEMM schedule: cache blocks, a register tile held in vector registers,
packed panels of B, a write cache, vectorization and parallel blocks."""

from __future__ import annotations

from ... import te


def schedule_matmul_packed(s: te.Schedule, C: te.Tensor, mr: int = 4, nr: int = 16, mb: int = 64,
                           nb: int = 256, ku: int = 4) -> te.Schedule:
    """Schedule C = matmul_packed(A, B, nr) in place.

    mr x nr is the register tile (mr * nr / 8 accumulators of 8 floats on AVX2: 4 x 16 keeps
    8 of the 16 ymm registers busy with FMAs whose latency the other 8 hide); mb x nb is the
    block of C one core works on, sized so its panels of B stay in L2; ku unrolls k."""
    packed = next(t for t in C.op.input_tensors if t.op.name == "packedB")
    CC = s.cache_write(C, "local")
    m, n = s[C].op.axis
    mt, mi = s[C].split(m, factor=mb)
    mo, mi = s[C].split(mi, factor=mr)
    nt, ni = s[C].split(n, factor=nb)
    no, ni = s[C].split(ni, factor=nr)
    s[C].reorder(nt, mt, mo, no, mi, ni)
    s[C].parallel(s[C].fuse(nt, mt))
    s[C].unroll(mi)
    s[C].vectorize(ni)
    s[CC].compute_at(s[C], no)
    mc, nc = s[CC].op.axis
    (k,) = s[CC].op.reduce_axis
    ko, ki = s[CC].split(k, factor=ku)
    s[CC].reorder(ko, ki, mc, nc)
    s[CC].vectorize(nc)
    s[CC].unroll(mc)
    s[CC].unroll(ki)
    x, _, xi = s[packed].op.axis
    s[packed].vectorize(xi)
    s[packed].parallel(x)
    return s
