"""Phase 4 — Relay: import a PyTorch MLP, read the graph before and after the passes, compile it
and verify the result against PyTorch.

Run: python examples/relay_import.py
"""

import numpy as np
import torch

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = torch.nn.Linear(784, 256), torch.nn.Linear(256, 128), torch.nn.Linear(128, 10)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def main():
    torch.manual_seed(0)
    model = MLP().eval()
    x = torch.randn(8, 784)
    traced = torch.jit.trace(model, x)
    mod, params = relay.frontend.from_pytorch(traced, [("input", (8, 784))])
    print("---- the imported graph")
    print(mod)
    with tvm.transform.PassContext(opt_level=3):
        print("\n---- after the graph passes (weights folded and packed, operators fused into kernels)")
        print(relay.optimize(mod, params)["main"])
        lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("input", x.numpy())
    m.run()
    out = m.get_output(0).numpy()
    with torch.no_grad():
        ref = model(x).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-3, rtol=1e-3)
    print(f"\ntilecraft matches PyTorch (max abs error {np.abs(out - ref).max():.1e})")


if __name__ == "__main__":
    main()
