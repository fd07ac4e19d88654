"""AutoTVM's graph tuner (classic `autotvm.graph_tuner`): per convolution, which tuned record to
use so that kernel times plus the layout transforms between kernels are smallest.

    from tilecraft.autotvm.graph_tuner import DPTuner
    tuner = DPTuner(mod["main"], {"data": dshape}, "tune.log", [relay.op.get("nn.conv2d")], "llvm")
    tuner.benchmark_layout_transform(min_exec_num=2000)
    tuner.run()
    tuner.write_opt_sch2record_file("graph_opt.log")
    with apply_graph_best("graph_opt.log"): ... relay.build(...)

graph.py is the layout model (what AlterOpLayout inserts for a choice of channel blocks),
base_graph_tuner.py the candidates, transform costs and output, dp_tuner.py / pbqp_tuner.py the
two solvers, dispatch.py the context that applies the answer.
"""

from .base_graph_tuner import BaseGraphTuner  # noqa: F401
from .dispatch import ApplyGraphBest, apply_graph_best  # noqa: F401
from .dp_tuner import DPTuner, solve_dp  # noqa: F401
from .pbqp_tuner import PBQPTuner, solve_pbqp  # noqa: F401
