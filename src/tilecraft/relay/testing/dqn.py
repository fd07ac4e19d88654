"""The Atari DQN (Nature 2015): conv 8x8/4, 4x4/2, 3x3/1, dense 512, dense num_actions."""

from ... import relay
from . import layers
from .init import create_workload


def get_net(batch_size, num_actions=18, image_shape=(4, 84, 84), dtype="float32", layout="NCHW"):
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"dqn: layout {layout!r}: use NCHW or NHWC")
    axis = layout.index("C")
    x = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    channels = image_shape[axis - 1]
    size = list(image_shape[1:] if layout == "NCHW" else image_shape[:2])
    for i, (k, s, c) in enumerate(((8, 4, 32), (4, 2, 64), (3, 1, 64)), 1):
        x = layers.conv2d(x, channels=c, kernel_size=k, strides=s, padding=0, name=f"conv{i}", in_channels=channels,
                          data_layout=layout, dtype=dtype)
        x = relay.nn.relu(layers.bias_add(x, name=f"conv{i}", channels=c, axis=axis, dtype=dtype))
        channels, size = c, [(d - k) // s + 1 for d in size]
    x = relay.nn.batch_flatten(x)
    x = relay.nn.relu(layers.dense_add_bias(x, units=512, name="dense1", in_units=channels * size[0] * size[1],
                                            dtype=dtype))
    return layers.dense_add_bias(x, units=num_actions, name="dense2", in_units=512, dtype=dtype).as_function()


def get_workload(batch_size, num_actions=18, image_shape=(4, 84, 84), dtype="float32", layout="NCHW"):
    return create_workload(get_net(batch_size, num_actions, image_shape, dtype, layout))
