"""Framework importers: PyTorch (TorchScript and torch.export) into relay.

    mod, params = relay.frontend.from_pytorch(torch.jit.trace(model, x), [("input", x.shape)])
    mod, params = relay.frontend.from_exported_program(torch.export.export(model, (x,)))

Both return (tvm.IRModule, params) and share one ATen converter table (`aten.py`); an
unsupported model raises one `OpNotImplemented` naming every operator it lacks.  torch is only
imported when an importer runs.
"""

from .common import OpNotImplemented, infer_shape, infer_type  # noqa: F401
from .onnx import from_onnx  # noqa: F401
from .pytorch import from_pytorch  # noqa: F401
from .torch_export import from_exported_program  # noqa: F401

IMPORTERS = {
    "pytorch": "tilecraft.relay.frontend.pytorch",
    "torch_export": "tilecraft.relay.frontend.torch_export",
    "onnx": "tilecraft.relay.frontend.onnx",
}
