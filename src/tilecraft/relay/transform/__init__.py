"""Graph passes, one per file; `optimization_passes()` is the pipeline relay.build runs, in order."""

from ...ir.transform import function_pass_decorator, register_pass
from ..expr import Function
from .alter_op_layout import AlterOpLayout  # noqa: F401
from .convert_layout import ConvertLayout  # noqa: F401
from .dead_code_elimination import DeadCodeElimination  # noqa: F401
from .eliminate_common_subexpr import EliminateCommonSubexpr  # noqa: F401
from .fold_constant import FoldConstant  # noqa: F401
from .fold_scale_axis import BackwardFoldScaleAxis, FoldScaleAxis  # noqa: F401
from .fuse_ops import FuseOps  # noqa: F401
from .infer_type import InferType, RelayTypeError  # noqa: F401
from .legalize import Legalize  # noqa: F401
from .simplify_inference import SimplifyInference  # noqa: F401
from .sink_batch_reshape import SinkBatchReshape  # noqa: F401

for _factory in (AlterOpLayout, DeadCodeElimination, EliminateCommonSubexpr, FoldConstant, FoldScaleAxis, FuseOps,
                 InferType, Legalize, SimplifyInference, SinkBatchReshape):
    register_pass(_factory)  # so Sequential(required=["InferType"]) finds it


def optimization_passes() -> list:
    """Between InferType and FuseOps, in the order relay.build applies them (each has an opt_level)."""
    return [
        SimplifyInference(),       # 0: batch_norm -> x * scale + shift, dropout -> identity
        Legalize(),                # 0: 1-D / 3-D conv and pooling -> 2-D; stride = kernel conv2d_transpose
        #                            -> 1x1 conv2d + pixel shuffle
        SinkBatchReshape(),        # 2: reshapes regrouping batch axes sink below element-wise ops and
        #                            cancel (attention's 4-D scores stay in the batch_matmul's shape)
        FoldConstant(),            # 2: constant subexpressions -> constants (one compile for all)
        FoldScaleAxis(),           # 3: per-channel scales after conv2d / dense -> into the weights
        EliminateCommonSubexpr(),  # 3: identical calls -> one node
        DeadCodeElimination(),     # 1: unused lets dropped, let-bound values inlined
        AlterOpLayout(),           # 3 (CPU): conv2d -> NCHW16c conv, dense -> packed-weight dense
        FoldConstant(),            # 2: fold the scaled / packed weights the two passes above made
    ]

function_pass = function_pass_decorator(Function, "transform_function", "function_pass")
function_pass.__doc__ = """Decorator (classic `relay.transform.function_pass`): a function (func, mod, ctx) -> Function
becomes a Pass over every relay Function of a module; on a class with `transform_function`, a pass constructor."""
