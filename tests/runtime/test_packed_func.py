"""Global functions (register_func / get_global_func) and kernels that call them with call_packed:
in-process JIT, exported .so and .tar libraries, errors raised by the callee, unknown names."""

import subprocess
import sys

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te, tir
from tilecraft.error import TVMError
from tilecraft.runtime import PackedFuncError


# ---------------------------------------------------------------------------- the registry
def test_register_forms_and_override_rules():
    @tvm.register_func("test.pf.one")
    def one(x):
        return x + 1

    try:
        assert tvm.get_global_func("test.pf.one") is one
        assert tvm.get_global_func("test.pf.one")(1) == 2
        assert "test.pf.one" in tvm.runtime.list_global_func_names()
        with pytest.raises(ValueError, match="already registered.*override=True"):
            tvm.register_func("test.pf.one", lambda x: x)

        def two(x):
            return x + 2

        assert tvm.register_func("test.pf.one", two, override=True) is two
        assert tvm.get_global_func("test.pf.one")(1) == 3
    finally:
        tvm.runtime.remove_global_func("test.pf.one")

    @tvm.register_func
    def test_pf_bare():
        return 5

    try:
        assert tvm.get_global_func("test_pf_bare")() == 5
    finally:
        tvm.runtime.remove_global_func("test_pf_bare")
    with pytest.raises(TypeError, match="callable"):
        tvm.register_func("test.pf.bad", 3)


def test_get_global_func_missing():
    assert tvm.get_global_func("test.pf.missing", allow_missing=True) is None
    with pytest.raises(ValueError, match="test.pf.missing.*register_func"):
        tvm.get_global_func("test.pf.missing")
    assert tvm.get_global_func("tvm.contrib.cblas.matmul", allow_missing=True)


def test_convert():
    c = tvm.runtime.convert([1, 2.5, "s"])
    assert int(c[0]) == 1 and c[0].dtype == "int32"
    assert float(c[1]) == 2.5 and c[2] == "s"


# ---------------------------------------------------------------------------- calls from kernels
def _scale_module(name: str):
    """out = extern f(A, out, 2.5, 3, False); D = out + 1 -- built for the host."""
    A = te.placeholder((5, 6), name="A")
    B = te.extern((5, 6), [A], lambda ins, outs: tir.call_packed(name, ins[0], outs[0], 2.5, 3, False), name="B")
    D = te.compute((5, 6), lambda i, j: B[i, j] + 1.0, name="D")
    return tvm.build(te.create_schedule(D.op), [A, D])


def _scale(x, y, alpha, beta, flag):
    assert isinstance(x, tvm.nd.NDArray) and x.shape == (5, 6) and x.dtype == "float32"
    assert (alpha, beta, flag) == (2.5, 3, False)
    np.asarray(y)[...] = np.asarray(x) * alpha + beta  # a zero-copy view: writes reach the kernel


def _check_scale(mod):
    x = np.random.default_rng().standard_normal((5, 6)).astype("float32")
    d = np.zeros((5, 6), "float32")
    mod(x, d)
    np.testing.assert_allclose(d, x * 2.5 + 3 + 1, rtol=1e-6)


def test_kernel_calls_registered_function(registered):
    registered("test.pf.scale", _scale)
    mod = _scale_module("test.pf.scale")
    assert mod.artifact.extra["packed_calls"] == ["test.pf.scale"]
    _check_scale(mod)


@pytest.mark.parametrize("suffix", [".so", ".tar"])
def test_exported_library_calls_registered_function(tmp_path, registered, suffix):
    if suffix == ".so":
        from tilecraft.runtime.export import find_cc

        try:
            find_cc(None)
        except RuntimeError:
            pytest.skip("no C compiler")
    registered("test.pf.scale", _scale)
    mod = _scale_module("test.pf.scale")
    path = tmp_path / f"lib{suffix}"
    mod.export_library(str(path))
    loaded = tvm.runtime.load_module(str(path))
    _check_scale(loaded)
    _check_scale(mod)  # both modules hold the callback


def test_exported_cblas_library_in_fresh_process(tmp_path):
    """tvm.contrib.cblas.matmul is registered by tilecraft itself, so a library runs anywhere."""
    from tilecraft.contrib import cblas
    from tilecraft.runtime.export import find_cc

    try:
        find_cc(None)
    except RuntimeError:
        pytest.skip("no C compiler")
    A = te.placeholder((30, 20), name="A")
    B = te.placeholder((20, 10), name="B")
    C = cblas.matmul(A, B)
    bias = te.var("bias", "float32")
    D = te.compute(C.shape, lambda i, j: C[i, j] + bias, name="D")
    path = tmp_path / "mm.so"
    tvm.build(te.create_schedule(D.op), [A, B, D, bias]).export_library(str(path))
    code = (
        "import sys, numpy as np\n"
        "from tilecraft import runtime as rt\n"
        "mod = rt.load_module(sys.argv[1])\n"
        "rng = np.random.default_rng()\n"
        "a, b = rng.standard_normal((30, 20)).astype('float32'), rng.standard_normal((20, 10)).astype('float32')\n"
        "d = np.zeros((30, 10), 'float32')\n"
        "mod(a, b, d, 0.5)\n"
        "np.testing.assert_allclose(d, a @ b + 0.5, rtol=1e-4, atol=1e-5)\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_exception_in_callee_becomes_python_error(registered):
    calls = []

    def boom(x, y, alpha, beta, flag):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("bad input values")
        _scale(x, y, alpha, beta, flag)

    registered("test.pf.boom", boom)
    mod = _scale_module("test.pf.boom")
    x, d = np.ones((5, 6), "float32"), np.zeros((5, 6), "float32")
    with pytest.raises(PackedFuncError, match="'test.pf.boom' raised ValueError: bad input values") as info:
        mod(x, d)
    assert isinstance(info.value, TVMError) and isinstance(info.value.__cause__, ValueError)
    assert "default_function" in str(info.value)
    _check_scale(mod)  # the failure left nothing behind


def test_exception_in_parallel_loop(registered):
    def fail_at(i):
        if i == 40:
            raise KeyError("forty")
        return i

    registered("test.pf.fail_at", fail_at)
    E = te.compute((64,), lambda i: tir.call_packed("test.pf.fail_at", i), name="E")
    s = te.create_schedule(E.op)
    s[E].parallel(E.op.axis[0])
    f = tvm.build(s, [E])
    with pytest.raises(PackedFuncError, match="test.pf.fail_at.*KeyError"):
        f(np.zeros(64, "int32"))


def test_unregistered_function_gives_clear_error(registered):
    mod = _scale_module("test.pf.never_registered")
    with pytest.raises(PackedFuncError, match="'test.pf.never_registered' is not registered.*register_func"):
        mod(np.ones((5, 6), "float32"), np.zeros((5, 6), "float32"))
    registered("test.pf.never_registered", _scale)  # registering later is enough
    _check_scale(mod)


def test_bad_return_value_is_an_error(registered):
    registered("test.pf.ret", lambda i: "text")
    E = te.compute((2,), lambda i: tir.call_packed("test.pf.ret", i), name="E")
    f = tvm.build(te.create_schedule(E.op), [E])
    with pytest.raises(PackedFuncError, match="returned a str"):
        f(np.zeros(2, "int32"))


def test_time_evaluator_reports_callee_error(registered):
    def fail(*args):
        raise RuntimeError("nope")

    registered("test.pf.fail", fail)
    mod = _scale_module("test.pf.fail")
    timer = mod.time_evaluator(mod.entry_name, tvm.cpu(0), number=1)
    with pytest.raises(RuntimeError, match="test.pf.fail' raised RuntimeError: nope"):
        timer(np.ones((5, 6), "float32"), np.zeros((5, 6), "float32"))


def test_saved_object_linked_by_create_shared(tmp_path, registered):
    """mod.save("x.o") + contrib.cc.create_shared + load_module: the library binds the callback too."""
    from tilecraft.contrib import cc
    from tilecraft.runtime.export import find_cc

    try:
        find_cc(None)
    except RuntimeError:
        pytest.skip("no C compiler")
    registered("test.pf.scale", _scale)
    mod = _scale_module("test.pf.scale")
    mod.save(str(tmp_path / "scale.o"))
    cc.create_shared(str(tmp_path / "scale.so"), [str(tmp_path / "scale.o")])
    _check_scale(tvm.runtime.load_module(str(tmp_path / "scale.so")))


@pytest.mark.parametrize("dt_in,dt_out,shape", [("bool", "int64", (3, 2)), ("float16", "float32", (5,)),
                                                 ("int8", "uint8", ()), ("float64", "bool", (4,))])
def test_buffer_dtypes_and_ranks(registered, dt_in, dt_out, shape):
    seen = []

    def cast(x, y):
        seen.append((x.dtype, x.shape, y.dtype, y.shape))
        np.asarray(y)[...] = np.asarray(x).astype(y.dtype)

    registered("test.pf.cast", cast)
    A = te.placeholder(shape, dtype=dt_in, name="A")
    B = te.extern(shape, [A], lambda ins, outs: tir.call_packed("test.pf.cast", ins[0], outs[0]), dtype=dt_out,
                  name="B")
    f = tvm.build(te.create_schedule(B.op), [A, B])
    a = np.asarray(np.random.default_rng().uniform(0, 3, size=shape)).astype(dt_in)
    b = np.zeros(shape, dt_out)
    f(a, b)
    np.testing.assert_array_equal(b, a.astype(dt_out))
    assert seen == [(dt_in, shape, dt_out, shape)]


def test_buffers_passed_to_a_callee_count_as_written():
    """The overlap check covers them: the same array as input and output of a packed call is refused."""
    A = te.placeholder((4,), name="A")
    B = te.extern((4,), [A], lambda ins, outs: tir.call_packed("test.pf.any", ins[0], outs[0]), name="B")
    f = tvm.build(te.create_schedule(B.op), [A, B])
    x = np.zeros(4, "float32")
    with pytest.raises(ValueError, match="share memory"):
        f(x, x)


def test_failed_call_frees_heap_buffers(registered):
    """An intermediate too large for the stack is freed on the failure path too (no leak per error)."""
    registered("test.pf.fail_big", lambda x, y: 1 // 0)
    A = te.placeholder((1 << 19,), name="A")
    B = te.extern(A.shape, [A], lambda ins, outs: tir.call_packed("test.pf.fail_big", ins[0], outs[0]), name="B")
    C = te.compute(A.shape, lambda i: B[i] + 1.0, name="C")
    f = tvm.build(te.create_schedule(C.op), [A, C])
    assert f.get_source().count("@free(") >= 2  # the normal exit and the failure exit
    with pytest.raises(PackedFuncError, match="ZeroDivisionError"):
        f(np.zeros(1 << 19, "float32"), np.zeros(1 << 19, "float32"))
