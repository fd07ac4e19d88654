"""The default (untuned) register tiles are sized by the target CPU's vector registers, and give the
same numbers whatever the tile: AVX2 (16 ymm) and AVX-512 (32 zmm) tiles, widths the tile does not
divide, and a batch-1 dense split over the cores."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.target import Target
from tilecraft.topi.testing import conv2d_nchw_python
from tilecraft.topi.x86.registers import tile_columns, vector_registers
from tilecraft.tuning.space import FallbackConfigEntity

AVX2, AVX512 = "llvm -mcpu=znver3", "llvm -mcpu=znver4"
HOST_AVX512 = Target("llvm").has_feature("avx512f")


def test_vector_registers_by_target():
    assert vector_registers(Target(AVX2)) == (8, 16)
    assert vector_registers(Target(AVX512)) == (16, 32)
    with Target(AVX512):
        assert vector_registers() == (16, 32)


@pytest.mark.parametrize("width, block, target, columns", [
    (14, 16, AVX2, 5),      # 6 fit (12 ymm accumulators): 3 chunks of 5, 5, 4 rather than 6, 6, 2
    (7, 16, AVX2, 4),       # 4 + 3
    (56, 16, AVX2, 6),
    (56, 8, AVX2, 12),      # one ymm per column: 12 fit, 5 chunks (12 x 4 + 8)
    (14, 16, AVX512, 14),   # one zmm per column: 16 fit
    (7, 16, AVX512, 7),
    (112, 16, AVX512, 16),
    (56, 16, AVX512, 14),
    (3, 16, AVX512, 3),     # never wider than the output
])
def test_tile_columns(width, block, target, columns):
    assert tile_columns(width, block, Target(target)) == columns
    lanes, registers = vector_registers(Target(target))
    assert columns * -(-block // lanes) <= registers - 4


def _conv_graph(C, O, H, k, stride):
    x = relay.var("x", shape=(1, C, H, H))
    w = relay.var("w", shape=(O, C, k, k))
    y = relay.nn.relu(relay.nn.conv2d(x, w, strides=(stride, stride), padding=(k // 2, k // 2)))
    return tvm.IRModule.from_expr(relay.Function([x, w], y))


def _run(mod, target, params, inputs):
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target=target, params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    for k, v in inputs.items():
        m.set_input(k, v)
    m.run()
    return m.get_output(0).numpy()


@pytest.mark.parametrize("target", [AVX2, pytest.param(AVX512, marks=pytest.mark.skipif(
    not HOST_AVX512, reason="the host has no AVX-512"))])
@pytest.mark.parametrize("C, O, H, k, stride", [(32, 32, 14, 3, 1), (16, 32, 7, 3, 1), (3, 16, 23, 7, 2),
                                                (32, 48, 9, 1, 1)])
def test_blocked_conv_default_tiles_match_numpy(target, C, O, H, k, stride):
    rng = np.random.default_rng(C + H)
    x = rng.standard_normal((1, C, H, H)).astype("float32")
    w = rng.standard_normal((O, C, k, k)).astype("float32")
    got = _run(_conv_graph(C, O, H, k, stride), target, {"w": w}, {"x": x})
    want = np.maximum(conv2d_nchw_python(x, w, stride, k // 2), 0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_batch1_dense_fallback_splits_columns_over_cores():
    from tilecraft.topi.x86.dense import _dense_pack_fallback, gemm_tile_space

    cfg = FallbackConfigEntity()
    gemm_tile_space(cfg, 1, 1000, 1280)
    _dense_pack_fallback(cfg, 1, 1000, 1280)
    nb = cfg["tile_x"].size[-1]
    assert -(-1000 // nb) >= 8 and nb % cfg["tile_n"].size[-1] == 0
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 1280)).astype("float32")
    w = rng.standard_normal((1000, 1280)).astype("float32")
    b = rng.standard_normal((1000,)).astype("float32")
    xv = relay.var("x", shape=(1, 1280))
    y = relay.nn.bias_add(relay.nn.dense(xv, relay.var("w", shape=(1000, 1280))), relay.var("b", shape=(1000,)))
    mod = tvm.IRModule.from_expr(relay.Function(relay.analysis.free_vars(y), y))
    got = _run(mod, "llvm", {"w": w, "b": b}, {"x": x})
    np.testing.assert_allclose(got, x @ w.T + b, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("target, columns, rows", [(AVX2, 16, 6), (AVX2, 8, 8), (AVX512, 16, 8), (AVX512, 32, 8)])
def test_gemm_tile_rows_fill_the_vector_registers(target, columns, rows):
    from tilecraft.topi.x86.dense import tile_rows

    with Target(target):
        assert tile_rows(columns) == rows
    lanes, registers = vector_registers(Target(target))
    assert rows * -(-columns // lanes) <= registers - 4


@pytest.mark.parametrize("M", [1, 5, 7, 50, 64, 128, 198, 1500])
@pytest.mark.parametrize("op", ["dense_pack.x86", "batch_matmul.x86"])
def test_gemm_default_configuration_is_in_the_tuning_space(op, M):
    """Tuning starts from the default, and the graph tuner indexes it: it must be a point of the space."""
    from tilecraft import autotvm

    with Target(AVX2):
        if op == "dense_pack.x86":
            args = (("TENSOR", (M, 96), "float32"), ("TENSOR", (48, 96), "float32"), None, "float32")
        else:
            args = (("TENSOR", (2, M, 96), "float32"), ("TENSOR", (2, 96, 48), "float32"), None, "float32",
                    False, False)
        task = autotvm.task.create(op, args=args, target=AVX2)
        assert task.config_space.index_of(task.fallback_config()) is not None


@pytest.mark.parametrize("M, N, K", [(50, 48, 40), (128, 32, 64), (7, 24, 16), (198, 16, 8)])
def test_dense_default_tile_with_row_tails_matches_numpy(M, N, K):
    """6-row tiles over row counts they do not divide (the tail rows run guarded, or partitioned off)."""
    rng = np.random.default_rng(M)
    x = rng.standard_normal((M, K)).astype("float32")
    w = rng.standard_normal((N, K)).astype("float32")
    xv = relay.var("x", shape=(M, K))
    y = relay.nn.relu(relay.nn.dense(xv, relay.var("w", shape=(N, K))))
    mod = tvm.IRModule.from_expr(relay.Function(relay.analysis.free_vars(y), y))
    got = _run(mod, AVX2, {"w": w}, {"x": x})
    np.testing.assert_allclose(got, np.maximum(x @ w.T, 0), rtol=1e-4, atol=1e-4)
