"""Classic `tvm.contrib.debugger.debug_executor`: a graph executor that runs node by node, times
every node, and writes the per-node dump (see debug_result.py).

    from tilecraft.contrib.debugger import debug_executor
    m = debug_executor.create(lib.get_graph_json(), lib.get_lib(), tvm.cpu(0), dump_root="/tmp/tvmdbg")
    m.set_input("data", x, **lib.get_params())
    m.run()      # prints Node Name / Ops / Time(us) / Time(%) / Shape / Inputs / Outputs / Measurements(us)
                 # and writes /tmp/tvmdbg/_tvmdbg_device_CPU_0/_tvmdbg_graph_dump.json,
                 # _tvmdbg_execution_trace.json (Chrome trace) and output_tensors.params

`GraphModuleDebug(lib["debug_create"]("default", dev), [dev], lib.get_graph_json(), dump_root)` works
as in TVM.  Differences from classic TVM, on purpose: `lib` may also be relay.build's factory itself
(its parameters are then set), the output tensors are saved as safetensors, and `exit()` deletes the
dump root only when it is the temporary folder the module made itself (classic TVM removed any root).
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ...runtime.device import Device
from ...runtime.graph_executor import GraphExecutor, GraphModule
from ...runtime.graph_executor import create as _create_graph
from ...runtime.timing import ProfileResult
from .debug_result import DebugResult

_DUMP_ROOT_PREFIX = "tvmdbg_"
_DUMP_PATH_PREFIX = "_tvmdbg_"


def create(graph_json_str: str, libmod, device, dump_root: str | None = None) -> GraphModuleDebug:
    """A debug graph executor for `graph_json_str` with the kernels of `libmod` on `device` (a Device or a
    list holding one); dumps go under `dump_root` (default: a new temporary folder tvmdbg_*)."""
    dev = device[0] if isinstance(device, (list, tuple)) and device else device
    params = None
    if hasattr(libmod, "get_lib") and hasattr(libmod, "get_params"):  # relay.build's factory itself
        params, libmod = libmod.get_params(), libmod.get_lib()
    module = _create_graph(graph_json_str, libmod, dev, where="debug_executor.create: graph JSON").module
    if params:
        module.set_input(**params)
    return GraphModuleDebug(module, [dev], graph_json_str, dump_root)


class GraphModuleDebug(GraphModule):
    """GraphModule whose run() times each node, prints the per-node table and writes the dump."""

    def __init__(self, module, device, graph_json_str: str, dump_root: str | None = None):
        super().__init__(module)
        if not isinstance(self.module, GraphExecutor):
            raise TypeError(f"GraphModuleDebug wraps a graph executor (lib['debug_create']('default', dev) or "
                            f"debug_executor.create(...)), got {type(module).__name__}")
        devs = device if isinstance(device, (list, tuple)) else [device]
        if not devs or not all(isinstance(d, Device) for d in devs):
            raise TypeError(f"GraphModuleDebug: device must be a Device or a list of them, got {device!r}")
        self._device = devs[0]
        self._own_root = dump_root is None
        self._dump_root = tempfile.mkdtemp(prefix=_DUMP_ROOT_PREFIX) if dump_root is None else str(dump_root)
        self._dump_path = self._get_dump_path(self._device)
        self.debug_datum = DebugResult(graph_json_str, self._dump_path)
        self._outputs: dict = {}  # entry id -> numpy array after the last debug run

    def __getattr__(self, name):
        return getattr(self.module, name)

    # ------------------------------------------------------------------ dump folder
    @staticmethod
    def _format_device(dev: Device) -> str:
        return f"{dev.kind.upper()}:{dev.device_id}"

    def _get_dump_path(self, dev: Device) -> str:
        path = os.path.join(self._dump_root, _DUMP_PATH_PREFIX + "device_" + self._format_device(dev).replace(":", "_"))
        os.makedirs(path, exist_ok=True)
        return path

    @property
    def dump_root(self) -> str:
        return self._dump_root

    @property
    def dump_path(self) -> str:
        return self._dump_path

    # ------------------------------------------------------------------ running
    def _run_debug(self, number: int, repeat: int, min_repeat_ms: float) -> None:
        ex = self.module
        self._outputs = {}

        def keep(nid):
            for e in range(ex.row_ptr[nid], ex.row_ptr[nid + 1]):
                self._outputs[e] = ex.entries[e].numpy().copy()

        timed = dict(ex.time_nodes(number, repeat, min_repeat_ms, on_node=keep))
        times = [timed.get(nid, [0.0] * repeat) for nid in range(len(ex.nodes))]
        for nid, node in enumerate(ex.nodes):
            if node["op"] == "null":
                e = ex.row_ptr[nid]
                self._outputs[e] = ex.entries[e].numpy().copy()
        self.debug_datum.set_times(times)
        self.debug_datum.set_outputs([self._outputs[e] for e in range(len(ex.entries))])

    def run(self, number: int = 10, repeat: int = 1, min_repeat_ms: float = 1, limit_zero_time_iterations: int = 100,
            cooldown_interval_ms: float = 0, repeats_to_cooldown: int = 1, sort_by_time: bool = True,
            **input_dict) -> None:
        """Run node by node, timing each (`repeat` measurements of `number` calls, grown to `min_repeat_ms`);
        write the dump (outputs, Chrome trace) and print the per-node table.  The graph's outputs are
        those of a normal run.  (limit_zero_time_iterations and the cooldown arguments are accepted for
        compatibility.)"""
        if input_dict:
            self.module.set_input(**input_dict)
        self._run_debug(number, repeat, min_repeat_ms)
        self.debug_datum.dump_output_tensor()
        self.debug_datum.dump_chrome_trace()
        self.debug_datum.display_debug_result(sort_by_time)

    def run_individual(self, number: int, repeat: int = 1, min_repeat_ms: float = 0,
                       limit_zero_time_iterations: int = 100, cooldown_interval_ms: float = 0,
                       repeats_to_cooldown: int = 1) -> list:
        """Per graph node, the seconds per call of each repeat (0.0 for inputs and parameters)."""
        timed = dict(self.module.time_nodes(number, repeat, min_repeat_ms))
        return [timed.get(nid, [0.0] * repeat) for nid in range(len(self.module.nodes))]

    def run_individual_node(self, index: int, number: int = 10, repeat: int = 1,
                            min_repeat_ms: float = 0) -> ProfileResult:
        """Times of node `index` (each repeat: mean seconds per call); the graph runs once first, so the
        node reads what a normal run gives it."""
        node = self._node_index(index)
        if self.module.nodes[node]["op"] == "null":
            raise ValueError(f"node {index} ({self.module.nodes[node]['name']}) is an input, not a kernel call")
        self.module.run()
        timed = dict(self.module.time_nodes(number, repeat, min_repeat_ms))
        return ProfileResult.from_results(timed[node])

    def _node_index(self, node) -> int:
        nodes = self.module.nodes
        if isinstance(node, str):
            for i, n in enumerate(nodes):
                if n["name"] == node:
                    return i
            raise KeyError(f"the graph has no node named {node!r}")
        if not isinstance(node, int) or not 0 <= node < len(nodes):
            raise IndexError(f"node index {node!r} out of range; the graph has {len(nodes)} nodes")
        return node

    def debug_get_output(self, node, out=None):
        """The first output of `node` (index or name) as the last run() left it."""
        from ...runtime.ndarray import array

        nid = self._node_index(node)
        e = self.module.row_ptr[nid]
        if e not in self._outputs:
            raise RuntimeError("debug_get_output: run() the debug executor first")
        value = self._outputs[e]
        if out is not None:
            out.copyfrom(value)
            return out
        return array(value)

    def get_output_by_layer(self, layer, index: int = 0):
        nid = self._node_index(layer)
        e = self.module.row_ptr[nid] + index
        if e >= self.module.row_ptr[nid + 1]:
            raise IndexError(f"node {layer!r} has {self.module.row_ptr[nid + 1] - self.module.row_ptr[nid]} outputs")
        if e not in self._outputs:
            raise RuntimeError("get_output_by_layer: run() the debug executor first")
        from ...runtime.ndarray import array

        return array(self._outputs[e])

    def profile(self, collectors=None, **kwargs):
        """The per-kernel report (GraphExecutor.profile(report=True)); `collectors` is not supported."""
        if collectors:
            raise ValueError("profile(collectors=...): hardware counters are not supported; "
                             "the report has time, GFLOP/s and GB/s per kernel")
        kwargs.setdefault("report", True)
        return self.module.profile(**kwargs)

    def exit(self) -> None:
        """Remove the dump: the whole root when the module made it, else only its own _tvmdbg_ folder."""
        shutil.rmtree(self._dump_root if self._own_root else self._dump_path, ignore_errors=True)


