"""1-D and 3-D convolution and pooling (lowered to the 2-D kernels by Legalize) vs PyTorch, side by side.

Each workload is checked against PyTorch on the same random inputs first, then timed with the
systems taking turns (medians).  Ratios are tilecraft / PyTorch: below 1 is tilecraft faster.

    python benchmarks/conv_nd.py [--threads 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved, table  # noqa: E402

# name, input shape, relay call, torch call
WORKLOADS = (
    ("conv1d audio 80x3000 k3", (1, 80, 3000), (384, 80, 3),
     lambda r, x, w: r.nn.conv1d(x, w, padding=1), lambda F, x, w: F.conv1d(x, w, padding=1)),
    ("conv1d s2 384x3000 k3", (1, 384, 3000), (384, 384, 3),
     lambda r, x, w: r.nn.conv1d(x, w, strides=2, padding=1), lambda F, x, w: F.conv1d(x, w, stride=2, padding=1)),
    ("conv3d video 16x8x56x56 k3", (1, 16, 8, 56, 56), (32, 16, 3, 3, 3),
     lambda r, x, w: r.nn.conv3d(x, w, padding=1), lambda F, x, w: F.conv3d(x, w, padding=1)),
    ("conv3d s2 32x16x28x28 k3", (1, 32, 16, 28, 28), (64, 32, 3, 3, 3),
     lambda r, x, w: r.nn.conv3d(x, w, strides=2, padding=1), lambda F, x, w: F.conv3d(x, w, stride=2, padding=1)),
    ("max_pool3d 64x16x28x28 k3 s2", (1, 64, 16, 28, 28), None,
     lambda r, x, w: r.nn.max_pool3d(x, 3, 2, padding=1), lambda F, x, w: F.max_pool3d(x, 3, 2, 1)),
    ("avg_pool1d 384x1500 k2", (1, 384, 1500), None,
     lambda r, x, w: r.nn.avg_pool1d(x, 2, 2), lambda F, x, w: F.avg_pool1d(x, 2, 2)),
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
    for name, xshape, wshape, make, ref in WORKLOADS:
        x = rng.standard_normal(xshape).astype("float32")
        w = rng.standard_normal(wshape).astype("float32") * 0.1 if wshape else None
        xv = relay.var("x", shape=xshape)
        y = make(relay, xv, relay.const(w) if w is not None else None)
        lib = relay.build(tvm.IRModule.from_expr(relay.Function([xv], y)), target="llvm")
        m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
        m.set_input("x", x)
        m.run()
        tx, tw = torch.from_numpy(x), (torch.from_numpy(w) if w is not None else None)
        with torch.inference_mode():
            expect = ref(F, tx, tw).numpy()
        err = float(np.abs(m.get_output(0).numpy() - expect).max())
        if err > 1e-3 * max(1.0, float(np.abs(expect).max())):
            rows.append([name, "-", "-", "-", f"mismatch {err:.2e}"])
            continue

        def torch_run(ref=ref, tx=tx, tw=tw):
            with torch.inference_mode():
                ref(F, tx, tw)

        tc, pt = interleaved([m.run, torch_run], args.rounds)
        rows.append([name, f"{tc * 1e3:.3f}", f"{pt * 1e3:.3f}", f"{tc / pt:.2f}", f"{err:.1e}"])
        print(" | ".join(rows[-1]), flush=True)
    print(table(rows, ["workload", "tilecraft ms", "PyTorch ms", "tilecraft/PyTorch", "max |error|"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
