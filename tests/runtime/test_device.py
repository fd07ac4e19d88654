"""Device construction, naming, equality and the CUDA presence probe."""

import pytest

from tilecraft import runtime as rt


def test_cpu_device_basics():
    dev = rt.cpu(0)
    assert (dev.device_type, dev.device_id) == (1, 0)
    assert repr(dev) == "cpu(0)"
    assert dev.exist
    dev.sync()


@pytest.mark.parametrize("name", ["cpu", "llvm", "llvm -mcpu=znver3", "CPU"])
def test_device_from_cpu_names(name):
    assert rt.device(name, 0) == rt.cpu(0)


@pytest.mark.parametrize("name", ["cuda", "gpu", "nvptx"])
def test_device_from_gpu_names(name):
    assert rt.device(name, 1) == rt.cuda(1)
    assert repr(rt.device(name, 1)) == "cuda(1)"


def test_device_passthrough_equality_and_hash():
    dev = rt.cuda(0)
    assert rt.device(dev) is dev
    assert rt.cpu(0) != rt.cuda(0)
    assert len({rt.cpu(0), rt.device("llvm"), rt.cuda(0)}) == 2


def test_unknown_device_is_named():
    with pytest.raises(ValueError, match="'tpu'"):
        rt.device("tpu")


def test_cuda_exist_never_raises():
    assert rt.cuda(0).exist in (True, False)
    assert rt.cuda(99).exist is False


def test_missing_cuda_device_sync_is_clear():
    if rt.cuda(0).exist:
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        rt.cuda(0).sync()
