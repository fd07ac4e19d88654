"""From a fused graph to something that runs: `compile_fused` (graph JSON + one kernel library +
parameters, what relay.build packages) and `evaluate_closed` (run an expression that reads no
input once, which is how FoldConstant computes constant subgraphs).

Both lower every fused group with the TE compiler and build the kernels with the driver, the same
path as `tvm.build`; evaluation runs no optimization pipeline of its own, so no pass runs inside
another pass.
"""

from __future__ import annotations

from ...driver.build_module import build
from ...ir.transform import PassContext
from ...tir.stmt import IRModule
from ..expr import Function, Tuple, TupleGetItem
from ..transform.fuse_ops import fuse_ops
from ..ty import TupleType
from .graph_codegen import GraphCodegen
from .te_compiler import TECompiler


def compile_fused(main: Function, target):
    """(graph_json, runtime Module of all kernels, {name: constant array}) for a fused main."""
    graph_json, kernels, consts = GraphCodegen(TECompiler(target)).run(main)
    return graph_json, build(IRModule(dict(kernels)), target=target), consts


def evaluate_closed(exprs: list) -> list:
    """Values of expressions that read no graph input (numpy arrays, or tuples of them), computed by
    one compilation of all of them together for the host CPU."""
    from ...runtime import cpu
    from ...runtime.graph_executor import GraphExecutor
    from ...target import Target

    flat, arity = [], []
    for e in exprs:
        if isinstance(e.ty, TupleType):
            arity.append(len(e.ty.fields))
            flat += [TupleGetItem(e, i) for i in range(len(e.ty.fields))]
        else:
            arity.append(None)
            flat.append(e)
    main = fuse_ops(Function((), Tuple(tuple(flat))))
    ctx = PassContext.current()
    with PassContext(opt_level=ctx.opt_level, config=dict(ctx.config)):  # the user's instruments watch the
        graph_json, lib, consts = compile_fused(main, Target("llvm"))  # user's passes, not this inner build
    ex = GraphExecutor(graph_json, lib, cpu(0))
    ex.lend_inputs(consts)  # the weights are read in place and the results kept as computed: folding
    # a large model's weights holds each value once
    ex.run()
    values = ex.take_outputs()
    out, k = [], 0
    for n in arity:
        out.append(values[k] if n is None else tuple(values[k:k + n]))
        k += 1 if n is None else n
    return out
