"""Operator workloads, untuned tilecraft (relay.build at opt_level 3) vs PyTorch eager and ONNX Runtime.

Each workload is one small torch module; tilecraft imports it as a relay graph built from the same
weights, everything runs on the same random inputs, and outputs are checked before timing.
Medians over repeats after warm-up, side by side in one run.

    python benchmarks/ops.py [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from common import median_seconds, onnxruntime_run, table  # noqa: E402, I001  (first: thread counts, tilecraft before torch)
import numpy as np  # noqa: E402
import torch  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402


def _np(t):
    return t.detach().numpy()


def dense_gelu():
    lin = torch.nn.Linear(768, 3072).eval()
    x = torch.randn(128, 768)
    rx = relay.var("x", shape=(128, 768))
    w, b = relay.var("w", shape=(3072, 768)), relay.var("b", shape=(3072,))
    out = relay.nn.gelu(relay.nn.bias_add(relay.nn.dense(rx, w), b, axis=-1))
    params = {"w": _np(lin.weight), "b": _np(lin.bias)}
    return "dense 128x768x3072 + bias + gelu", torch.nn.Sequential(lin, torch.nn.GELU()), (x,), [rx, w, b], out, params


class _Bmm(torch.nn.Module):
    def forward(self, a, b):
        return torch.bmm(a, b)


def batch_matmul():
    a, b = torch.randn(12, 128, 64), torch.randn(12, 64, 128)
    ra, rb = relay.var("a", shape=(12, 128, 64)), relay.var("b", shape=(12, 64, 128))
    out = relay.nn.batch_matmul(ra, rb, transpose_b=False)
    return "batch_matmul 12x128x64 . 12x64x128", _Bmm(), (a, b), [ra, rb], out, {}


def conv_relu():
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).eval()
    x = torch.randn(1, 64, 56, 56)
    rx = relay.var("x", shape=(1, 64, 56, 56))
    w, b = relay.var("w", shape=(64, 64, 3, 3)), relay.var("b", shape=(64,))
    out = relay.nn.relu(relay.nn.bias_add(relay.nn.conv2d(rx, w, padding=(1, 1)), b))
    params = {"w": _np(conv.weight), "b": _np(conv.bias)}
    module = torch.nn.Sequential(conv, torch.nn.ReLU())
    return "conv2d 1x64x56x56 -> 64, 3x3 + bias + relu", module, (x,), [rx, w, b], out, params


def depthwise():
    conv = torch.nn.Conv2d(144, 144, 3, padding=1, groups=144, bias=False).eval()
    x = torch.randn(1, 144, 56, 56)
    rx, w = relay.var("x", shape=(1, 144, 56, 56)), relay.var("w", shape=(144, 1, 3, 3))
    out = relay.nn.conv2d(rx, w, padding=(1, 1), groups=144)
    return "depthwise conv2d 1x144x56x56, 3x3", conv, (x,), [rx, w], out, {"w": _np(conv.weight)}


def softmax():
    x = torch.randn(12, 128, 128)
    rx = relay.var("x", shape=(12, 128, 128))
    return "softmax 12x128x128", torch.nn.Softmax(-1), (x,), [rx], relay.nn.softmax(rx), {}


def layer_norm():
    ln = torch.nn.LayerNorm(768).eval()
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.uniform_(-0.5, 0.5)
    x = torch.randn(128, 768)
    rx, g, b = relay.var("x", shape=(128, 768)), relay.var("g", shape=(768,)), relay.var("b", shape=(768,))
    out = relay.nn.layer_norm(rx, g, b, epsilon=1e-5)
    return "layer_norm 128x768", ln, (x,), [rx, g, b], out, {"g": _np(ln.weight), "b": _np(ln.bias)}


WORKLOADS = [dense_gelu, batch_matmul, conv_relu, depthwise, softmax, layer_norm]


def run_checked(lib, name, data_vars, inputs, ref):
    """(graph module, relative error): the built workload run once on `inputs`, checked against ref."""
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for v, x in zip(data_vars, inputs):
        m.set_input(v.name_hint, _np(x))
    m.run()
    got = m.get_output(0).numpy()
    err = float(np.abs(got - ref).max() / (np.abs(ref).max() + 1e-12))
    assert err < 1e-4, f"{name}: tilecraft differs from PyTorch (relative error {err:.1e})"
    return m, err


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=int(os.environ["OMP_NUM_THREADS"]))
    p.add_argument("--only", default="", help="substring of the workloads to run")
    args = p.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # torch's legacy ONNX exporter notice
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    for make in WORKLOADS:
        name, fn, inputs, rvars, out, params = make()
        if args.only and args.only not in name:
            continue
        with torch.no_grad():
            ref = _np(fn(*inputs))
        with tvm.transform.PassContext(opt_level=3):
            lib = relay.build(tvm.IRModule.from_expr(relay.Function(rvars, out)), target="llvm", params=params)
        data_vars = [v for v in rvars if v.name_hint not in params]
        m, err = run_checked(lib, name, data_vars, inputs, ref)
        with torch.no_grad():
            t_pt = median_seconds(lambda fn=fn, inputs=inputs: fn(*inputs))
        t_tc = median_seconds(m.run)
        with torch.no_grad():
            ort_run, _ = onnxruntime_run(fn, inputs, args.threads)
        t_ort = median_seconds(ort_run) if ort_run else None
        rows.append([name, f"{t_tc * 1e3:.3f}", f"{t_pt * 1e3:.3f}",
                     f"{t_ort * 1e3:.3f}" if t_ort else "-", f"{t_tc / t_pt:.2f}",
                     f"{t_tc / t_ort:.2f}" if t_ort else "-", f"{err:.1e}"])
    print(f"untuned tilecraft vs PyTorch eager and ONNX Runtime, {args.threads} threads, median ms")
    print(table(rows, ["workload", "tilecraft", "PyTorch", "ONNX Runtime", "tc/PyTorch", "tc/ORT", "max rel err"]))


if __name__ == "__main__":
    main()
