"""The selective scan of a state-space model (Mamba's S6 recurrence) over a whole sequence.

    y, h_n = selective_scan(u, delta, A, B, C, h0)

u, delta [b, d, L] (delta already biased and through softplus), A [d, n], B, C [b, n, L] (the
layout of Mamba's kernels), h0 [b, d, n].  Per channel (b, d), for t = 0 .. L-1:

    h[n] = exp(delta[t] * A[d, n]) * h[n] + (delta[t] * B[n, t]) * u[t]
    y[t] = sum_n h[n] * C[n, t]

which is Hugging Face's MambaMixer slow path (discrete_A * state + deltaB_u, then state @ C) with
the same rounding order.  Channels are independent, so the outer loop over them runs in parallel;
the loop over time is sequential.  The kernel is one `te.extern` stage whose body (tir.ir_builder)
holds that loop, so the program does not grow with the sequence length L.
"""

from __future__ import annotations

from ... import te
from ...ir.expr import const
from ...tir import exp, ir_builder


def selective_scan(u, delta, A, B, C, h0):
    """[y [b, d, L], h_n [b, d, n]]; see the module docstring."""
    nb, nd, L = (int(s) for s in u.shape)
    n = int(A.shape[1])
    for name, t, want in (("delta", delta, (nb, nd, L)), ("A", A, (nd, n)), ("B", B, (nb, n, L)),
                          ("C", C, (nb, n, L)), ("h0", h0, (nb, nd, n))):
        if tuple(int(s) for s in t.shape) != want:
            raise ValueError(f"selective_scan: {name} must have shape {want} for u {(nb, nd, L)} and state size "
                             f"{n}, got {tuple(int(s) for s in t.shape)}")
    dtype = u.dtype

    def body(ins, outs):
        ib = ir_builder.create()
        U, DT, AA, BT, CT, H0 = (ib.buffer_ptr(x) for x in ins)
        Y, HN = ib.buffer_ptr(outs[0]), ib.buffer_ptr(outs[1])
        with ib.for_range(0, nb * nd, name="bd", kind="parallel") as bd:
            b = bd // nd
            d = bd % nd
            with ib.for_range(0, n, name="k") as k:
                HN[b, d, k] = H0[b, d, k]
            with ib.for_range(0, L, name="t") as t:
                Y[b, d, t] = const(0.0, dtype)
                with ib.for_range(0, n, name="k") as k:
                    dt = DT[b, d, t]
                    HN[b, d, k] = exp(AA[d, k] * dt) * HN[b, d, k] + dt * BT[b, t, k] * U[b, d, t]
                    Y[b, d, t] = Y[b, d, t] + HN[b, d, k] * CT[b, t, k]
        return ib.get()

    # B and C as [b, L, n], so that the inner loop over the state reads them contiguously
    bt = te.compute((nb, L, n), lambda i, t, k: B[i, k, t], name="scan_b_t")
    ct = te.compute((nb, L, n), lambda i, t, k: C[i, k, t], name="scan_c_t")
    return te.extern([(nb, nd, L), (nb, nd, n)], [u, delta, A, bt, ct, h0], body, name="selective_scan",
                     dtype=dtype, tag="selective_scan")


__all__ = ["selective_scan"]
