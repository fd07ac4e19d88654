"""Winograd tile size for 3-D convolution on GPUs: the rule classic TVM's kernels and tests share.

Only the rule lives here (classic tests import it to pre-transform weights); the Winograd
convolution kernels themselves are part of the CUDA operator library still to come."""

from __future__ import annotations


def _infer_tile_size(data, kernel, layout: str = "NCDHW") -> int:
    """Output tile m of F(m, 3): 4 when the height divides by 8, else 2 (less padding waste)."""
    shape = tuple(int(s) for s in data.shape)
    if len(shape) != 5 or layout not in ("NCDHW", "NDHWC"):
        raise ValueError(f"conv3d winograd: data must be 5-D in NCDHW or NDHWC, got shape {shape} and {layout!r}")
    height = shape[3] if layout == "NCDHW" else shape[2]
    return 4 if height % 8 == 0 else 2
