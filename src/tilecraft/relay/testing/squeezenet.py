"""SqueezeNet 1.0 / 1.1: fire modules (squeeze 1x1, expand 1x1 and 3x3, concatenated)."""

from ... import relay
from . import layers
from .init import create_workload


def _fire_conv(x, channels, kernel_size, padding, prefix, in_channels, dtype):
    x = layers.conv2d(x, channels=channels, kernel_size=kernel_size, padding=padding, name=f"{prefix}_conv",
                      in_channels=in_channels, dtype=dtype)
    return relay.nn.relu(layers.bias_add(x, name=f"{prefix}_conv", channels=channels, dtype=dtype))


def _make_fire(x, in_channels, squeeze, expand1x1, expand3x3, prefix, dtype="float32"):
    x = _fire_conv(x, squeeze, 1, 0, f"{prefix}_input", in_channels, dtype)
    left = _fire_conv(x, expand1x1, 1, 0, f"{prefix}_left", squeeze, dtype)
    right = _fire_conv(x, expand3x3, 3, 1, f"{prefix}_right", squeeze, dtype)
    return relay.concatenate((left, right), axis=1), expand1x1 + expand3x3


def get_net(batch_size, image_shape, num_classes, version, dtype):
    if version not in ("1.0", "1.1"):
        raise ValueError(f"squeezenet: version must be '1.0' or '1.1', got {version!r}")
    x = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    pool = lambda t: relay.nn.max_pool2d(t, pool_size=3, strides=2)
    if version == "1.0":
        first, plan = (96, 7, 3), ["pool", (16, 64), (16, 64), (32, 128), "pool", (32, 128), (48, 192), (48, 192),
                                   (64, 256), "pool", (64, 256)]
    else:
        first, plan = (64, 3, 1), ["pool", (16, 64), (16, 64), "pool", (32, 128), (32, 128), "pool", (48, 192),
                                   (48, 192), (64, 256), (64, 256)]
    channels, k, p = first
    x = layers.conv2d(x, channels=channels, kernel_size=k, strides=2, padding=p, name="conv1",
                      in_channels=image_shape[0], dtype=dtype)
    x = relay.nn.relu(layers.bias_add(x, name="conv1", channels=channels, dtype=dtype))
    fire = 0
    for step in plan:
        if step == "pool":
            x = pool(x)
        else:
            fire += 1
            x, channels = _make_fire(x, channels, step[0], step[1], step[1], f"fire{fire}", dtype)
    x = relay.nn.dropout(x, rate=0.5)
    x = layers.conv2d(x, channels=num_classes, kernel_size=1, name="conv_final", in_channels=channels, dtype=dtype)
    x = relay.nn.relu(layers.bias_add(x, name="conv_final", channels=num_classes, dtype=dtype))
    x = relay.nn.batch_flatten(relay.nn.global_avg_pool2d(x))
    return relay.nn.softmax(x).as_function()


def get_workload(batch_size=1, num_classes=1000, version="1.0", image_shape=(3, 224, 224), dtype="float32"):
    return create_workload(get_net(batch_size, image_shape, num_classes, version, dtype))
