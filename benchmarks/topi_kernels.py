"""tilecraft's default (untuned) x86 kernels vs PyTorch eager, side by side in one run:

    dense 128x768x3072 + bias + gelu      (topi.nn.dense_pack, weight packed at compile time)
    batch_matmul 12x128x64 . 12x64x128    (topi.nn.batch_matmul, transpose_b=False)
    conv2d 1x64x56x56 -> 64, 3x3, pad 1, + bias + relu
                                          (topi.nn.conv2d_NCHWc, NCHW16c, kernel packed at compile
                                           time; and the direct NCHW schedule)
    depthwise conv2d 1x144x56x56, 3x3, pad 1

Each kernel is first checked against PyTorch on the same random inputs; then both are timed
(median after warm-up, benchmarks/common.py), alternating, --rounds times, and the median of
the rounds is reported.  The acceptance bar is tilecraft <= 1.5x PyTorch eager.

    python benchmarks/topi_kernels.py [--rounds 3] [--target "llvm -mcpu=native"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import median_seconds, table  # noqa: E402, I001  (sets thread counts before numpy loads)

import numpy as np  # noqa: E402

import tilecraft as tvm  # noqa: E402
import tilecraft.topi.nn.batch_matmul  # noqa: E402,F401
import tilecraft.topi.nn.conv2d  # noqa: E402,F401
import tilecraft.topi.nn.dense  # noqa: E402,F401
import tilecraft.topi.x86.batch_matmul  # noqa: E402,F401
import tilecraft.topi.x86.conv2d  # noqa: E402,F401
import tilecraft.topi.x86.dense  # noqa: E402,F401
import tilecraft.topi.x86.depthwise  # noqa: E402,F401
from tilecraft import te  # noqa: E402
from tilecraft.topi import tag  # noqa: E402

nn_dense = sys.modules["tilecraft.topi.nn.dense"]
nn_bmm = sys.modules["tilecraft.topi.nn.batch_matmul"]
nn_conv = sys.modules["tilecraft.topi.nn.conv2d"]
x86_dense = sys.modules["tilecraft.topi.x86.dense"]
x86_bmm = sys.modules["tilecraft.topi.x86.batch_matmul"]
x86_conv = sys.modules["tilecraft.topi.x86.conv2d"]
x86_dw = sys.modules["tilecraft.topi.x86.depthwise"]

RNG = np.random.default_rng(0)


def rand(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype("float32")


class Kernel:
    """A built tilecraft kernel with its inputs, and the PyTorch function computing the same."""

    def __init__(self, name, flops, s, args, inputs, torch_fn, torch_inputs, to_torch_layout=None):
        t0 = time.perf_counter()
        self.f = tvm.build(s, args, target=TARGET)
        self.compile_s = time.perf_counter() - t0
        self.name, self.flops = name, flops
        self.nd = [tvm.nd.array(a) for a in inputs] + [tvm.nd.empty(tuple(int(v.value) for v in args[-1].shape))]
        self.torch_fn, self.torch_inputs = torch_fn, torch_inputs
        self.to_torch_layout = to_torch_layout or (lambda x: x)

    def check(self):
        import torch

        self.f(*self.nd)
        with torch.no_grad():
            ref = self.torch_fn(*self.torch_inputs).numpy()
        got = self.to_torch_layout(self.nd[-1].numpy())
        err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-6)
        assert err < 1e-4, f"{self.name}: tilecraft differs from PyTorch (max relative error {err:.2e})"
        return err

    def time_tilecraft(self):
        return median_seconds(lambda: self.f(*self.nd))

    def time_torch(self):
        import torch

        with torch.no_grad():
            return median_seconds(lambda: self.torch_fn(*self.torch_inputs))


def dense_gelu():
    import torch

    M, K, N = 128, 768, 3072
    x, w, b = rand(M, K), rand(N, K, scale=0.05), rand(N)
    nr = x86_dense.dense_pack_nr(N)
    X, PW, B = te.placeholder((M, K), name="X"), te.placeholder((N // nr, K, nr), name="PW"), \
        te.placeholder((N,), name="B")
    d = nn_dense.dense_pack(X, PW, B)
    out = te.compute(d.shape, lambda i, j: 0.5 * d[i, j] * (1.0 + te.erf(d[i, j] * 0.7071067811865476)),
                     name="gelu", tag=tag.ELEMWISE)
    s = x86_dense.schedule_dense_pack([out])
    packed = w.reshape(N // nr, nr, K).transpose(0, 2, 1).copy()  # what relay does to constant weights
    tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))
    F = torch.nn.functional
    return Kernel(f"dense {M}x{K}x{N} + bias + gelu", 2 * M * N * K, s, [X, PW, B, out], [x, packed, b],
                  lambda a, w_, b_: F.gelu(F.linear(a, w_, b_)), [tx, tw, tb])


def batch_matmul():
    import torch

    B, M, K, N = 12, 128, 64, 128
    a, b = rand(B, M, K), rand(B, K, N)
    A, Bt = te.placeholder((B, M, K), name="A"), te.placeholder((B, K, N), name="B")
    out = nn_bmm.batch_matmul(A, Bt, transpose_b=False)
    s = x86_bmm.schedule_batch_matmul([out])
    return Kernel(f"batch_matmul {B}x{M}x{K} . {B}x{K}x{N}", 2 * B * M * N * K, s, [A, Bt, out], [a, b],
                  torch.bmm, [torch.from_numpy(a), torch.from_numpy(b)])


def _conv_ref():
    import torch

    F = torch.nn.functional
    return lambda x_, w_, b_: F.relu(F.conv2d(x_, w_, b_, padding=1))


def conv2d_nchwc():
    import torch

    N, C, H, W, O, ic, oc = 1, 64, 56, 56, 64, 16, 16
    x, w, b = rand(N, C, H, W), rand(O, C, 3, 3, scale=0.05), rand(O)
    X = te.placeholder((N, C // ic, H, W, ic), name="X")
    Wt = te.placeholder((O // oc, C // ic, 3, 3, ic, oc), name="W")
    Bt = te.placeholder((1, O // oc, 1, 1, oc), name="B")
    conv = nn_conv.conv2d_NCHWc(X, Wt, 1, 1, 1)
    out = te.compute(conv.shape, lambda n, c, h, w_, cb: te.max(conv[n, c, h, w_, cb] + Bt[0, c, 0, 0, cb],
                                                                  te.const(0.0, "float32")),
                     name="bias_relu", tag=tag.BROADCAST)
    s = x86_conv.schedule_conv2d_NCHWc([out])
    xc = x.reshape(N, C // ic, ic, H, W).transpose(0, 1, 3, 4, 2).copy()
    wc = w.reshape(O // oc, oc, C // ic, ic, 3, 3).transpose(0, 2, 4, 5, 3, 1).copy()
    bc = b.reshape(1, O // oc, 1, 1, oc)
    unpack = lambda o: o.transpose(0, 1, 4, 2, 3).reshape(N, O, H, W)
    return Kernel(f"conv2d {N}x{C}x{H}x{W}->{O} 3x3 p1 + bias + relu (NCHW16c)", 2 * N * O * H * W * C * 9, s,
                  [X, Wt, Bt, out], [xc, wc, bc], _conv_ref(), [torch.from_numpy(a) for a in (x, w, b)], unpack)


def conv2d_nchw():
    import torch

    N, C, H, W, O = 1, 64, 56, 56, 64
    x, w, b = rand(N, C, H, W), rand(O, C, 3, 3, scale=0.05), rand(O)
    X, Wt, Bt = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W"), te.placeholder((O,), name="B")
    conv = nn_conv.conv2d_nchw(X, Wt, 1, 1, 1)
    out = te.compute(conv.shape, lambda n, c, h, w_: te.max(conv[n, c, h, w_] + Bt[c], te.const(0.0, "float32")),
                     name="bias_relu", tag=tag.BROADCAST)
    s = x86_conv.schedule_conv2d_nchw([out])
    return Kernel(f"conv2d {N}x{C}x{H}x{W}->{O} 3x3 p1 + bias + relu (NCHW)", 2 * N * O * H * W * C * 9, s,
                  [X, Wt, Bt, out], [x, w, b], _conv_ref(), [torch.from_numpy(a) for a in (x, w, b)])


def depthwise():
    import torch

    N, C, H, W = 1, 144, 56, 56
    x, w = rand(N, C, H, W), rand(C, 1, 3, 3)
    X, Wt = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W")
    out = nn_conv.depthwise_conv2d_nchw(X, Wt, 1, 1, 1)
    s = x86_dw.schedule_depthwise_conv2d_nchw([out])
    F = torch.nn.functional
    return Kernel(f"depthwise conv2d {N}x{C}x{H}x{W} 3x3 p1", 2 * N * C * H * W * 9, s, [X, Wt, out], [x, w],
                  lambda x_, w_: F.conv2d(x_, w_, padding=1, groups=C), [torch.from_numpy(x), torch.from_numpy(w)])


def main():
    global TARGET
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="alternating timing rounds per kernel (median reported)")
    p.add_argument("--target", default="llvm -mcpu=native")
    p.add_argument("--only", default="", help="comma-separated substrings of kernel names to run")
    args = p.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("benchmarks/kernels.py compares against PyTorch: pip install torch")
    import llvmlite.binding as llvm

    TARGET = args.target.replace("native", llvm.get_host_cpu_name())
    threads = int(os.environ["OMP_NUM_THREADS"])
    torch.set_num_threads(threads)
    rows = []
    for make in (dense_gelu, batch_matmul, conv2d_nchwc, conv2d_nchw, depthwise):
        k = make()
        if args.only and not any(o in k.name for o in args.only.split(",")):
            continue
        err = k.check()
        tt, tc = [], []
        for _ in range(args.rounds):
            tt.append(k.time_torch())
            tc.append(k.time_tilecraft())
        t_pt, t_tc = statistics.median(tt), statistics.median(tc)
        rows.append([k.name, f"{t_tc * 1e3:.3f}", f"{t_pt * 1e3:.3f}", f"{t_tc / t_pt:.2f}",
                     f"{k.flops / t_tc / 1e9:.1f}", f"{k.compile_s * 1e3:.0f}", f"{err:.0e}"])
        print(f"  {k.name}: tilecraft {t_tc * 1e3:.3f} ms, PyTorch {t_pt * 1e3:.3f} ms", flush=True)
    print(f"\n{threads} threads, target {TARGET}, torch {torch.__version__}")
    print(table(rows, ["workload", "tilecraft ms", "PyTorch ms", "ratio", "tilecraft GFLOP/s", "compile ms",
                       "rel err"]))


TARGET = "llvm"

if __name__ == "__main__":
    main()
