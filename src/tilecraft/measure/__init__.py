"""The evaluation workflow around the compiler: compile a PyTorch model, verify it against PyTorch,
and measure latency with statistics (medians after warm-up, side by side)."""

from .compile import Compiled, compile_torch  # noqa: F401
from .latency import LatencyStats, latency  # noqa: F401
from .verify import VerificationError, verify  # noqa: F401
