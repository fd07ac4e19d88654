"""Cost models that rank candidate programs for the search: `RandomModel` and `XGBModel`."""

from .cost_model import CostModel, RandomModel
from .xgb_model import XGBModel

__all__ = ["CostModel", "RandomModel", "XGBModel"]
