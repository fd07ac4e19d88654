"""Reading a graph JSON (deploy_graph.json, or graph.json inside a library) and its parameters.

The executor sizes its buffers from the graph's shapes and wires kernel arguments from its node
references, so a wrong shape or a dangling reference would make a kernel write outside its
memory.  Everything is checked here first, once, and reported as an ArtifactError naming the
file and the field (`nodes[3].inputs[1]`, `attrs.shape[2]`); the executor then trusts it.
"""

from __future__ import annotations

import json
import re

import numpy as np

from .artifact import ArtifactError

# relay's graph code generator names the constants it lifts out of the graph p0, p1, ...; those inputs are
# the parameters, which deploy_params.bin must supply (the other inputs are the model's own).
PARAM_NAME = re.compile(r"p\d+")
_MAX_BYTES = 1 << 44  # no real tensor is 16 TiB; a larger shape is an edited file, refused before allocating


def _int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def parse_graph(text, where: str) -> dict:
    """The graph JSON `text` (str or bytes) as a dict, every field the executor reads checked."""
    try:
        g = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise ArtifactError(where, "", f"not valid JSON ({err})") from None

    def need(value, what, kind, test=None, want=""):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)) or \
                (test is not None and not test(value)):
            shown = json.dumps(value)
            raise ArtifactError(where, what, f"expected {want or kind.__name__}, got "
                                f"{shown[:80] + ('...' if len(shown) > 80 else '')}")
        return value

    def key(obj, k, what, kind, test=None, want=""):
        if k not in obj:
            raise ArtifactError(where, f"{what}{k}", "missing")
        return need(obj[k], f"{what}{k}", kind, test, want)

    need(g, "graph", dict, want="a JSON object")
    nodes = key(g, "nodes", "", list)
    row_ptr = key(g, "node_row_ptr", "", list,
                  lambda r: len(r) == len(nodes) + 1 and all(_int(x) for x in r) and r[0] == 0
                  and all(a <= b for a, b in zip(r, r[1:])),
                  f"{len(nodes) + 1} non-decreasing integers from 0 (one per node, and the end)")
    n_entries = row_ptr[-1]

    def entry(e, what, before):
        """A reference [node id, output index, version] to an output of a node before `before`."""
        need(e, what, list, lambda v: len(v) in (2, 3) and all(_int(x) for x in v), want="[node, index, version]")
        nid, idx = e[0], e[1]
        if not 0 <= nid < before:
            raise ArtifactError(where, what, f"refers to node {nid}, which is not an earlier node "
                                f"(there are {before})")
        if not 0 <= idx < row_ptr[nid + 1] - row_ptr[nid]:
            raise ArtifactError(where, what, f"refers to output {idx} of node {nid}, which has "
                                f"{row_ptr[nid + 1] - row_ptr[nid]}")

    for i, node in enumerate(nodes):
        at = f"nodes[{i}]"
        need(node, at, dict, want="a JSON object")
        op = key(node, "op", f"{at}.", str, lambda o: o in ("null", "tvm_op"), '"null" or "tvm_op"')
        key(node, "name", f"{at}.", str)
        outs = row_ptr[i + 1] - row_ptr[i]
        if op == "null":
            if outs != 1:
                raise ArtifactError(where, f"node_row_ptr[{i}]", f"input node {node['name']!r} has {outs} "
                                    "outputs, expected 1")
            continue
        attrs = key(node, "attrs", f"{at}.", dict)
        key(attrs, "func_name", f"{at}.attrs.", str)
        if "num_outputs" in attrs and str(attrs["num_outputs"]) != str(outs):
            raise ArtifactError(where, f"{at}.attrs.num_outputs", f"{attrs['num_outputs']}, but node_row_ptr "
                                f"gives the node {outs} outputs")
        for j, e in enumerate(key(node, "inputs", f"{at}.", list)):
            entry(e, f"{at}.inputs[{j}]", i)
    for j, e in enumerate(key(g, "heads", "", list)):
        entry(e, f"heads[{j}]", len(nodes))

    attrs = key(g, "attrs", "", dict)
    columns = {}
    for name, tag in (("shape", "list_shape"), ("dltype", "list_str"), ("storage_id", "list_int")):
        col = key(attrs, name, "attrs.", list, lambda v: len(v) == 2 and isinstance(v[1], list), f'["{tag}", [...]]')
        if len(col[1]) != n_entries:
            raise ArtifactError(where, f"attrs.{name}", f"{len(col[1])} values for the graph's {n_entries} entries")
        columns[name] = col[1]
    for e, (shape, dtype, sid) in enumerate(zip(columns["shape"], columns["dltype"], columns["storage_id"])):
        need(shape, f"attrs.shape[{e}]", list, lambda s: all(_int(d) and d >= 0 for d in s),
             "a list of non-negative integers")
        need(sid, f"attrs.storage_id[{e}]", int, lambda s: s >= 0, "a non-negative integer")
        try:
            itemsize = np.dtype(need(dtype, f"attrs.dltype[{e}]", str)).itemsize
        except TypeError:
            raise ArtifactError(where, f"attrs.dltype[{e}]", f"unknown dtype {dtype!r}") from None
        if int(np.prod(shape, dtype=object)) * itemsize > _MAX_BYTES:
            raise ArtifactError(where, f"attrs.shape[{e}]", f"{shape} of {dtype} is implausibly large")
    return g


def check_params(graph: dict, params: dict, where: str) -> None:
    """Raise unless `params` ({name: array}) names only inputs of `graph`, each with the graph's shape and
    dtype, and supplies every parameter (input named p<N>) the graph needs."""
    inputs = {n["name"]: i for i, n in enumerate(graph["nodes"]) if n["op"] == "null"}
    unknown = sorted(k for k in params if k not in inputs)
    if unknown:
        raise ArtifactError(where, "names", f"{unknown} are not inputs of the graph; its inputs are "
                            f"{sorted(inputs)}")
    missing = sorted((k for k in inputs if PARAM_NAME.fullmatch(k) and k not in params),
                     key=lambda k: int(k[1:]))
    if missing:
        raise ArtifactError(where, "names", f"the graph needs the parameters {missing}, which are missing")
    shapes, dtypes = graph["attrs"]["shape"][1], graph["attrs"]["dltype"][1]
    for k, v in params.items():
        e = graph["node_row_ptr"][inputs[k]]
        if tuple(v.shape) != tuple(shapes[e]) or str(v.dtype) != dtypes[e]:
            raise ArtifactError(where, f"parameter {k!r}", f"{v.dtype}{list(v.shape)}, but the graph needs "
                                f"{dtypes[e]}{shapes[e]}")
