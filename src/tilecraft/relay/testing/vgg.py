"""VGG 11/13/16/19 (optionally with batch norm): 3x3 convolutions in five pooled groups, then
dense 4096, 4096, num_classes with dropout, softmax."""

from ... import relay
from . import layers
from .init import create_workload

_SPEC = {11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]), 13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
         16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]), 19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512])}


def get_feature(x, layer_counts, filters, batch_norm=False, in_channels=3, dtype="float32"):
    for i, count in enumerate(layer_counts):
        for j in range(count):
            name = f"conv{i + 1}_{j + 1}"
            x = layers.conv2d(x, channels=filters[i], kernel_size=3, padding=1, name=name, in_channels=in_channels,
                              dtype=dtype)
            x = layers.bias_add(x, name=name, channels=filters[i], dtype=dtype)
            if batch_norm:
                x = layers.batch_norm_infer(x, name=f"bn{i + 1}_{j + 1}", channels=filters[i], dtype=dtype)
            x = relay.nn.relu(x)
            in_channels = filters[i]
        x = relay.nn.max_pool2d(x, pool_size=2, strides=2)
    return x


def get_classifier(x, num_classes, in_units, dtype="float32"):
    x = relay.nn.batch_flatten(x)
    for name, units in (("fc6", 4096), ("fc7", 4096)):
        x = relay.nn.dropout(relay.nn.relu(layers.dense_add_bias(x, units=units, name=name, in_units=in_units,
                                                                 dtype=dtype)), rate=0.5)
        in_units = units
    return layers.dense_add_bias(x, units=num_classes, name="fc8", in_units=in_units, dtype=dtype)


def get_net(batch_size, image_shape, num_classes, dtype, num_layers=11, batch_norm=False):
    if num_layers not in _SPEC:
        raise ValueError(f"vgg: num_layers must be one of {sorted(_SPEC)}, got {num_layers}")
    counts, filters = _SPEC[num_layers]
    data = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    feature = get_feature(data, counts, filters, batch_norm, image_shape[0], dtype)
    h, w = image_shape[1] >> 5, image_shape[2] >> 5
    if h == 0 or w == 0:
        raise ValueError(f"vgg: images must be at least 32x32 (five 2x2 poolings), got {image_shape[1:]}")
    return relay.nn.softmax(get_classifier(feature, num_classes, filters[-1] * h * w, dtype)).as_function()


def get_workload(batch_size, num_classes=1000, image_shape=(3, 224, 224), dtype="float32", num_layers=11,
                 batch_norm=False):
    return create_workload(get_net(batch_size, image_shape, num_classes, dtype, num_layers, batch_norm))
