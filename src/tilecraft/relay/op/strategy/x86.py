"""CPU strategies (target key "cpu"): the topi computes and x86 schedules each operator can use.

Names follow classic TVM's AutoTVM task names, so tuning records and the tuners can refer to them.
Where an operator has several kernels (a blocked convolution and a direct one, a packed dense and
a plain one), all valid ones are listed; the higher priority is the faster one untuned.
"""

from __future__ import annotations

import math

from .... import te, topi
from ....tuning.template import get_template
from ..nn import _pad4, _pair, on_rows
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
register_strategy("nn.matmul", "cpu")(single("matmul.x86", _lazy("schedule_matmul")))
for _kind in ("max", "avg"):
    register_strategy(f"nn.{_kind}_pool2d", "cpu")(single("pool.x86", _lazy("schedule_pool")))
    register_strategy(f"nn.global_{_kind}_pool2d", "cpu")(single("adaptive_pool.x86", _lazy("schedule_adaptive_pool")))
    register_strategy(f"nn.adaptive_{_kind}_pool2d", "cpu")(
        single("adaptive_pool.x86", _lazy("schedule_adaptive_pool")))


def _placeholder(shape, dtype, name="arg"):
    return te.placeholder(tuple(int(d) for d in shape), dtype, name=name)


def _out_dtype(attrs, inputs):
    return attrs.get("out_dtype") or str(inputs[0].dtype)


# ---------------------------------------------------------------------------- dense, batch_matmul

def _dense_args(attrs, inputs, out_type):
    """dense's template arguments: data as the rows it is computed on ([prod(...), K]), weight."""
    data, weight = inputs
    rows = math.prod(int(d) for d in data.shape[:-1])
    return [_placeholder((rows, data.shape[-1]), data.dtype, "data"), weight, None, _out_dtype(attrs, inputs)]


def _on_rows(name):
    """compute of template `name` on relay's any-rank data (through its rows)."""
    def compute(attrs, inputs, out_type, cfg):
        data, weight = inputs
        return on_rows(data, lambda rows: get_template(name).fcompute(cfg, rows, weight, None,
                                                                     _out_dtype(attrs, inputs)))

    return compute


@register_strategy("nn.dense", "cpu")
def dense_strategy(attrs, inputs, out_type, target):
    s = OpStrategy()
    if _out_dtype(attrs, inputs) == "int32" and topi.x86.is_int8_hw_support(inputs[0].dtype, inputs[1].dtype, target):
        s.add_template("dense_int8.x86", _dense_args, 15, _on_rows("dense_int8.x86"))  # byte dot products
    if topi.x86.channel_block(int(inputs[1].shape[0])):
        s.add_template("dense_pack.x86", _dense_args, 10, _on_rows("dense_pack.x86"))
    return s.add_template("dense_nopack.x86", _dense_args, 5, "op")


register_strategy("nn.contrib_dense_pack", "cpu")(
    lambda attrs, inputs, out_type, target: OpStrategy().add_template("dense_pack.x86", _dense_args, 10, "op"))


def _batch_matmul_args(attrs, inputs, out_type):
    return [inputs[0], inputs[1], None, _out_dtype(attrs, inputs), attrs["transpose_a"], attrs["transpose_b"]]


register_strategy("nn.batch_matmul", "cpu")(  # the template's compute: it lays a transposed B out as rows
    lambda attrs, inputs, out_type, target: OpStrategy().add_template("batch_matmul.x86", _batch_matmul_args, 10))


# ---------------------------------------------------------------------------- convolutions

def _conv_args(attrs, inputs, out_type):
    return [inputs[0], inputs[1], _pair(attrs["strides"]), _pad4(attrs["padding"]), _pair(attrs["dilation"])]


def _nchwc_args(attrs, inputs, out_type):
    """conv2d_NCHWc.x86's and depthwise_conv2d_NCHWc.x86's arguments (classic): data, kernel,
    strides, padding, dilation, layouts, out dtype."""
    layout = attrs.get("data_layout", "NCHW")
    return _conv_args(attrs, inputs, out_type) + [layout, attrs.get("out_layout") or layout,
                                                  _out_dtype(attrs, inputs)]


def _depthwise_args(attrs, inputs, out_type):
    data, weight = inputs
    c = int(data.shape[1])
    kernel = _placeholder((c, int(weight.shape[0]) // c, *weight.shape[2:]), weight.dtype, "kernel")
    return [data, kernel] + _conv_args(attrs, inputs, out_type)[2:] + [_out_dtype(attrs, inputs)]


def _is_depthwise(attrs, inputs) -> bool:
    data, weight = inputs
    return attrs["groups"] == int(data.shape[1]) and int(weight.shape[1]) == 1 and attrs["groups"] > 1


def _blocks(attrs, inputs, out_type) -> bool:
    """Whether conv2d_NCHWc applies: output channels in blocks of 16 or 8, input channels too or
    few enough (an RGB input) to be one block (the direct kernel is 1.7x slower on ResNet's first
    layer)."""
    ic = int(inputs[0].shape[1])
    return bool((topi.x86.channel_block(ic) or ic <= 16) and topi.x86.channel_block(int(out_type.shape[1])))


@register_strategy("nn.conv2d", "cpu")
def conv2d_strategy(attrs, inputs, out_type, target):
    s = OpStrategy()
    if attrs["data_layout"] == "NHWC":
        return s.add_implementation(None, _lazy("schedule_conv2d_nhwc"), "conv2d_nhwc.x86")
    if _is_depthwise(attrs, inputs):
        if int(inputs[1].shape[0]) == int(inputs[0].shape[1]) and topi.x86.channel_block(int(inputs[0].shape[1])):
            s.add_template("depthwise_conv2d_NCHWc.x86", _nchwc_args, 10)
        return s.add_template("depthwise_conv2d_nchw.x86", _depthwise_args, 5, "op")
    if attrs["groups"] > 1:
        return s.add_implementation(None, _lazy("schedule_group_conv2d_nchw"), "group_conv2d_nchw.x86")
    if _out_dtype(attrs, inputs) == "int32" and topi.x86.is_int8_hw_support(inputs[0].dtype, inputs[1].dtype, target):
        s.add_template("conv2d_NCHWc_int8.x86", _nchwc_args, 15)  # the CPU's byte dot products
    if _blocks(attrs, inputs, out_type):
        s.add_template("conv2d_NCHWc.x86", _nchwc_args, 10)
    return s.add_template("conv2d_nchw.x86", lambda a, i, o: _conv_args(a, i, o) + [_out_dtype(a, i)], 5, "op")


register_strategy("nn.contrib_depthwise_conv2d_NCHWc", "cpu")(
    lambda attrs, inputs, out_type, target: OpStrategy().add_template("depthwise_conv2d_NCHWc.x86",
                                                                      _nchwc_args, 10, "op"))
@register_strategy("nn.contrib_conv2d_NCHWc", "cpu")
def _conv2d_nchwc_strategy(attrs, inputs, out_type, target):
    if attrs["groups"] > 1:  # grouped: the blocked kernel with its default tile (not a tuning template)
        return OpStrategy().add_implementation(None, _lazy("schedule_conv2d_NCHWc"), "group_conv2d_NCHWc.x86")
    return OpStrategy().add_template("conv2d_NCHWc.x86", _nchwc_args, 10, "op")


def _conv_transpose_args(attrs, inputs, out_type):
    return [inputs[0], inputs[1], _pair(attrs["strides"]), _pad4(attrs["padding"]), _out_dtype(attrs, inputs),
            _pair(attrs["output_padding"])]


register_strategy("nn.conv2d_transpose", "cpu")(
    lambda attrs, inputs, out_type, target: OpStrategy().add_template("conv2d_transpose_nchw.x86",
                                                                      _conv_transpose_args, 10, "op"))

# one recurrent layer: a te.extern loop over time, nothing to schedule
register_strategy("nn.recurrent", "cpu")(single("recurrent.x86", lambda attrs, outs, target, cfg:
                                                te.create_schedule([o.op for o in outs])))

# the selective scan of a state-space model: a te.extern loop over time (channels in parallel);
# the transposes of B and C that feed it are inlined into nothing else, so they stay root stages
register_strategy("nn.selective_scan", "cpu")(single("selective_scan.x86", lambda attrs, outs, target, cfg:
                                                     te.create_schedule([o.op for o in outs])))
