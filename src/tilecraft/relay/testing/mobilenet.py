"""MobileNet v1: a 3x3/2 convolution, 13 depthwise-separable blocks, global pool, dense, softmax."""

from ... import relay
from . import layers
from .init import create_workload


def conv_block(data, name, channels, in_channels, kernel_size=(3, 3), strides=(1, 1), padding=(1, 1),
               epsilon=1e-5, layout="NCHW", dtype="float32"):
    conv = layers.conv2d(data, channels=channels, kernel_size=kernel_size, strides=strides, padding=padding,
                         data_layout=layout, name=f"{name}_conv", in_channels=in_channels, dtype=dtype)
    return relay.nn.relu(layers.batch_norm_infer(conv, epsilon=epsilon, name=f"{name}_bn", channels=channels,
                                                 dtype=dtype))


def separable_conv_block(data, name, depthwise_channels, pointwise_channels, kernel_size=(3, 3), downsample=False,
                         padding=(1, 1), epsilon=1e-5, layout="NCHW", dtype="float32"):
    strides = (2, 2) if downsample else (1, 1)
    weight = relay.var(f"{name}_weight", shape=(depthwise_channels, 1, *kernel_size), dtype=dtype)
    x = layers.conv2d(data, weight, channels=depthwise_channels, groups=depthwise_channels, kernel_size=kernel_size,
                      strides=strides, padding=padding, name=f"{name}_depthwise_conv1")
    x = relay.nn.relu(layers.batch_norm_infer(x, epsilon=epsilon, name=f"{name}_bn1", channels=depthwise_channels,
                                              dtype=dtype))
    x = layers.conv2d(x, channels=pointwise_channels, kernel_size=1, name=f"{name}_conv2",
                      in_channels=depthwise_channels, dtype=dtype)
    return relay.nn.relu(layers.batch_norm_infer(x, epsilon=epsilon, name=f"{name}_bn2", channels=pointwise_channels,
                                                 dtype=dtype))


def mobile_net(num_classes=1000, data_shape=(1, 3, 224, 224), dtype="float32", alpha=1.0, is_shallow=False,
               layout="NCHW"):
    if layout != "NCHW":
        raise ValueError(f"mobilenet: layout {layout!r} is not supported (tilecraft's grouped convolution is "
                         "NCHW only); use layout='NCHW'")
    a = lambda c: int(c * alpha)
    data = relay.var("data", shape=data_shape, dtype=dtype)
    body = conv_block(data, "conv_block_1", a(32), data_shape[1], strides=(2, 2), dtype=dtype)
    plan = [(32, 64, False), (64, 128, True), (128, 128, False), (128, 256, True), (256, 256, False),
            (256, 512, True)]
    plan += [(512, 1024, True), (1024, 1024, True)] if is_shallow else \
        [(512, 512, False)] * 5 + [(512, 1024, True), (1024, 1024, False)]
    for i, (dw, pw, down) in enumerate(plan, 1):
        body = separable_conv_block(body, f"separable_conv_block_{i}", a(dw), a(pw), downsample=down, dtype=dtype)
    flat = relay.nn.batch_flatten(relay.nn.global_avg_pool2d(body))
    fc = layers.dense_add_bias(flat, units=num_classes, name="fc", in_units=a(plan[-1][1]), dtype=dtype)
    return relay.nn.softmax(fc).as_function()


def get_workload(batch_size=1, num_classes=1000, image_shape=(3, 224, 224), dtype="float32", layout="NCHW"):
    net = mobile_net(num_classes, (batch_size, *image_shape), dtype, alpha=1.0, is_shallow=False, layout=layout)
    return create_workload(net)
