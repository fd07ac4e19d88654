"""The graph executor: run a compiled graph (graph JSON + kernels + parameters).

Each value lives in a storage block chosen by the memory planner; the graph JSON (graph_json.py)
and every kernel call are checked once when the executor is created, then `run()` calls the
kernels directly, in order.  It refuses to run while an input was never set: the kernels would
read whatever the fresh storage held.

GraphExecutorFactoryModule is what relay.build returns and what `load_module` gives back for a
library exported from it: the graph, the kernels and the parameters together, so that
`GraphModule(lib["default"](dev))` works in a process that never saw the compiler.
"""

from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np

from ..error import TVMError
from .artifact import ArtifactError
from .fileio import write_atomic
from .graph_json import PARAM_NAME, check_params, parse_graph
from .ndarray import NDArray, array, empty
from .params import load_param_dict, save_param_dict


class GraphExecutor:
    def __init__(self, graph_json: str, lib, dev, where: str = "graph JSON"):
        self.graph = parse_graph(graph_json, where)
        self.lib, self.device = lib, dev
        g = self.graph
        self.nodes, self.row_ptr = g["nodes"], g["node_row_ptr"]
        shapes = g["attrs"]["shape"][1]
        dtypes = g["attrs"]["dltype"][1]
        storage_ids = g["attrs"]["storage_id"][1]
        sizes: dict = {}
        for sid, shape, dtype in zip(storage_ids, shapes, dtypes):
            n = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            sizes[sid] = max(sizes.get(sid, 0), n)
        # only the entries' views hold the blocks: an input rebound by set_input_zero_copy frees its own
        storage = {sid: empty((max(n, 1),), "uint8", dev) for sid, n in sizes.items()}
        self.entries = []
        for sid, shape, dtype in zip(storage_ids, shapes, dtypes):
            raw = storage[sid]._np
            n = int(np.prod(shape, dtype=np.int64))
            view = raw[: n * np.dtype(dtype).itemsize].view(dtype).reshape(shape)
            self.entries.append(NDArray(view, dev))
        self.input_names = {n["name"]: i for i, n in enumerate(self.nodes) if n["op"] == "null"}
        self._unset = set(self.input_names)  # inputs run() would read uninitialised
        self._name_of_entry = {self.row_ptr[nid]: name for name, nid in self.input_names.items()}
        self.outputs = [self.row_ptr[nid] + idx for nid, idx, *_ in g["heads"]]
        self._calls = []
        self._call_nodes = []  # the graph node of each call
        self._call_entries = []  # the entries each call reads and writes, in argument order
        self._readers: dict = {}  # entry -> the calls that take it
        self._shared = set()  # input entries bound to the caller's memory by set_input_zero_copy
        for nid, node in enumerate(self.nodes):
            if node["op"] != "tvm_op":
                continue
            func = node["attrs"]["func_name"]
            if func not in lib:
                raise ArtifactError(where, f"nodes[{nid}] ({node['name']})", f"calls kernel {func!r}, which the "
                                    f"library does not have; it has {lib.function_names}")
            fn = lib[func]
            used = [self.row_ptr[s] + i for s, i, *_ in node["inputs"]]
            used += list(range(self.row_ptr[nid], self.row_ptr[nid + 1]))
            try:
                native = fn._check(tuple(self.entries[e] for e in used))
            except (TypeError, ValueError) as err:
                raise ArtifactError(where, f"nodes[{nid}] ({node['name']})", "its inputs and outputs do not fit "
                                    f"kernel {func!r}: {err}") from None
            self._calls.append((node["name"], fn._cfunc, native, fn))
            self._call_nodes.append(nid)
            for e in set(used):
                self._readers.setdefault(e, []).append(len(self._call_entries))
            self._call_entries.append(used)
        self.kernel_flops: dict | None = None  # {kernel: flop per call}, for profile(report=True)

    # ------------------------------------------------------------------ inputs and outputs
    def _entry_of_input(self, key) -> int:
        if isinstance(key, int):
            names = [n["name"] for n in self.nodes if n["op"] == "null"]
            if not 0 <= key < len(names):
                raise IndexError(f"input index {key} out of range; the graph has inputs {names}")
            key = names[key]
        nid = self.input_names.get(key)
        if nid is None:
            names = [n for n in self.input_names if not n.startswith("p") or not n[1:].isdigit()]
            raise KeyError(f"graph has no input named {key!r}; its inputs are {names}")
        return self.row_ptr[nid]

    def set_input(self, key=None, value=None, **params):
        if key is not None:
            self._set(key, value)
        for k, v in params.items():
            self._set(k, v)

    def _checked_source(self, key, value, cast: bool = False) -> tuple:
        """(entry, numpy view of value) after checking value against the input named `key`; with
        `cast`, a value of another dtype of the same kind (float64 for float32, as classic
        set_input takes it), or whose values the input's dtype holds exactly, is converted;
        others (2.5 for an int input, complex) are refused."""
        entry = self._entry_of_input(key)
        e = self.entries[entry]
        src = np.asarray(value) if isinstance(value, NDArray) else \
            value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        if tuple(src.shape) != tuple(e.shape):
            raise ValueError(f"input {key!r}: expected shape {tuple(e.shape)}, got {tuple(src.shape)}")
        if str(src.dtype) != e.dtype:
            converted = src.astype(e.dtype) if cast and src.dtype.kind in "biuf" else None
            if converted is not None and (np.can_cast(src.dtype, e.dtype, "same_kind")
                                          or np.array_equal(converted, src)):  # e.g. 2.0 for an int32 input
                return entry, converted
            raise TypeError(f"input {key!r}: expected dtype {e.dtype}, got {src.dtype}"
                            + (f" (convert it: value.astype({e.dtype!r}))" if cast else " (zero copy cannot convert)"))
        return entry, src

    def _set(self, key, value):
        entry, src = self._checked_source(key, value, cast=True)
        if entry in self._shared:  # never write into memory the caller lent us
            self._bind(entry, empty(src.shape, str(src.dtype), self.device))
        self.entries[entry].copyfrom(src)
        self._unset.discard(self._name_of_entry[entry])

    def set_input_zero_copy(self, key, value) -> None:
        """Let input `key` read `value`'s memory instead of a copy of it (classic name): the weights of a
        large model then live once, not once per executor.  `value` (NDArray or C-contiguous numpy
        array, of the input's shape and dtype) must stay unchanged while this executor runs; a later
        set_input or get_input gives the input private memory again."""
        entry, src = self._checked_source(key, value)
        if not src.flags.c_contiguous:
            raise ValueError(f"set_input_zero_copy({key!r}): the array is not C-contiguous; pass "
                             "np.ascontiguousarray(value), or use set_input, which copies")
        self._bind(entry, NDArray(src, self.device))
        self._shared.add(entry)
        self._unset.discard(self._name_of_entry[entry])

    def lend_inputs(self, values: dict) -> None:
        """{input name: array}: each read in place where it is C-contiguous, else copied (by name: a
        parameter may be called "key" or "value")."""
        for name, value in values.items():
            if np.asarray(value).flags.c_contiguous:
                self.set_input_zero_copy(name, value)
            else:
                self.set_input(name, value)

    def _bind(self, entry: int, arr: NDArray) -> None:
        """Point input `entry` at `arr` and re-check the kernel calls that read it."""
        self.entries[entry] = arr
        self._shared.discard(entry)
        for k in self._readers.get(entry, ()):
            name, cfunc, _, fn = self._calls[k]
            self._calls[k] = (name, cfunc, fn._check(tuple(self.entries[e] for e in self._call_entries[k])), fn)

    def get_input(self, key) -> NDArray:
        """The input's array; counts as set, since classic code fills it in place (`get_input(k).copyfrom(x)`)."""
        entry = self._entry_of_input(key)
        if entry in self._shared:  # the caller may write into it: give the input private memory first
            self._bind(entry, array(self.entries[entry], self.device))
        self._unset.discard(self._name_of_entry[entry])
        return self.entries[entry]

    def load_params(self, data: bytes, where: str = "parameter file") -> None:
        """Set the parameters saved by save_param_dict: all that the graph needs (its inputs p0, p1, ...),
        and no name that is not an input of the graph."""
        params = load_param_dict(data, where)
        check_params(self.graph, params, where)
        for k, v in params.items():
            self._set(k, v)

    def get_num_outputs(self) -> int:
        return len(self.outputs)

    def get_num_inputs(self) -> int:
        return len(self.input_names)

    def get_output(self, index: int, out=None) -> NDArray:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"get_output({index!r}): outputs are indexed by number, 0..{len(self.outputs) - 1} "
                            f"(the graph has {len(self.outputs)} outputs)")
        if not 0 <= index < len(self.outputs):
            raise IndexError(f"output index {index} out of range; the graph has {len(self.outputs)} outputs")
        e = self.entries[self.outputs[index]]
        if out is None:
            out = empty(e.shape, e.dtype, self.device)  # outputs live in reused storage: hand out a copy
        out.copyfrom(e)
        return out

    def take_outputs(self) -> list:
        """The outputs' own arrays as numpy arrays, not copies: for a caller that runs the graph once and
        then drops the executor (constant folding), so each value is held once."""
        return [np.asarray(self.entries[e]) for e in self.outputs]

    # ------------------------------------------------------------------ running
    def run(self, **inputs) -> None:
        for k, v in inputs.items():
            self._set(k, v)
        if self._unset:
            self._refuse_unset()
        for name, cfunc, native, fn in self._calls:
            rc = cfunc(*native)
            if rc != 0:
                raise RuntimeError(f"kernel {name}: " + fn.failure_message(rc))

    def _refuse_unset(self):
        params = sorted(k for k in self._unset if PARAM_NAME.fullmatch(k))
        inputs = sorted(self._unset - set(params))
        why = [f"input(s) {inputs} were never set (set_input(name, value))"] if inputs else []
        why += [f"parameter(s) {params} were never loaded (load_params)"] if params else []
        raise TVMError(f"run(): {' and '.join(why)}; the graph would read uninitialised memory")

    def benchmark(self, device=None, func_name="run", repeat=5, number=5, min_repeat_ms=None, end_to_end=False,
                  **kwargs):
        """Median and spread of `run()` over `repeat` repeats of `number` runs each (seconds)."""
        from .timing import ProfileResult

        if kwargs:
            self.set_input(**kwargs)
        self.run()
        results = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(number):
                self.run()
            results.append((time.perf_counter() - t0) / number)
        return ProfileResult.from_results(results)

    def time_nodes(self, number: int = 10, repeat: int = 1, min_repeat_ms: float = 0, on_node=None) -> list:
        """Run the graph node by node, timing each kernel call on its own: one warm-up call, then `repeat`
        measurements of `number` calls (`number` grows until a measurement takes `min_repeat_ms`).
        Returns [(node id, [seconds per call, one per repeat])] in graph order; `on_node(nid)` is called
        right after each node has run, while its outputs are still in place (storage is reused later).
        Nodes run in order, so the graph's outputs are those of one run."""
        for name, value in (("number", number), ("repeat", repeat)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self._unset:
            self._refuse_unset()
        clock = time.perf_counter
        out = []
        for nid, (name, cfunc, native, fn) in zip(self._call_nodes, self._calls):
            rc = cfunc(*native)  # warm-up
            if rc != 0:
                raise RuntimeError(f"kernel {name}: " + fn.failure_message(rc))
            n, times = number, []
            for _ in range(repeat):
                while True:
                    t0 = clock()
                    for _ in range(n):
                        cfunc(*native)
                    ms = (clock() - t0) * 1e3
                    if ms >= min_repeat_ms or ms == 0:
                        break
                    n = max(int(min_repeat_ms / (ms / n)) + 1, int(n * 1.618))
                times.append(ms / 1e3 / n)
            out.append((nid, times))
            if on_node is not None:
                on_node(nid)
        return out

    def kernel_stats(self, number: int = 10, flops: dict | None = None) -> list:
        """Per kernel (fused function): its median time per call x calls, output shapes, flop per call (from
        `flops` or `self.kernel_flops`; None where unknown) and bytes per call (inputs + outputs)."""
        from .timing import KernelStat

        flops = flops if flops is not None else (self.kernel_flops or {})
        shapes = self.graph["attrs"]["shape"][1]
        dtypes = self.graph["attrs"]["dltype"][1]

        def nbytes(e):
            return int(np.prod(shapes[e], dtype=np.int64)) * np.dtype(dtypes[e]).itemsize

        per: dict = {}
        for nid, times in self.time_nodes(number, repeat=3):
            node = self.nodes[nid]
            name = node["attrs"]["func_name"]
            outs = range(self.row_ptr[nid], self.row_ptr[nid + 1])
            ins = [self.row_ptr[s] + i for s, i, *_ in node["inputs"]]
            ent = per.setdefault(name, {"seconds": 0.0, "calls": 0, "shapes": tuple(tuple(shapes[e]) for e in outs),
                                        "nbytes": sum(nbytes(e) for e in [*ins, *outs])})
            ent["seconds"] += float(np.median(times))
            ent["calls"] += 1
        total = sum(e["seconds"] for e in per.values()) or 1.0
        return [KernelStat(n, e["seconds"], e["calls"], e["seconds"] / total, e["shapes"],
                           float(flops[n]) if flops.get(n) else None, e["nbytes"]) for n, e in per.items()]

    def profile(self, number: int = 10, report: bool = False, flops: dict | None = None, peak=None,
                top: int | None = None, file=None):
        """Debug mode: per-kernel time.  By default a list of (kernel name, seconds per run, share of the
        total), slowest first.  With report=True, prints the table of fused functions (time, share, calls,
        output shapes, GFLOP/s, GB/s, compute- or memory-bound, share of the machine's peak; the `top`
        slowest) and returns the timing.ProfileReport, which also iterates as those triples.

        flops: {kernel name: flop per call}; default the executor's kernel_flops, which the harness fills
        (tilecraft.harness.profile.kernel_flops counts them from the fused functions' compute).
        peak: a timing.MachinePeak, a (GFLOP/s, GB/s) pair, or None for timing.machine_peak()."""
        from .timing import MachinePeak, ProfileReport, machine_peak

        self.run()
        stats = self.kernel_stats(number, flops)
        if not report:
            return sorted(((k.name, k.seconds, k.share) for k in stats), key=lambda r: -r[1])
        if not isinstance(peak, MachinePeak):
            peak = machine_peak(*(peak or (None, None)))
        result = ProfileReport(stats, peak, top)
        result.print(file=file)
        return result


class GraphModule:
    """Classic wrapper: `GraphModule(lib["default"](dev))` then set_input / run / get_output."""

    def __init__(self, module):
        self.module = module if isinstance(module, GraphExecutor) else module.executor

    def __getattr__(self, name):
        return getattr(self.module, name)


def create(graph_json: str, lib, device, where: str = "graph JSON") -> GraphModule:
    """Checks the three arguments' kinds first: a parsed dict, a missing library or a device name would
    otherwise fail deep inside with an error that names none of them."""
    from .device import Device

    if not isinstance(graph_json, (str, bytes, bytearray)):
        raise TypeError(f"graph_executor.create: graph_json must be the graph JSON text (a str, as "
                        f"factory.get_graph_json() returns), got {type(graph_json).__name__}"
                        + ("; pass json.dumps(graph)" if isinstance(graph_json, dict) else ""))
    if not hasattr(lib, "function_names"):
        raise TypeError(f"graph_executor.create: lib must be the compiled module holding the kernels "
                        f"(factory.get_lib() or tvm.runtime.load_module(path)), got {lib!r}")
    if not isinstance(device, Device):
        raise TypeError(f"graph_executor.create: device must be a Device such as tvm.cpu(0) or "
                        f"tvm.device({device!r}), got {device!r} ({type(device).__name__})")
    return GraphModule(GraphExecutor(graph_json, lib, device, where))


class GraphExecutorFactoryModule:
    """Graph JSON, kernels and parameters: `lib["default"](dev)` makes a graph executor.

    `lib[name]` is also any kernel of the graph, `get_graph_json()` / `get_params()` / `get_lib()`
    its parts, and `graph, lib, params = relay.build(...)` the classic (deprecated) three values."""

    type_key = "GraphExecutorFactory"

    def __init__(self, graph_json: str, lib, params: dict, mod_name: str = "default", ir_mod=None):
        self.graph_json, self.lib, self.params, self.mod_name = graph_json, lib, params, mod_name
        self.ir_mod = ir_mod
        self.kernel_flops: dict | None = None  # {kernel: flop per call}, handed to the executors it makes
        self.imported_modules = [lib]

    def get_graph_json(self) -> str:
        return self.graph_json

    def get_lib(self):
        return self.lib

    def get_params(self) -> dict:
        return {k: array(v) for k, v in self.params.items()}

    def __iter__(self):
        warnings.warn("graph, lib, params = relay.build(...) is the legacy form; use "
                      "GraphModule(lib['default'](dev)) with the returned factory module",
                      DeprecationWarning, stacklevel=2)
        return iter((self.graph_json, self.lib, self.get_params()))

    def __getitem__(self, name):
        if isinstance(name, int):  # the legacy tuple: (graph_json, lib, params)[i]
            return (self.graph_json, self.lib, self.get_params())[name]
        if name == self.mod_name:
            return self._create
        if name == "debug_create":  # classic: lib["debug_create"]("default", dev) for debug_executor.GraphModuleDebug
            return self._debug_create
        own = {"get_graph_json": self.get_graph_json, "get_params": self.get_params, "get_lib": self.get_lib}
        if name in own:
            return own[name]
        if name in self.lib:
            return self.lib[name]
        raise AttributeError(f"module has no function {name!r}; it has {self.mod_name!r} (the graph executor), "
                             f"get_graph_json, get_params, get_lib and the kernels {self.lib.function_names}")

    def __contains__(self, name) -> bool:
        return name in (self.mod_name, "get_graph_json", "get_params", "get_lib") or name in self.lib

    @property
    def function_names(self) -> list:
        return self.lib.function_names

    def _create(self, dev):
        ex = GraphExecutor(self.graph_json, self.lib, dev)
        ex.kernel_flops = self.kernel_flops
        ex.lend_inputs(self.params)  # weights held once, by the factory, for all its executors
        return ex

    def _debug_create(self, mod_name, dev):
        if mod_name != self.mod_name:
            raise ValueError(f"debug_create({mod_name!r}): this module is {self.mod_name!r}")
        return self._create(dev)

    def export_library(self, path, fcompile=None, **kwargs) -> None:
        """One library file (".so" or ".tar") holding the kernels, the graph and the parameters."""
        from .export import export_library

        blobs = {"graph.json": self.graph_json.encode(), "params.bin": save_param_dict(self.params),
                 "factory.json": json.dumps({"executor": "graph", "mod_name": self.mod_name}).encode()}
        export_library(self.lib, path, fcompile=fcompile, blobs=blobs, **kwargs)

    def save(self, directory) -> dict:
        """Write deploy_lib.tar (the kernels), deploy_graph.json and deploy_params.bin, each atomically."""
        os.makedirs(directory, exist_ok=True)
        paths = {k: os.path.join(directory, f) for k, f in
                 (("lib", "deploy_lib.tar"), ("graph", "deploy_graph.json"), ("params", "deploy_params.bin"))}
        self.lib.export_library(paths["lib"])
        write_atomic(paths["graph"], self.graph_json.encode())
        write_atomic(paths["params"], save_param_dict(self.params))
        return paths

    def __repr__(self) -> str:
        return f"GraphExecutorFactoryModule({self.mod_name!r}, kernels={len(self.lib.function_names)})"


def factory_from_blobs(lib, blobs: dict, where: str = "library"):
    """The factory a library exported by GraphExecutorFactoryModule.export_library carries, else `lib`;
    its graph and parameters are checked here, so a bad library fails when loaded."""
    if "graph.json" not in blobs:
        return lib
    info = blobs.get("factory.json") or b"{}"
    try:
        info = json.loads(info)
    except (ValueError, UnicodeDecodeError) as err:
        raise ArtifactError(where, "factory.json", f"not valid JSON ({err})") from None
    if not isinstance(info, dict) or not isinstance(info.get("mod_name", ""), str):
        raise ArtifactError(where, "factory.json", "expected a JSON object with a string mod_name")
    graph = parse_graph(blobs["graph.json"], f"{where}: graph.json")
    params = load_param_dict(blobs["params.bin"], f"{where}: params.bin") if "params.bin" in blobs else {}
    check_params(graph, params, f"{where}: params.bin")
    return GraphExecutorFactoryModule(blobs["graph.json"].decode(), lib, params, info.get("mod_name", "default"))
