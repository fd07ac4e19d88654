"""The evaluation workflow around the compiler (seed 001's API): compile a PyTorch model
(optionally tuned), verify it against PyTorch, and measure latency with statistics."""

from .export import (  # noqa: F401
    ExportConfig,
    ExportResult,
    compile_pytorch_module,
    export_pytorch_module,
    flatten_outputs,
    make_example_inputs,
    run_graph_module,
    verify_runtime,
)
from .latency import LatencyMeasurer, LatencyStats, latency  # noqa: F401
from .tune import tune_model, tuned  # noqa: F401
from .verify import VerificationError, as_numpy, verification_report, verify  # noqa: F401
