"""Helpers classic relay tests import: `run_infer_type`, `run_opt_pass`, `create_workload`,
`init.Xavier`, and the classic networks with random weights (nothing is downloaded):

    mod, params = relay.testing.resnet.get_workload(batch_size=1, num_layers=18)

mlp, resnet, mobilenet, vgg, squeezenet, densenet, inception_v3, dqn, dcgan and lstm each have
`get_workload(...) -> (IRModule, {name: NDArray})` with the classic arguments.
"""

from __future__ import annotations

import numpy as np

from ...error import TVMError
from ...ir.module import IRModule
from ..expr import Function
from . import init, layers  # noqa: F401
from .init import create_workload  # noqa: F401


def run_opt_pass(expr, opt_pass, import_prelude=False):
    """Type-check `expr` in a fresh module, apply `opt_pass` (a pass or a list of passes) and return
    the result: the function if `expr` was one, else its body."""
    from ..transform import InferType

    if import_prelude:
        raise ValueError("run_opt_pass(import_prelude=True): tilecraft has no relay Prelude (lists, options and "
                         "other ADTs); pass import_prelude=False for graphs of tensors")
    mod = InferType()(IRModule.from_expr(expr))
    for p in opt_pass if isinstance(opt_pass, (list, tuple)) else [opt_pass]:
        mod = p(mod)
    entry = mod["main"]
    return entry if isinstance(expr, Function) else entry.body


def run_infer_type(expr):
    """`expr` with its types inferred (`.checked_type` works on the result)."""
    from ..transform import InferType

    return run_opt_pass(expr, InferType())


def check_grad(func, inputs=None, test_inputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, scale=None, mean=0,
               mode="higher_order", target_devices=None, executor_kind="debug"):
    """Classic numerical-gradient check of a relay function; tilecraft has no relay gradient pass
    (it compiles inference graphs), so this says so instead of failing at import."""
    raise TVMError("relay.testing.check_grad needs relay.transform.gradient, which tilecraft does not have (it "
                   "compiles inference graphs); check gradients of numpy functions with "
                   "tvm.testing.check_numerical_grads")


def rand(dtype, *shape):
    """An NDArray of uniform [0, 1) values."""
    from ...runtime import ndarray as nd

    return nd.array(np.random.rand(*shape).astype(dtype))


def count_ops(expr) -> dict:
    """{operator name: number of calls} in `expr`."""
    from collections import Counter

    from ..visitor import post_order

    return dict(Counter(getattr(n.op, "name", str(n.op)) for n in post_order(expr) if hasattr(n, "op")))


def __getattr__(name):
    # The networks load on first use (`relay.testing.resnet`), so importing relay.testing stays cheap.
    import importlib

    if name in _NETWORKS:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_NETWORKS = ("mlp", "resnet", "mobilenet", "vgg", "squeezenet", "densenet", "inception_v3", "dqn", "dcgan", "lstm")
