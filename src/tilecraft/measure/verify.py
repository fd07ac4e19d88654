"""Compare outputs with a reference (PyTorch) and say exactly where they differ."""

from __future__ import annotations

import numpy as np


class VerificationError(AssertionError):
    """Outputs differ beyond tolerance; the message names the output, the worst element and the errors
    (`report` holds the max abs/rel error of every output compared)."""

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report or {}


def verify(outputs, references, atol: float = 1e-3, rtol: float = 1e-3) -> dict:
    """Check every output against its reference (numpy allclose semantics); return the errors seen."""
    outputs, references = list(outputs), list(references)
    if len(outputs) != len(references):
        raise VerificationError(f"{len(outputs)} outputs but {len(references)} references")
    report = {}
    for i, (o, r) in enumerate(zip(outputs, references)):
        o, r = np.asarray(o), np.asarray(r)
        if o.shape != r.shape:
            raise VerificationError(f"output {i}: shape {o.shape}, reference {r.shape}")
        diff = np.abs(o.astype(np.float64) - r.astype(np.float64))
        worst = np.unravel_index(np.argmax(diff - rtol * np.abs(r)), diff.shape) if diff.size else ()
        report[i] = {"max_abs": float(diff.max()) if diff.size else 0.0,
                     "max_rel": float((diff / (np.abs(r) + 1e-12)).max()) if diff.size else 0.0}
        if not np.allclose(o, r, atol=atol, rtol=rtol):
            raise VerificationError(
                f"output {i} differs from the reference beyond atol={atol}, rtol={rtol}: at index "
                f"{tuple(int(k) for k in worst)} got {o[worst].item()!r}, expected {r[worst].item()!r} "
                f"(max abs error {report[i]['max_abs']:.3g})", report)
    return report
