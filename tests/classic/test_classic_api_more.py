"""Classic spellings that apache/tvm's unit tests import or call (issue 12), each checked for what it returns."""

import numpy as np
import pytest

import tilecraft as tvm


def test_codegen_llvm_queries():
    import llvmlite.binding as llvm

    codegen = tvm.target.codegen  # reachable without importing it first, as classic tests use it
    assert codegen.llvm_version_major() == llvm.llvm_version_info[0]
    assert codegen.llvm_get_system_triple() == llvm.get_process_triple()
    assert codegen.llvm_cpu_has_features("avx2", "llvm -mcpu=haswell")
    assert not codegen.llvm_cpu_has_features(["avx2", "avx512f"], "llvm -mcpu=haswell")


def test_conv3d_winograd_tile_size():
    from tilecraft.topi.cuda.conv3d_winograd import _infer_tile_size

    assert _infer_tile_size(np.zeros((1, 8, 4, 16, 16)), np.zeros((8, 8, 3, 3, 3))) == 4
    assert _infer_tile_size(np.zeros((1, 8, 4, 14, 16)), np.zeros((8, 8, 3, 3, 3))) == 2
    assert _infer_tile_size(np.zeros((1, 4, 14, 16, 8)), None, layout="NDHWC") == 2
    with pytest.raises(ValueError, match="5-D"):
        _infer_tile_size(np.zeros((1, 8, 16, 16)), None)
