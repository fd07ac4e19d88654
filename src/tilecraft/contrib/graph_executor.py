"""Classic `tvm.contrib.graph_executor`: the graph executor lives in the runtime (runtime/graph_executor.py)."""

from ..runtime.graph_executor import GraphExecutor, GraphModule, create

__all__ = ["GraphExecutor", "GraphModule", "create"]
