"""NDArray: construction, copies, alignment, DLPack sharing with numpy and torch."""

import numpy as np
import pytest

from tilecraft import runtime as rt
from tilecraft.runtime import ndarray as nd


def test_array_copies_and_keeps_dtype():
    src = np.random.default_rng(0).standard_normal((3, 5)).astype("float32")
    a = nd.array(src)
    assert a.shape == (3, 5) and a.dtype == "float32" and a.ndim == 2 and a.size == 15
    assert a.device == rt.cpu(0)
    src[0, 0] = 42.0
    assert a.numpy()[0, 0] != 42.0
    out = a.numpy()
    out[:] = 0
    assert a.asnumpy()[1, 1] != 0


@pytest.mark.parametrize("obj, dtype, want", [
    ([1.5, 2.5], None, "float64"), ([1, 2], "float32", "float32"), (3, "int32", "int32"),
    (np.arange(4, dtype="int8"), None, "int8"), ([True, False], None, "bool"),
])
def test_array_from_lists_scalars_arrays(obj, dtype, want):
    a = nd.array(obj, dtype=dtype)
    assert a.dtype == want
    np.testing.assert_array_equal(a.numpy(), np.asarray(obj).astype(want))


def test_array_from_ndarray_is_a_copy():
    a = nd.array(np.ones(4, "float32"))
    b = nd.array(a)
    b.copyfrom(np.zeros(4, "float32"))
    np.testing.assert_array_equal(a.numpy(), np.ones(4))


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 3, 4), (0,)])
@pytest.mark.parametrize("dtype", ["float32", "int8", "float64"])
def test_storage_is_64_byte_aligned(shape, dtype):
    assert nd.empty(shape, dtype).data_ptr % 64 == 0
    assert nd.array(np.ones(shape, dtype)).data_ptr % 64 == 0
    assert nd.empty(shape, dtype).handle % 64 == 0


def test_empty_shape_and_dtype():
    a = nd.empty((2, 3), "int64")
    assert a.shape == (2, 3) and a.dtype == "int64"
    assert nd.empty(5).shape == (5,)
    with pytest.raises(ValueError, match="negative"):
        nd.empty((2, -1))
    with pytest.raises(TypeError, match="complex64"):
        nd.empty((2,), "complex64")


def test_copyfrom_checks_shape_and_dtype():
    a = nd.empty((2, 3), "float32")
    with pytest.raises(ValueError, match=r"dtype float64 .* float32"):
        a.copyfrom(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(3, 2\) .* \(2, 3\)"):
        a.copyfrom(np.zeros((3, 2), "float32"))
    a.copyfrom([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(a.numpy(), [[1, 2, 3], [4, 5, 6]])
    a[:] = 2.0
    np.testing.assert_array_equal(a.numpy(), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="arr\\[:\\]"):
        a[0] = 1.0


def test_copyto_array_and_device():
    a = nd.array(np.arange(6, dtype="float32").reshape(2, 3))
    b = nd.empty((2, 3), "float32")
    assert a.copyto(b) is b
    np.testing.assert_array_equal(b.numpy(), a.numpy())
    c = a.copyto(rt.cpu(0))
    assert c.data_ptr != a.data_ptr
    np.testing.assert_array_equal(c.numpy(), a.numpy())
    with pytest.raises(TypeError, match="NDArray or a Device"):
        a.copyto(3)


def test_cuda_array_without_gpu_is_clear():
    if rt.cuda(0).exist:
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        nd.array(np.ones(3), device=rt.cuda(0))
    with pytest.raises(RuntimeError, match="no CUDA device"):
        nd.empty((3,), device=rt.cuda(0))


def test_numpy_dlpack_shares_memory():
    a = nd.array(np.arange(6, dtype="float32"))
    view = np.from_dlpack(a)
    assert view.ctypes.data == a.data_ptr
    view[0] = 100.0
    assert a.numpy()[0] == 100.0
    assert a.__dlpack_device__() == (1, 0)


def test_from_dlpack_shares_numpy_memory():
    src = np.arange(8, dtype="float64").reshape(2, 4)
    a = nd.from_dlpack(src)
    assert a.data_ptr == src.ctypes.data and a.shape == (2, 4) and a.dtype == "float64"
    src[1, 1] = -1
    assert a.numpy()[1, 1] == -1
    with pytest.raises(ValueError, match="C-contiguous"):
        nd.from_dlpack(src.T)


def test_array_interface_and_repr():
    a = nd.array(np.arange(3, dtype="int32"))
    np.testing.assert_array_equal(np.asarray(a), [0, 1, 2])
    assert "cpu(0)" in repr(a) and "shape=(3,)" in repr(a)


def test_torch_dlpack_round_trip():
    torch = pytest.importorskip("torch")
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    a = nd.from_dlpack(t)
    assert a.data_ptr == t.data_ptr()
    t[0, 0] = 7
    assert a.numpy()[0, 0] == 7
    back = torch.from_dlpack(a)
    assert back.data_ptr() == a.data_ptr
    copy = nd.array(t.requires_grad_(False))
    assert copy.data_ptr % 64 == 0 and copy.data_ptr != t.data_ptr()
    g = torch.ones(3, requires_grad=True)
    np.testing.assert_array_equal(nd.array(g).numpy(), np.ones(3, "float32"))


class _Producer:
    """A minimal third-party DLPack producer (the protocol torch tensors speak)."""

    def __init__(self, arr):
        self._arr = arr

    def __dlpack__(self, **kwargs):
        return self._arr.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._arr.__dlpack_device__()


def test_dlpack_producer_import_and_consumer_keywords():
    src = np.arange(12, dtype="float32").reshape(3, 4)
    shared = nd.from_dlpack(_Producer(src))
    assert shared.data_ptr == src.ctypes.data
    copied = nd.array(_Producer(src))
    assert copied.data_ptr != src.ctypes.data and copied.data_ptr % 64 == 0
    np.testing.assert_array_equal(copied.numpy(), src)
    a = nd.array(src)
    # the keyword forms that torch.from_dlpack and np.from_dlpack use
    for kwargs in ({}, {"stream": None}, {"max_version": (1, 0)},
                   {"max_version": (1, 0), "dl_device": (1, 0)}):
        assert type(a.__dlpack__(**kwargs)).__name__ == "PyCapsule"


class _GpuProducer(_Producer):
    def __dlpack_device__(self):
        return (2, 0)


def test_gpu_dlpack_tensors_are_refused_clearly():
    t = _GpuProducer(np.zeros(3, "float32"))
    for make in (nd.from_dlpack, nd.array, nd.empty((3,)).copyfrom):
        with pytest.raises(RuntimeError, match=r"lives on cuda\(0\).*CPU first"):
            make(t)
