"""relay.transform.ConvertLayout: convolutions run in NHWC with the graph's numbers unchanged, and
consecutive convolutions keep NHWC between them."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay


def _net():
    rng = np.random.default_rng(0)
    x = relay.var("x", shape=(1, 8, 10, 10))
    w1 = relay.const(rng.standard_normal((16, 8, 3, 3)).astype("float32"))
    w2 = relay.const(rng.standard_normal((16, 16, 1, 1)).astype("float32"))
    w3 = relay.const(rng.standard_normal((16, 16, 3, 3)).astype("float32"))
    y = relay.nn.conv2d(x, w1, padding=(1, 1))
    y = relay.nn.conv2d(y, w2)  # directly after the first: no transform between them
    y = relay.nn.relu(y)
    y = relay.nn.conv2d(y, w3, strides=(2, 2), padding=(1, 1))
    return relay.Function([x], relay.nn.max_pool2d(y, (2, 2))), rng.standard_normal((1, 8, 10, 10)).astype("float32")


def _count(func, name, **attrs):
    found = []

    def visit(e):
        if isinstance(e, relay.Call) and getattr(e.op, "name", "") == name and \
                all(e.attrs.get(k) == v for k, v in attrs.items()):
            found.append(e)

    from tilecraft.relay.visitor import post_order

    for n in post_order(func.body):
        visit(n)
    return len(found)


def test_convolutions_run_in_nhwc_and_compute_the_same():
    f, data = _net()
    mod = tvm.IRModule.from_expr(f)
    seq = tvm.transform.Sequential([relay.transform.FoldConstant(),
                                    relay.transform.ConvertLayout({"nn.conv2d": ["NHWC", "default"]}),
                                    relay.transform.FoldConstant()])
    with tvm.transform.PassContext(opt_level=3):
        converted = seq(mod)
    main = converted["main"]
    assert _count(main, "nn.conv2d", data_layout="NHWC", kernel_layout="HWIO") == 3
    assert _count(main, "layout_transform", src_layout="NCHW", dst_layout="NHWC") == 2  # x, and after relu
    ref = relay.create_executor("graph", target="llvm").evaluate(f)(data).numpy()
    out = relay.create_executor("graph", target="llvm").evaluate(main)(data).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_bad_layouts_are_refused_when_the_pass_is_made():
    with pytest.raises(ValueError, match="data layout 'NCWH'"):
        relay.transform.ConvertLayout({"nn.conv2d": ["NCWH", "default"]})
    with pytest.raises(ValueError, match="kernel layout 'HWIO'"):
        relay.transform.ConvertLayout({"nn.conv2d": ["NHWC", "OHWI"]})
    with pytest.raises(TypeError, match="takes a dict"):
        relay.transform.ConvertLayout(["NHWC"])
