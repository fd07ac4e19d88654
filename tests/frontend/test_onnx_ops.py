"""ONNX importer, operator by operator: tiny graphs built with onnx.helper, run by tilecraft and by
onnxruntime on the same random inputs."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tilecraft as tvm  # noqa: E402
from tilecraft import relay  # noqa: E402
from tilecraft.contrib import graph_executor  # noqa: E402
from tilecraft.relay.frontend.common import OpNotImplemented  # noqa: E402
from tilecraft.relay.frontend.onnx import from_onnx  # noqa: E402

RNG = np.random.default_rng(0)
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def rand(*shape, low=None):
    x = RNG.standard_normal(shape).astype("float32")
    return x if low is None else np.abs(x) + np.float32(low)


def make(nodes, inputs, outputs, inits=(), opset=17):
    """inputs: [(name, elem_type, shape)]; outputs: names or (name, elem_type); inits: {name: array}."""
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(*((o, F) if isinstance(o, str) else o), None) for o in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in dict(inits).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def run_tilecraft(model, feeds, **kw):
    mod, params = from_onnx(model, **kw)
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input(**feeds)
    m.run()
    return [m.get_output(i).numpy() for i in range(m.get_num_outputs())]


def check(model, feeds, rtol=1e-5, atol=1e-5, **kw):
    ref = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    got = run_tilecraft(model, feeds, **kw)
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype, (g.shape, g.dtype, r.shape, r.dtype)
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol)
    return got


def single(op, shapes, out_type=F, attrs=None, inits=(), opset=17, feeds=None, n_out=1, **kw):
    """One node `op` over float inputs of the given shapes (plus initializers)."""
    names = [f"x{i}" for i in range(len(shapes))]
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names + list(dict(inits)), outs, **(attrs or {}))
    feeds = feeds or {n: rand(*s) for n, s in zip(names, shapes)}
    types = {n: helper.np_dtype_to_tensor_dtype(v.dtype) for n, v in feeds.items()}
    model = make([node], [(n, types[n], list(feeds[n].shape)) for n in names],
                 [(o, out_type) for o in outs], inits, opset)
    return check(model, feeds, **kw)


# ---------------------------------------------------------------------------- element-wise

@pytest.mark.parametrize("op", ["Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Erf", "Floor", "Ceil", "Sin", "Cos",
                                "Sign", "HardSwish", "Softplus", "Reciprocal", "Identity"])
def test_unary(op):
    single(op, [(3, 17)])


@pytest.mark.parametrize("op", ["Log", "Sqrt"])
def test_unary_positive(op):
    single(op, [(3, 17)], feeds={"x0": rand(3, 17, low=0.1)})


@pytest.mark.parametrize("op,attrs", [("LeakyRelu", {"alpha": 0.2}), ("Elu", {"alpha": 0.7}), ("Selu", {}),
                                      ("Celu", {"alpha": 1.5}), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
                                      ("Gelu", {}), ("Gelu", {"approximate": "tanh"}), ("Mish", {})])
def test_activations(op, attrs):
    single(op, [(2, 5, 7)], attrs=attrs, opset=20 if op == "Gelu" else 18, rtol=1e-4, atol=1e-5)


def test_prelu_broadcasts_slope():
    single("PRelu", [(2, 3, 4, 5)], inits={"slope": rand(3, 1, 1)})


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4)], [(2, 3, 4), (4,)], [(3, 1), (1, 5)]])
def test_binary_broadcast(op, shapes):
    feeds = {"x0": rand(*shapes[0]), "x1": rand(*shapes[1], low=0.5)}
    single(op, shapes, feeds=feeds, rtol=1e-5)


def test_binary_with_initializer_on_the_left():
    node = helper.make_node("Sub", ["c", "x"], ["y"])
    check(make([node], [("x", F, [2, 3])], ["y"], {"c": rand(3)}), {"x": rand(2, 3)})


def test_pow():
    single("Pow", [(2, 6), (2, 6)], feeds={"x0": rand(2, 6, low=0.1), "x1": rand(2, 6)}, rtol=1e-4)
    for e in (2.0, 0.5, 3.0):
        single("Pow", [(2, 6)], feeds={"x0": rand(2, 6, low=0.1)}, inits={"e": np.float32(e)}, rtol=1e-5)


@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
def test_variadic(op):
    single(op, [(2, 3, 4), (3, 1), (4,)])


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
def test_compare(op):
    a = rand(4, 5)
    b = a.copy()
    b[::2] = rand(2, 5)  # some equal, some not
    single(op, [(4, 5), (4, 5)], out_type=B, feeds={"x0": a, "x1": b})


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logical(op):
    feeds = {"x0": RNG.random((3, 4)) > 0.5, "x1": RNG.random((4,)) > 0.5}
    single(op, [(3, 4), (4,)], out_type=B, feeds=feeds)


def test_not_and_where():
    nodes = [helper.make_node("Not", ["c"], ["nc"]), helper.make_node("Where", ["nc", "x", "y"], ["out"])]
    model = make(nodes, [("c", B, [3, 4]), ("x", F, [3, 4]), ("y", F, [4])], ["out"])
    check(model, {"c": RNG.random((3, 4)) > 0.5, "x": rand(3, 4), "y": rand(4)})


def test_mod():
    a = RNG.integers(-20, 20, (3, 5)).astype("int64")
    b = RNG.integers(1, 7, (3, 5)).astype("int64") * np.where(RNG.random((3, 5)) > 0.5, 1, -1)
    single("Mod", [(3, 5), (3, 5)], out_type=I64, feeds={"x0": a, "x1": b})
    single("Mod", [(3, 5), (3, 5)], attrs={"fmod": 1},
           feeds={"x0": rand(3, 5) * 5, "x1": rand(3, 5, low=0.5)}, rtol=1e-5)


@pytest.mark.parametrize("to,out", [(TensorProto.INT32, TensorProto.INT32), (TensorProto.BOOL, B),
                                    (TensorProto.FLOAT, F)])
def test_cast(to, out):
    x = rand(3, 4) * 4
    x[0, :2] = [0.0, 0.25]  # bool: 0 -> False, fractions -> True
    single("Cast", [(3, 4)], out_type=out, attrs={"to": to}, feeds={"x0": x})


def test_cast_int64_to_float():
    single("Cast", [(3, 4)], attrs={"to": F}, feeds={"x0": RNG.integers(-9, 9, (3, 4)).astype("int64")})


def test_clip():
    single("Clip", [(4, 6)], inits={"lo": np.float32(-0.5), "hi": np.float32(0.7)}, opset=13)
    node = helper.make_node("Clip", ["x", "", "hi"], ["y"])  # only a max (relu6-like from the other side)
    check(make([node], [("x", F, [4, 6])], ["y"], {"hi": np.float32(0.3)}, opset=13), {"x": rand(4, 6)})
    single("Clip", [(4, 6)], attrs={"min": 0.0, "max": 6.0}, opset=6, feeds={"x0": rand(4, 6) * 8})


# ---------------------------------------------------------------------------- matrix products

@pytest.mark.parametrize("sa,sb", [((5, 8), (8, 3)), ((2, 5, 8), (8, 3)), ((2, 3, 5, 8), (2, 3, 8, 4)),
                                   ((2, 1, 5, 8), (3, 8, 4)), ((8,), (8, 3)), ((2, 5, 8), (8,)),
                                   ((1, 5, 8), (2, 8, 4))])
def test_matmul(sa, sb):
    single("MatMul", [sa, sb], rtol=1e-4, atol=1e-5)


def test_matmul_with_weight_initializer():
    single("MatMul", [(2, 5, 8)], inits={"w": rand(8, 6)}, rtol=1e-4, atol=1e-5)


def test_matmul_transposed_rhs_becomes_batch_matmul_transpose_b():
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["q", "kt"], ["y"])]
    model = make(nodes, [("q", F, [1, 2, 6, 8]), ("k", F, [1, 2, 6, 8])], ["y"])
    mod, _ = from_onnx(model)
    from tilecraft.relay.visitor import post_order

    calls = [n for n in post_order(mod["main"].body) if isinstance(n, relay.Call)]
    assert "transpose" not in {c.op.name for c in calls}
    assert [c.attrs["transpose_b"] for c in calls if c.op.name == "nn.batch_matmul"] == [True]
    check(model, {"q": rand(1, 2, 6, 8), "k": rand(1, 2, 6, 8)}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("attrs,c", [({"transB": 1}, (4,)), ({}, (3, 4)),
                                     ({"transA": 1, "alpha": 0.5, "beta": 2.0}, (1,)), ({"transB": 1}, None)])
def test_gemm(attrs, c):
    a = rand(6, 3) if attrs.get("transA") else rand(3, 6)
    b = rand(4, 6) if attrs.get("transB") else rand(6, 4)
    inits = {"b": b} if c is None else {"b": b, "c": rand(*c)}
    single("Gemm", [a.shape], attrs=attrs, inits=inits, feeds={"x0": a}, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- convolution, pooling

@pytest.mark.parametrize("attrs,wshape", [
    ({"pads": [1, 1, 1, 1]}, (8, 4, 3, 3)),
    ({"strides": [2, 2], "pads": [0, 1, 2, 1], "dilations": [1, 2]}, (6, 4, 3, 3)),
    ({"group": 4, "pads": [1, 1, 1, 1]}, (4, 1, 3, 3)),
    ({"group": 2}, (6, 2, 1, 1)),
    ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, (5, 4, 4, 4)),
])
def test_conv2d(attrs, wshape):
    single("Conv", [(2, 4, 9, 10)], attrs=attrs, inits={"w": rand(*wshape) * 0.3, "b": rand(wshape[0])},
           rtol=1e-4, atol=1e-4)


def test_conv1d():
    single("Conv", [(2, 3, 12)], attrs={"pads": [2, 1], "strides": [2]}, inits={"w": rand(5, 3, 4)},
           rtol=1e-4, atol=1e-4)


def test_conv_transpose():
    single("ConvTranspose", [(1, 4, 5, 6)], attrs={"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 0]},
           inits={"w": rand(4, 3, 3, 3), "b": rand(3)}, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op,attrs", [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}),
    ("MaxPool", {"kernel_shape": [3], "strides": [2]}),
])
def test_pool(op, attrs):
    shape = (2, 3, 9, 11) if len(attrs["kernel_shape"]) == 2 else (2, 3, 11)
    single(op, [shape], attrs=attrs, rtol=1e-5)


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (2, 3, 7)])
def test_global_pool(op, shape):
    single(op, [shape], rtol=1e-5)


# ---------------------------------------------------------------------------- normalization, softmax

def test_batch_norm():
    c = 5
    single("BatchNormalization", [(2, c, 4, 3)], attrs={"epsilon": 1e-3},
           inits={"s": rand(c), "b": rand(c), "m": rand(c), "v": rand(c, low=0.5)}, rtol=1e-4, atol=1e-5)


def test_instance_norm():
    single("InstanceNormalization", [(2, 3, 4, 5)], inits={"s": rand(3), "b": rand(3)}, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("axis", [-1, -2])
def test_layer_norm(axis):
    shape = (2, 3, 8)
    norm = shape[axis:]
    single("LayerNormalization", [shape], attrs={"axis": axis, "epsilon": 1e-5},
           inits={"s": rand(*norm), "b": rand(*norm)}, rtol=1e-4, atol=1e-4)


def test_decomposed_layer_norm():
    """The pre-opset-17 export of torch.nn.LayerNorm."""
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[-1]),
             helper.make_node("Sub", ["x", "m"], ["d"]),
             helper.make_node("Pow", ["d", "two"], ["d2"]),
             helper.make_node("ReduceMean", ["d2"], ["v"], axes=[-1]),
             helper.make_node("Add", ["v", "eps"], ["ve"]),
             helper.make_node("Sqrt", ["ve"], ["s"]),
             helper.make_node("Div", ["d", "s"], ["n"]),
             helper.make_node("Mul", ["n", "gamma"], ["g"]),
             helper.make_node("Add", ["g", "beta"], ["y"])]
    inits = {"two": np.float32(2.0), "eps": np.float32(1e-5), "gamma": rand(16), "beta": rand(16)}
    check(make(nodes, [("x", F, [2, 5, 16])], ["y"], inits, opset=13), {"x": rand(2, 5, 16)}, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset,axis", [(13, 1), (13, -1), (11, 1)])
def test_softmax(op, opset, axis):
    single(op, [(2, 3, 4)], attrs={"axis": axis}, opset=opset, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- shapes and layout

def test_flatten_reshape_transpose():
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=2),
             helper.make_node("Reshape", ["f", "shape"], ["r"]),
             helper.make_node("Transpose", ["r"], ["y"], perm=[2, 0, 1])]
    model = make(nodes, [("x", F, [2, 3, 4, 5])], ["y"], {"shape": np.array([0, -1, 4], np.int64)})
    check(model, {"x": rand(2, 3, 4, 5)})


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_unsqueeze(opset):
    if opset >= 13:
        nodes = [helper.make_node("Unsqueeze", ["x", "ua"], ["u"]), helper.make_node("Squeeze", ["u", "sa"], ["y"])]
        inits = {"ua": np.array([0, -1], np.int64), "sa": np.array([0], np.int64)}
    else:
        nodes = [helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0, -1]),
                 helper.make_node("Squeeze", ["u"], ["y"], axes=[0])]
        inits = {}
    check(make(nodes, [("x", F, [3, 1, 4])], ["y"], inits, opset), {"x": rand(3, 1, 4)})
    single("Squeeze", [(1, 3, 1, 4)], opset=opset)


def test_concat_with_constant():
    node = helper.make_node("Concat", ["x", "c", "z"], ["y"], axis=1)
    model = make([node], [("x", F, [2, 3]), ("z", F, [2, 1])], ["y"], {"c": rand(2, 2)})
    check(model, {"x": rand(2, 3), "z": rand(2, 1)})


@pytest.mark.parametrize("opset,how", [(13, "input"), (11, "attr"), (18, "num_outputs"), (13, "equal")])
def test_split(opset, how):
    attrs, inits, n = {"axis": 1}, {}, 3
    if how == "input":
        inits = {"split": np.array([2, 3, 2], np.int64)}
    elif how == "attr":
        attrs["split"] = [2, 3, 2]
    elif how == "num_outputs":
        attrs["num_outputs"] = 3  # 7 = 3 + 3 + 1
    shape = (2, 6 if how == "equal" else 7, 3)
    single("Split", [shape], attrs=attrs, inits=inits, opset=opset, n_out=n)


@pytest.mark.parametrize("starts,ends,axes,steps", [
    ([1, 0], [3, 9223372036854775807], [0, 2], [1, 2]),
    ([-1], [-9223372036854775807], [1], [-1]),
    ([0, -3], [2, -1], None, None),
    ([4], [1], [2], [-2]),
])
def test_slice(starts, ends, axes, steps):
    inits = {"s": np.array(starts, np.int64), "e": np.array(ends, np.int64)}
    if axes is not None:
        inits["a"] = np.array(axes, np.int64)
    if steps is not None:
        inits["st"] = np.array(steps, np.int64)
    single("Slice", [(4, 5, 6)], inits=inits)


def test_slice_opset9_attrs():
    single("Slice", [(4, 5, 6)], attrs={"starts": [1, -4], "ends": [3, 100], "axes": [0, 2]}, opset=9)


@pytest.mark.parametrize("indices", [np.array([[0, -1], [2, 1]], np.int64), np.array(1, np.int64)])
def test_gather_constant_indices(indices):
    single("Gather", [(4, 5, 3)], attrs={"axis": 1}, inits={"i": indices})


def test_gather_embedding_lookup():
    node = helper.make_node("Gather", ["table", "ids"], ["y"])
    model = make([node], [("ids", I64, [2, 6])], ["y"], {"table": rand(50, 8)})
    ids = RNG.integers(0, 50, (2, 6)).astype("int64")
    ids[0, 0] = -1  # negative ids count from the end
    check(model, {"ids": ids})


def test_gather_elements():
    node = helper.make_node("GatherElements", ["x", "i"], ["y"], axis=1)
    model = make([node], [("x", F, [3, 5]), ("i", I64, [3, 4])], ["y"])
    check(model, {"x": rand(3, 5), "i": RNG.integers(-5, 5, (3, 4)).astype("int64")})


@pytest.mark.parametrize("batch_dims,ishape", [(0, (2, 3, 2)), (0, (4, 1)), (1, (2, 3, 1)), (1, (2, 2))])
@pytest.mark.parametrize("constant", [True, False])
def test_gather_nd(batch_dims, ishape, constant):
    dshape = (2, 4, 3)
    m = ishape[-1]
    dims = np.array(dshape[batch_dims:batch_dims + m])
    idx = (RNG.integers(0, 100, ishape) % dims) - dims * (RNG.random(ishape) > 0.7)  # some negative
    node = helper.make_node("GatherND", ["x", "i"], ["y"], batch_dims=batch_dims)
    if constant:
        model = make([node], [("x", F, list(dshape))], ["y"], {"i": idx.astype(np.int64)})
        check(model, {"x": rand(*dshape)})
    else:
        model = make([node], [("x", F, list(dshape)), ("i", I64, list(ishape))], ["y"])
        check(model, {"x": rand(*dshape), "i": idx.astype(np.int64)})


def test_expand_and_tile():
    single("Expand", [(3, 1)], inits={"s": np.array([2, 1, 4], np.int64)})
    single("Tile", [(2, 3)], inits={"r": np.array([2, 3], np.int64)})


@pytest.mark.parametrize("folded", [False, True])
def test_tile_with_invalid_repeats_says_the_file_is_invalid(folded, tmp_path):
    """PyTorch's TorchScript exporter writes Mamba's Tile repeats as a [1, 1] array; onnxruntime refuses
    the file, and so does the importer, saying why (folded: all inputs constant, evaluated at import)."""
    from tilecraft.models.suite_paths import onnxruntime_refusal

    node = helper.make_node("Tile", ["x", "r"], ["y"], name="bad_tile")
    inputs = [] if folded else [("x", F, [3])]
    inits = {"r": np.array([[2]], np.int64), **({"x": rand(3)} if folded else {})}
    model = make([node], inputs, ["y"], inits)
    with pytest.raises(ValueError, match=r"bad_tile.*Tile's repeats must be a 1-D tensor.*\[1, 1\].*invalid"):
        from_onnx(model)
    file = str(tmp_path / "bad.onnx")
    onnx.save(model, file)
    assert "Repeats" in onnxruntime_refusal(file, [rand(3)] if not folded else [])


@pytest.mark.parametrize("upper,k", [(1, 0), (0, 1), (0, -1)])
def test_trilu(upper, k):
    single("Trilu", [(2, 4, 5)], attrs={"upper": upper}, inits={"k": np.array(k, np.int64)})


def test_pad():
    single("Pad", [(2, 3, 4)], inits={"p": np.array([0, 1, 2, 1, 0, 3], np.int64), "v": np.float32(0.5)})
    single("Pad", [(2, 3, 4)], attrs={"pads": [1, 0, 0, 0, 2, 1]}, opset=10)


@pytest.mark.parametrize("mode,opset", [("reflect", 13), ("edge", 13), ("wrap", 19), ("constant", 13)])
def test_pad_modes_and_negative_pads(mode, opset):
    single("Pad", [(2, 5, 6)], attrs={"mode": mode}, inits={"p": np.array([0, 2, -1, 0, 1, 3], np.int64)},
           opset=opset)


@pytest.mark.parametrize("op,attrs,shape", [("DepthToSpace", {"blocksize": 2}, (1, 8, 2, 3)),
                                            ("DepthToSpace", {"blocksize": 2, "mode": "CRD"}, (1, 8, 2, 3)),
                                            ("SpaceToDepth", {"blocksize": 2}, (1, 2, 4, 6))])
def test_depth_space(op, attrs, shape):
    single(op, [shape], attrs=attrs)


# ---------------------------------------------------------------------------- reductions

@pytest.mark.parametrize("op", ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                                "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"])
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce(op, keepdims):
    single(op, [(3, 4, 5)], attrs={"keepdims": keepdims}, inits={"axes": np.array([-1, 0], np.int64)}, opset=18,
           rtol=1e-4, atol=1e-5)


def test_reduce_axes_attribute_opset13():
    single("ReduceMean", [(3, 4, 5)], attrs={"axes": [1]}, opset=13, rtol=1e-5)
    single("ReduceSum", [(3, 4, 5)], opset=13, rtol=1e-5)  # no axes: everything


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_argmax(op):
    single(op, [(3, 4, 5)], out_type=I64, attrs={"axis": 1, "keepdims": 0})


# ---------------------------------------------------------------------------- resize

@pytest.mark.parametrize("attrs,how", [
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, "scales"),
    ({"mode": "linear"}, "sizes"),
    ({"mode": "linear", "coordinate_transformation_mode": "align_corners"}, "sizes"),
    ({"mode": "nearest"}, "scales"),
])
def test_resize(attrs, how):
    if how == "scales":
        node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)
        inits = {"scales": np.array([1, 1, 2, 2], np.float32)}
    else:
        node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], **attrs)
        inits = {"sizes": np.array([1, 2, 7, 9], np.int64)}
    check(make([node], [("x", F, [1, 2, 4, 5])], ["y"], inits), {"x": rand(1, 2, 4, 5)}, rtol=1e-5)


# ---------------------------------------------------------------------------- import-time folding

def test_shape_arithmetic_is_folded_away():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, ConstantOfShape, Range, Expand: all computed
    while importing; the relay graph keeps only the reshape and the add."""
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"]),
        helper.make_node("Shape", ["flat"], ["fs"]),
        helper.make_node("Gather", ["fs", "one"], ["len"], axis=0),
        helper.make_node("Range", ["start", "len", "step"], ["pos"]),
        helper.make_node("Cast", ["pos"], ["posf"], to=F),
        helper.make_node("ConstantOfShape", ["fs"], ["ones"],
                         value=numpy_helper.from_array(np.array([1.0], np.float32))),
        helper.make_node("Mul", ["ones", "posf"], ["ramp"]),
        helper.make_node("Add", ["flat", "ramp"], ["y"]),
    ]
    inits = {"zero": i64(0), "zero1": i64([0]), "minus1": i64([-1]), "one": i64(1), "start": i64(0), "step": i64(1)}
    model = make(nodes, [("x", F, [2, 3, 4])], ["y"], inits)
    mod, params = from_onnx(model)
    text = str(mod)
    for gone in ("take", "concatenate", "arange", "cast", "multiply"):
        assert gone not in text, text
    assert params == {}
    check(model, {"x": rand(2, 3, 4)})


def test_causal_mask_from_constants_becomes_one_constant():
    nodes = [helper.make_node("Trilu", ["ones"], ["tri"], upper=0),
             helper.make_node("Cast", ["tri"], ["mask"], to=B),
             helper.make_node("Where", ["mask", "x", "neg"], ["y"])]
    model = make(nodes, [("x", F, [2, 5, 5])], ["y"], {"ones": np.ones((5, 5), np.float32),
                                                        "neg": np.float32(-1e4)})
    mod, _ = from_onnx(model)
    assert "trilu" not in str(mod).lower()
    check(model, {"x": rand(2, 5, 5)})


# ---------------------------------------------------------------------------- the API

def _dynamic_mlp():
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, ["batch", 6])],
                              [helper.make_tensor_value_info("y", F, None)],
                              [numpy_helper.from_array(rand(6, 3), "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_dynamic_dimension_needs_a_shape():
    with pytest.raises(ValueError, match=r"'x' has a dynamic dimension 0 \('batch'\).*shape="):
        from_onnx(_dynamic_mlp())


@pytest.mark.parametrize("how", ["positional", "shape", "shape_dict"])
def test_shape_dict_spellings(how):
    model, x = _dynamic_mlp(), rand(4, 6)
    kw = {"positional": {}, "shape": {"shape": {"x": (4, 6)}}, "shape_dict": {"shape_dict": {"x": (4, 6)}}}[how]
    mod, params = from_onnx(model, {"x": (4, 6)}, **kw) if how == "positional" else from_onnx(model, **kw)
    assert set(params) == {"w"} and params["w"].shape == (6, 3)
    lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", x)
    m.run()
    w = numpy_helper.to_array(model.graph.initializer[0])
    np.testing.assert_allclose(m.get_output(0).numpy(), np.maximum(x @ w, 0), rtol=1e-5, atol=1e-6)


def test_freeze_params_and_path(tmp_path):
    model = _dynamic_mlp()
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    mod, params = from_onnx(str(path), {"x": (2, 6)}, freeze_params=True)
    assert params == {}
    x = rand(2, 6)
    got = run_tilecraft(model, {"x": x}, shape={"x": (2, 6)}, freeze_params=True)[0]
    w = numpy_helper.to_array(model.graph.initializer[0])
    np.testing.assert_allclose(got, np.maximum(x @ w, 0), rtol=1e-5, atol=1e-6)


def test_unsupported_operators_are_listed_together():
    nodes = [helper.make_node("Hardmax", ["x"], ["a"], name="hm1"),
             helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Hardmax", ["b"], ["c"], name="hm2"),
             helper.make_node("TopK", ["c", "k"], ["d", "idx"], name="top"),
             helper.make_node("FancyOp", ["d"], ["y"], name="custom", domain="com.example")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [2, 8])],
                              [helper.make_tensor_value_info("y", F, None)],
                              [numpy_helper.from_array(np.array(1, np.int64), "axis"),
                               numpy_helper.from_array(np.array([3], np.int64), "k")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    with pytest.raises(OpNotImplemented) as info:
        from_onnx(model)
    msg = str(info.value)
    assert "Hardmax  x2" in msg and "TopK  x1" in msg and "com.example.FancyOp  x1" in msg
    assert "hm1" in msg and "hm2" in msg and "custom" in msg
    assert set(info.value.ops) == {"Hardmax", "TopK", "com.example.FancyOp"}


def test_unsupported_op_on_constants_is_folded_not_reported():
    """An operator over constants is computed at import time (no relay operator is made for it)."""
    nodes = [helper.make_node("CumSum", ["c", "axis"], ["cs"]), helper.make_node("Add", ["x", "cs"], ["y"])]
    model = make(nodes, [("x", F, [2, 4])], ["y"], {"c": rand(2, 4), "axis": np.array(1, np.int64)})
    check(model, {"x": rand(2, 4)})


def test_conversion_error_names_the_node():
    node = helper.make_node("Reshape", ["x", "s"], ["y"], name="bad_reshape")
    model = make([node], [("x", F, [2, 3])], ["y"], {"s": np.array([4, -1, 5], np.int64)})
    with pytest.raises(ValueError, match=r"bad_reshape.*Reshape.*cannot reshape"):
        from_onnx(model)
