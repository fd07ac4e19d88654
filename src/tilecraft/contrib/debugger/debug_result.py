"""What the debug executor writes and prints, in classic TVM's debugger format.

A dump folder `_tvmdbg_device_<DEVICE>_<ID>` under the dump root holds

- `_tvmdbg_graph_dump.json`: the graph, each node with its `shape`, its inputs by node name, `op` the
  kernel it calls ("param" for inputs and parameters) and `attrs.T` its dtype ("type: float32");
- `_tvmdbg_execution_trace.json`: a Chrome trace (chrome://tracing, Perfetto): one begin/end event
  pair per node, laid end to end with each node's mean time;
- `output_tensors.params`: every node's outputs, keyed `<node>____topo-index:<entry>____output-num:<i>`
  (safetensors, as all tilecraft parameter files; classic TVM wrote its own binary format here).

`get_debug_result()` is the table `run()` prints: Node Name, Ops, Time(us), Time(%), Shape, Inputs,
Outputs, Measurements(us), slowest first, with the total last.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ...runtime.fileio import write_atomic
from ...runtime.params import save_param_dict

GRAPH_DUMP_FILE_NAME = "_tvmdbg_graph_dump.json"
CHROME_TRACE_FILE_NAME = "_tvmdbg_execution_trace.json"
OUTPUT_TENSORS_FILE_NAME = "output_tensors.params"


class DebugResult:
    """The graph, the per-node times and the per-node outputs of one debug run, and their files."""

    def __init__(self, graph_json: str, dump_path: str):
        self._dump_path = dump_path
        graph = json.loads(graph_json)
        self._nodes_list = graph["nodes"]
        self._shapes_list = graph["attrs"]["shape"][1]
        self._dtype_list = graph["attrs"]["dltype"][1]
        self._time_list: list = [[0.0] for _ in self._nodes_list]
        self._output_tensor_list: list = []
        self._update_graph_json()
        self.dump_graph_json(graph)

    def _update_graph_json(self) -> None:
        """Classic layout: inputs by node name, op = the kernel ("param" for inputs), shape and dtype."""
        eid = 0
        for node in self._nodes_list:
            if node["op"] == "null":
                node["attrs"], node["op"], num_outputs = {}, "param", 1
                node["inputs"] = []
            else:
                node["inputs"] = [self._nodes_list[i[0]]["name"] for i in node["inputs"]]
                node["op"] = node["attrs"]["func_name"]
                num_outputs = int(node["attrs"]["num_outputs"])
            node["attrs"]["T"] = "type: " + self._dtype_list[eid]
            node["shape"] = self._shapes_list[eid]
            node["num_outputs"] = num_outputs
            eid += num_outputs

    @property
    def dump_path(self) -> str:
        return self._dump_path

    def get_graph_nodes(self) -> list:
        return self._nodes_list

    def get_graph_node_shapes(self) -> list:
        return self._shapes_list

    def get_graph_node_dtypes(self) -> list:
        return self._dtype_list

    def get_output_tensors(self) -> dict:
        """{"<node>____topo-index:<entry>____output-num:<i>": array} for every node's outputs."""
        out, eid = {}, 0
        for node in self._nodes_list:
            for j in range(node["num_outputs"]):
                if eid < len(self._output_tensor_list):
                    out[f"{node['name']}____topo-index:{eid}____output-num:{j}"] = self._output_tensor_list[eid]
                eid += 1
        return out

    def set_times(self, times: list) -> None:
        """Per node, the seconds of each repeat ([0.0] for inputs and parameters)."""
        self._time_list = [list(map(float, t)) for t in times]

    def set_outputs(self, outputs: list) -> None:
        """Per graph entry, its array (numpy) after the node that writes it ran."""
        self._output_tensor_list = list(outputs)

    # ------------------------------------------------------------------ files
    def dump_graph_json(self, graph: dict) -> None:
        write_atomic(os.path.join(self._dump_path, GRAPH_DUMP_FILE_NAME),
                     json.dumps({"nodes": self._nodes_list, "arg_nodes": graph.get("arg_nodes", []),
                                 "heads": graph.get("heads", []), "node_row_ptr": graph.get("node_row_ptr", []),
                                 "attrs": graph.get("attrs", {})}, indent=4).encode())

    def dump_output_tensor(self) -> None:
        tensors = {k: np.ascontiguousarray(v) for k, v in self.get_output_tensors().items()}
        write_atomic(os.path.join(self._dump_path, OUTPUT_TENSORS_FILE_NAME), save_param_dict(tensors))

    def dump_chrome_trace(self) -> None:
        """Begin/end events per node (microseconds), end to end in graph order."""
        events, t = [], 0.0
        for node, times in zip(self._nodes_list, self._time_list):
            mean = float(np.mean(times)) * 1e6
            events.append({"ph": "B", "ts": t, "tid": 1, "pid": 1, "name": node["name"]})
            events.append({"ph": "E", "ts": t + mean, "tid": 1, "pid": 1, "name": node["name"]})
            t += mean
        write_atomic(os.path.join(self._dump_path, CHROME_TRACE_FILE_NAME),
                     json.dumps({"displayTimeUnit": "ns", "traceEvents": events}).encode())

    # ------------------------------------------------------------------ the table
    def get_debug_result(self, sort_by_time: bool = True) -> str:
        header = ["Node Name", "Ops", "Time(us)", "Time(%)", "Shape", "Inputs", "Outputs", "Measurements(us)"]
        rules = ["-" * len(h) for h in header]
        total = sum(float(np.mean(t)) for t in self._time_list)
        data, eid = [], 0
        for node, times in zip(self._nodes_list, self._time_list):
            if node["op"] == "param":
                eid += 1
                continue
            mean = float(np.mean(times))
            shape = str(tuple(self._shapes_list[eid]))
            data.append([node["name"], node["op"], round(mean * 1e6, 3),
                         round(mean / total * 100, 3) if total > 0 else 0.0, shape, str(len(node["inputs"])),
                         str(node["num_outputs"]), str([round(t * 1e6, 3) for t in times])])
            eid += node["num_outputs"]
        if sort_by_time:
            data.sort(key=lambda r: -r[2])
        data.append(["Total_time", "-", round(total * 1e6, 3), "-", "-", "-", "-", "-"])
        widths = [max(len(str(r[i])) for r in [header] + data) + 2 for i in range(len(header))]
        fmt = lambda row: "".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
        return "\n".join([fmt(header), fmt(rules)] + [fmt(r) for r in data])

    def display_debug_result(self, sort_by_time: bool = True) -> None:
        print(self.get_debug_result(sort_by_time))
