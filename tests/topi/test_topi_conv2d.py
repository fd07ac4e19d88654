"""Convolutions: every compute against a numpy reference (explicit loops over kernel taps), and
every x86 schedule, with and without a fused bias + relu epilogue, on odd shapes, strides,
dilation, groups and asymmetric padding."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tilecraft as tvm
import tilecraft.topi.nn.conv2d  # noqa: F401
import tilecraft.topi.nn.conv2d_transpose  # noqa: F401
import tilecraft.topi.nn.pad  # noqa: F401
import tilecraft.topi.x86.conv2d  # noqa: F401
import tilecraft.topi.x86.conv2d_transpose  # noqa: F401
import tilecraft.topi.x86.depthwise  # noqa: F401
from tilecraft import te
from tilecraft.topi import tag
from tilecraft.topi.utils import traverse_inline

nn = sys.modules["tilecraft.topi.nn.conv2d"]
nnt = sys.modules["tilecraft.topi.nn.conv2d_transpose"]
npad = sys.modules["tilecraft.topi.nn.pad"]
x86 = sys.modules["tilecraft.topi.x86.conv2d"]
x86t = sys.modules["tilecraft.topi.x86.conv2d_transpose"]
x86d = sys.modules["tilecraft.topi.x86.depthwise"]

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def shape_of(t):
    return tuple(int(s.value) for s in t.shape)


def run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    nd = [tvm.nd.array(a) for a in inputs] + [tvm.nd.empty(shape_of(args[-1]), args[-1].dtype)]
    f(*nd)
    return nd[-1].numpy()


def pad4(p):
    if isinstance(p, int):
        return p, p, p, p
    return (p[0], p[1], p[0], p[1]) if len(p) == 2 else tuple(p)


def ref_conv_nchw(x, w, stride, padding, dilation, groups=1):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    t, l, b, r = pad4(padding)
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))
    N, C, H, W = xp.shape
    O, CG, KH, KW = w.shape
    OH = (H - (KH - 1) * dh - 1) // sh + 1
    OW = (W - (KW - 1) * dw - 1) // sw + 1
    out = np.zeros((N, O, OH, OW), np.float64)
    og = O // groups
    for g in range(groups):
        xs = xp[:, g * CG:(g + 1) * CG]
        ws = w[g * og:(g + 1) * og]
        for kh in range(KH):
            for kw in range(KW):
                patch = xs[:, :, kh * dh:kh * dh + sh * (OH - 1) + 1:sh, kw * dw:kw * dw + sw * (OW - 1) + 1:sw]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, kh, kw])
    return out.astype("float32")


def ref_depthwise(x, w, stride, padding, dilation):
    C, M = w.shape[:2]
    wg = w.reshape(C * M, 1, *w.shape[2:])
    return ref_conv_nchw(x, wg, stride, padding, dilation, groups=C)


def to_nchwc(x, c):
    N, C, H, W = x.shape
    return x.reshape(N, C // c, c, H, W).transpose(0, 1, 3, 4, 2).copy()


def from_nchwc(x):
    N, C, H, W, c = x.shape
    return x.transpose(0, 1, 4, 2, 3).reshape(N, C * c, H, W)


def pack_kernel(w, ic, oc):
    O, I, KH, KW = w.shape
    return w.reshape(O // oc, oc, I // ic, ic, KH, KW).transpose(0, 2, 4, 5, 3, 1).copy()


def bias_relu(conv, bias, channel_axis, cblock=None):
    def body(*i):
        c = i[channel_axis]
        bv = bias[c] if cblock is None else bias[c * cblock + i[-1]]
        return te.max(conv[i] + bv, te.const(0.0, "float32"))

    return te.compute(conv.shape, body, name="bias_relu", tag=tag.BROADCAST)


def ref_bias_relu(out, b, axis):
    shape = [1] * out.ndim
    shape[axis] = -1
    return np.maximum(out + b.reshape(shape), 0)


CASES = [  # N, C, H, W, O, KH, KW, stride, padding, dilation
    (1, 3, 7, 9, 4, 3, 3, 1, 1, 1),
    (2, 4, 9, 8, 6, 3, 3, 2, (1, 2), 1),
    (1, 5, 10, 9, 3, 3, 2, (2, 1), (0, 1, 2, 1), 2),
    (1, 8, 6, 6, 8, 1, 1, 1, 0, 1),
]


@pytest.mark.parametrize("case", CASES)
def test_conv2d_nchw_compute(case):
    N, C, H, W, O, KH, KW, st, p, d = case
    x, w = rand(N, C, H, W), rand(O, C, KH, KW)
    X, Wt = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W")
    out = nn.conv2d_nchw(X, Wt, st, p, d)
    assert out.op.tag == "conv2d_nchw"
    got = run(te.create_schedule(out.op), [X, Wt, out], [x, w])
    np.testing.assert_allclose(got, ref_conv_nchw(x, w, st, p, d), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", [CASES[1], CASES[2], (1, 16, 12, 16, 8, 3, 3, 1, 1, 1)])
@pytest.mark.parametrize("epilogue", [False, True])
def test_schedule_conv2d_nchw(case, epilogue):
    N, C, H, W, O, KH, KW, st, p, d = case
    x, w, b = rand(N, C, H, W), rand(O, C, KH, KW), rand(O)
    X, Wt, B = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W"), te.placeholder((O,), name="B")
    conv = nn.conv2d_nchw(X, Wt, st, p, d)
    ref = ref_conv_nchw(x, w, st, p, d)
    if epilogue:
        out = bias_relu(conv, B, 1)
        got = run(x86.schedule_conv2d_nchw([out]), [X, Wt, B, out], [x, w, b])
        ref = ref_bias_relu(ref, b, 1)
    else:
        got = run(x86.schedule_conv2d_nchw([conv]), [X, Wt, conv], [x, w])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("groups,case", [(2, (1, 4, 7, 7, 6, 3, 3, 1, 1, 1)), (3, (2, 6, 8, 6, 3, 3, 3, 2, (0, 1), 1))])
def test_group_conv2d_nchw(groups, case):
    N, C, H, W, O, KH, KW, st, p, d = case
    x, w = rand(N, C, H, W), rand(O, C // groups, KH, KW)
    X, Wt = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W")
    out = nn.group_conv2d_nchw(X, Wt, st, p, d, groups)
    assert out.op.tag == "group_conv2d_nchw"
    got = run(x86.schedule_group_conv2d_nchw([out]), [X, Wt, out], [x, w])
    np.testing.assert_allclose(got, ref_conv_nchw(x, w, st, p, d, groups), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case,ic,oc", [((1, 16, 10, 12, 32, 3, 3, 1, 1, 1), 8, 16),
                                        ((2, 8, 9, 7, 8, 3, 3, 2, (1, 0, 2, 1), 1), 4, 8),
                                        ((1, 8, 8, 8, 16, 3, 3, 1, 2, 2), 8, 8)])
@pytest.mark.parametrize("epilogue", [False, True])
def test_conv2d_NCHWc(case, ic, oc, epilogue):
    N, C, H, W, O, KH, KW, st, p, d = case
    x, w, b = rand(N, C, H, W), rand(O, C, KH, KW), rand(O)
    X = te.placeholder((N, C // ic, H, W, ic), name="X")
    Wt = te.placeholder((O // oc, C // ic, KH, KW, ic, oc), name="W")
    B = te.placeholder((O,), name="B")
    conv = nn.conv2d_NCHWc(X, Wt, st, p, d, f"NCHW{ic}c", f"NCHW{oc}c")
    assert conv.op.tag == "conv2d_NCHWc"
    ref = ref_conv_nchw(x, w, st, p, d)
    inputs = [to_nchwc(x, ic), pack_kernel(w, ic, oc)]
    if epilogue:
        out = bias_relu(conv, B, 1, cblock=oc)
        got = run(x86.schedule_conv2d_NCHWc([out]), [X, Wt, B, out], inputs + [b])
        ref = ref_bias_relu(ref, b, 1)
    else:
        got = run(x86.schedule_conv2d_NCHWc([conv]), [X, Wt, conv], inputs)
    np.testing.assert_allclose(from_nchwc(got), ref, rtol=1e-4, atol=1e-4)


def test_conv2d_NCHWc_with_layout_transforms_in_the_group():
    """NCHW in, NCHW out: the input transform, kernel packing and output transform all computed
    inside one schedule (what the graph compiler does when the kernel is not constant)."""
    N, C, H, W, O = 1, 8, 9, 10, 16
    x, w, b = rand(N, C, H, W), rand(O, C, 3, 3), rand(O)
    X, Wt, B = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W"), te.placeholder((O,), name="B")
    conv = nn.conv2d_NCHWc(nn.nchw_to_nchwc(X, 8), nn.pack_conv_kernel(Wt, 8, 16), 1, 1, 1)
    out = nn.nchwc_to_nchw(bias_relu(conv, B, 1, cblock=16))
    assert shape_of(out) == (N, O, H, W)
    got = run(x86.schedule_conv2d_NCHWc([out]), [X, Wt, B, out], [x, w, b])
    np.testing.assert_allclose(got, ref_bias_relu(ref_conv_nchw(x, w, 1, 1, 1), b, 1), rtol=1e-4, atol=1e-4)


def test_layout_transforms_round_trip():
    x, w = rand(2, 8, 3, 5), rand(16, 8, 3, 3)
    X, Wt = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W")
    xc = nn.nchw_to_nchwc(X, 4)
    back = nn.nchwc_to_nchw(xc)
    kp = nn.pack_conv_kernel(Wt, 4, 8)
    np.testing.assert_array_equal(run(te.create_schedule(xc.op), [X, xc], [x]), to_nchwc(x, 4))
    np.testing.assert_array_equal(run(te.create_schedule(back.op), [X, back], [x]), x)
    np.testing.assert_array_equal(run(te.create_schedule(kp.op), [Wt, kp], [w]), pack_kernel(w, 4, 8))
    with pytest.raises(ValueError, match="multiple"):
        nn.nchw_to_nchwc(X, 3)


@pytest.mark.parametrize("case", [(1, 8, 9, 11, 1, 3, 1, 1, 1), (2, 6, 12, 10, 2, 3, 2, (1, 0, 1, 1), 1),
                                  (1, 16, 16, 16, 1, 3, 1, 2, 2)])
@pytest.mark.parametrize("epilogue", [False, True])
def test_depthwise_conv2d_nchw(case, epilogue):
    N, C, H, W, M, K, st, p, d = case
    x, w, b = rand(N, C, H, W), rand(C, M, K, K), rand(C * M)
    X, Wt, B = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W"), te.placeholder((C * M,), name="B")
    conv = nn.depthwise_conv2d_nchw(X, Wt, st, p, d)
    assert conv.op.tag == "depthwise_conv2d_nchw"
    ref = ref_depthwise(x, w, st, p, d)
    if epilogue:
        out = bias_relu(conv, B, 1)
        got = run(x86d.schedule_depthwise_conv2d_nchw([out]), [X, Wt, B, out], [x, w, b])
        ref = ref_bias_relu(ref, b, 1)
    else:
        got = run(x86d.schedule_depthwise_conv2d_nchw([conv]), [X, Wt, conv], [x, w])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", [(1, 5, 7, 9, 16, 3, 3, 1, 1, 1), (2, 4, 8, 7, 6, 3, 2, 2, (0, 1, 1, 2), 2)])
@pytest.mark.parametrize("epilogue", [False, True])
def test_conv2d_nhwc(case, epilogue):
    N, C, H, W, O, KH, KW, st, p, d = case
    x, w, b = rand(N, C, H, W), rand(O, C, KH, KW), rand(O)
    X = te.placeholder((N, H, W, C), name="X")
    Wt = te.placeholder((KH, KW, C, O), name="W")
    B = te.placeholder((O,), name="B")
    conv = nn.conv2d_nhwc(X, Wt, st, p, d)
    ref = ref_conv_nchw(x, w, st, p, d).transpose(0, 2, 3, 1)
    inputs = [x.transpose(0, 2, 3, 1).copy(), w.transpose(2, 3, 1, 0).copy()]
    if epilogue:
        out = bias_relu(conv, B, 3)
        got = run(x86.schedule_conv2d_nhwc([out]), [X, Wt, B, out], inputs + [b])
        ref = ref_bias_relu(ref, b, 3)
    else:
        got = run(x86.schedule_conv2d_nhwc([conv]), [X, Wt, conv], inputs)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def ref_conv_transpose(x, w, stride, padding, output_padding):
    N, I, H, W = x.shape
    _, O, KH, KW = w.shape
    sh, sw = stride
    t, l, b, r = pad4(padding)
    oph, opw = output_padding
    full = np.zeros((N, O, (H - 1) * sh + KH + oph, (W - 1) * sw + KW + opw))
    for kh in range(KH):
        for kw in range(KW):
            full[:, :, kh:kh + (H - 1) * sh + 1:sh, kw:kw + (W - 1) * sw + 1:sw] += \
                np.einsum("nihw,io->nohw", x, w[:, :, kh, kw])
    OH, OW = full.shape[2] - t - b, full.shape[3] - l - r
    return full[:, :, t:t + OH, l:l + OW].astype("float32")


@pytest.mark.parametrize("stride,padding,opad", [((1, 1), 1, (0, 0)), ((2, 2), (1, 0, 0, 1), (1, 0)),
                                                 ((2, 3), 0, (1, 2))])
def test_conv2d_transpose_nchw(stride, padding, opad):
    x, w = rand(1, 4, 5, 6), rand(4, 6, 3, 3)
    X, Wt = te.placeholder(x.shape, name="X"), te.placeholder(w.shape, name="W")
    out = nnt.conv2d_transpose_nchw(X, Wt, stride, padding, "float32", opad)
    ref = ref_conv_transpose(x, w, stride, padding, opad)
    assert shape_of(out) == ref.shape
    got = run(x86t.schedule_conv2d_transpose_nchw([out]), [X, Wt, out], [x, w])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_pad():
    x = rand(2, 3, 4)
    X = te.placeholder(x.shape, name="X")
    out = npad.pad(X, (0, 1, 2), (1, 0, 3), pad_value=-1.5)
    assert out.op.tag.startswith("injective")
    got = run(te.create_schedule(out.op), [X, out], [x])
    np.testing.assert_array_equal(got, np.pad(x, ((0, 1), (1, 0), (2, 3)), constant_values=-1.5))
    assert npad.get_pad_tuple(1, (3, 3)) == (1, 1, 1, 1)
    assert npad.get_pad_tuple((1, 2), (3, 3)) == (1, 2, 1, 2)
    assert npad.get_pad_tuple("SAME", (4, 3)) == (1, 1, 2, 1)


def test_errors_name_the_problem():
    X = te.placeholder((1, 4, 8, 8), name="X")
    with pytest.raises(ValueError, match="W"):
        nn.conv2d_nchw(X, te.placeholder((8, 3, 3, 3), name="W"), 1, 1, 1)
    with pytest.raises(ValueError, match="groups"):
        nn.group_conv2d_nchw(X, te.placeholder((6, 2, 3, 3), name="W"), 1, 1, 1, 3)
    with pytest.raises(ValueError, match="larger than the padded input"):
        nn.conv2d_nchw(X, te.placeholder((8, 4, 11, 11), name="W"), 1, 1, 1)


def test_traverse_inline_inlines_the_epilogue_and_finds_the_anchor():
    X, Wt, B = te.placeholder((1, 4, 6, 6), name="X"), te.placeholder((8, 4, 3, 3), name="W"), \
        te.placeholder((8,), name="B")
    conv = nn.conv2d_nchw(X, Wt, 1, 1, 1)
    mid = bias_relu(conv, B, 1)
    out = te.compute(mid.shape, lambda *i: mid[i] * 2.0, name="scale", tag=tag.ELEMWISE)
    s = te.create_schedule(out.op)
    seen = []
    traverse_inline(s, out.op, lambda op: seen.append(op.tag))
    assert s[mid].attach_type == "inline" and s[out].attach_type == "root"
    assert "conv2d_nchw" in seen
    assert s[conv.op.input_tensors[0]].attach_type == "root"  # the pad of the anchor is left to the callback
