"""The evaluation workflow around the compiler: compile a PyTorch model, verify it against PyTorch,
and measure latency with statistics (LatencyMeasurer, seed 001's `measure.latency`)."""

from .compile import Compiled, compile_torch  # noqa: F401
from .latency import LatencyMeasurer, LatencyStats, latency  # noqa: F401
from .verify import VerificationError, verify  # noqa: F401
