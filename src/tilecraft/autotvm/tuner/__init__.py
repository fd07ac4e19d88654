"""AutoTVM tuners (classic API): RandomTuner, GridSearchTuner, GATuner and XGBTuner, all driven by
`Tuner.tune(n_trial, measure_option, early_stopping, callbacks)`."""

from .ga_tuner import GATuner  # noqa: F401
from .gridsearch_tuner import GridSearchTuner  # noqa: F401
from .index_based_tuner import IndexBaseTuner  # noqa: F401
from .model_based_tuner import CostModel, ModelBasedTuner, ModelOptimizer  # noqa: F401
from .random_tuner import RandomTuner  # noqa: F401
from .sa_model_optimizer import SimulatedAnnealingOptimizer  # noqa: F401
from .tuner import Tuner  # noqa: F401
from .xgboost_tuner import XGBTuner  # noqa: F401
