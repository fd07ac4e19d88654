"""Inception v3 (classic relay.testing layout of towers and names)."""

from ... import relay
from . import layers
from .init import create_workload


class _Builder:
    """Keeps each tensor's channel count next to it, so parameter variables get their shapes."""

    def __init__(self, dtype):
        self.dtype, self.channels = dtype, {}

    def conv(self, x, num_filter, kernel=(1, 1), stride=(1, 1), pad=(0, 0), name=None, suffix=""):
        y = layers.conv2d(x, channels=int(num_filter), kernel_size=kernel, strides=stride, padding=pad,
                          name=f"{name}{suffix}_conv1", in_channels=self.channels[x], dtype=self.dtype)
        y = relay.nn.relu(layers.batch_norm_infer(y, epsilon=2e-5, scale=False, name=f"{name}{suffix}_bn",
                                                  channels=int(num_filter), dtype=self.dtype))
        self.channels[y] = int(num_filter)
        return y

    def pool(self, x, kernel, stride, pad, pool_type):
        if pool_type == "max":
            y = relay.nn.max_pool2d(x, pool_size=kernel, strides=stride, padding=pad)
        elif pool_type == "avg":
            y = relay.nn.avg_pool2d(x, pool_size=kernel, strides=stride, padding=pad, count_include_pad=True)
        else:
            raise ValueError(f"inception_v3: pool_type {pool_type!r}: use 'max' or 'avg'")
        self.channels[y] = self.channels[x]
        return y

    def concat(self, parts):
        y = relay.concatenate(tuple(parts), axis=1)
        self.channels[y] = sum(self.channels[p] for p in parts)
        return y

    def block_a(self, x, n1, n3r, n31, n32, n5r, n5, pool, proj, name):
        t5 = self.conv(self.conv(x, n5r, name=f"{name}_tower", suffix="_conv"), n5, (5, 5), pad=(2, 2),
                       name=f"{name}_tower", suffix="_conv_1")
        t3 = self.conv(x, n3r, name=f"{name}_tower_1", suffix="_conv")
        t3 = self.conv(t3, n31, (3, 3), pad=(1, 1), name=f"{name}_tower_1", suffix="_conv_1")
        t3 = self.conv(t3, n32, (3, 3), pad=(1, 1), name=f"{name}_tower_1", suffix="_conv_2")
        p = self.conv(self.pool(x, (3, 3), (1, 1), (1, 1), pool), proj, name=f"{name}_tower_2", suffix="_conv")
        return self.concat([self.conv(x, n1, name=f"{name}_conv"), t5, t3, p])

    def block_b(self, x, n3, nd3r, nd31, nd32, pool, name):
        t3 = self.conv(x, n3, (3, 3), stride=(2, 2), name=f"{name}_conv")
        td = self.conv(x, nd3r, name=f"{name}_tower", suffix="_conv")
        td = self.conv(td, nd31, (3, 3), pad=(1, 1), name=f"{name}_tower", suffix="_conv_1")
        td = self.conv(td, nd32, (3, 3), stride=(2, 2), name=f"{name}_tower", suffix="_conv_2")
        return self.concat([t3, td, self.pool(x, (3, 3), (2, 2), (0, 0), "max")])

    def block_c(self, x, n1, nd7r, nd71, nd72, nq7r, nq71, nq72, nq73, nq74, pool, proj, name):
        td = self.conv(x, nd7r, name=f"{name}_tower", suffix="_conv")
        td = self.conv(td, nd71, (1, 7), pad=(0, 3), name=f"{name}_tower", suffix="_conv_1")
        td = self.conv(td, nd72, (7, 1), pad=(3, 0), name=f"{name}_tower", suffix="_conv_2")
        tq = self.conv(x, nq7r, name=f"{name}_tower_1", suffix="_conv")
        for i, (n, k, p) in enumerate([(nq71, (7, 1), (3, 0)), (nq72, (1, 7), (0, 3)), (nq73, (7, 1), (3, 0)),
                                       (nq74, (1, 7), (0, 3))], 1):
            tq = self.conv(tq, n, k, pad=p, name=f"{name}_tower_1", suffix=f"_conv_{i}")
        p = self.conv(self.pool(x, (3, 3), (1, 1), (1, 1), pool), proj, name=f"{name}_tower_2", suffix="_conv")
        return self.concat([self.conv(x, n1, name=f"{name}_conv"), td, tq, p])

    def block_d(self, x, n3r, n3, nd7r, nd71, nd72, nd73, pool, name):
        t3 = self.conv(self.conv(x, n3r, name=f"{name}_tower", suffix="_conv"), n3, (3, 3), stride=(2, 2),
                       name=f"{name}_tower", suffix="_conv_1")
        td = self.conv(x, nd7r, name=f"{name}_tower_1", suffix="_conv")
        td = self.conv(td, nd71, (1, 7), pad=(0, 3), name=f"{name}_tower_1", suffix="_conv_1")
        td = self.conv(td, nd72, (7, 1), pad=(3, 0), name=f"{name}_tower_1", suffix="_conv_2")
        td = self.conv(td, nd73, (3, 3), stride=(2, 2), name=f"{name}_tower_1", suffix="_conv_3")
        return self.concat([t3, td, self.pool(x, (3, 3), (2, 2), (0, 0), pool)])

    def block_e(self, x, n1, nd3r, nd31, nd32, n3d3r, n3, n3d31, n3d32, pool, proj, name):
        td = self.conv(x, nd3r, name=f"{name}_tower", suffix="_conv")
        tda = self.conv(td, nd31, (1, 3), pad=(0, 1), name=f"{name}_tower", suffix="_mixed_conv")
        tdb = self.conv(td, nd32, (3, 1), pad=(1, 0), name=f"{name}_tower", suffix="_mixed_conv_1")
        t3 = self.conv(x, n3d3r, name=f"{name}_tower_1", suffix="_conv")
        t3 = self.conv(t3, n3, (3, 3), pad=(1, 1), name=f"{name}_tower_1", suffix="_conv_1")
        t3a = self.conv(t3, n3d31, (1, 3), pad=(0, 1), name=f"{name}_tower_1", suffix="_mixed_conv")
        t3b = self.conv(t3, n3d32, (3, 1), pad=(1, 0), name=f"{name}_tower_1", suffix="_mixed_conv_1")
        p = self.conv(self.pool(x, (3, 3), (1, 1), (1, 1), pool), proj, name=f"{name}_tower_2", suffix="_conv")
        return self.concat([self.conv(x, n1, name=f"{name}_conv"), tda, tdb, t3a, t3b, p])


def get_net(batch_size, num_classes, image_shape, dtype):
    b = _Builder(dtype)
    data = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    b.channels[data] = image_shape[0]
    x = b.conv(data, 32, (3, 3), stride=(2, 2), name="conv")
    x = b.conv(x, 32, (3, 3), name="conv_1")
    x = b.conv(x, 64, (3, 3), pad=(1, 1), name="conv_2")
    x = b.pool(x, (3, 3), (2, 2), (0, 0), "max")
    x = b.conv(x, 80, name="conv_3")
    x = b.conv(x, 192, (3, 3), name="conv_4")
    x = b.pool(x, (3, 3), (2, 2), (0, 0), "max")
    x = b.block_a(x, 64, 64, 96, 96, 48, 64, "avg", 32, "mixed")
    x = b.block_a(x, 64, 64, 96, 96, 48, 64, "avg", 64, "mixed_1")
    x = b.block_a(x, 64, 64, 96, 96, 48, 64, "avg", 64, "mixed_2")
    x = b.block_b(x, 384, 64, 96, 96, "max", "mixed_3")
    x = b.block_c(x, 192, 128, 128, 192, 128, 128, 128, 128, 192, "avg", 192, "mixed_4")
    x = b.block_c(x, 192, 160, 160, 192, 160, 160, 160, 160, 192, "avg", 192, "mixed_5")
    x = b.block_c(x, 192, 160, 160, 192, 160, 160, 160, 160, 192, "avg", 192, "mixed_6")
    x = b.block_c(x, 192, 192, 192, 192, 192, 192, 192, 192, 192, "avg", 192, "mixed_7")
    x = b.block_d(x, 192, 320, 192, 192, 192, 192, "max", "mixed_8")
    x = b.block_e(x, 320, 384, 384, 384, 448, 384, 384, 384, "avg", 192, "mixed_9")
    x = b.block_e(x, 320, 384, 384, 384, 448, 384, 384, 384, "max", 192, "mixed_10")
    size = image_shape[1]
    for k, s in ((3, 2), (3, 1), (1, 1), (3, 2), (1, 1), (3, 1), (3, 2), (3, 2), (3, 2)):
        size = (size - k) // s + 1  # the unpadded stages: conv, conv_1, ..., mixed_3, mixed_8
    pool = min(8, size)  # 8x8 at 299x299, as in classic; smaller images pool what is left
    flat = relay.nn.batch_flatten(b.pool(x, (pool, pool), (1, 1), (0, 0), "avg"))
    fc1 = relay.nn.dense(flat, relay.var("fc1_weight", shape=(num_classes, b.channels[x] * (size - pool + 1) ** 2),
                                         dtype=dtype), units=num_classes)
    fc1 = relay.nn.bias_add(fc1, relay.var("fc2_bias", shape=(num_classes,), dtype=dtype), axis=-1)
    return relay.nn.softmax(fc1).as_function()


def get_workload(batch_size=1, num_classes=1000, image_shape=(3, 299, 299), dtype="float32"):
    return create_workload(get_net(batch_size, num_classes, image_shape, dtype))
