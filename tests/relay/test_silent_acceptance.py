"""Issue 11: inputs that used to be accepted silently with wrong results.

NaN: relay's max-like operators give what PyTorch gives (a NaN wins).  Dtypes: an operator that
computes in its inputs' dtype refuses mixed float dtypes, and a bound parameter must have its
variable's shape and dtype; each error names the operator or parameter and the dtypes.
"""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.relay.transform.infer_type import RelayTypeError

torch = pytest.importorskip("torch")


def _run(make, *arrays):
    vs = [relay.var(f"x{i}", shape=a.shape, dtype=str(a.dtype)) for i, a in enumerate(arrays)]
    mod = tvm.IRModule.from_expr(relay.Function(vs, make(*vs)))
    return relay.create_executor("graph", mod=mod, target="llvm").evaluate()(*arrays).numpy()


def _with_nans(shape, seed, frac=0.2):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype("float32")
    a[rng.random(shape) < frac] = np.nan
    a.flat[0] = np.nan  # a NaN in the first position, which te.max's classic combiner would drop
    return a


def _same(got, want):
    want = want.numpy() if hasattr(want, "numpy") else want
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, equal_nan=True)


# ---------------------------------------------------------------------------- NaN, against torch

@pytest.mark.parametrize("seed", [0, 1])
def test_reductions_propagate_nan_like_torch(seed):
    a = _with_nans((4, 7, 5), seed)
    t = torch.from_numpy(a)
    _same(_run(lambda x: relay.max(x, axis=1), a), torch.amax(t, dim=1))
    _same(_run(lambda x: relay.min(x, axis=(0, 2)), a), torch.amin(t, dim=(0, 2)))
    _same(_run(lambda x: relay.max(x), a), torch.amax(t))
    np.testing.assert_array_equal(_run(lambda x: relay.argmax(x, axis=1), a), torch.argmax(t, dim=1).numpy())
    np.testing.assert_array_equal(_run(lambda x: relay.argmin(x, axis=2), a), torch.argmin(t, dim=2).numpy())


def test_first_position_nan_and_all_minus_inf():
    a = np.array([[np.nan, 1, 2, 3], [-np.inf, -np.inf, -np.inf, -np.inf]], "float32")
    t = torch.from_numpy(a)
    _same(_run(lambda x: relay.max(x, axis=1), a), torch.amax(t, dim=1))
    np.testing.assert_array_equal(_run(lambda x: relay.argmax(x, axis=1), a), torch.argmax(t, dim=1).numpy())


@pytest.mark.parametrize("seed", [2, 3])
def test_activations_and_elementwise_propagate_nan(seed):
    a, b = _with_nans((3, 33), seed), _with_nans((3, 33), seed + 10)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    _same(_run(relay.nn.relu, a), torch.relu(ta))
    _same(_run(lambda x: relay.clip(x, -0.5, 0.75), a), torch.clamp(ta, -0.5, 0.75))
    _same(_run(relay.maximum, a, b), torch.maximum(ta, tb))
    _same(_run(relay.minimum, a, b), torch.minimum(ta, tb))
    _same(_run(relay.nn.hardswish, a), torch.nn.functional.hardswish(ta))


@pytest.mark.parametrize("seed,padding,ceil_mode", [(4, (0, 0), False), (5, (1, 1), True)])
def test_max_pooling_propagates_nan(seed, padding, ceil_mode):
    a = _with_nans((2, 3, 11, 16), seed, frac=0.05)
    t = torch.from_numpy(a)
    got = _run(lambda x: relay.nn.max_pool2d(x, (3, 3), (2, 2), padding=padding, ceil_mode=ceil_mode), a)
    _same(got, torch.nn.functional.max_pool2d(t, 3, 2, padding=padding[0], ceil_mode=ceil_mode))
    _same(_run(lambda x: relay.nn.global_max_pool2d(x), a), torch.amax(t, dim=(2, 3), keepdim=True))
    _same(_run(lambda x: relay.nn.adaptive_max_pool2d(x, (3, 5)), a),
          torch.nn.functional.adaptive_max_pool2d(t, (3, 5)))


def test_max_pool1d_from_pytorch_propagates_nan():
    a = _with_nans((2, 4, 20), 6, frac=0.1)
    model = torch.nn.MaxPool1d(3, 2).eval()
    scripted = torch.jit.trace(model, torch.from_numpy(a))
    mod, params = relay.frontend.from_pytorch(scripted, [("x", a.shape)])
    lib = relay.build(mod, target="llvm", params=params)
    from tilecraft.contrib import graph_executor

    m = graph_executor.GraphModule(lib["default"](tvm.cpu()))
    m.set_input("x", a)
    m.run()
    _same(m.get_output(0).numpy(), model(torch.from_numpy(a)))


def test_nan_kernels_stay_vectorized():
    """The NaN checks are selects on vectors: relu and max pooling still compile to vector code."""
    from tilecraft import te, topi

    x = te.placeholder((1, 16, 32, 32), "float32", name="x")
    for out, schedule in ((topi.nn.relu(x), topi.x86.schedule_injective),
                          (topi.nn.pool2d(x, (3, 3), (1, 1), padding=(1, 1, 1, 1)), topi.x86.schedule_pool)):
        with tvm.target.Target("llvm"):
            s = schedule([out])
        ll = tvm.build(s, [x, out], "llvm").get_source("ll")
        assert "select <" in ll and "x float>" in ll, out.op.name


# ---------------------------------------------------------------------------- mixed dtypes

def _infer(expr):
    mod = tvm.IRModule.from_expr(relay.Function(relay.analysis.free_vars(expr), expr))
    return relay.transform.InferType()(mod)


_F32 = dict(dtype="float32")
_F64 = dict(dtype="float64")


@pytest.mark.parametrize("op,make", [
    ("nn.dense", lambda: relay.nn.dense(relay.var("a", shape=(4, 8), **_F32), relay.var("w", shape=(16, 8), **_F64))),
    ("nn.matmul", lambda: relay.nn.matmul(relay.var("a", shape=(4, 8), **_F32), relay.var("b", shape=(8, 3), **_F64))),
    ("nn.batch_matmul", lambda: relay.nn.batch_matmul(relay.var("x", shape=(2, 4, 8), **_F32),
                                                      relay.var("y", shape=(2, 5, 8), **_F64))),
    ("nn.conv2d", lambda: relay.nn.conv2d(relay.var("x", shape=(1, 3, 8, 8), **_F32),
                                          relay.var("w", shape=(4, 3, 3, 3), **_F64))),
    ("nn.conv2d_transpose", lambda: relay.nn.conv2d_transpose(relay.var("x", shape=(1, 3, 8, 8), **_F32),
                                                              relay.var("w", shape=(3, 4, 3, 3), **_F64))),
    ("nn.bias_add", lambda: relay.nn.bias_add(relay.var("x", shape=(1, 3, 4, 4), **_F32),
                                              relay.var("b", shape=(3,), **_F64))),
    ("nn.dense", lambda: relay.nn.dense(relay.var("a", shape=(4, 8), **_F32),
                                        relay.var("w", shape=(16, 8), dtype="int32"))),
    ("add", lambda: relay.add(relay.var("a", shape=(4,), **_F32), relay.var("b", shape=(4,), **_F64))),
    ("concatenate", lambda: relay.concatenate([relay.var("a", shape=(2, 3), **_F32),
                                               relay.var("b", shape=(2, 3), **_F64)], 0)),
    ("stack", lambda: relay.stack([relay.var("a", shape=(2, 3), **_F64), relay.var("b", shape=(2, 3), **_F32)], 1)),
])
def test_mixed_float_dtypes_are_refused(op, make):
    with pytest.raises(RelayTypeError) as e:
        _infer(make())
    msg = str(e.value)
    assert msg.startswith(op + ":"), msg
    assert "float32" in msg and ("float64" in msg or "int32" in msg), msg


def test_legitimate_mixed_dtypes_still_type_check():
    x8, w8 = relay.var("x", shape=(1, 3, 8, 8), dtype="uint8"), relay.var("w", shape=(4, 3, 3, 3), dtype="int8")
    _infer(relay.nn.conv2d(x8, w8, out_dtype="int32"))
    _infer(relay.nn.dense(relay.var("a", shape=(2, 8), dtype="uint8"), relay.var("b", shape=(4, 8), dtype="int8"),
                          out_dtype="int32"))
    data = relay.var("d", shape=(5, 4), **_F32)
    _infer(relay.take(data, relay.var("i", shape=(3,), dtype="int64"), axis=0))
    _infer(relay.where(relay.var("c", shape=(5, 4), dtype="bool"), data, data))


# ---------------------------------------------------------------------------- bound parameters

def _dense_mod():
    x, w = relay.var("x", shape=(2, 8)), relay.var("weight", shape=(4, 8))
    return tvm.IRModule.from_expr(relay.Function([x, w], relay.nn.dense(x, w)))


@pytest.mark.parametrize("dtype", ["float64", "int32", "float16"])
def test_bound_param_of_another_dtype_is_refused(dtype):
    with pytest.raises(TypeError) as e:
        relay.build(_dense_mod(), target="llvm", params={"weight": np.ones((4, 8), dtype)})
    msg = str(e.value)
    assert "'weight'" in msg and "float32" in msg and dtype in msg, msg


def test_bound_param_of_another_shape_is_refused():
    with pytest.raises(ValueError) as e:
        relay.build(_dense_mod(), target="llvm", params={"weight": np.ones((8, 4), "float32")})
    msg = str(e.value)
    assert "'weight'" in msg and "(4, 8)" in msg and "(8, 4)" in msg, msg
    with pytest.raises(TypeError, match="'weight'"):
        relay.build_module.bind_params_by_name(_dense_mod()["main"], {"weight": tvm.nd.array(np.ones((4, 8)))})


def test_matching_param_binds():
    w = np.random.default_rng(0).standard_normal((4, 8)).astype("float32")
    f = relay.build_module.bind_params_by_name(_dense_mod()["main"], {"weight": w})
    assert [p.name_hint for p in f.params] == ["x"]
