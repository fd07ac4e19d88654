"""A pooling window larger than its input (EfficientNet's head: AvgPool2d(1280, ceil_mode=True) on a
7x7 map) loops only over the taps that can land in the input, and still gives PyTorch's numbers."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("window, stride, pad, ceil, include_pad", [
    (1280, 1280, 0, True, True), (5, 2, 1, True, True), (5, 2, 2, False, False), (3, 3, 1, True, False)])
def test_matches_torch_and_loops_over_reachable_taps(kind, window, stride, pad, ceil, include_pad):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((1, 4, 7, 7), dtype="float32")
    if kind == "avg":
        ref = torch.nn.functional.avg_pool2d(torch.tensor(x), window, stride, pad, ceil_mode=ceil,
                                             count_include_pad=include_pad).numpy()
        body = relay.nn.avg_pool2d
        kwargs = {"count_include_pad": include_pad}
    else:
        if pad > window // 2:
            pytest.skip("PyTorch refuses padding over half the window for max pooling")
        ref = torch.nn.functional.max_pool2d(torch.tensor(x), window, stride, pad, ceil_mode=ceil).numpy()
        body, kwargs = relay.nn.max_pool2d, {}
    v = relay.var("x", shape=x.shape)
    mod = tvm.IRModule.from_expr(relay.Function([v], body(v, (window, window), (stride, stride), padding=(pad, pad),
                                                          ceil_mode=ceil, **kwargs)))
    lib = relay.build(mod, target="llvm")
    m = tvm.contrib.graph_executor.GraphModule(lib["default"](tvm.cpu()))
    m.set_input("x", x)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-6, atol=1e-6)


def test_reduction_covers_only_the_input():
    from tilecraft import te, topi

    data = te.placeholder((1, 4, 7, 7), name="data")
    out = topi.nn.pool2d(data, (1280, 1280), (1280, 1280), (1, 1), (0, 0, 0, 0), "avg", ceil_mode=True)
    text = str(tvm.lower(te.create_schedule(out.op), [data, out]))
    assert "range(1280)" not in text and "range(7)" in text
