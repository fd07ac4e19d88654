"""8-bit convolution and dense on x86: the byte dot-product instructions each CPU has (pmaddubsw
from SSSE3 to AVX-512BW, vpdpbusd with VNNI) are in the code built for it, and the numbers equal
numpy's on this machine, for uint8 and int8 data, channel counts the blocks do not divide,
padding, strides and a fused epilogue."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay, te, tir
from tilecraft.contrib import graph_executor
from tilecraft.target import Target
from tilecraft.target.x86 import cpu_has_feature, get_simd_32bit_lanes
from tilecraft.topi.testing import conv2d_nchw_python

RNG = np.random.default_rng(7)


def _conv(data_dtype, ic, oc, data_shape=(1, None, 12, 12), kernel=3, strides=1, padding=(0, 0, 0, 1),
          epilogue=False, kernel_dtype="int8"):
    shape = (data_shape[0], ic, *data_shape[2:])
    x = relay.var("x", shape=shape, dtype=data_dtype)
    w = relay.var("w", shape=(oc, ic, kernel, kernel), dtype=kernel_dtype)
    y = relay.nn.conv2d(x, w, kernel_size=(kernel, kernel), channels=oc, strides=strides, padding=padding,
                        out_dtype="int32")
    if epilogue:
        b = relay.var("b", shape=(oc,), dtype="int32")
        y = relay.nn.relu(relay.nn.bias_add(y, b))
    return tvm.IRModule.from_expr(relay.Function(relay.analysis.free_vars(y), y)), shape


def _asm(target, data_dtype, ic, oc, kernel_dtype="int8"):
    mod, _ = _conv(data_dtype, ic, oc, kernel_dtype=kernel_dtype)
    w = RNG.integers(0, 10, size=(oc, ic, 3, 3)).astype(kernel_dtype)
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target, params={"w": w})
    return lib.get_lib().get_source("asm")


@pytest.mark.parametrize("cpu, instruction", [("nehalem", "pmaddubs"), ("core-avx2", "pmaddubs"),
                                              ("skylake-avx512", "pmaddubs"), ("cascadelake", "vpdpbusd")])
@pytest.mark.parametrize("data_dtype, ic, oc", [("uint8", 8, 16), ("int8", 17, 29)])
def test_uses_the_cpus_dot_product(cpu, instruction, data_dtype, ic, oc):
    assert instruction in _asm(f"llvm -mcpu={cpu}", data_dtype, ic, oc)


def test_uint8_weights_take_the_plain_kernel():
    """uint8 x uint8 has no byte dot product: the blocked float-style kernel, no pmaddubsw."""
    assert "pmaddubs" not in _asm("llvm -mcpu=core-avx2", "uint8", 8, 16, kernel_dtype="uint8")


@pytest.mark.parametrize("data_dtype, ic, oc, strides, padding, shape", [
    ("uint8", 8, 16, 1, (0, 0, 0, 1), (1, None, 12, 12)),
    ("int8", 6, 20, 2, (1, 1, 1, 1), (2, None, 11, 9)),
    ("int8", 17, 29, 1, (1, 2, 0, 1), (1, None, 10, 13)),
    ("uint8", 1, 4, 1, (2, 2, 2, 2), (1, None, 7, 7)),
])
def test_matches_numpy(data_dtype, ic, oc, strides, padding, shape):
    """Weights in [-64, 64): no pair of byte products can reach int16's limits, so every path
    (pmaddubsw included) is exact, whatever the data."""
    mod, dshape = _conv(data_dtype, ic, oc, shape, strides=strides, padding=padding, epilogue=True)
    lo, hi = (0, 256) if data_dtype == "uint8" else (-128, 128)
    x = RNG.integers(lo, hi, size=dshape).astype(data_dtype)
    w = RNG.integers(-64, 64, size=(oc, ic, 3, 3)).astype("int8")
    b = RNG.integers(-5000, 5000, size=(oc,)).astype("int32")
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, "llvm", params={"w": w, "b": b})
    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    m.set_input("x", x)
    m.run()
    pad = np.pad(x.astype("int64"), ((0, 0), (0, 0), (padding[0], padding[2]), (padding[1], padding[3])))
    ref = conv2d_nchw_python(pad, w.astype("int64"), strides, 0) + b.reshape(1, -1, 1, 1)
    np.testing.assert_array_equal(m.get_output(0).numpy(), np.maximum(ref, 0).astype("int32"))


def _dense(data_dtype, m, k, n, target):
    x = relay.var("x", shape=(m, k), dtype=data_dtype)
    w = relay.var("w", shape=(n, k), dtype="int8")
    b = relay.var("b", shape=(n,), dtype="int32")
    y = relay.nn.relu(relay.nn.bias_add(relay.nn.dense(x, w, out_dtype="int32"), b))
    weights = RNG.integers(-64, 64, size=(n, k)).astype("int8")
    bias = RNG.integers(-3000, 3000, size=(n,)).astype("int32")
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(tvm.IRModule.from_expr(relay.Function([x, w, b], y)), target,
                          params={"w": weights, "b": bias})
    return lib, weights, bias


@pytest.mark.parametrize("cpu, instruction", [("core-avx2", "pmaddubs"), ("cascadelake", "vpdpbusd")])
def test_dense_uses_the_cpus_dot_product(cpu, instruction):
    assert instruction in _dense("uint8", 32, 96, 128, f"llvm -mcpu={cpu}")[0].get_lib().get_source("asm")


@pytest.mark.parametrize("data_dtype, m, k, n", [("uint8", 33, 96, 128), ("int8", 7, 97, 29), ("int8", 1, 256, 48)])
def test_dense_matches_numpy(data_dtype, m, k, n):
    lib, w, b = _dense(data_dtype, m, k, n, "llvm")
    lo, hi = (0, 256) if data_dtype == "uint8" else (-128, 128)
    x = RNG.integers(lo, hi, size=(m, k)).astype(data_dtype)
    g = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    g.set_input("x", x)
    g.run()
    ref = x.astype("int64") @ w.T.astype("int64") + b
    np.testing.assert_array_equal(g.get_output(0).numpy(), np.maximum(ref, 0).astype("int32"))


def test_cpu_models_features():
    assert cpu_has_feature("cascadelake", "avx512vnni") and not cpu_has_feature("skylake-avx512", "avx512vnni")
    assert cpu_has_feature("alderlake", "avxvnni") and not cpu_has_feature("alderlake", "avx512f")
    assert cpu_has_feature("nehalem", "ssse3") and not cpu_has_feature("x86-64", "ssse3")
    assert not cpu_has_feature("sandybridge", "avx2") and cpu_has_feature("sandybridge", "avx")
    assert [get_simd_32bit_lanes(f"llvm -mcpu={c}") for c in ("nehalem", "haswell", "cascadelake")] == [4, 8, 16]
    assert not Target("llvm -mcpu=x86-64").has_feature("ssse3")


def test_llvm_intrinsic_the_target_lacks_is_refused():
    """LLVM aborts the process on an instruction it cannot select; the generator refuses first."""
    a = te.placeholder((16,), "int32", name="a")
    b = te.compute((16,), lambda i: a[i], name="b")
    s = te.create_schedule(b.op)

    def vnni(ins, outs):
        v = ins[0].vload([0], "int32x16")
        return outs[0].vstore([0], tir.call_llvm_pure_intrin("int32x16", "llvm.x86.avx512.vpdpbusd.512",
                                                              tir.const(3, "uint32"), v, v, v))

    intrin = te.decl_tensor_intrin(b.op, vnni, name="vnni")
    s[b].tensorize(b.op.axis[0], intrin)
    with pytest.raises(ValueError, match="avx512vnni.*-mcpu=core-avx2|needs avx512vnni"):
        tvm.build(s, [a, b], "llvm -mcpu=core-avx2")
    lib = tvm.build(s, [a, b], "llvm -mcpu=cascadelake")
    assert "vpdpbusd" in lib.get_source("asm")
