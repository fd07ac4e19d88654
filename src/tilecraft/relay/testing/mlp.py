"""A three-layer perceptron: flatten, dense 128, dense 64, dense num_classes, softmax."""

from ... import relay
from . import layers
from .init import create_workload


def get_net(batch_size, num_classes=10, image_shape=(1, 28, 28), dtype="float32"):
    data = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    x = relay.nn.batch_flatten(data)
    width = 1
    for d in image_shape:
        width *= d
    for i, units in enumerate((128, 64), 1):
        x = relay.nn.relu(layers.dense_add_bias(x, units=units, in_units=width, name=f"fc{i}", dtype=dtype))
        width = units
    x = layers.dense_add_bias(x, units=num_classes, in_units=width, name="fc3", dtype=dtype)
    return relay.nn.softmax(x).as_function()


def get_workload(batch_size, num_classes=10, image_shape=(1, 28, 28), dtype="float32"):
    return create_workload(get_net(batch_size, num_classes, image_shape, dtype))
