"""Parameter initializers and `create_workload` (classic `relay.testing.init`).

An initializer fills an array by the parameter's name: names ending in weight get random
values, bias / beta / mean get 0, gamma / var get 1, as in classic TVM."""

from __future__ import annotations

import numpy as np

from ...ir.module import IRModule


class Initializer:
    """Base class: `init(name, array)` fills `array` in place according to the name's suffix."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs

    def __call__(self, desc: str, arr: np.ndarray) -> None:
        for suffix in ("weight", "bias", "gamma", "beta", "mean", "var"):
            if desc.endswith(suffix):
                getattr(self, f"_init_{suffix}")(desc, arr)
                return
        self._init_default(desc, arr)

    def _init_bias(self, _, arr):
        arr[...] = 0.0

    def _init_gamma(self, _, arr):
        arr[...] = 1.0

    def _init_beta(self, _, arr):
        arr[...] = 0.0

    def _init_mean(self, _, arr):
        arr[...] = 0.0

    def _init_var(self, _, arr):
        arr[...] = 1.0

    def _init_weight(self, name, arr):
        raise TypeError(f"{type(self).__name__} does not initialize weights ({name}): use relay.testing.init.Xavier, "
                        "or subclass Initializer and define _init_weight")

    def _init_default(self, name, _):
        raise ValueError(f"no initialization rule for parameter {name!r}: its name must end in weight, bias, "
                         "gamma, beta, mean or var")


class Xavier(Initializer):
    """Uniform in [-s, s], s = sqrt(magnitude / factor); factor is the average ("avg"), input
    ("in") or output ("out") fan of the weight (fans count the kernel's spatial size)."""

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        if rnd_type not in ("uniform", "gaussian"):
            raise ValueError(f"Xavier rnd_type {rnd_type!r}: use 'uniform' or 'gaussian'")
        if factor_type not in ("avg", "in", "out"):
            raise ValueError(f"Xavier factor_type {factor_type!r}: use 'avg', 'in' or 'out'")
        self.rnd_type, self.factor_type, self.magnitude = rnd_type, factor_type, float(magnitude)

    def _init_weight(self, name, arr):
        if arr.ndim < 2:
            raise ValueError(f"Xavier needs a weight of at least 2 dimensions; {name} has shape {arr.shape}")
        field = float(np.prod(arr.shape[2:])) if arr.ndim > 2 else 1.0
        fan_in, fan_out = arr.shape[1] * field, arr.shape[0] * field
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[self.factor_type]
        if "depthwise" in name:  # one input channel per filter (classic mobilenet rule)
            factor = field
        scale = np.sqrt(self.magnitude / factor)
        if self.rnd_type == "uniform":
            arr[...] = np.random.uniform(-scale, scale, size=arr.shape)
        else:
            arr[...] = np.random.normal(0.0, scale, size=arr.shape)


class Constant(Initializer):
    """Every weight element is 1 / (number of elements)."""

    def _init_weight(self, name, arr):
        arr[...] = 1.0 / arr.size


def create_workload(net, initializer=None, seed=0):
    """(mod, params): `net` (a relay Function, or an IRModule) type-checked in a module, and a
    value for every parameter except the input `data`, made by `initializer` (Xavier by default)
    from numpy's global random state seeded with `seed`, as classic TVM does."""
    return initialize(net, initializer, seed, inputs=("data",))


def initialize(net, initializer=None, seed=0, inputs=("data",)):
    """create_workload for a network whose inputs are the variables named in `inputs`."""
    from ...runtime import ndarray as nd
    from ..transform import InferType

    mod = net if isinstance(net, IRModule) else IRModule.from_expr(net)
    mod = InferType()(mod)
    np.random.seed(seed)
    initializer = initializer or Xavier()
    params = {}
    for v in mod["main"].params:
        if v.name_hint in inputs:
            continue
        ty = v.checked_type
        value = np.zeros(ty.concrete_shape, dtype=ty.dtype)
        initializer(v.name_hint, value)
        params[v.name_hint] = nd.array(value)
    return mod, params
