"""AutoTVM: template-based tuning, as in classic TVM.

A template (`@autotvm.template`, or an operator of the library registered under a classic task
name such as "dense_pack.x86") defines knobs with `cfg.define_split / define_knob / ...`; a task
is a template on one workload, with its configuration space; a tuner (RandomTuner,
GridSearchTuner, GATuner, XGBTuner) measures configurations through the shared measurement layer
(tilecraft.tuning: worker processes with timeouts, or Dask) and logs them in the classic v0.2
format; `apply_history_best(log)` makes `relay.build` and template calls use the best ones; the
graph tuner (DPTuner, PBQPTuner) picks per convolution the record that minimises kernel plus
layout-transform time, applied with `apply_graph_best`.
"""

from ..tuning import LocalBuilder, LocalRunner  # noqa: F401
from ..tuning.dispatch import DispatchContext  # noqa: F401
from ..tuning.space import ConfigEntity, ConfigSpace, FallbackConfigEntity  # noqa: F401
from . import callback, graph_tuner, record, task, tuner  # noqa: F401
from .graph_tuner import ApplyGraphBest, apply_graph_best  # noqa: F401
from .measure import MeasureErrorNo, MeasureInput, MeasureResult, create_measure_batch, measure_option  # noqa: F401
from .task import (  # noqa: F401
    ApplyConfig,
    ApplyHistoryBest,
    apply_history_best,
    get_config,
    register_topi_compute,
    register_topi_schedule,
    template,
)
