"""1-D and 3-D convolution and pooling (relay.nn.conv1d, conv3d, conv1d_transpose, max/avg_pool1d/3d).

Each is a relay operator with its own type relation (symbolic sizes and untyped weights as
classic Relay), and is computed by the 2-D kernels: Legalize rewrites it before fusion
(relay/transform/lower_nd.py), so a 1-D or 3-D network gets the blocked, tuned conv2d and pool2d
kernels instead of slower kernels of its own:

    conv1d              conv2d on [N, C, 1, W]
    conv3d              conv2d on [N * D', KD * C, H, W]: the KD depth taps stacked as channels
    conv1d_transpose    conv2d_transpose on [N, C, 1, W]
    pool1d              pool2d on [N, C, 1, W]
    pool3d              pool2d over (H, W), then over D (max and average are separable)
"""

from __future__ import annotations

from ..ty import TensorType, dim, dims_equal
from ._rel import check_channels, same_dtype_rel, tensor_arg, window_out
from .registry import OpPattern, make_call, register_op

_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def tuple_of(v, nd: int, what: str) -> tuple:
    """nd ints from an int or nd of them; strides, dilations and windows must be positive."""
    v = (int(v),) * nd if isinstance(v, int) else tuple(int(x) for x in v)
    if len(v) == 1:
        v = v * nd
    if len(v) != nd:
        raise ValueError(f"{what} must be an int or {nd} ints, got {v}")
    if what != "output_padding" and min(v) <= 0:
        raise ValueError(f"{what} must be positive, got {v}")
    return v


def padding_of(p, nd: int) -> tuple:
    """(before..., after...) from an int, nd ints (both sides) or 2*nd ints."""
    p = (int(p),) if isinstance(p, int) else tuple(int(x) for x in p)
    if len(p) == 1:
        p = p * (2 * nd)
    elif len(p) == nd:
        p = p + p
    if len(p) != 2 * nd or min(p) < 0:
        raise ValueError(f"padding must be an int, {nd} or {2 * nd} non-negative ints, got {p}")
    return p


def _layouts(attrs, nd: int, transpose=False) -> tuple[str, str]:
    """The data layout is channels first or last (NCW, NWC, NCDHW, NDHWC); the kernel layout any
    order of O, I and the spatial axes (classic accepts NWC data with OIW weights)."""
    dl, kl = attrs["data_layout"], attrs["kernel_layout"]
    sp = _SPATIAL[nd]
    if dl not in ("NC" + sp, "N" + sp + "C") or sorted(kl) != sorted("OI" + sp):
        raise ValueError(f"layouts {dl}/{kl} are not supported: data NC{sp} or N{sp}C, and a kernel layout "
                         f"ordering O, I and {', '.join(sp)} (such as OI{sp} or {sp}IO)")
    if attrs.get("out_layout") not in (None, "", dl):
        raise ValueError(f"out_layout {attrs['out_layout']!r} must be the data layout {dl!r}")
    return dl, kl


def _conv_rel(nd: int, transpose: bool):
    def rel(types, attrs):
        d, w = tensor_arg(types, 0, "data"), tensor_arg(types, 1, "weight")
        dl, kl = _layouts(attrs, nd, transpose)
        if d.ndim != nd + 2 or w.ndim != nd + 2:
            raise ValueError(f"{dl} data and {kl} weight must be {nd + 2}-D, got {d.shape} and {w.shape}")
        g = attrs["groups"]
        c, i, o = d.shape[dl.index("C")], w.shape[kl.index("I")], w.shape[kl.index("O")]
        if transpose:  # the weight is [C_in, C_out / groups, ...]
            c_in, o = i, dim(o * g)
            if dims_equal(c, c_in) is False:
                raise ValueError(f"data has {c} channels but the weight expects {c_in}")
        else:
            check_channels(c, i, o, g)
        strides, dil = attrs["strides"], attrs["dilation"]
        pad = attrs["padding"]
        out = {"N": d.shape[dl.index("N")], "C": o}
        for k, axis in enumerate(_SPATIAL[nd]):
            size, kk = d.shape[dl.index(axis)], w.shape[kl.index(axis)]
            if transpose:
                out[axis] = dim((size - 1) * strides[k] - pad[k] - pad[nd + k] + dil[k] * (kk - 1)
                                + attrs["output_padding"][k] + 1)
            else:
                out[axis] = window_out(size, kk, strides[k], dil[k], pad[k], pad[nd + k])
        return TensorType(tuple(out[a] for a in dl), attrs.get("out_dtype") or d.dtype)

    return rel


def conv_solve(nd: int, transpose: bool):
    """The weight from `channels` and `kernel_size`, in the data's dtype, in any kernel layout (classic
    Conv{1,2,3}DRel and their transposes)."""

    def solve(types, attrs):
        d = types[0]
        if d is None or attrs["channels"] is None or attrs["kernel_size"] is None:
            return {}
        dl, kl = _layouts(attrs, nd, transpose)
        c, g = d.shape[dl.index("C")], attrs["groups"]
        sizes = dict(zip(_SPATIAL[nd], tuple_of(attrs["kernel_size"], nd, "kernel_size")))
        sizes.update({"O": dim(attrs["channels"] // g), "I": c} if transpose else
                     {"O": attrs["channels"], "I": dim(c // g)})
        return {1: TensorType(tuple(sizes[a] for a in kl), d.dtype)}

    return solve


def _no_compute(name):
    def compute(attrs, ins, out):
        raise ValueError(f"{name} is computed by 2-D kernels after relay.transform.Legalize(); "
                         f"build with relay.build, or run Legalize before lowering the call yourself")

    return compute


_CONV = {"strides": 1, "padding": 0, "dilation": 1, "groups": 1, "channels": None, "kernel_size": None,
         "out_layout": "", "out_dtype": None}
for _nd, _dl, _kl in ((1, "NCW", "OIW"), (3, "NCDHW", "OIDHW")):
    _name = f"nn.conv{_nd}d"
    register_op(_name, same_dtype_rel(_conv_rel(_nd, False), "data", "weight"), _no_compute(_name),
                OpPattern.OUT_ELEMWISE_FUSABLE, dict(_CONV, data_layout=_dl, kernel_layout=_kl),
                solve=conv_solve(_nd, False))
for _nd, _dl, _kl in ((1, "NCW", "IOW"), (3, "NCDHW", "IODHW")):
    _name = f"nn.conv{_nd}d_transpose"
    _defaults = dict(_CONV, data_layout=_dl, kernel_layout=_kl, output_padding=(0,) * _nd)
    register_op(_name, same_dtype_rel(_conv_rel(_nd, True), "data", "weight"), _no_compute(_name),
                OpPattern.OUT_ELEMWISE_FUSABLE, _defaults, solve=conv_solve(_nd, True))


def _conv_attrs(nd, strides, padding, dilation, groups, channels, kernel_size, data_layout, kernel_layout,
                out_layout, out_dtype):
    return dict(strides=tuple_of(strides, nd, "strides"), padding=padding_of(padding, nd),
                dilation=tuple_of(dilation, nd, "dilation"), groups=int(groups), channels=channels,
                kernel_size=None if kernel_size is None else tuple_of(kernel_size, nd, "kernel_size"),
                data_layout=data_layout, kernel_layout=kernel_layout, out_layout=out_layout, out_dtype=out_dtype)


def conv1d(data, weight, strides=1, padding=0, dilation=1, groups=1, channels=None, kernel_size=None,
           data_layout="NCW", kernel_layout="OIW", out_layout="", out_dtype=""):
    return make_call("nn.conv1d", (data, weight), **_conv_attrs(1, strides, padding, dilation, groups, channels,
                                                                kernel_size, data_layout, kernel_layout, out_layout,
                                                                out_dtype or None))


def conv3d(data, weight, strides=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups=1, channels=None,
           kernel_size=None, data_layout="NCDHW", kernel_layout="OIDHW", out_layout="", out_dtype=""):
    return make_call("nn.conv3d", (data, weight), **_conv_attrs(3, strides, padding, dilation, groups, channels,
                                                                kernel_size, data_layout, kernel_layout, out_layout,
                                                                out_dtype or None))


def _conv_transpose(nd, data, weight, strides, padding, dilation, groups, channels, kernel_size, data_layout,
                    kernel_layout, out_layout, output_padding, out_dtype):
    attrs = _conv_attrs(nd, strides, padding, dilation, groups, channels, kernel_size, data_layout, kernel_layout,
                        out_layout, out_dtype or None)
    if attrs["dilation"] != (1,) * nd or attrs["groups"] != 1:
        raise ValueError(f"conv{nd}d_transpose supports dilation 1 and groups 1 (as conv2d_transpose)")
    op = tuple_of(output_padding, nd, "output_padding")
    if any(p >= s for p, s in zip(op, attrs["strides"])):
        raise ValueError(f"conv{nd}d_transpose: output_padding {op} must be smaller than the strides "
                         f"{attrs['strides']}")
    return make_call(f"nn.conv{nd}d_transpose", (data, weight), **attrs, output_padding=op)


def conv1d_transpose(data, weight, strides=(1,), padding=(0,), dilation=(1,), groups=1, channels=None,
                     kernel_size=None, data_layout="NCW", kernel_layout="IOW", out_layout="", output_padding=(0,),
                     out_dtype=""):
    return _conv_transpose(1, data, weight, strides, padding, dilation, groups, channels, kernel_size, data_layout,
                           kernel_layout, out_layout, output_padding, out_dtype)


def conv3d_transpose(data, weight, strides=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups=1,
                     channels=None, kernel_size=None, data_layout="NCDHW", kernel_layout="IODHW", out_layout="",
                     output_padding=(0, 0, 0), out_dtype=""):
    return _conv_transpose(3, data, weight, strides, padding, dilation, groups, channels, kernel_size, data_layout,
                           kernel_layout, out_layout, output_padding, out_dtype)


# ---------------------------------------------------------------------------- pooling

_POOL_LAYOUTS = {1: ("NCW", "NWC"), 3: ("NCDHW", "NDHWC")}


def _pool_rel(nd: int):
    def rel(types, attrs):
        d = tensor_arg(types, 0, "data")
        layout = attrs["layout"]
        if layout not in _POOL_LAYOUTS[nd] or d.ndim != nd + 2:
            raise ValueError(f"{nd}-D pooling takes {nd + 2}-D data in {' or '.join(_POOL_LAYOUTS[nd])}, "
                             f"got {d.shape} in {layout}")
        if attrs.get("out_layout") not in (None, "", layout):
            raise ValueError(f"out_layout {attrs['out_layout']!r} must be the data layout {layout!r}")
        shape = list(d.shape)
        pad = attrs["padding"]
        for k, axis in enumerate(_SPATIAL[nd]):
            j = layout.index(axis)
            shape[j] = window_out(d.shape[j], attrs["pool_size"][k], attrs["strides"][k], attrs["dilation"][k],
                                  pad[k], pad[nd + k], attrs["ceil_mode"])
        return TensorType(tuple(shape), d.dtype)

    return rel


for _nd in (1, 3):
    for _kind in ("max", "avg"):
        _name = f"nn.{_kind}_pool{_nd}d"
        register_op(_name, _pool_rel(_nd), _no_compute(_name), OpPattern.OUT_ELEMWISE_FUSABLE,
                    {"pool_size": None, "strides": None, "dilation": None, "padding": None,
                     "layout": _POOL_LAYOUTS[_nd][0], "out_layout": "", "ceil_mode": False,
                     **({"count_include_pad": False} if _kind == "avg" else {})})


def _pool(kind, nd, data, pool_size, strides, dilation, padding, layout, out_layout, ceil_mode, **more):
    return make_call(f"nn.{kind}_pool{nd}d", (data,), pool_size=tuple_of(pool_size, nd, "pool_size"),
                     strides=tuple_of(strides, nd, "strides"), dilation=tuple_of(dilation, nd, "dilation"),
                     padding=padding_of(padding, nd), layout=layout, out_layout=out_layout,
                     ceil_mode=bool(ceil_mode), **more)


def max_pool1d(data, pool_size=(1,), strides=(1,), dilation=(1,), padding=(0,), layout="NCW", out_layout="",
               ceil_mode=False):
    return _pool("max", 1, data, pool_size, strides, dilation, padding, layout, out_layout, ceil_mode)


def avg_pool1d(data, pool_size=(1,), strides=(1,), dilation=(1,), padding=(0,), layout="NCW", out_layout="",
               ceil_mode=False, count_include_pad=False):
    return _pool("avg", 1, data, pool_size, strides, dilation, padding, layout, out_layout, ceil_mode,
                 count_include_pad=bool(count_include_pad))


def max_pool3d(data, pool_size=(1, 1, 1), strides=(1, 1, 1), dilation=(1, 1, 1), padding=(0, 0, 0),
               layout="NCDHW", out_layout="", ceil_mode=False):
    return _pool("max", 3, data, pool_size, strides, dilation, padding, layout, out_layout, ceil_mode)


def avg_pool3d(data, pool_size=(1, 1, 1), strides=(1, 1, 1), dilation=(1, 1, 1), padding=(0, 0, 0),
               layout="NCDHW", out_layout="", ceil_mode=False, count_include_pad=False):
    return _pool("avg", 3, data, pool_size, strides, dilation, padding, layout, out_layout, ceil_mode,
                 count_include_pad=bool(count_include_pad))


def _global_pool(kind: str, nd: int):
    def pool(data, layout=_POOL_LAYOUTS[nd][0], out_layout=""):
        """The max / mean over every spatial axis, kept as size 1 (a reduction, fused like one)."""
        from .tensor import max as max_
        from .tensor import mean

        if layout not in _POOL_LAYOUTS[nd] or out_layout not in ("", layout):
            raise ValueError(f"global {nd}-D pooling takes layout {' or '.join(_POOL_LAYOUTS[nd])}, got {layout!r}")
        axes = [layout.index(a) for a in _SPATIAL[nd]]
        return (max_ if kind == "max" else mean)(data, axis=axes, keepdims=True)

    pool.__name__ = f"global_{kind}_pool{nd}d"
    return pool


global_max_pool1d, global_avg_pool1d = _global_pool("max", 1), _global_pool("avg", 1)
global_max_pool3d, global_avg_pool3d = _global_pool("max", 3), _global_pool("avg", 3)
