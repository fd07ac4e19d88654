"""DenseNet 121/161/169/201: dense blocks (BN-ReLU-1x1-BN-ReLU-3x3, outputs concatenated) joined by
transitions (BN-ReLU-1x1, 2x2 average pool)."""

from ... import relay
from . import layers
from .init import create_workload

_SPECS = {121: (64, 32, [6, 12, 24, 16]), 161: (96, 48, [6, 12, 36, 24]), 169: (69, 32, [6, 12, 32, 32]),
          201: (64, 32, [6, 12, 48, 32])}


def _bn_relu(x, name, channels, dtype):
    return relay.nn.relu(layers.batch_norm_infer(x, name=name, channels=channels, dtype=dtype))


def _make_dense_layer(x, in_channels, growth_rate, bn_size, index, dtype):
    x = layers.conv2d(_bn_relu(x, f"batch_1_{index}", in_channels, dtype), channels=bn_size * growth_rate,
                      kernel_size=1, name=f"conv2d_1_{index}", in_channels=in_channels, dtype=dtype)
    return layers.conv2d(_bn_relu(x, f"batch_2_{index}", bn_size * growth_rate, dtype), channels=growth_rate,
                         kernel_size=3, padding=1, name=f"conv2d_2_{index}", in_channels=bn_size * growth_rate,
                         dtype=dtype)


def _make_dense_block(x, in_channels, num_layers, bn_size, growth_rate, index, dtype):
    """As in classic relay.testing: each layer feeds the next, and the block outputs the
    concatenation of the layers' outputs (num_layers * growth_rate channels)."""
    outs = []
    channels = in_channels
    for i in range(num_layers):
        x = _make_dense_layer(x, channels, growth_rate, bn_size, f"{index}_{i}", dtype)
        channels = growth_rate
        outs.append(x)
    return relay.concatenate(outs, 1), num_layers * growth_rate


def _make_transition(x, in_channels, out_channels, index, dtype):
    x = layers.conv2d(_bn_relu(x, f"batch_t_{index}", in_channels, dtype), channels=out_channels, kernel_size=1,
                      name=f"conv_t_{index}", in_channels=in_channels, dtype=dtype)
    return relay.nn.avg_pool2d(x, pool_size=2, strides=2)


def _make_dense_net(num_init_features, growth_rate, block_config, data_shape, data_dtype, bn_size=4, classes=1000):
    data = relay.var("data", shape=data_shape, dtype=data_dtype)
    x = layers.conv2d(data, channels=num_init_features, kernel_size=7, strides=2, padding=3, name="conv1",
                      in_channels=data_shape[1], dtype=data_dtype)
    x = relay.nn.max_pool2d(_bn_relu(x, "batch1", num_init_features, data_dtype), pool_size=3, strides=2,
                            padding=1)
    size = ((data_shape[2] + 6 - 7) // 2 + 1 + 2 - 3) // 2 + 1
    channels = num_init_features
    # classic bookkeeping: the transition width follows num_features, the concatenation's width is
    # what the next layer actually receives
    num_features = num_init_features
    for i, num_layers in enumerate(block_config):
        x, channels = _make_dense_block(x, channels, num_layers, bn_size, growth_rate, i, data_dtype)
        num_features += num_layers * growth_rate
        if i != len(block_config) - 1:
            x = _make_transition(x, channels, num_features // 2, i, data_dtype)
            num_features //= 2
            channels, size = num_features, size // 2
    x = _bn_relu(x, "batch2", channels, data_dtype)
    pool = min(7, size)  # 7x7 at 224x224, as in classic; smaller images pool what is left
    x = relay.nn.batch_flatten(relay.nn.avg_pool2d(x, pool_size=pool))
    return layers.dense_add_bias(x, units=classes, name="dense", in_units=channels * (size - pool + 1) ** 2,
                                 dtype=data_dtype).as_function()


def get_workload(densenet_size=121, classes=1000, batch_size=4, image_shape=(3, 224, 224), dtype="float32"):
    if densenet_size not in _SPECS:
        raise ValueError(f"densenet: densenet_size must be one of {sorted(_SPECS)}, got {densenet_size}")
    init_features, growth_rate, block_config = _SPECS[densenet_size]
    net = _make_dense_net(init_features, growth_rate, block_config, (batch_size, *image_shape), dtype, 4, classes)
    return create_workload(net)
