"""XGBTuner: the model-based tuner with an XGBoost cost model (classic AutoTVM's default)."""

from __future__ import annotations

from .features import FEATURE_TYPES
from .model_based_tuner import ModelBasedTuner, ModelOptimizer
from .sa_model_optimizer import SimulatedAnnealingOptimizer
from .xgboost_cost_model import LOSS_TYPES, XGBoostCostModel

# How many distinct points one plan may score when scoring means lowering the configuration
# (~1-3 ms each, features.py): a plan costs a few seconds, far less than measuring it.
LOWERED_FEATURE_BUDGET = 1024


class XGBTuner(ModelBasedTuner):
    """`XGBTuner(task, plan_size=64, feature_type="itervar", loss_type="reg", num_threads=None,
    optimizer="sa", diversity_filter_ratio=None, log_interval=50)`.

    feature_type  "itervar" (features of the lowered loop nest), "knob" (the knob values) or
                  "curve" (a task-independent summary of the loop nest; see features.py)
    loss_type     "reg", "rank" or "rank-binary" (see xgboost_cost_model.py)
    optimizer     "sa" (simulated annealing) or a ModelOptimizer object
    log_interval  the annealing logs its progress every this many steps (debug level)

    With "itervar" and "curve" each plan scores at most LOWERED_FEATURE_BUDGET distinct points
    (a space no larger than that is scored exhaustively): lowering one configuration took 1.4 ms
    (2-way tiled matmul), 2.6 ms (3-way tiled matmul with cache_write), 3.4 ms (dense_pack.x86)
    and 6 ms (conv2d_NCHWc.x86), so a plan costs seconds; features are cached per index, so
    later plans mostly re-score known points.  With "knob" the annealing is unbounded (free).
    """

    def __init__(self, task, plan_size=64, feature_type="itervar", loss_type="reg", num_threads=None,
                 optimizer="sa", diversity_filter_ratio=None, log_interval=50):
        if feature_type not in FEATURE_TYPES:
            raise ValueError(f"XGBTuner: feature_type must be one of {', '.join(FEATURE_TYPES)}, "
                             f"got {feature_type!r}")
        if loss_type not in LOSS_TYPES:
            raise ValueError(f"XGBTuner: loss_type must be one of {', '.join(LOSS_TYPES)}, got {loss_type!r}")
        cost_model = XGBoostCostModel(task, feature_type=feature_type, loss_type=loss_type, num_threads=num_threads)
        if optimizer == "sa":
            budget = None if feature_type == "knob" else LOWERED_FEATURE_BUDGET
            optimizer = SimulatedAnnealingOptimizer(task, log_interval=log_interval, max_points=budget,
                                                    parallel_size=128 if budget is None else 64)
        elif not isinstance(optimizer, ModelOptimizer):
            raise ValueError(f"XGBTuner: optimizer must be 'sa' or a ModelOptimizer, got {optimizer!r}")
        super().__init__(task, cost_model, optimizer, plan_size, diversity_filter_ratio)
