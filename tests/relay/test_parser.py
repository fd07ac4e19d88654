"""The Relay text format read back (classic relay.fromtext / tvm.parser.parse): classic text builds
and runs, tilecraft's printed text parses back to the same graph, and bad text names its line."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.relay.parser import RelayParseError

MOBILEBERT = """
#[version = "0.0.5"]
def @main(%p0844: Tensor[(1, 384), int64], %p1652: Tensor[(2016, 128), float16]) {
  %1331 = cast(%p0844, dtype="int32");
  %1332 = take(%p1652, %1331, axis=0);
  %1333 = strided_slice(%1332, begin=[0, 1, 0], end=[1, 384, 128], strides=[1, 1, 1], axes=None);
  %1334 = strided_slice(%1332, begin=[0, 0, 0], end=[1, -1, 128], strides=[1, 1, 1], axes=None);
  %1335 = nn.pad(%1333, 0, pad_width=[[0, 0], [0, 1], [0, 0]]);
  %1336 = nn.pad(%1334, 0, pad_width=[[0, 0], [1, 0], [0, 0]]);
  %1337 = (%1335, %1332, %1336);
  %1338 = concatenate(%1337, axis=2);
  reshape(%1338, newshape=[-1, 384])  /* ty=Tensor[(384, 384), float16] */
}
"""


def test_classic_text_builds_and_runs():
    mod = relay.fromtext(MOBILEBERT)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 2016, size=(1, 384)).astype("int64")
    table = rng.standard_normal((2016, 128)).astype("float16")
    lib = relay.build(mod, params={}, target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    m.set_input("p0844", ids)
    m.set_input("p1652", table)
    m.run()
    x = table[ids[0]][None]  # [1, 384, 128]
    left = np.pad(x[:, 1:], ((0, 0), (0, 1), (0, 0)))
    right = np.pad(x[:, :-1], ((0, 0), (1, 0), (0, 0)))
    np.testing.assert_array_equal(m.get_output(0).numpy(), np.concatenate([left, x, right], 2).reshape(-1, 384))


def test_printed_text_parses_back():
    x, w = relay.var("x", shape=(1, 3, 8, 8)), relay.var("w", shape=(4, 3, 3, 3))
    y = relay.nn.conv2d(x, w, padding=(1, 1), channels=4, kernel_size=(3, 3))
    parts = relay.split(y, 2, axis=1)
    z = relay.concatenate([parts[0], relay.nn.relu(parts[1])], axis=1)
    z = relay.multiply(relay.nn.bias_add(z, relay.var("b", shape=(4,))), relay.const(2.0))
    mod = relay.transform.InferType()(tvm.IRModule.from_expr(relay.Function(relay.analysis.free_vars(z), z)))
    back = relay.transform.InferType()(tvm.parser.parse(mod.astext()))
    tvm.ir.assert_structural_equal(back["main"], mod["main"])


def test_functions_calls_lets_and_constants():
    text = """
    def @twice(%a: Tensor[(2,), float32]) { multiply(%a, 2f) }
    def @main(%x: Tensor[(2,), float32]) -> Tensor[(2,), float32] {
      let %y = @twice(%x);
      %0 = fn (%p: Tensor[(2,), float32]) { add(%p, -0.5f) };
      %1 = (%0(%y), %y);
      subtract(%1.0, %1.1)
    }
    """
    mod = relay.fromtext(text)
    out = relay.create_executor("graph", mod=mod, target="llvm").evaluate()(np.array([1.0, 3.0], "float32"))
    np.testing.assert_allclose(out.numpy(), [-0.5, -0.5])
    e = relay.parse_expr("add(%a, 3i64)")
    assert e.args[1].data.dtype == "int64" and relay.analysis.free_vars(e)[0].name_hint == "a"


@pytest.mark.parametrize("text, message", [
    ("def @main(%x: Tensor[(2,), float32]) {\n  add(%x, %y)\n}", r"line 2: %y is not defined here"),
    ("def @main(%x: Tensor[(2,), float32]) {\n  nn.nothing(%x)\n}", r"line 2: unknown operator 'nn.nothing'"),
    ("def @main(%x: Tensor[(2,), float32]) {\n  add(%x, meta[relay.Constant][0])\n}", r"line 2: 'meta' is not"),
    ("def @main(%x: Tensor[(2,), float32]) {\n  add(%x, $)\n}", r"line 2: unexpected '\$"),
    ("add(%x, %x)", r"line 1: expected a function definition"),
    ("def @main(%x: Tensor[(2,), float32]) {\n  add(%x, %x)\n", r"line 2: the text ends inside a function"),
    ("def @f(%x: Tensor[(2,), float32]) {\n  add(%x, %x\n}", r"line 3: expected \)"),
])
def test_bad_text_names_its_line(text, message):
    with pytest.raises(RelayParseError, match=message):
        relay.fromtext(text)
