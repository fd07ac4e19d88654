"""relay.testing: run_infer_type / run_opt_pass, the initializers, and every classic network built
with relay.build on llvm and checked against a numpy evaluation of the same graph (written with
topi.testing's references), on random inputs and random parameters."""

import numpy as np
import pytest

import tilecraft as tvm
import tilecraft.relay.testing
import tilecraft.topi.testing as ref
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.relay.expr import Call, Constant, Tuple, TupleGetItem, Var
from tilecraft.relay.visitor import post_order

RNG = np.random.default_rng(2016)


# ---- a numpy evaluator for the operators the networks use (independent of te/tir/codegen)

def _pool(kind):
    def f(a, x):
        p = a["padding"]
        return ref.poolnd_python(x, a["pool_size"], a["strides"], a["dilation"], p[:2], p[2:], kind,
                                 a.get("count_include_pad", True), a["ceil_mode"], "float64", a["layout"])
    return f


def _conv(a, x, w):
    conv = ref.conv2d_nhwc_python if a["data_layout"] == "NHWC" else ref.conv2d_nchw_python
    return conv(x, w, a["strides"], a["padding"], a["groups"])


def _batch_norm(a, x, g, b, m, v):
    g = g if a["scale"] else np.ones_like(g)
    b = b if a["center"] else np.zeros_like(b)
    return ref.batch_norm(x, g, b, m, v, a["axis"], a["epsilon"])[0], m, v


def _bias_add(a, x, b):
    shape = [1] * x.ndim
    shape[a["axis"]] = -1
    return x + b.reshape(shape)


def _expand_dims(a, x):
    axis = a["axis"] if a["axis"] >= 0 else x.ndim + a["axis"] + 1
    return x.reshape(x.shape[:axis] + (1,) * a.get("num_newaxis", 1) + x.shape[axis:])


def _split(a, x):
    ios = a["indices_or_sections"]
    return tuple(np.split(x, ios if isinstance(ios, int) else list(ios), axis=a["axis"]))


OPS = {
    "nn.conv2d": _conv, "nn.dense": lambda a, x, w: x @ w.T, "nn.bias_add": _bias_add,
    "nn.relu": lambda a, x: np.maximum(x, 0), "nn.softmax": lambda a, x: ref.softmax_python(x, a["axis"]),
    "nn.batch_norm": _batch_norm, "nn.batch_flatten": lambda a, x: x.reshape(x.shape[0], -1),
    "nn.max_pool2d": _pool("max"), "nn.avg_pool2d": _pool("avg"),
    "nn.global_avg_pool2d": lambda a, x: x.mean(axis=(2, 3) if a["layout"] == "NCHW" else (1, 2), keepdims=True),
    "nn.dropout": lambda a, x: x, "add": lambda a, x, y: x + y, "multiply": lambda a, x, y: x * y,
    "concatenate": lambda a, xs: np.concatenate(xs, axis=a["axis"]), "reshape": lambda a, x: x.reshape(a["newshape"]),
    "nn.conv2d_transpose": lambda a, x, w: ref.conv2d_transpose_nchw_python(x, w, a["strides"], a["padding"],
                                                                             a["output_padding"]),
    "subtract": lambda a, x, y: x - y, "divide": lambda a, x, y: x / y, "sqrt": lambda a, x: np.sqrt(x),
    "rsqrt": lambda a, x: 1 / np.sqrt(x), "negative": lambda a, x: -x, "tanh": lambda a, x: np.tanh(x),
    "sigmoid": lambda a, x: 1 / (1 + np.exp(-x)), "split": _split, "expand_dims": _expand_dims,
}


def numpy_eval(func, values):
    memo = {}
    for n in post_order(func.body):
        if isinstance(n, Var):
            memo[n] = values[n.name_hint].astype("float64")
        elif isinstance(n, Constant):
            memo[n] = n.data.astype("float64")
        elif isinstance(n, Tuple):
            memo[n] = tuple(memo[f] for f in n.fields)
        elif isinstance(n, TupleGetItem):
            memo[n] = memo[n.tuple_value][n.index]
        elif isinstance(n, Call):
            memo[n] = OPS[n.op.name](n.attrs, *[memo[a] for a in n.args])
    return memo[func.body]


def _randomize(params):
    """Random values for every parameter: the classic initializer leaves biases at 0 and batch-norm
    statistics at 0 / 1, which would hide mistakes in those paths."""
    out = {}
    for k, v in params.items():
        a = v.numpy()
        if k.endswith(("gamma", "var")):
            a = RNG.uniform(0.5, 1.5, a.shape)
        elif k.endswith(("bias", "beta", "mean")):
            a = RNG.normal(0.0, 0.2, a.shape)
        out[k] = a.astype("float32")
    return out


def _build_and_run(mod, params, inputs):
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for k, v in inputs.items():
        m.set_input(k, v)
    m.run()
    return m.get_output(0).numpy()


def _check_network(mod, params):
    params = _randomize(params)
    inputs = {v.name_hint: RNG.standard_normal(v.checked_type.concrete_shape).astype("float32")
              for v in mod["main"].params if v.name_hint not in params}
    assert inputs, "a network needs at least one input"
    got = _build_and_run(mod, params, inputs)
    want = numpy_eval(mod["main"], {**inputs, **params})
    assert got.shape == want.shape and np.isfinite(got).all()
    assert np.ptp(want) > 1e-3  # the output varies: a real check, not a constant
    tvm.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5 * np.abs(want).max())
    return got, inputs, params


# ---- the workloads, at small sizes (each still the classic architecture)

WORKLOADS = [
    ("mlp", dict(batch_size=2)),
    ("resnet", dict(batch_size=1, num_layers=18, image_shape=(3, 32, 32), num_classes=10)),
    ("resnet", dict(batch_size=2, num_layers=8, image_shape=(28, 28, 3), num_classes=10, layout="NHWC")),
    ("mobilenet", dict(batch_size=1, image_shape=(3, 32, 32), num_classes=10)),
    ("vgg", dict(batch_size=1, image_shape=(3, 32, 32), num_classes=10, num_layers=11)),
    ("squeezenet", dict(batch_size=1, image_shape=(3, 64, 64), num_classes=10, version="1.1")),
    ("dqn", dict(batch_size=2)),
    ("dqn", dict(batch_size=1, image_shape=(84, 84, 4), layout="NHWC")),
    ("dcgan", dict(batch_size=2, ngf=8, random_len=20)),
    ("lstm", dict(iterations=3, num_hidden=8, batch_size=2)),
    pytest.param("squeezenet", dict(batch_size=1, image_shape=(3, 64, 64), num_classes=10, version="1.0"),
                 marks=pytest.mark.slow),
    pytest.param("densenet", dict(batch_size=1, image_shape=(3, 64, 64), classes=10), marks=pytest.mark.slow),
    pytest.param("inception_v3", dict(batch_size=1, image_shape=(3, 75, 75), num_classes=10),
                 marks=pytest.mark.slow),
]


def _id(p):
    return p if isinstance(p, str) else "-".join(f"{v}" for v in p.values()).replace(" ", "")


@pytest.mark.parametrize("name,kwargs", WORKLOADS, ids=_id)
def test_workload_builds_and_matches_numpy(name, kwargs):
    mod, params = getattr(relay.testing, name).get_workload(**kwargs)
    assert "data" not in params and all(isinstance(v, tvm.nd.NDArray) for v in params.values())
    _check_network(mod, params)


def test_mlp_matches_a_plain_numpy_mlp():
    mod, params = relay.testing.mlp.get_workload(batch_size=3, num_classes=7, image_shape=(2, 5, 5))
    got, inputs, p = _check_network(mod, params)
    x = inputs["data"].reshape(3, -1)
    for i in (1, 2):
        x = np.maximum(x @ p[f"fc{i}_weight"].T + p[f"fc{i}_bias"], 0)
    tvm.testing.assert_allclose(got, ref.softmax_python(x @ p["fc3_weight"].T + p["fc3_bias"], 1), rtol=1e-4,
                                atol=1e-6)


def test_lstm_matches_a_plain_numpy_lstm():
    hidden, steps = 6, 3
    mod, params = relay.testing.lstm.get_workload(steps, hidden, batch_size=2)
    assert sorted(params) == sorted(f"lstm_{i}_{k}2h_{w}" for i in range(steps) for k in "ih"
                                    for w in ("weight", "bias"))
    got, inputs, p = _check_network(mod, params)
    sig = lambda v: 1 / (1 + np.exp(-v))
    h = c = np.zeros((2, hidden))
    for i in range(steps):
        x = inputs["data" if i == 0 else f"data_{i}"]
        g = x @ p[f"lstm_{i}_i2h_weight"].T + p[f"lstm_{i}_i2h_bias"] + h @ p[f"lstm_{i}_h2h_weight"].T \
            + p[f"lstm_{i}_h2h_bias"]
        gi, gf, gc, go = np.split(g, 4, axis=1)
        c = sig(gf) * c + sig(gi) * np.tanh(gc)
        h = sig(go) * np.tanh(c)
    tvm.testing.assert_allclose(got, h, rtol=1e-4, atol=1e-6)


def test_classic_default_shapes_and_names():
    """The default (ImageNet-size) networks type-check with the classic parameter names and shapes."""
    mod, params = relay.testing.resnet.get_workload(batch_size=1, num_layers=18)
    assert mod["main"].body.checked_type.concrete_shape == (1, 1000)
    assert params["conv0_weight"].shape == (64, 3, 7, 7) and params["fc1_weight"].shape == (1000, 512)
    assert params["stage2_unit1_sc_weight"].shape == (128, 64, 1, 1) and "bn_data_moving_var" in params
    mod, params = relay.testing.resnet.get_workload(batch_size=1, num_layers=50)
    assert params["stage4_unit3_conv3_weight"].shape == (2048, 512, 1, 1)
    mod, params = relay.testing.mobilenet.get_workload(batch_size=1)
    assert params["separable_conv_block_13_weight"].shape == (1024, 1, 3, 3)
    assert mod["main"].body.checked_type.concrete_shape == (1, 1000)
    mod, params = relay.testing.inception_v3.get_workload(batch_size=1)
    assert params["fc1_weight"].shape == (1000, 2048) and "fc2_bias" in params
    mod, params = relay.testing.densenet.get_workload(batch_size=1)
    # classic densenet concatenates a block's layer outputs only: 16 * 32 channels after the last block
    assert params["dense_weight"].shape == (1000, 512)
    mod, params = relay.testing.squeezenet.get_workload(batch_size=1)
    assert params["conv_final_weight"].shape == (1000, 512, 1, 1)
    mod, params = relay.testing.dcgan.get_workload(batch_size=1)
    assert mod["main"].body.checked_type.concrete_shape == (1, 3, 64, 64)
    mod, params = relay.testing.dqn.get_workload(batch_size=1)
    assert params["dense1_weight"].shape == (512, 3136)
    with pytest.raises(ValueError, match="num_layers"):
        relay.testing.vgg.get_workload(1, num_layers=12)


# ---- helpers

def test_run_infer_type_and_run_opt_pass():
    x = relay.var("x", shape=(2, 3, 4, 4))
    g, b, m, v = (relay.var(n, shape=(3,)) for n in ("g", "b", "m", "v"))
    body = relay.nn.relu(relay.nn.batch_norm(x, g, b, m, v)[0])
    typed = relay.testing.run_infer_type(body)
    assert typed.checked_type.concrete_shape == (2, 3, 4, 4)
    func = relay.Function([x, g, b, m, v], body)
    assert isinstance(relay.testing.run_infer_type(func), relay.Function)
    assert relay.testing.count_ops(func) == {"nn.batch_norm": 1, "nn.relu": 1}
    simplified = relay.testing.run_opt_pass(func, relay.transform.SimplifyInference())
    assert isinstance(simplified, relay.Function) and "nn.batch_norm" not in relay.testing.count_ops(simplified)
    vals = {"x": RNG.standard_normal((2, 3, 4, 4)), "g": RNG.uniform(0.5, 2, 3), "b": RNG.standard_normal(3),
            "m": RNG.standard_normal(3), "v": RNG.uniform(0.5, 2, 3)}
    tvm.testing.assert_allclose(numpy_eval(simplified, vals), numpy_eval(func, vals), rtol=1e-6, atol=1e-9)
    body_only = relay.testing.run_opt_pass(body, [relay.transform.SimplifyInference()])
    assert not isinstance(body_only, relay.Function) and body_only.checked_type.concrete_shape == (2, 3, 4, 4)


def test_xavier_and_initializer_rules():
    init = relay.testing.init.Xavier()
    w = np.zeros((64, 32, 3, 3), "float32")
    np.random.seed(3)
    init("conv_weight", w)
    bound = np.sqrt(3.0 / ((32 * 9 + 64 * 9) / 2))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound and abs(w.mean()) < 0.01 * bound
    dw = np.zeros((16, 1, 3, 3), "float32")
    init("block_depthwise_weight", dw)
    assert np.abs(dw).max() <= np.sqrt(3.0 / 9) and np.abs(dw).max() > 0.9 * np.sqrt(3.0 / 9)
    fan_in = relay.testing.init.Xavier(factor_type="in", magnitude=2)
    d = np.zeros((10, 200), "float32")
    fan_in("fc_weight", d)
    assert np.abs(d).max() <= np.sqrt(2.0 / 200)
    for name, value in (("x_bias", 0.0), ("x_gamma", 1.0), ("x_beta", 0.0), ("x_moving_mean", 0.0),
                        ("x_moving_var", 1.0)):
        a = RNG.standard_normal(5)
        init(name, a)
        assert (a == value).all()
    c = np.zeros((4, 5))
    relay.testing.init.Constant()("c_weight", c)
    assert (c == 1 / 20).all()
    with pytest.raises(ValueError, match="at least 2"):
        init("v_weight", np.zeros(4))
    with pytest.raises(ValueError, match="no initialization rule"):
        init("mystery", np.zeros((2, 2)))


def test_create_workload_is_seeded():
    x = relay.var("data", shape=(2, 6))
    w, b = relay.var("fc_weight", shape=(4, 6)), relay.var("fc_bias", shape=(4,))
    net = relay.nn.bias_add(relay.nn.dense(x, w), b).as_function()
    mod, p1 = relay.testing.create_workload(net, seed=1)
    _, p2 = relay.testing.create_workload(net, seed=1)
    _, p3 = relay.testing.create_workload(net, seed=2)
    assert set(p1) == {"fc_weight", "fc_bias"} and mod["main"].body.checked_type.concrete_shape == (2, 4)
    np.testing.assert_array_equal(p1["fc_weight"].numpy(), p2["fc_weight"].numpy())
    assert not np.allclose(p1["fc_weight"].numpy(), p3["fc_weight"].numpy())
    _, pc = relay.testing.create_workload(net, initializer=relay.testing.init.Constant())
    assert (pc["fc_weight"].numpy() == 1 / 24).all()


def test_layers_make_typed_parameters():
    """Without in_channels the helpers infer the input's shape; the parameters get classic names."""
    layers = relay.testing.layers
    x = relay.var("data", shape=(2, 3, 8, 8))
    y = layers.conv2d(x, name="c1", channels=4, kernel_size=3, padding=1)
    y = relay.nn.relu(layers.batch_norm_infer(y, name="bn"))
    y = layers.conv2d_transpose(y, name="up", channels=2, kernel_size=2, strides=2)
    y = layers.dense_add_bias(relay.nn.batch_flatten(y), units=5, name="fc")
    mod, params = relay.testing.create_workload(y.as_function())
    assert {k: v.shape for k, v in params.items()} == {
        "c1_weight": (4, 3, 3, 3), "bn_gamma": (4,), "bn_beta": (4,), "bn_moving_mean": (4,), "bn_moving_var": (4,),
        "up_weight": (4, 2, 2, 2), "fc_weight": (5, 512), "fc_bias": (5,)}
    _check_network(mod, params)
    with pytest.raises(ValueError, match="channels and kernel_size"):
        layers.conv2d(x, name="c2")


def test_check_grad_says_it_is_unsupported():
    x = relay.var("x", shape=(3,))
    with pytest.raises(tvm.error.TVMError, match="gradient"):
        relay.testing.check_grad(relay.Function([x], relay.exp(x)))
    with pytest.raises(ValueError, match="no relay Prelude"):
        relay.testing.run_opt_pass(relay.Function([x], x), relay.transform.InferType(), import_prelude=True)
    with pytest.raises(TypeError, match="Initializer does not initialize weights"):
        relay.testing.init.Initializer()("conv_weight", np.zeros((2, 2), "float32"))


def test_unsupported_layouts_say_so():
    with pytest.raises(ValueError, match="NCHW only"):
        relay.testing.mobilenet.get_workload(1, layout="NHWC", image_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="NCHW only"):
        relay.testing.dcgan.get_workload(1, ngf=4, layout="NHWC")
    with pytest.raises(ValueError, match="64x64"):
        relay.testing.dcgan.get_workload(1, oshape=(3, 32, 32))
