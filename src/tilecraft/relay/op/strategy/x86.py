"""CPU strategies (target key "cpu"): the topi computes and x86 schedules each operator can use.

Names follow classic TVM's AutoTVM task names, so tuning records and the tuners can refer to them.
Where an operator has several kernels (a blocked convolution and a direct one, a packed dense and
a plain one), all valid ones are listed; the higher priority is the faster one untuned.
"""

from __future__ import annotations

from .... import topi
from ..registry import get
from .generic import OpStrategy, register_strategy, single


def _lazy(path: str):
    """topi.x86.<path>(outs) as an implementation schedule, resolved when called."""
    return lambda attrs, outs, target, cfg: getattr(topi.x86, path)(outs)


register_strategy("injective", "cpu")(single("injective.x86", _lazy("schedule_injective")))
register_strategy("reduce", "cpu")(single("reduce.x86", _lazy("schedule_reduce")))
register_strategy("nn.batch_norm", "cpu")(single("batch_norm.x86", _lazy("schedule_injective")))
register_strategy("nn.group_norm", "cpu")(single("group_norm.x86", _lazy("schedule_reduce")))
register_strategy("nn.layer_norm", "cpu")(single("layer_norm.x86", _lazy("schedule_layer_norm")))
register_strategy("nn.softmax", "cpu")(single("softmax.x86", _lazy("schedule_softmax")))
register_strategy("nn.log_softmax", "cpu")(single("log_softmax.x86", _lazy("schedule_softmax")))
register_strategy("nn.batch_matmul", "cpu")(single("batch_matmul.x86", _lazy("schedule_batch_matmul")))
register_strategy("nn.matmul", "cpu")(single("matmul.x86", _lazy("schedule_matmul")))
register_strategy("nn.conv2d_transpose", "cpu")(
    single("conv2d_transpose_nchw.x86", _lazy("schedule_conv2d_transpose_nchw")))
for _kind in ("max", "avg"):
    register_strategy(f"nn.{_kind}_pool2d", "cpu")(single("pool.x86", _lazy("schedule_pool")))
    register_strategy(f"nn.global_{_kind}_pool2d", "cpu")(single("adaptive_pool.x86", _lazy("schedule_adaptive_pool")))
    register_strategy(f"nn.adaptive_{_kind}_pool2d", "cpu")(
        single("adaptive_pool.x86", _lazy("schedule_adaptive_pool")))


# ---------------------------------------------------------------------------- dense

def _dense_pack_config(attrs, inputs, out_type) -> dict:
    return {"tile_x": topi.x86.channel_block(int(inputs[1].shape[0]))}


def _dense_pack_compute(attrs, inputs, out_type, cfg):
    """nn.dense through the packed kernel: the weight is packed into panels inside the kernel (when the
    weight is a constant, AlterOpLayout moves the packing to compile time instead)."""
    data, weight = inputs
    packed = topi.nn.dense_pack_weight(weight, cfg["tile_x"])
    return get("nn.contrib_dense_pack").compute(attrs, [data, packed], out_type)


@register_strategy("nn.dense", "cpu")
def dense_strategy(attrs, inputs, out_type, target):
    s = OpStrategy()
    if topi.x86.channel_block(int(inputs[1].shape[0])):
        s.add_implementation(_dense_pack_compute, _lazy("schedule_dense_pack"), "dense_pack.x86", 10,
                             _dense_pack_config)
    s.add_implementation(None, _lazy("schedule_dense"), "dense_nopack.x86", 5)
    return s


register_strategy("nn.contrib_dense_pack", "cpu")(single("dense_pack.x86", _lazy("schedule_dense_pack")))


# ---------------------------------------------------------------------------- conv2d

def _conv2d_nchwc_config(attrs, inputs, out_type) -> dict:
    return topi.x86.conv2d_NCHWc_config(int(inputs[0].shape[1]), int(out_type.shape[1]))


def _conv2d_nchwc_compute(attrs, inputs, out_type, cfg):
    """nn.conv2d (NCHW) through the blocked kernel: data and kernel are re-laid out inside the kernel
    (AlterOpLayout moves this out of the kernel, and a constant kernel's packing to compile time)."""
    from ..nn import _pad4, _pair

    data, kernel = inputs
    return [topi.x86.conv2d_nchw_via_NCHWc(data, kernel, _pair(attrs["strides"]), _pad4(attrs["padding"]),
                                           _pair(attrs["dilation"]), cfg["tile_ic"], cfg["tile_oc"],
                                           attrs.get("out_dtype"))]


def _is_depthwise(attrs, inputs) -> bool:
    data, weight = inputs
    return attrs["groups"] == int(data.shape[1]) and int(weight.shape[1]) == 1 and attrs["groups"] > 1


@register_strategy("nn.conv2d", "cpu")
def conv2d_strategy(attrs, inputs, out_type, target):
    s = OpStrategy()
    if attrs["data_layout"] == "NHWC":
        return s.add_implementation(None, _lazy("schedule_conv2d_nhwc"), "conv2d_nhwc.x86")
    if _is_depthwise(attrs, inputs):
        return s.add_implementation(None, _lazy("schedule_depthwise_conv2d_nchw"), "depthwise_conv2d_nchw.x86")
    if attrs["groups"] > 1:
        return s.add_implementation(None, _lazy("schedule_group_conv2d_nchw"), "group_conv2d_nchw.x86")
    if _conv2d_nchwc_config(attrs, inputs, out_type) is not None:
        s.add_implementation(_conv2d_nchwc_compute, _lazy("schedule_conv2d_NCHWc"), "conv2d_NCHWc.x86", 10,
                             _conv2d_nchwc_config)
    return s.add_implementation(None, _lazy("schedule_conv2d_nchw"), "conv2d_nchw.x86", 5)


register_strategy("nn.contrib_conv2d_NCHWc", "cpu")(single("conv2d_NCHWc.x86", _lazy("schedule_conv2d_NCHWc")))
