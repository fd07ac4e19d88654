"""Turn a fused main function into the classic graph JSON, its kernels and its parameters.

Memory planning: every intermediate value gets a storage id; a storage block is reused once
every reader of its previous value has run (never by the node reading it, so a kernel's inputs
and outputs never overlap).  Inputs, parameters and outputs keep blocks of their own.
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from ...ir import dtype as dt
from ..expr import Call, Constant, Function, Tuple, TupleGetItem, Var
from ..ty import TensorType, TupleType
from ..visitor import ExprMutator, post_order, replace_nodes


def _tensor_types(ty) -> list:
    if isinstance(ty, TupleType):
        return [t for f in ty.fields for t in _tensor_types(f)]
    return [ty]


def _distinct_input_names(names: list) -> list:
    """The graph's input names: the parameters' own, a repeated one numbered (w, w_1, w_2: classic
    Relay allows distinct variables of one name, but the graph sets its inputs by name)."""
    out, taken = [], set(names)
    for i, n in enumerate(names):
        if n in names[:i]:
            k = 1
            while f"{n}_{k}" in taken:
                k += 1
            warnings.warn(f"relay.build: several inputs are named {n!r}; the graph names this one {n}_{k}:"
                          f" set it by that name", stacklevel=4)
            n = f"{n}_{k}"
            taken.add(n)
        out.append(n)
    return out


def _lift_tensor_constants(main: Function) -> Function:
    """Tensor constants a fused function keeps (FuseOps with relay.FuseOps.link_params) become its
    parameters again: the graph hands kernels their tensors, the kernels hold only scalars."""
    class Lift(ExprMutator):
        def visit_call(self, c):
            c = super().visit_call(c)
            if not isinstance(c.op, Function):
                return c
            consts = [n for n in post_order(c.op.body) if isinstance(n, Constant) and n.data.size != 1]
            if not consts:
                return c
            params = [Var(f"p{len(c.op.params) + i}", n.ty, n.ty) for i, n in enumerate(consts)]
            body = replace_nodes(c.op.body, {id(n): v for n, v in zip(consts, params)})
            fn = Function(c.op.params + tuple(params), body, c.op.ret_type, c.op.attrs)
            return Call(fn, c.args + tuple(consts), c.attrs, c.ty)

    return Lift().visit(main)


class GraphCodegen:
    def __init__(self, compiler):
        self.compiler = compiler
        self.nodes: list = []
        self.entries: dict = {}  # id(expr) -> list of (node, index)
        self.entry_types: dict = {}  # (node, index) -> TensorType
        self.params: dict = {}
        self.kernels: dict = {}

    def _node(self, node: dict, types: list) -> list:
        nid = len(self.nodes)
        self.nodes.append(node)
        out = [(nid, i) for i in range(len(types))]
        for e, t in zip(out, types):
            self.entry_types[e] = t
        return out

    def run(self, main: Function):
        main = _lift_tensor_constants(main)
        names = _distinct_input_names([p.name_hint for p in main.params])
        taken = set(names)
        for p, name in zip(main.params, names):
            self.entries[id(p)] = self._node({"op": "null", "name": name, "inputs": []}, [p.ty])
        order = post_order(main.body)
        for n in order:
            if id(n) in self.entries or isinstance(n, Function):
                continue
            if isinstance(n, Constant):
                name = next(f"p{k}" for k in range(len(self.params), len(self.params) + len(taken) + 1)
                            if f"p{k}" not in taken)
                taken.add(name)
                self.params[name] = n.data
                self.entries[id(n)] = self._node({"op": "null", "name": name, "inputs": []}, [n.ty])
            elif isinstance(n, Call):
                if not isinstance(n.op, Function):
                    raise ValueError(f"operator {n.op.name} was not fused into a kernel; run FuseOps first")
                group = self.compiler.lower(n.op)
                self.kernels[group.name] = group.prim_func
                inputs = [list(e) + [0] for a in n.args for e in self.entries[id(a)]]
                node = {"op": "tvm_op", "name": group.name, "inputs": inputs,
                        "attrs": {"func_name": group.name, "num_inputs": str(len(inputs)),
                                  "num_outputs": str(group.num_outputs), "flatten_data": "0"}}
                self.entries[id(n)] = self._node(node, _tensor_types(n.ty))
            elif isinstance(n, Tuple):
                self.entries[id(n)] = [e for f in n.fields for e in self.entries[id(f)]]
            elif isinstance(n, TupleGetItem):
                self.entries[id(n)] = [self.entries[id(n.tuple_value)][n.index]]
            elif isinstance(n, Var):
                raise ValueError(f"free variable %{n.name_hint} in main")
        heads = self.entries[id(main.body)]
        return self._graph_json(main, heads), self.kernels, self.params

    def _graph_json(self, main, heads) -> str:
        row_ptr = [0]
        shapes, dtypes = [], []
        for nid, node in enumerate(self.nodes):
            n_out = int(node.get("attrs", {}).get("num_outputs", 1))
            row_ptr.append(row_ptr[-1] + n_out)
            for i in range(n_out):
                t = self.entry_types[(nid, i)]
                if not all(isinstance(s, int) or hasattr(s, "value") for s in t.shape):
                    raise ValueError(f"{node['name']} has the symbolic shape {tuple(t.shape)}: the graph executor "
                                     "runs static shapes only; give the inputs concrete shapes "
                                     "(relay.var(name, shape=(5, 4)))")
                shapes.append([int(s) for s in t.shape])
                dtypes.append(t.dtype)
        storage = _plan_memory(self.nodes, row_ptr, shapes, dtypes, heads)
        graph = {
            "nodes": self.nodes,
            "arg_nodes": [i for i, n in enumerate(self.nodes) if n["op"] == "null"],
            "heads": [[nid, i, 0] for nid, i in heads],
            "node_row_ptr": row_ptr,
            "attrs": {"shape": ["list_shape", shapes], "dltype": ["list_str", dtypes],
                      "storage_id": ["list_int", storage]},
        }
        return json.dumps(graph)


def _plan_memory(nodes, row_ptr, shapes, dtypes, heads) -> list:
    nbytes = [int(np.prod(s, dtype=np.int64)) * dt.itemsize(d) for s, d in zip(shapes, dtypes)]
    last_use: dict = {}
    for nid, node in enumerate(nodes):
        for src, idx, _ in node["inputs"]:
            last_use[row_ptr[src] + idx] = nid
    pinned = {row_ptr[nid] + i for nid, i in heads}
    storage = [-1] * len(shapes)
    sizes: list = []
    free: list = []
    for nid, node in enumerate(nodes):
        outs = range(row_ptr[nid], row_ptr[nid + 1])
        for eid in outs:
            if node["op"] == "null" or eid in pinned:
                storage[eid] = len(sizes)
                sizes.append(nbytes[eid])
                continue
            fit = [s for s in free if sizes[s] >= nbytes[eid]]
            sid = min(fit, key=lambda s: sizes[s]) if fit else (max(free, key=lambda s: sizes[s]) if free else None)
            if sid is None:
                sid = len(sizes)
                sizes.append(nbytes[eid])
            else:
                free.remove(sid)
                sizes[sid] = max(sizes[sid], nbytes[eid])
            storage[eid] = sid
        for src, idx, _ in node["inputs"]:
            eid = row_ptr[src] + idx
            if last_use.get(eid) == nid and nodes[src]["op"] != "null" and eid not in pinned \
                    and storage[eid] not in free and all(storage[eid] != storage[o] for o in outs):
                free.append(storage[eid])
        for eid in outs:  # an output nobody reads is dead at once
            if eid not in last_use and eid not in pinned and nodes[nid]["op"] != "null":
                free.append(storage[eid])
    return storage


def is_tensor(ty) -> bool:
    return isinstance(ty, TensorType)
