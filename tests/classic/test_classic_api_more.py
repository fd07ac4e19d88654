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


def test_devices_without_a_runtime_exist_as_names():
    for name, make in (("opencl", tvm.opencl), ("vulkan", tvm.vulkan), ("metal", tvm.metal), ("rocm", tvm.rocm)):
        dev = tvm.device(name)
        assert dev == make(0) and dev.kind == name and not dev.exist
        with pytest.raises(RuntimeError, match=f"no {name} runtime"):
            tvm.nd.array(np.zeros(3, "float32"), dev)


def test_iter_var_attrs_and_pragmas_as_classic():
    from tilecraft import te

    A = te.placeholder((100,), name="A")
    T = te.compute((100,), lambda i: A[i], name="T")
    s = te.create_schedule(T.op)
    xo, xi = s[T].split(T.op.axis[0], factor=10)
    s[T].pragma(xo, "pragma1")
    s[T].pragma(xi, "vectorize")  # the primitive of that name
    assert s[T].iter_var_attrs[xo].pragma_keys[0].value == "pragma1"
    assert s[T].iter_var_attrs[xi].iter_type == tvm.te.schedule.IterVar.Vectorized
    s2 = te.create_schedule(T.op)
    s2[T].unroll(s2[T].split(T.op.axis[0], factor=4)[1])
    body = tvm.lower(s2, [A, T])["main"].body
    assert "for" in str(body)
    B = te.compute((8, 8), lambda i, j: A[i] * 2, name="B")
    C = te.compute((8, 8), lambda i, j: B[i, j] + 1, name="C")
    s3 = te.create_schedule(C.op)
    alloc = tvm.lower(s3, [A, C])["main"].body
    assert [int(e) for e in alloc.extents] == [8, 8] and alloc.dtype == "float32"


def test_strings_print_with_double_quotes():
    assert str(tvm.tir.StringImm("vadd")) == '"vadd"'
    assert str(tvm.tir.call_extern("float32", "vadd", 1)) == 'T.call_extern("vadd", 1)'


def test_relay_text_omits_default_attributes_and_calls_have_type_args():
    from tilecraft import relay
    from tilecraft.relay.transform.infer_type import infer_type

    x, b = relay.var("x", shape=(2, 3)), relay.var("b", shape=(3,))
    assert "axis=" not in relay.astext(relay.nn.bias_add(x, b))
    assert "axis=0" in relay.astext(relay.nn.bias_add(x, relay.var("c", shape=(2,)), axis=0))
    y = infer_type(relay.nn.bias_add(x, b))
    assert [t.shape for t in y.type_args] == [(2, 3), (3,)]


def test_set_input_converts_like_classic():
    """Classic set_input copies numpy data into the input's dtype: float64 into float32, and values
    the dtype holds exactly (2.0 into int32); a value it would change (2.5 into int32) is refused."""
    from tilecraft import relay
    from tilecraft.contrib import graph_executor

    x = relay.var("x", shape=(2, 3), dtype="float32")
    k = relay.var("k", shape=(), dtype="int32")
    y = relay.add(x, relay.cast(k, "float32"))
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(tvm.IRModule.from_expr(relay.Function([x, k], y)), "llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    data = np.random.default_rng(0).standard_normal((2, 3))  # float64
    m.set_input("x", data)
    m.set_input("k", np.array(2.0))
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), data.astype("float32") + 2, rtol=1e-6)
    with pytest.raises(TypeError, match=r"input 'k': expected dtype int32, got float64"):
        m.set_input("k", np.array(2.5))


def test_constant_data_answers_numpy():
    from tilecraft import relay

    value = np.arange(6, dtype="float32").reshape(2, 3)
    doubled = relay.Function([], relay.const(value) * relay.const(2.0))
    mod = relay.transform.FoldConstant()(tvm.IRModule.from_expr(doubled))
    out = mod["main"].body.data
    assert type(out.numpy()) is np.ndarray
    np.testing.assert_array_equal(out.numpy(), value * 2)
    loaded = tvm.ir.load_json(tvm.ir.save_json(mod["main"]))  # a loaded constant answers it too
    np.testing.assert_array_equal(loaded.body.data.numpy(), value * 2)


def test_global_pool_and_mean_of_symbolic_sizes():
    from tilecraft import relay, te

    n, c, h, w = te.size_var("n"), te.size_var("c"), te.size_var("h"), te.size_var("w")
    x = relay.var("x", relay.TensorType((n, c, h, w), "float32"))
    y = relay.transform.InferType()(tvm.IRModule.from_expr(relay.nn.global_avg_pool2d(x)))["main"].body
    assert tvm.ir.structural_equal(y.checked_type, relay.TensorType((n, c, 1, 1), "float32"))
    xs = relay.var("xs", relay.TensorType((n, 4), "float32"))
    f = relay.Function([xs], relay.mean(xs, axis=0))
    with pytest.raises(ValueError, match=r"symbolic shape \(n, 4\).*static shapes only"):
        relay.create_executor("graph", mod=tvm.IRModule.from_expr(f), target="llvm").evaluate()
    a = te.placeholder((n, 4), name="a")  # te builds symbolic shapes: the mean divides by n at run time
    s = te.create_schedule(tvm.topi.mean(a, axis=0).op)
    mean = s.outputs[0].output(0)
    fn = tvm.build(s, [a, mean], "llvm")
    data = np.random.default_rng(1).standard_normal((5, 4)).astype("float32")
    out = tvm.nd.empty((4,), "float32")
    fn(tvm.nd.array(data), out)
    np.testing.assert_allclose(out.numpy(), data.mean(0), rtol=1e-5)


def test_auto_inline_and_attach_type_numbers():
    """te.schedule.AutoInlineElemWise / AutoInlineInjective (classic) and attach types that compare
    equal to classic's numbers (kGroupRoot 1, kInline 2) as well as to their names."""
    from tilecraft import te

    a, b = te.placeholder((4, 5), name="a"), te.placeholder((4,), name="b")
    ew = te.compute((4, 5), lambda i, j: a[i, j] * 2, name="ew")
    bc = te.compute((4, 5), lambda i, j: ew[i, j] + b[i], name="bc")
    out = te.compute((4, 5), lambda i, j: bc[i, j] + 1, name="out")
    s = te.create_schedule(out.op)
    assert s[ew].attach_type == 1 and s[ew].attach_type == "root"
    te.schedule.AutoInlineElemWise(s)
    assert s[ew].attach_type == 2 and s[bc].attach_type == 1  # bc reads b at (i): not element-wise
    te.schedule.AutoInlineInjective(s)
    assert s[bc].attach_type == "inline" and s[out].attach_type == "root"
    f = tvm.build(s, [a, b, out], "llvm")
    x, y = np.random.rand(4, 5).astype("float32"), np.random.rand(4).astype("float32")
    res = tvm.nd.empty((4, 5), "float32")
    f(tvm.nd.array(x), tvm.nd.array(y), res)
    np.testing.assert_allclose(res.numpy(), x * 2 + y[:, None] + 1, rtol=1e-6)
