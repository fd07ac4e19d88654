"""Neural-network operators (relay.nn.*): dense, conv2d, pooling, normalization, activations."""

from __future__ import annotations

from ..ty import TensorType, TupleType, dims_equal
from ._rel import check_channels, identity_rel, normalize_axis, same_dtype_rel, tensor_arg, window_out
from .conv_nd import (  # noqa: F401  (relay.nn.conv1d, ...)
    avg_pool1d,
    avg_pool3d,
    conv1d,
    conv1d_transpose,
    conv3d,
    conv3d_transpose,
    conv_solve,
    global_avg_pool1d,
    global_avg_pool3d,
    global_max_pool1d,
    global_max_pool3d,
    max_pool1d,
    max_pool3d,
)
from .image import upsampling, upsampling3d  # noqa: F401  (relay.nn.upsampling, relay.nn.upsampling3d)
from .registry import OpPattern, make_call, register_op
from .tensor import _topi
from .transform import batch_flatten, pad, te_rel  # noqa: F401  (relay.nn.batch_flatten, relay.nn.pad)


def _pair(v, what="value") -> tuple:
    """(h, w) from an int or a pair; strides, dilations and window sizes must be positive."""
    v = (v, v) if isinstance(v, int) else tuple(int(x) for x in v)
    if len(v) == 1:
        v = (v[0], v[0])
    if len(v) != 2:
        raise ValueError(f"{what} must be an int or a pair, got {v}")
    if what in ("strides", "dilation", "pool_size", "output_size") and min(v) <= 0:
        raise ValueError(f"{what} must be positive, got {v}")
    return v


def _pad4(p) -> tuple:
    """(top, left, bottom, right) from an int, (h, w) or a 4-tuple."""
    if isinstance(p, int):
        return (p, p, p, p)
    p = tuple(int(x) for x in p)
    if len(p) == 1:
        return p * 4
    if len(p) == 2:
        return (p[0], p[1], p[0], p[1])
    if len(p) == 4:
        return p
    raise ValueError(f"padding must be an int, a pair or 4 values, got {p}")


# ---------------------------------------------------------------------------- activations

def _act(name: str, topi_name: str, defaults=None, args=()):
    fn = _topi(topi_name)
    register_op(name, identity_rel, lambda attrs, ins, out: fn(ins[0], *[attrs[a] for a in args]),
                OpPattern.ELEMWISE, defaults)


_act("nn.relu", "nn.relu")
_act("nn.leaky_relu", "nn.leaky_relu", {"alpha": 0.01}, ("alpha",))
_act("nn.gelu", "nn.gelu", {"approximate": "none"}, ("approximate",))
_act("nn.silu", "nn.silu")
_act("nn.hardswish", "nn.hardswish")


def relu(data):
    return make_call("nn.relu", (data,))


def leaky_relu(data, alpha=0.01):
    return make_call("nn.leaky_relu", (data,), alpha=float(alpha))


def gelu(data, approximate="none"):
    return make_call("nn.gelu", (data,), approximate=approximate)


def silu(data):
    return make_call("nn.silu", (data,))


def hardswish(data):
    return make_call("nn.hardswish", (data,))


# ---------------------------------------------------------------------------- dense / matmul

def _dense_rel(types, attrs):
    d, w = tensor_arg(types, 0, "data"), tensor_arg(types, 1, "weight")
    if w.ndim != 2:
        raise ValueError(f"weight must be 2-D [units, in_features], got shape {w.shape}")
    if dims_equal(d.shape[-1], w.shape[1]) is False:
        raise ValueError(f"data has {d.shape[-1]} features but weight expects {w.shape[1]} "
                         f"(data {d.shape}, weight {w.shape})")
    return TensorType(tuple(d.shape[:-1]) + (w.shape[0],), attrs.get("out_dtype") or d.dtype)


def _dense_solve(types, attrs):
    d = types[0]
    if d is None or attrs.get("units") is None:
        return {}
    return {1: TensorType((attrs["units"], d.shape[-1]), d.dtype)}


def on_rows(data, kernel):
    """kernel(data2d) -> [M, N] applied to data [..., K] as rows: [..., K] -> [prod(...), K] -> [..., N]
    (dense and its packed form take 2-D data; relay's take any rank)."""
    from ... import topi

    if len(data.shape) == 2:
        return kernel(data)
    lead = [int(s) for s in data.shape[:-1]]
    res = kernel(topi.reshape(data, (int(topi.utils.prod(lead)), int(data.shape[-1]))))
    return topi.reshape(res, tuple(lead) + (int(res.shape[-1]),))


def _dense_compute(attrs, ins, out):
    from ... import topi

    data, weight = ins
    return on_rows(data, lambda rows: topi.nn.dense(rows, weight, out_dtype=attrs.get("out_dtype")))


register_op("nn.dense", same_dtype_rel(_dense_rel, "data", "weight"), _dense_compute, OpPattern.OUT_ELEMWISE_FUSABLE,
            {"units": None, "out_dtype": None}, solve=_dense_solve)


def dense(data, weight, units=None, out_dtype=None):
    return make_call("nn.dense", (data, weight), units=units, out_dtype=out_dtype)


def _batch_matmul_rel(types, attrs):
    x, y = tensor_arg(types, 0, "x"), tensor_arg(types, 1, "y")
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    if x.ndim != 3 or y.ndim != 3:
        raise ValueError(f"batch_matmul needs 3-D inputs, got {x.shape} and {y.shape}")
    b = x.shape[0] if x.shape[0] != 1 else y.shape[0]
    if x.shape[0] not in (1, b) or y.shape[0] not in (1, b):
        raise ValueError(f"batch sizes {x.shape[0]} and {y.shape[0]} do not match")
    m, k = (x.shape[2], x.shape[1]) if ta else (x.shape[1], x.shape[2])
    k2, n = (y.shape[2], y.shape[1]) if tb else (y.shape[1], y.shape[2])
    if k != k2:
        raise ValueError(f"inner dimensions differ: {k} vs {k2} (x {x.shape}, y {y.shape})")
    return TensorType((b, m, n), attrs.get("out_dtype") or x.dtype)


register_op("nn.batch_matmul", same_dtype_rel(_batch_matmul_rel, "x", "y"),
            lambda attrs, ins, out: _topi("nn.batch_matmul")(ins[0], ins[1], transpose_a=attrs["transpose_a"],
                                                              transpose_b=attrs["transpose_b"]),
            OpPattern.OUT_ELEMWISE_FUSABLE, {"transpose_a": False, "transpose_b": True, "out_dtype": None})


def batch_matmul(x, y, transpose_a=False, transpose_b=True, out_dtype=None):
    return make_call("nn.batch_matmul", (x, y), transpose_a=transpose_a, transpose_b=transpose_b,
                     out_dtype=out_dtype)


def _bias_add_rel(types, attrs):
    d = tensor_arg(types, 0, "data")
    _check_channel_vectors(types, d, normalize_axis(attrs["axis"], d.ndim), ("bias",))
    return d


def _check_channel_vectors(types, d, axis: int, names) -> None:
    """Inputs 1, 2, ... (bias, gamma, beta, ...) are vectors as long as the data's `axis`."""
    for i, what in enumerate(names, 1):
        t = tensor_arg(types, i, what)
        if t.ndim != 1 or dims_equal(t.shape[0], d.shape[axis]) is False:
            raise ValueError(f"{what} of shape {t.shape} does not match axis {axis} of data {d.shape}")


def _per_channel_solve(*indices):
    """Inputs (bias, gamma, beta, ...) that are vectors as long as the data's `axis`."""

    def solve(types, attrs):
        d = types[0]
        if d is None:
            return {}
        t = TensorType((d.shape[normalize_axis(attrs["axis"], d.ndim)],), d.dtype)
        return {i: t for i in indices}

    return solve


def _bias_add_compute(attrs, ins, out):
    from ... import topi

    d, b = ins
    axis = normalize_axis(attrs["axis"], len(d.shape))
    shape = [1] * len(d.shape)
    shape[axis] = int(b.shape[0])
    return topi.add(d, topi.reshape(b, tuple(shape)))


register_op("nn.bias_add", same_dtype_rel(_bias_add_rel, "data", "bias"), _bias_add_compute, OpPattern.BROADCAST,
            {"axis": 1}, solve=_per_channel_solve(1))


def bias_add(data, bias, axis=1):
    return make_call("nn.bias_add", (data, bias), axis=int(axis))


# ---------------------------------------------------------------------------- softmax / normalization

def _axis_rel(types, attrs):
    """The input's type, once `axis` is one of its axes."""
    t = types[0]
    if isinstance(t, TensorType) and not -t.ndim <= attrs["axis"] < t.ndim:
        raise ValueError(f"axis {attrs['axis']} is out of range for a {t.ndim}-D input {t}")
    return identity_rel(types, attrs)


# OUT_ELEMWISE_FUSABLE, as classic Relay: element-wise producers (an attention mask, a scale) are
# read inline by the row max and exp, and an element-wise epilogue (a cast) joins the normalisation.
register_op("nn.softmax", _axis_rel, lambda attrs, ins, out: _topi("nn.softmax")(ins[0], attrs["axis"]),
            OpPattern.OUT_ELEMWISE_FUSABLE, {"axis": -1})
register_op("nn.log_softmax", _axis_rel,
            lambda attrs, ins, out: _topi("nn.log_softmax")(ins[0], attrs["axis"]),
            OpPattern.OUT_ELEMWISE_FUSABLE, {"axis": -1})


def softmax(data, axis=-1):
    return make_call("nn.softmax", (data,), axis=int(axis))


def log_softmax(data, axis=-1):
    return make_call("nn.log_softmax", (data,), axis=int(axis))


def _layer_norm_rel(types, attrs):
    d = tensor_arg(types, 0, "data")
    axis = normalize_axis(attrs["axis"], d.ndim)
    _check_channel_vectors(types, d, axis, ("gamma", "beta"))
    return d


register_op("nn.layer_norm", same_dtype_rel(_layer_norm_rel, "data", "gamma", "beta"),
            lambda attrs, ins, out: _topi("nn.layer_norm")(ins[0], ins[1], ins[2], attrs["axis"], attrs["epsilon"]),
            OpPattern.OPAQUE,
            {"axis": -1, "epsilon": 1e-5, "center": True, "scale": True}, solve=_per_channel_solve(1, 2))


def layer_norm(data, gamma, beta, axis=-1, epsilon=1e-5, center=True, scale=True):
    return make_call("nn.layer_norm", (data, gamma, beta), axis=int(axis), epsilon=float(epsilon),
                     center=center, scale=scale)


def _batch_norm_rel(types, attrs):
    d = tensor_arg(types, 0, "data")
    axis = normalize_axis(attrs["axis"], d.ndim)
    _check_channel_vectors(types, d, axis, ("gamma", "beta", "moving_mean", "moving_var"))
    c = TensorType((d.shape[axis],), d.dtype)
    return TupleType((d, c, c))


def _batch_norm_compute(attrs, ins, out):
    from ... import topi

    y = topi.nn.batch_norm(*ins, axis=attrs["axis"], epsilon=attrs["epsilon"], center=attrs["center"],
                           scale=attrs["scale"])
    y = y[0] if isinstance(y, (list, tuple)) else y
    return [y, topi.identity(ins[3]), topi.identity(ins[4])]


register_op("nn.batch_norm", same_dtype_rel(_batch_norm_rel, "data", "gamma", "beta", "moving_mean",
                                                  "moving_var"), _batch_norm_compute, OpPattern.OPAQUE,
            {"axis": 1, "epsilon": 1e-5, "center": True, "scale": True}, solve=_per_channel_solve(1, 2, 3, 4))


def batch_norm(data, gamma, beta, moving_mean, moving_var, axis=1, epsilon=1e-5, center=True, scale=True):
    """Inference batch norm; returns a tuple (out, mean, var) as relay does — use [0]."""
    from ..expr import TupleGetItem  # noqa: F401  (callers index the result)

    return _TupleWrapper(make_call("nn.batch_norm", (data, gamma, beta, moving_mean, moving_var),
                                   axis=int(axis), epsilon=float(epsilon), center=center, scale=scale), 3)


class _TupleWrapper:
    """relay's TupleWrapper: a call returning a tuple, indexable with [i]."""

    def __init__(self, call, size):
        self.tuple_value, self.size = call, size

    def __getitem__(self, i):
        from ..expr import TupleGetItem

        if not 0 <= i < self.size:
            raise IndexError(f"tuple index {i} out of range ({self.size} fields)")
        return TupleGetItem(self.tuple_value, i)

    def astuple(self):
        return self.tuple_value

    def __len__(self):
        return self.size


# ---------------------------------------------------------------------------- convolution

def _conv2d_rel(types, attrs):
    d, w = tensor_arg(types, 0, "data"), tensor_arg(types, 1, "weight")
    if attrs["data_layout"] != "NCHW" or attrs["kernel_layout"] != "OIHW":
        return _conv2d_nhwc_rel(d, w, attrs)
    if d.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv2d expects 4-D NCHW data and OIHW weight, got {d.shape} and {w.shape}")
    n, c, h, wd = d.shape
    o, i, kh, kw = w.shape
    check_channels(c, i, o, attrs["groups"])
    sh, sw = _pair(attrs["strides"], "strides")
    dh, dw = _pair(attrs["dilation"], "dilation")
    pt, pl, pb, pr = _pad4(attrs["padding"])
    return TensorType((n, o, window_out(h, kh, sh, dh, pt, pb), window_out(wd, kw, sw, dw, pl, pr)),
                      attrs.get("out_dtype") or d.dtype)


def _conv2d_nhwc_rel(d, w, attrs):
    if attrs["data_layout"] != "NHWC" or attrs["kernel_layout"] != "HWIO":
        raise ValueError(f"layouts {attrs['data_layout']}/{attrs['kernel_layout']} are not supported; "
                         "use NCHW/OIHW or NHWC/HWIO")
    n, h, wd, c = d.shape
    kh, kw, i, o = w.shape
    check_channels(c, i, o, attrs["groups"])
    sh, sw = _pair(attrs["strides"])
    dh, dw = _pair(attrs["dilation"])
    pt, pl, pb, pr = _pad4(attrs["padding"])
    return TensorType((n, window_out(h, kh, sh, dh, pt, pb), window_out(wd, kw, sw, dw, pl, pr), o),
                      attrs.get("out_dtype") or d.dtype)


def _conv2d_compute(attrs, ins, out):
    from ... import topi

    data, weight = ins
    strides, dil, padding = _pair(attrs["strides"]), _pair(attrs["dilation"]), _pad4(attrs["padding"])
    g = attrs["groups"]
    if attrs["data_layout"] == "NHWC":
        return topi.nn.conv2d_nhwc(data, weight, strides, padding, dil, attrs.get("out_dtype"))
    c = int(data.shape[1])
    if g == 1:
        return topi.nn.conv2d_nchw(data, weight, strides, padding, dil, attrs.get("out_dtype"))
    if g == c and int(weight.shape[1]) == 1:
        return topi.nn.depthwise_conv2d_nchw(data, topi.reshape(weight, (c, int(weight.shape[0]) // c,
                                                                          *map(int, weight.shape[2:]))),
                                             strides, padding, dil, attrs.get("out_dtype"))
    return topi.nn.group_conv2d_nchw(data, weight, strides, padding, dil, g, attrs.get("out_dtype"))


_CONV_DEFAULTS = {"strides": (1, 1), "padding": (0, 0), "dilation": (1, 1), "groups": 1, "channels": None,
                  "kernel_size": None, "data_layout": "NCHW", "kernel_layout": "OIHW", "out_layout": "",
                  "out_dtype": None}
register_op("nn.conv2d", same_dtype_rel(_conv2d_rel, "data", "weight"), _conv2d_compute, OpPattern.OUT_ELEMWISE_FUSABLE,
            _CONV_DEFAULTS, solve=conv_solve(2, False))


def conv2d(data, weight, strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, channels=None,
           kernel_size=None, data_layout="NCHW", kernel_layout="OIHW", out_layout="", out_dtype=None):
    return make_call("nn.conv2d", (data, weight), strides=_pair(strides, "strides"), padding=_pad4(padding),
                     dilation=_pair(dilation, "dilation"), groups=int(groups), channels=channels,
                     kernel_size=kernel_size,
                     data_layout=data_layout, kernel_layout=kernel_layout, out_layout=out_layout,
                     out_dtype=out_dtype)



# ---------------------------------------------------------------------------- pooling, norms, misc


def _pool_compute(kind):
    def compute(a, ins, o):
        return _topi("nn.pool2d")(ins[0], a["pool_size"], a["strides"], a["dilation"], a["padding"], kind,
                                  a["ceil_mode"], a["layout"], a.get("count_include_pad", True))

    return compute


_POOL = {"pool_size": (1, 1), "strides": (1, 1), "dilation": (1, 1), "padding": (0, 0, 0, 0), "layout": "NCHW",
         "ceil_mode": False}
for _kind in ("max", "avg"):
    _defaults = dict(_POOL, **({"count_include_pad": False} if _kind == "avg" else {}))
    register_op(f"nn.{_kind}_pool2d", te_rel(_pool_compute(_kind)), _pool_compute(_kind),
                OpPattern.OUT_ELEMWISE_FUSABLE, _defaults)
    register_op(f"nn.global_{_kind}_pool2d",
                te_rel(lambda a, ins, o, k=_kind: _topi("nn.global_pool")(ins[0], k, a["layout"])),
                lambda a, ins, o, k=_kind: _topi("nn.global_pool")(ins[0], k, a["layout"]),
                OpPattern.OUT_ELEMWISE_FUSABLE, {"layout": "NCHW"})
    register_op(f"nn.adaptive_{_kind}_pool2d",
                te_rel(lambda a, ins, o, k=_kind: _topi("nn.adaptive_pool")(ins[0], a["output_size"], k, a["layout"])),
                lambda a, ins, o, k=_kind: _topi("nn.adaptive_pool")(ins[0], a["output_size"], k, a["layout"]),
                OpPattern.OUT_ELEMWISE_FUSABLE,
                {"output_size": (1, 1), "layout": "NCHW"})


def _pool_attrs(pool_size, strides, dilation, padding, layout, ceil_mode):
    strides = strides if strides is not None else pool_size
    return dict(pool_size=_pair(pool_size, "pool_size"), strides=_pair(strides, "strides"),
                dilation=_pair(dilation, "dilation"), padding=_pad4(padding), layout=layout, ceil_mode=bool(ceil_mode))


def max_pool2d(data, pool_size=(1, 1), strides=(1, 1), dilation=(1, 1), padding=(0, 0), layout="NCHW",
               ceil_mode=False):
    return make_call("nn.max_pool2d", (data,), **_pool_attrs(pool_size, strides, dilation, padding, layout,
                                                             ceil_mode))


def avg_pool2d(data, pool_size=(1, 1), strides=(1, 1), dilation=(1, 1), padding=(0, 0), layout="NCHW",
               ceil_mode=False, count_include_pad=False):
    return make_call("nn.avg_pool2d", (data,), **_pool_attrs(pool_size, strides, dilation, padding, layout,
                                                             ceil_mode), count_include_pad=bool(count_include_pad))


def global_avg_pool2d(data, layout="NCHW"):
    return make_call("nn.global_avg_pool2d", (data,), layout=layout)


def global_max_pool2d(data, layout="NCHW"):
    return make_call("nn.global_max_pool2d", (data,), layout=layout)


def adaptive_avg_pool2d(data, output_size=(1, 1), layout="NCHW"):
    return make_call("nn.adaptive_avg_pool2d", (data,), output_size=_pair(output_size, "output_size"), layout=layout)


def adaptive_max_pool2d(data, output_size=(1, 1), layout="NCHW"):
    return make_call("nn.adaptive_max_pool2d", (data,), output_size=_pair(output_size, "output_size"), layout=layout)


def _group_norm_compute(a, ins, o):
    return _topi("nn.group_norm")(ins[0], ins[1], ins[2], a["num_groups"], a["axis"], epsilon=a["epsilon"])


register_op("nn.group_norm", same_dtype_rel(te_rel(_group_norm_compute), "data", "gamma", "beta"),
            _group_norm_compute, OpPattern.OPAQUE,
            {"num_groups": 1, "axis": 1, "epsilon": 1e-5, "center": True, "scale": True})


def group_norm(data, gamma, beta, num_groups, axis=1, epsilon=1e-5, center=True, scale=True):
    return make_call("nn.group_norm", (data, gamma, beta), num_groups=int(num_groups), axis=int(axis),
                     epsilon=float(epsilon), center=center, scale=scale)


def _conv_t_compute(a, ins, o):
    """NCHW data and IOHW weights; other layouts are transposed here (and by Legalize before the
    kernels are chosen, so strategies see only these)."""
    from ... import topi

    data, weight = ins
    if a["data_layout"] not in ("NCHW", "NHWC") or sorted(a["kernel_layout"]) != sorted("OIHW"):
        raise ValueError(f"layouts {a['data_layout']}/{a['kernel_layout']} are not supported: data NCHW or NHWC, "
                         f"a kernel layout ordering I, O, H, W (IOHW, OIHW, HWOI, ...)")
    if a["kernel_layout"] != "IOHW":
        weight = topi.transpose(weight, tuple(a["kernel_layout"].index(c) for c in "IOHW"))
    if a["data_layout"] == "NHWC":
        data = topi.transpose(data, (0, 3, 1, 2))
    out = topi.nn.conv2d_transpose_nchw(data, weight, a["strides"], a["padding"], a.get("out_dtype"),
                                        a["output_padding"])
    return topi.transpose(out, (0, 2, 3, 1)) if a["data_layout"] == "NHWC" else out


register_op("nn.conv2d_transpose", same_dtype_rel(te_rel(_conv_t_compute), "data", "weight"), _conv_t_compute,
            OpPattern.OUT_ELEMWISE_FUSABLE,
            {"strides": (1, 1), "padding": (0, 0, 0, 0), "output_padding": (0, 0), "dilation": (1, 1), "groups": 1,
             "channels": None, "kernel_size": None, "data_layout": "NCHW", "kernel_layout": "IOHW",
             "out_dtype": None}, solve=conv_solve(2, True))


def conv2d_transpose(data, weight, strides=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1),
                     groups=1, channels=None, kernel_size=None, data_layout="NCHW", kernel_layout="IOHW",
                     out_dtype=None):
    if _pair(dilation) != (1, 1) or groups != 1:
        raise ValueError("conv2d_transpose supports dilation 1 and groups 1")
    return make_call("nn.conv2d_transpose", (data, weight), strides=_pair(strides, "strides"), padding=_pad4(padding),
                     output_padding=_pair(output_padding), dilation=(1, 1), groups=1, channels=channels,
                     kernel_size=kernel_size, data_layout=data_layout, kernel_layout=kernel_layout,
                     out_dtype=out_dtype)


register_op("nn.lrn", identity_rel,
            lambda a, ins, o: _topi("nn.lrn")(ins[0], a["size"], a["axis"], a["bias"], a["alpha"], a["beta"]),
            OpPattern.COMM_REDUCE, {"size": 5, "axis": 1, "bias": 2.0, "alpha": 1e-5, "beta": 0.75})
register_op("nn.l2_normalize", identity_rel, lambda a, ins, o: _topi("nn.l2_normalize")(ins[0], a["eps"], a["axis"]),
            OpPattern.COMM_REDUCE, {"eps": 1e-12, "axis": None})


def lrn(data, size=5, axis=1, bias=2.0, alpha=0.00001, beta=0.75):
    """Local response normalization across `axis` (topi.nn.lrn)."""
    return make_call("nn.lrn", (data,), size=int(size), axis=int(axis), bias=float(bias), alpha=float(alpha),
                     beta=float(beta))


def l2_normalize(data, eps, axis=None):
    axis = None if axis is None else tuple(int(a) for a in axis)
    return make_call("nn.l2_normalize", (data,), eps=float(eps), axis=axis)


register_op("nn.dropout", identity_rel, lambda a, ins, o: _topi("identity")(ins[0]), OpPattern.ELEMWISE,
            {"rate": 0.5})


def dropout(data, rate=0.5):
    """Inference: identity (SimplifyInference removes it)."""
    return make_call("nn.dropout", (data,), rate=float(rate))


def contrib_conv2d_nchwc(*args, **kwargs):
    """relay.nn.contrib_conv2d_nchwc: convolution in the blocked NCHW{c}c layout (see op/layout.py)."""
    from .layout import contrib_conv2d_nchwc as make

    return make(*args, **kwargs)


def contrib_depthwise_conv2d_nchwc(*args, **kwargs):
    """relay.nn.contrib_depthwise_conv2d_nchwc: depthwise convolution in NCHW{c}c (see op/layout.py)."""
    from .layout import contrib_depthwise_conv2d_nchwc as make

    return make(*args, **kwargs)


def contrib_dense_pack(*args, **kwargs):
    """relay.nn.contrib_dense_pack: dense with a weight packed in panels (see op/layout.py)."""
    from .layout import contrib_dense_pack as make

    return make(*args, **kwargs)


from .matmul import matmul  # noqa: E402, F401  (relay.nn.matmul)
from .recurrent import recurrent  # noqa: E402, F401  (relay.nn.recurrent)
from .scan import selective_scan  # noqa: E402, F401  (relay.nn.selective_scan)
