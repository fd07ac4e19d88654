"""The DCGAN generator: dense to 4x4, four transposed convolutions (4x4, stride 2) to 64x64, tanh."""

from ... import relay
from . import layers
from .init import create_workload


def deconv2d(data, ishape, oshape, kshape, layout, name, stride=(2, 2), dtype="float32"):
    if layout != "NCHW":
        raise ValueError(f"dcgan: layout {layout!r} is not supported (tilecraft's conv2d_transpose is NCHW only)")
    pad_y, pad_x = (kshape[0] - 1) // 2, (kshape[1] - 1) // 2
    adj_y = (oshape[-2] + 2 * pad_y - kshape[0]) % stride[0]
    adj_x = (oshape[-1] + 2 * pad_x - kshape[1]) % stride[1]
    return layers.conv2d_transpose(data, kernel_size=kshape, strides=stride, channels=oshape[0],
                                   padding=(pad_y, pad_x), output_padding=(adj_y, adj_x), name=name,
                                   in_channels=ishape[0], dtype=dtype)


def deconv2d_bn_relu(data, prefix, dtype="float32", **kwargs):
    x = deconv2d(data, name=f"{prefix}_deconv", dtype=dtype, **kwargs)
    x = layers.batch_norm_infer(x, epsilon=1e-5 + 1e-12, scale=False, name=f"{prefix}_batch_norm",
                                channels=kwargs["oshape"][0], dtype=dtype)
    return relay.nn.relu(x)


def get_net(batch_size, random_len=100, oshape=(3, 64, 64), ngf=128, code=None, layout="NCHW", dtype="float32"):
    if tuple(oshape[-2:]) != (64, 64):
        raise ValueError(f"dcgan: only 64x64 images are supported, got oshape={oshape}")
    code = relay.var("data", shape=(batch_size, random_len), dtype=dtype) if code is None else code
    weight = relay.var("dense_weight", shape=(4 * 4 * ngf * 8, random_len), dtype=dtype)
    x = relay.nn.relu(relay.nn.dense(code, weight, units=4 * 4 * ngf * 8))
    x = relay.reshape(x, newshape=(-1, ngf * 8, 4, 4))
    shapes = [(ngf * 8, 4, 4), (ngf * 4, 8, 8), (ngf * 2, 16, 16), (ngf, 32, 32)]
    for i in range(3):
        x = deconv2d_bn_relu(x, f"g{i + 2}", dtype, ishape=shapes[i], oshape=shapes[i + 1], kshape=(4, 4),
                             layout=layout)
    x = deconv2d(x, shapes[3], tuple(oshape[-3:]), (4, 4), layout, "g5_deconv", dtype=dtype)
    return relay.tanh(x).as_function()


def get_workload(batch_size, oshape=(3, 64, 64), ngf=128, random_len=100, layout="NCHW", dtype="float32"):
    return create_workload(get_net(batch_size, random_len, oshape=oshape, ngf=ngf, layout=layout, dtype=dtype))
