"""int8 convolution and dense (the x86 byte dot-product kernels) vs the same layer in float32, in
tilecraft and in PyTorch, side by side.

Each int8 result is checked exactly against numpy first (weights in [-64, 64), where no pair of byte
products can saturate), then the systems take turns (medians).  GOP/s counts 2 x MACs for every
column, int8 or float.

    python benchmarks/int8.py [--threads 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved, table  # noqa: E402

# name, data shape, weight shape, relay op, torch op, ops
WORKLOADS = (
    ("conv2d 64->64 3x3 on 56x56", (1, 64, 56, 56), (64, 64, 3, 3),
     lambda r, x, w, dt: r.nn.conv2d(x, w, padding=(1, 1), channels=64, kernel_size=(3, 3), out_dtype=dt),
     lambda F, x, w: F.conv2d(x, w, padding=1), 2 * 64 * 64 * 9 * 56 * 56),
    ("conv2d 256->256 3x3 on 14x14", (1, 256, 14, 14), (256, 256, 3, 3),
     lambda r, x, w, dt: r.nn.conv2d(x, w, padding=(1, 1), channels=256, kernel_size=(3, 3), out_dtype=dt),
     lambda F, x, w: F.conv2d(x, w, padding=1), 2 * 256 * 256 * 9 * 14 * 14),
    ("dense 128x768 -> 3072", (128, 768), (3072, 768),
     lambda r, x, w, dt: r.nn.dense(x, w, out_dtype=dt), lambda F, x, w: F.linear(x, w), 2 * 128 * 768 * 3072),
)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    import numpy as np
    import torch

    import tilecraft as tvm
    from tilecraft import relay
    from tilecraft.contrib import graph_executor

    if args.threads:
        torch.set_num_threads(args.threads)
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    rows = []
    for name, xshape, wshape, make, ref, ops in WORKLOADS:
        x8 = rng.integers(0, 256, size=xshape).astype("uint8")
        w8 = rng.integers(-64, 64, size=wshape).astype("int8")
        modules = {}
        for dt, x, w in (("int32", x8, w8), ("float32", x8.astype("float32"), w8.astype("float32"))):
            xv = relay.var("x", shape=xshape, dtype=str(x.dtype))
            y = make(relay, xv, relay.const(w), dt)
            with tvm.transform.PassContext(opt_level=3):
                lib = relay.build(tvm.IRModule.from_expr(relay.Function([xv], y)), target="llvm")
            m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
            m.set_input("x", x)
            m.run()
            modules[dt] = m
        tx, tw = torch.from_numpy(x8.astype("float64")), torch.from_numpy(w8.astype("float64"))
        expect = ref(F, tx, tw).numpy()
        if not np.array_equal(modules["int32"].get_output(0).numpy(), expect.astype("int32")):
            rows.append([name, "-", "-", "-", "-", "int8 result differs from numpy"])
            continue
        fx, fw = tx.float(), tw.float()

        def torch_run(fx=fx, fw=fw, ref=ref):
            with torch.inference_mode():
                ref(F, fx, fw)

        t8, t32, pt = interleaved([modules["int32"].run, modules["float32"].run, torch_run], args.rounds)
        rows.append([name, f"{t8 * 1e3:.3f} ({ops / t8 / 1e9:.0f})", f"{t32 * 1e3:.3f} ({ops / t32 / 1e9:.0f})",
                     f"{pt * 1e3:.3f} ({ops / pt / 1e9:.0f})", f"{t8 / pt:.2f}", "exact"])
        print(" | ".join(rows[-1]), flush=True)
    print(table(rows, ["workload", "tilecraft int8 ms (GOP/s)", "tilecraft fp32 ms (GFLOP/s)",
                       "PyTorch fp32 ms (GFLOP/s)", "int8 / PyTorch", "check"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
