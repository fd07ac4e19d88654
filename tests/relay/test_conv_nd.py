"""1-D / 3-D convolution and pooling (lowered to the 2-D kernels by Legalize) against PyTorch on random
inputs, and type inference with symbolic sizes and untyped weights (classic Relay's behaviour)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from tilecraft import relay, te  # noqa: E402
from tilecraft.relay.transform.infer_type import RelayTypeError, infer_type  # noqa: E402

rng = np.random.default_rng(0)


def run(expr, **inputs):
    f = relay.Function(relay.analysis.free_vars(expr), expr)
    return relay.create_executor("graph", target="llvm").evaluate(f)(**inputs).numpy()


def close(got, ref):
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def v(name, a):
    return relay.var(name, shape=a.shape)


def test_conv1d_layouts_groups_dilation():
    x = rng.standard_normal((2, 6, 17)).astype("float32")
    w = rng.standard_normal((4, 3, 3)).astype("float32")
    y = relay.nn.conv1d(v("x", x), v("w", w), strides=2, padding=(1, 2), dilation=2, groups=2)
    ref = F.conv1d(F.pad(torch.tensor(x), (1, 2)), torch.tensor(w), stride=2, dilation=2, groups=2).numpy()
    close(run(y, x=x, w=w), ref)
    xl, wl = x.transpose(0, 2, 1).copy(), w.transpose(2, 1, 0).copy()
    y = relay.nn.conv1d(v("x", xl), v("w", wl), padding=1, groups=2, data_layout="NWC", kernel_layout="WIO")
    ref = F.conv1d(torch.tensor(x), torch.tensor(w), padding=1, groups=2).numpy()
    close(run(y, x=xl, w=wl), ref.transpose(0, 2, 1))


def test_conv3d_strides_dilation_groups_and_channels_last():
    x = rng.standard_normal((2, 4, 7, 9, 8)).astype("float32")
    w = rng.standard_normal((6, 2, 3, 2, 3)).astype("float32")
    y = relay.nn.conv3d(v("x", x), v("w", w), strides=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)
    ref = F.conv3d(torch.tensor(x), torch.tensor(w), stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)
    close(run(y, x=x, w=w), ref.numpy())
    xl, wl = x.transpose(0, 2, 3, 4, 1).copy(), w.transpose(2, 3, 4, 1, 0).copy()
    y = relay.nn.conv3d(v("x", xl), v("w", wl), padding=1, groups=2, data_layout="NDHWC", kernel_layout="DHWIO")
    ref = F.conv3d(torch.tensor(x), torch.tensor(w), padding=1, groups=2).numpy()
    close(run(y, x=xl, w=wl), ref.transpose(0, 2, 3, 4, 1))


def test_conv1d_transpose():
    x = rng.standard_normal((2, 6, 11)).astype("float32")
    w = rng.standard_normal((6, 5, 4)).astype("float32")
    y = relay.nn.conv1d_transpose(v("x", x), v("w", w), strides=2, padding=1, output_padding=1)
    close(run(y, x=x, w=w), F.conv_transpose1d(torch.tensor(x), torch.tensor(w), stride=2, padding=1,
                                              output_padding=1).numpy())


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool1d_pool3d(ceil_mode):
    x = rng.standard_normal((2, 6, 17)).astype("float32")
    t = torch.tensor(x)
    close(run(relay.nn.max_pool1d(v("x", x), 3, 2, padding=1, ceil_mode=ceil_mode), x=x),
          F.max_pool1d(t, 3, 2, 1, ceil_mode=ceil_mode).numpy())
    close(run(relay.nn.avg_pool1d(v("x", x), 3, 2, padding=1, ceil_mode=ceil_mode, count_include_pad=True), x=x),
          F.avg_pool1d(t, 3, 2, 1, ceil_mode=ceil_mode, count_include_pad=True).numpy())
    x3 = rng.standard_normal((2, 4, 7, 9, 8)).astype("float32")
    t3 = torch.tensor(x3)
    kw = dict(pool_size=(2, 3, 3), strides=(2, 2, 1), padding=(1, 1, 0), ceil_mode=ceil_mode)
    close(run(relay.nn.max_pool3d(v("x", x3), **kw), x=x3), F.max_pool3d(t3, (2, 3, 3), (2, 2, 1), (1, 1, 0),
                                                                       ceil_mode=ceil_mode).numpy())
    for cip in (False, True):
        close(run(relay.nn.avg_pool3d(v("x", x3), **kw, count_include_pad=cip), x=x3),
              F.avg_pool3d(t3, (2, 3, 3), (2, 2, 1), (1, 1, 0), ceil_mode=ceil_mode, count_include_pad=cip).numpy())


def test_avg_pool_of_a_window_wholly_in_padding_is_zero_and_integer_average_truncates():
    x = rng.standard_normal((1, 2, 4, 4)).astype("float32")
    y = run(relay.nn.avg_pool2d(v("x", x), (1, 1), padding=(2, 0), count_include_pad=False), x=x)
    assert np.isfinite(y).all() and (y[:, :, :2] == 0).all()
    xi = rng.integers(-128, 128, (1, 2, 4, 4)).astype("int32")
    y = run(relay.nn.avg_pool2d(relay.var("x", shape=xi.shape, dtype="int32"), (2, 2), (2, 2)), x=xi)
    np.testing.assert_array_equal(y, xi.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5)).astype("int32"))


def test_untyped_weights_are_inferred_from_their_use():
    n = te.size_var("n")
    x = relay.var("x", relay.TensorType((n, 10, 224), "int8"))
    w = relay.var("w")
    y = infer_type(relay.nn.conv1d(x, w, kernel_size=3, padding=(1, 1), channels=2))
    assert y.ty == relay.TensorType((n, 2, 224), "int8")
    assert y.args[1].ty == relay.TensorType((2, 10, 3), "int8")
    x = relay.var("x", shape=(1, 8, 6, 6))
    w, b = relay.var("w", relay.IncompleteType()), relay.var("b")
    z = relay.nn.bias_add(relay.nn.conv2d(x, w, kernel_size=(3, 3), channels=4, groups=2), b)
    f = infer_type(relay.Function([x, w, b], z))
    assert f.params[1].ty == relay.TensorType((4, 4, 3, 3)) and f.params[2].ty == relay.TensorType((4,))
    # every use of the variable is the same typed object
    assert f.body.args[0].args[1] is f.params[1]
    with pytest.raises(RelayTypeError, match="%w has no type and add cannot infer it"):
        infer_type(relay.add(x, relay.var("w")))


def test_symbolic_sizes_in_type_relations():
    n, t = te.size_var("n"), te.size_var("t")
    a = relay.var("a", shape=(n, t, 100))
    y = infer_type(relay.concatenate([a, a], axis=1))
    assert y.ty == relay.TensorType((n, t * 2, 100)) or y.ty == relay.TensorType((n, t + t, 100))
    assert infer_type(relay.add(relay.var("p", shape=(5, n, 5)), relay.var("q", shape=(n, 1)))).ty == \
        relay.TensorType((5, n, 5))
    assert infer_type(relay.nn.batch_flatten(relay.var("d", shape=(n, 2, 3)))).ty == relay.TensorType((n, 6))
    with pytest.raises(RelayTypeError, match="do not broadcast"):
        infer_type(relay.add(relay.var("p", shape=(n, 3)), relay.var("q", shape=(t, 3))))
    z = infer_type(relay.nn.max_pool3d(relay.var("x", shape=(n, 3, 8, 8, 8)), (2, 2, 2), (2, 2, 2)))
    assert z.ty == relay.TensorType((n, 3, 4, 4, 4))


@pytest.mark.parametrize("data_layout,kernel_layout", [("NCHW", "OIHW"), ("NHWC", "HWOI"), ("NHWC", "IOHW")])
def test_conv2d_transpose_layouts(data_layout, kernel_layout):
    x = rng.standard_normal((1, 3, 7, 6)).astype("float32")
    w = rng.standard_normal((3, 5, 3, 3)).astype("float32")  # IOHW
    ref = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1, output_padding=1).numpy()
    xl = x if data_layout == "NCHW" else x.transpose(0, 2, 3, 1).copy()
    wl = w.transpose(tuple("IOHW".index(c) for c in kernel_layout)).copy()
    y = relay.nn.conv2d_transpose(v("x", xl), v("w", wl), strides=(2, 2), padding=(1, 1), output_padding=(1, 1),
                                  channels=5, kernel_size=(3, 3), data_layout=data_layout, kernel_layout=kernel_layout)
    assert infer_type(relay.nn.conv2d_transpose(v("x", xl), relay.var("w"), channels=5, kernel_size=(3, 3),
                                                data_layout=data_layout, kernel_layout=kernel_layout)
                      ).args[1].ty.shape == wl.shape
    close(run(y, x=xl, w=wl), ref if data_layout == "NCHW" else ref.transpose(0, 2, 3, 1))


def test_lrn_and_l2_normalize():
    from tilecraft.topi import testing as ref

    x = rng.uniform(-1, 1, (1, 5, 6, 7)).astype("float32")
    close(run(relay.nn.lrn(v("x", x), size=5, axis=1, bias=0.5, alpha=1e-3, beta=0.75), x=x),
          ref.lrn_python(x, 5, 1, 0.5, 1e-3, 0.75))
    close(run(relay.nn.lrn(v("x", x), size=3, axis=3), x=x), ref.lrn_python(x, 3, 3, 2.0, 1e-5, 0.75))
    close(run(relay.nn.l2_normalize(v("x", x), 1e-3, axis=[1, 2]), x=x), ref.l2_normalize_python(x, 1e-3, (1, 2)))
    n = te.size_var("n")
    assert infer_type(relay.nn.lrn(relay.var("x", shape=(n, 4, 3)), 3)).ty == relay.TensorType((n, 4, 3))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "wrap"])
def test_pad_modes_and_cropping(mode):
    x = rng.standard_normal((2, 3, 5, 6)).astype("float32")
    width = ((0, 0), (1, 0), (2, 3), (0, 4))
    close(run(relay.nn.pad(v("x", x), width, pad_mode=mode), x=x), np.pad(x, width, mode=mode))
    crop = ((0, 0), (-1, 1), (2, -2), (-2, 1))  # negative widths crop that side
    ref = np.pad(x[:, 1:, :-2, 2:], ((0, 0), (0, 1), (2, 0), (0, 1)), mode=mode)
    close(run(relay.nn.pad(v("x", x), crop, pad_mode=mode), x=x), ref)


def test_pad_value_as_an_expression():
    x = rng.standard_normal((3, 4)).astype("float32")
    xv, p = v("x", x), relay.var("p", "float32")
    f = relay.Function([xv, p], relay.nn.pad(xv, ((1, -1), (0, 2)), pad_value=p))
    got = relay.create_executor("graph", target="llvm").evaluate(f)(x, np.float32(2.5)).numpy()
    close(got, np.pad(x[:-1], ((1, 0), (0, 2)), constant_values=2.5))
    with pytest.raises(RelayTypeError, match="reflect padding of axis 0 by 3"):
        infer_type(relay.nn.pad(v("x", x), ((3, 0), (0, 0)), pad_mode="reflect"))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_torch_pad_modes_import(mode):
    from tilecraft.relay.frontend import from_pytorch

    class Net(torch.nn.Module):
        def forward(self, x):
            return F.pad(x, (2, 1, 1, 0), mode=mode) + 1

    x = torch.randn(1, 2, 5, 6)
    mod, params = from_pytorch(torch.jit.trace(Net().eval(), x), [("x", tuple(x.shape))])
    got = relay.create_executor("graph", mod=mod, target="llvm").evaluate()(x.numpy(), **params).numpy()
    close(got, Net()(x).numpy())


def test_conv3d_transpose_and_global_pools():
    x = rng.standard_normal((2, 3, 4, 5, 3)).astype("float32")
    w = rng.standard_normal((3, 4, 2, 3, 2)).astype("float32")
    y = relay.nn.conv3d_transpose(v("x", x), relay.var("w"), strides=(2, 1, 2), padding=(1, 0, 1),
                                  output_padding=(1, 0, 0), channels=4, kernel_size=(2, 3, 2))
    ref = F.conv_transpose3d(torch.tensor(x), torch.tensor(w), stride=(2, 1, 2), padding=(1, 0, 1),
                             output_padding=(1, 0, 0)).numpy()
    close(run(y, x=x, w=w), ref)
    xl = x.transpose(0, 2, 3, 4, 1).copy()
    close(run(relay.nn.global_avg_pool3d(v("x", xl), layout="NDHWC"), x=xl), xl.mean(axis=(1, 2, 3), keepdims=True))
    x1 = x[:, :, 0]
    close(run(relay.nn.global_max_pool1d(v("x", x1)), x=x1), x1.max(axis=2, keepdims=True))


@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_of_batched_rows(transpose_a, transpose_b):
    a = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    b = rng.standard_normal((6, 5) if transpose_b else (5, 6)).astype("float32")
    if transpose_a:
        a = a.swapaxes(-1, -2).copy()
    y = relay.nn.matmul(v("a", a), v("b", b), transpose_a=transpose_a, transpose_b=transpose_b)
    ref = (a.swapaxes(-1, -2) if transpose_a else a) @ (b.T if transpose_b else b)
    close(run(y, a=a, b=b), ref)
    n, k = te.size_var("n"), te.size_var("k")
    t = infer_type(relay.nn.matmul(relay.var("x", shape=(n, 3, k)), relay.var("w", shape=(k, 7)))).ty
    assert t == relay.TensorType((n, 3, 7))


@pytest.mark.parametrize("layout", ["NCDHW", "NDHWC"])
@pytest.mark.parametrize("method,mode", [("nearest_neighbor", "asymmetric"), ("trilinear", "align_corners"),
                                         ("trilinear", "half_pixel")])
def test_upsampling3d(layout, method, mode):
    x = rng.standard_normal((1, 3, 4, 5, 6)).astype("float32")
    if layout == "NDHWC":
        x = x.transpose(0, 2, 3, 4, 1).copy()
    y = relay.nn.upsampling3d(v("x", x), 2.0, 1.5, 2.0, layout=layout, method=method,
                              coordinate_transformation_mode=mode)
    from tilecraft.topi.testing import resize3d_python

    ref = resize3d_python(x, (2.0, 1.5, 2.0), layout, "linear" if method == "trilinear" else method, mode)
    close(run(y, x=x), ref)
    n = te.size_var("n")
    t = infer_type(relay.nn.upsampling3d(relay.var("x", shape=(n, 3, 4, 5, 6)), 2, 2, 2)).ty
    assert t == relay.TensorType((n, 3, 8, 10, 12))


def test_an_untyped_variable_nothing_types_is_named():
    with pytest.raises(RelayTypeError, match="%t has no type and no use of it says what it is"):
        infer_type(relay.Tuple([relay.var("t"), relay.var("x", shape=(2,))]))
    with pytest.raises(RelayTypeError, match="%u has no type"):
        infer_type(relay.var("u"))
