"""ResNet v2 (pre-activation units) as in classic relay.testing: 18/34 layers use basic blocks,
50 and more bottlenecks; images of height <= 32 start with one 3x3 convolution (CIFAR style),
larger ones with 7x7/2 + max pool; height <= 28 uses the 3-stage CIFAR network."""

from ... import relay
from . import layers
from .init import create_workload


def residual_unit(data, in_channels, num_filter, stride, dim_match, name, bottle_neck=True, data_layout="NCHW",
                  kernel_layout="OIHW", dtype="float32"):
    axis = data_layout.index("C")
    conv_kw = dict(data_layout=data_layout, kernel_layout=kernel_layout, dtype=dtype)

    def bn_relu(x, bn_name, channels):
        return relay.nn.relu(layers.batch_norm_infer(x, epsilon=2e-5, axis=axis, name=bn_name, channels=channels,
                                                     dtype=dtype))

    act1 = bn_relu(data, f"{name}_bn1", in_channels)
    if bottle_neck:
        mid = int(num_filter * 0.25)
        x = layers.conv2d(act1, channels=mid, kernel_size=1, strides=stride, padding=0, name=f"{name}_conv1",
                          in_channels=in_channels, **conv_kw)
        x = layers.conv2d(bn_relu(x, f"{name}_bn2", mid), channels=mid, kernel_size=3, padding=1,
                          name=f"{name}_conv2", in_channels=mid, **conv_kw)
        x = layers.conv2d(bn_relu(x, f"{name}_bn3", mid), channels=num_filter, kernel_size=1,
                          name=f"{name}_conv3", in_channels=mid, **conv_kw)
    else:
        x = layers.conv2d(act1, channels=num_filter, kernel_size=3, strides=stride, padding=1,
                          name=f"{name}_conv1", in_channels=in_channels, **conv_kw)
        x = layers.conv2d(bn_relu(x, f"{name}_bn2", num_filter), channels=num_filter, kernel_size=3, padding=1,
                          name=f"{name}_conv2", in_channels=num_filter, **conv_kw)
    shortcut = data if dim_match else layers.conv2d(act1, channels=num_filter, kernel_size=1, strides=stride,
                                                    name=f"{name}_sc", in_channels=in_channels, **conv_kw)
    return relay.add(x, shortcut)


def resnet(units, num_stages, filter_list, num_classes, data_shape, bottle_neck=True, layout="NCHW",
           dtype="float32"):
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"resnet: layout {layout!r}: use NCHW or NHWC")
    kernel_layout = "OIHW" if layout == "NCHW" else "HWIO"
    axis = layout.index("C")
    if len(units) != num_stages:
        raise ValueError(f"resnet: {len(units)} unit counts for {num_stages} stages")
    conv_kw = dict(data_layout=layout, kernel_layout=kernel_layout, dtype=dtype)
    data = relay.var("data", shape=data_shape, dtype=dtype)
    in_channels, height = data_shape[axis], data_shape[layout.index("H")]
    body = layers.batch_norm_infer(data, epsilon=2e-5, axis=axis, scale=False, name="bn_data",
                                   channels=in_channels, dtype=dtype)
    if height <= 32:
        body = layers.conv2d(body, channels=filter_list[0], kernel_size=3, padding=1, name="conv0",
                             in_channels=in_channels, **conv_kw)
    else:
        body = layers.conv2d(body, channels=filter_list[0], kernel_size=7, strides=2, padding=3, name="conv0",
                             in_channels=in_channels, **conv_kw)
        body = relay.nn.relu(layers.batch_norm_infer(body, epsilon=2e-5, axis=axis, name="bn0",
                                                     channels=filter_list[0], dtype=dtype))
        body = relay.nn.max_pool2d(body, pool_size=3, strides=2, padding=1, layout=layout)
    channels = filter_list[0]
    for i in range(num_stages):
        stride = (1, 1) if i == 0 else (2, 2)
        body = residual_unit(body, channels, filter_list[i + 1], stride, False, f"stage{i + 1}_unit1",
                             bottle_neck, layout, kernel_layout, dtype)
        channels = filter_list[i + 1]
        for j in range(units[i] - 1):
            body = residual_unit(body, channels, channels, (1, 1), True, f"stage{i + 1}_unit{j + 2}", bottle_neck,
                                 layout, kernel_layout, dtype)
    body = relay.nn.relu(layers.batch_norm_infer(body, epsilon=2e-5, axis=axis, name="bn1", channels=channels,
                                                 dtype=dtype))
    flat = relay.nn.batch_flatten(relay.nn.global_avg_pool2d(body, layout=layout))
    fc1 = layers.dense_add_bias(flat, units=num_classes, name="fc1", in_units=channels, dtype=dtype)
    return relay.nn.softmax(fc1).as_function()


_IMAGENET_UNITS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3],
                   200: [3, 24, 36, 3], 269: [3, 30, 48, 8]}


def get_net(batch_size, num_classes, num_layers=50, image_shape=(3, 224, 224), layout="NCHW", dtype="float32",
            **kwargs):
    height = image_shape[0] if layout == "NHWC" else image_shape[1]
    if height <= 28:
        if (num_layers - 2) % 9 == 0 and num_layers >= 164:
            units, filter_list, bottle_neck = [(num_layers - 2) // 9] * 3, [16, 64, 128, 256], True
        elif (num_layers - 2) % 6 == 0 and num_layers < 164:
            units, filter_list, bottle_neck = [(num_layers - 2) // 6] * 3, [16, 16, 32, 64], False
        else:
            raise ValueError(f"resnet: no CIFAR configuration for num_layers={num_layers} (use 6n+2 or 9n+2)")
        num_stages = 3
    else:
        if num_layers not in _IMAGENET_UNITS:
            raise ValueError(f"resnet: num_layers must be one of {sorted(_IMAGENET_UNITS)}, got {num_layers}")
        units, num_stages = _IMAGENET_UNITS[num_layers], 4
        bottle_neck = num_layers >= 50
        filter_list = [64, 256, 512, 1024, 2048] if bottle_neck else [64, 64, 128, 256, 512]
    return resnet(units, num_stages, filter_list, num_classes, (batch_size, *image_shape), bottle_neck, layout,
                  dtype)


def get_workload(batch_size=1, num_classes=1000, num_layers=18, image_shape=(3, 224, 224), layout="NCHW",
                 dtype="float32", **kwargs):
    return create_workload(get_net(batch_size, num_classes, num_layers, image_shape, layout, dtype, **kwargs))
