"""Helpers for the graph-pass tests: a numpy interpreter of relay graphs (the reference the
passes are checked against) and relay.build + run."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.relay.expr import Call, Constant, Function, Let, Tuple, TupleGetItem, Var
from tilecraft.relay.visitor import post_order


def _conv2d_nchw(x, w, strides, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, i, kh, kw = w.shape
    pt, pl, pb, pr = padding
    sh, sw = strides
    dh, dw = dilation
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, o, oh, ow), np.float64)
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * i:(g + 1) * i]
        for a in range(kh):
            for b in range(kw):
                patch = xs[:, :, a * dh:a * dh + sh * (oh - 1) + 1:sh, b * dw:b * dw + sw * (ow - 1) + 1:sw]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, w[g * og:(g + 1) * og, :, a, b])
    return out.astype(x.dtype)


def _layout_transform(x, src, dst):
    if src == "NCHW" and dst.startswith("NCHW"):
        b = int(dst[4:-1])
        n, c, h, w = x.shape
        return np.ascontiguousarray(x.reshape(n, c // b, b, h, w).transpose(0, 1, 3, 4, 2))
    if dst == "NCHW":
        n, cc, h, w, b = x.shape
        return np.ascontiguousarray(x.transpose(0, 1, 4, 2, 3).reshape(n, cc * b, h, w))
    if src == "OIHW":
        ib, ob = (int(v) for v in dst[4:-1].split("i"))
        o, i, kh, kw = x.shape
        return np.ascontiguousarray(x.reshape(o // ob, ob, i // ib, ib, kh, kw).transpose(0, 2, 4, 5, 3, 1))
    if src == "NC":
        nr = int(dst[2:-1])
        n, k = x.shape
        return np.ascontiguousarray(x.reshape(n // nr, nr, k).transpose(0, 2, 1))
    raise NotImplementedError(f"{src} -> {dst}")


def _unpack_kernel(k):
    occ, icc, kh, kw, ib, ob = k.shape
    return k.transpose(0, 5, 1, 4, 2, 3).reshape(occ * ob, icc * ib, kh, kw)


def _call(c, args):
    name, a = c.op.name, c.attrs
    binary = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
              "maximum": np.maximum, "minimum": np.minimum}
    unary = {"exp": np.exp, "sqrt": np.sqrt, "negative": np.negative, "nn.relu": lambda v: np.maximum(v, 0),
             "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh}
    if name in binary:
        return binary[name](*args)
    if name in unary:
        return unary[name](args[0])
    if name == "sum":
        axis = a["axis"]
        return np.sum(args[0], axis=tuple(axis) if isinstance(axis, (list, tuple)) else axis, keepdims=a["keepdims"])
    if name == "nn.bias_add":
        d, b = args
        shape = [1] * d.ndim
        shape[a["axis"] % d.ndim] = -1
        return d + b.reshape(shape)
    if name == "nn.dense":
        return args[0] @ args[1].T
    if name == "nn.contrib_dense_pack":
        w = args[1]
        return args[0] @ w.transpose(0, 2, 1).reshape(-1, w.shape[1]).T
    if name == "nn.conv2d":
        assert a["data_layout"] == "NCHW"
        return _conv2d_nchw(*args, a["strides"], a["padding"], a["dilation"], a["groups"])
    if name == "nn.contrib_conv2d_NCHWc":
        x = _layout_transform(args[0], a["data_layout"], "NCHW")
        y = _conv2d_nchw(x, _unpack_kernel(args[1]), a["strides"], a["padding"], a["dilation"], 1)
        return _layout_transform(y, "NCHW", a["out_layout"])
    if name == "layout_transform":
        return _layout_transform(args[0], a["src_layout"], a["dst_layout"])
    if name == "expand_dims":
        x = args[0]
        axis = a["axis"] % (x.ndim + 1)
        return x.reshape(x.shape[:axis] + (1,) * a["num_newaxis"] + x.shape[axis:])
    if name == "nn.batch_norm":
        x, g, b, m, v = args
        shape = [1] * x.ndim
        shape[a["axis"] % x.ndim] = -1
        scale = (g if a["scale"] else 1) / np.sqrt(v + a["epsilon"])
        y = (x - m.reshape(shape)) * scale.reshape(shape) + (b.reshape(shape) if a["center"] else 0)
        return (y.astype(x.dtype), m, v)
    raise NotImplementedError(name)


def evaluate(func: Function, inputs: dict):
    """The outputs of func on inputs (a numpy array or a tuple of them), computed with numpy."""
    env: dict = {id(p): np.asarray(inputs[p.name_hint]) for p in func.params}
    lets = {id(n.var): n for n in post_order(func.body) if isinstance(n, Let)}

    def ev(n):  # recursive: test graphs are small
        if id(n) in env:
            return env[id(n)]
        if isinstance(n, Constant):
            out = n.data
        elif isinstance(n, Var):
            out = ev(lets[id(n)].value)
        elif isinstance(n, Call):
            out = _call(n, [ev(x) for x in n.args])
        elif isinstance(n, Tuple):
            out = tuple(ev(f) for f in n.fields)
        elif isinstance(n, TupleGetItem):
            out = ev(n.tuple_value)[n.index]
        elif isinstance(n, Let):
            out = ev(n.body)
        else:
            raise NotImplementedError(type(n).__name__)
        env[id(n)] = out
        return out

    return ev(func.body)


def run_passes(func, passes, opt_level=3, disabled=()):
    """main of the module after `passes` (InferType first), under PassContext(opt_level)."""
    from tilecraft.target import Target

    mod = tvm.IRModule.from_expr(func)
    with Target("llvm"), tvm.transform.PassContext(opt_level=opt_level, disabled_pass=list(disabled)):
        mod = tvm.transform.Sequential([relay.transform.InferType(), *passes])(mod)
    return mod["main"]


def build_run(func, inputs: dict, opt_level=3, disabled=(), params=None):
    """relay.build func and run it; a list of numpy outputs."""
    with tvm.transform.PassContext(opt_level=opt_level, disabled_pass=list(disabled)):
        lib = relay.build(tvm.IRModule.from_expr(func), target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for k, v in inputs.items():
        m.set_input(k, v)
    m.run()
    return [m.get_output(i).numpy() for i in range(m.get_num_outputs())]


def build_run_or_skip(func, inputs, **kw):
    """build_run, skipping the test when an operator kernel it needs is not written yet (topi)."""
    try:
        return build_run(func, inputs, **kw)
    except (AttributeError, NotImplementedError, TypeError) as err:
        pytest.skip(f"relay.build of this graph does not work yet: {err!r}")


def ops_in(func) -> list:
    return [n.op.name for n in post_order(func) if isinstance(n, Call) and hasattr(n.op, "name")]


def rand(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype("float32")
