"""Fused element-wise and normalization operators: untuned tilecraft (the default x86 schedules)
vs PyTorch eager, side by side in one run, correctness checked first on the same random inputs.

    python benchmarks/norm_ops.py [--rounds 3] [--target "llvm -mcpu=native"]

Workloads: softmax 12x128x128 over the last axis (attention scores), layer_norm 128x768 (BERT
hidden states), and an element-wise chain gelu(x * 2 + 1) on 128x3072 (a BERT FFN activation).
Each is timed in alternating rounds (tilecraft, PyTorch, tilecraft, ...) so load changes on the
machine hit both; the table shows the median over rounds of each round's median.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402
from common import median_seconds, table  # noqa: E402  (sets thread counts before numpy loads)

import tilecraft as tvm  # noqa: E402
from tilecraft import te  # noqa: E402
from tilecraft.topi import broadcast, elemwise  # noqa: E402
from tilecraft.topi.nn.norm import layer_norm  # noqa: E402
from tilecraft.topi.nn.softmax import softmax  # noqa: E402
from tilecraft.topi.x86.injective import schedule_injective  # noqa: E402
from tilecraft.topi.x86.norm import schedule_layer_norm  # noqa: E402
from tilecraft.topi.x86.softmax import schedule_softmax  # noqa: E402


def _softmax_ref(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _layer_norm_ref(x, g, b, eps=1e-5):
    x = x.astype(np.float64)
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def _gelu_ref(x):
    z = x.astype(np.float64) * 2 + 1
    erf = np.vectorize(math.erf)
    return 0.5 * z * (1 + erf(z / math.sqrt(2)))


def workloads(rng):
    """(name, build(target) -> (func, args), numpy reference, torch callable factory)."""
    out = []

    x = rng.standard_normal((12, 128, 128), dtype=np.float32) * 4

    def build_softmax(target):
        X = te.placeholder(x.shape, name="X")
        Y = softmax(X, axis=-1)
        return tvm.build(schedule_softmax(Y), [X, Y], target=target, name="softmax"), [x]

    def torch_softmax(torch, ts):
        return lambda: torch.softmax(ts[0], dim=-1)

    out.append(("softmax 12x128x128", build_softmax, [x], _softmax_ref(x), torch_softmax))

    h = rng.standard_normal((128, 768), dtype=np.float32) * 2 + 3
    g = rng.standard_normal(768, dtype=np.float32)
    b = rng.standard_normal(768, dtype=np.float32)

    def build_ln(target):
        X = te.placeholder(h.shape, name="X")
        G = te.placeholder(g.shape, name="G")
        B = te.placeholder(b.shape, name="B")
        Y = layer_norm(X, G, B, axis=-1, epsilon=1e-5)
        return tvm.build(schedule_layer_norm(Y), [X, G, B, Y], target=target, name="layer_norm"), [h, g, b]

    def torch_ln(torch, ts):
        return lambda: torch.nn.functional.layer_norm(ts[0], (768,), ts[1], ts[2], 1e-5)

    out.append(("layer_norm 128x768", build_ln, [h, g, b], _layer_norm_ref(h, g, b), torch_ln))

    a = rng.standard_normal((128, 3072), dtype=np.float32)

    def build_gelu(target):
        X = te.placeholder(a.shape, name="X")
        Y = elemwise.gelu(broadcast.add(broadcast.multiply(X, 2.0), 1.0))
        return tvm.build(schedule_injective(Y), [X, Y], target=target, name="gelu_chain"), [a]

    def torch_gelu(torch, ts):
        return lambda: torch.nn.functional.gelu(ts[0] * 2 + 1)

    out.append(("gelu(x*2+1) 128x3072", build_gelu, [a], _gelu_ref(a), torch_gelu))
    return out


def _rel_err(got, ref) -> float:
    """Largest error relative to the reference's magnitude: elementwise for softmax (all values
    positive), max |got - ref| / max |ref| otherwise (outputs cross zero)."""
    if np.all(ref > 0):
        return float(np.max(np.abs(got - ref) / ref))
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--target", default="llvm -mcpu=native")
    args = p.parse_args()
    target = args.target.replace("native", _host_cpu())
    try:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    rows = []
    for name, build, inputs, ref, torch_fn in workloads(rng):
        f, ins = build(target)
        nd_in = [tvm.nd.array(v) for v in ins]
        nd_out = tvm.nd.empty(ref.shape, "float32")
        f(*nd_in, nd_out)
        got = nd_out.numpy()
        err = _rel_err(got, ref)
        assert np.allclose(got, ref, rtol=1e-4, atol=1e-5), f"{name}: tilecraft result is wrong (max rel err {err:.1e})"
        pt_call, pt_err = None, None
        if torch is not None:
            ts = [torch.from_numpy(v) for v in inputs]
            pt_call = torch_fn(torch, ts)
            pt_out = pt_call().numpy()
            pt_err = _rel_err(pt_out, ref)
        tc_call = lambda f=f, a=(*nd_in, nd_out): f(*a)  # noqa: E731
        t_tc, t_pt = [], []
        for _ in range(args.rounds):
            t_tc.append(median_seconds(tc_call))
            if pt_call is not None:
                t_pt.append(median_seconds(pt_call))
        tc = statistics.median(t_tc) * 1e3
        pt = statistics.median(t_pt) * 1e3 if t_pt else float("nan")
        rows.append([name, f"{tc:.3f}", f"{pt:.3f}", f"{pt / tc:.2f}x", f"{err:.1e}",
                     f"{pt_err:.1e}" if pt_err is not None else "-"])
    print(f"{os.environ['OMP_NUM_THREADS']} threads, target {target}; error vs a float64 numpy reference "
          "(softmax: max relative error per element; others: max |error| / max |value|)")
    print(table(rows, ["workload", "tilecraft ms", "PyTorch eager ms", "speed-up", "tilecraft err", "PyTorch err"]))


def _host_cpu() -> str:
    import llvmlite.binding as llvm

    return llvm.get_host_cpu_name()


if __name__ == "__main__":
    main()
