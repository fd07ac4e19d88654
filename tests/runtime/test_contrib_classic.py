"""Classic contrib modules tests import: nvcc's capability checks, cudnn.exists, and the driver's
schedule_to_module."""

import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.contrib import cudnn, nvcc
from tilecraft.driver.build_module import schedule_to_module


def test_nvcc_capabilities():
    assert nvcc.parse_compute_version("8.6") == (8, 6) == nvcc.parse_compute_version("sm_86")
    assert nvcc.have_fp16("5.3") and not nvcc.have_fp16("5.2") and nvcc.have_fp16("6.1")
    assert nvcc.have_int8("6.1") and not nvcc.have_int8("6.0")
    assert nvcc.have_tensorcore("7.0") and not nvcc.have_tensorcore("6.1") and nvcc.have_bf16("8.0")
    with pytest.raises(ValueError, match="expected e.g."):
        nvcc.parse_compute_version("ampere")


def test_cudnn_is_absent_and_says_so():
    assert cudnn.exists() is False
    with pytest.raises(AttributeError, match="does not call cuDNN"):
        getattr(cudnn, "conv_forward")  # noqa: B009


def test_schedule_to_module_keeps_the_loops_unlowered():
    A = te.placeholder((8, 8), name="A")
    B = te.compute((8, 8), lambda i, j: A[i, j] + 1.0, name="B")
    s = te.create_schedule(B.op)
    mod = schedule_to_module(s, [A, B], "f")
    assert "f" in mod and isinstance(mod["f"], tvm.tir.PrimFunc) and "for" in str(mod["f"])
