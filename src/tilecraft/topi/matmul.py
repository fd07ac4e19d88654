"""Matrix multiply with B packed into column panels, the layout fast CPU kernels want."""

from __future__ import annotations

from .. import te
from ..ir.expr import IntImm


def matmul_packed(A: te.Tensor, B: te.Tensor, nr: int = 16, name: str = "C") -> te.Tensor:
    """C[m, n] = sum_k A[m, k] * B[k, n], reading B through packedB[n // nr, k, n % nr].

    The panel layout makes the inner kernel read nr contiguous values of B per k, so a
    register tile of C can be updated with a few vector loads and FMAs per step."""
    (M, K), (K2, N) = A.shape, B.shape
    if isinstance(K, IntImm) and isinstance(K2, IntImm) and K.value != K2.value:
        raise ValueError(f"matmul_packed: A is {M}x{K} but B is {K2}x{N}; the inner dimensions must agree")
    if not isinstance(N, IntImm) or N.value % nr:
        raise ValueError(f"matmul_packed: N = {N} must be a constant multiple of the panel width nr = {nr}")
    k = te.reduce_axis((0, K), "k")
    packed = te.compute((N.value // nr, K, nr), lambda x, kk, xi: B[kk, x * nr + xi], name="packedB")
    return te.compute((M, N), lambda m, n: te.sum(A[m, k] * packed[n // nr, k, n % nr], axis=k), name=name)
