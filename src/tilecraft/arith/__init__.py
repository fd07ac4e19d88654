"""Integer arithmetic analysis: the simplifier, constant bounds, interval sets, proofs."""

from .analyzer import Analyzer, simplify
from .const_bound import ConstIntBound
from .int_set import IntervalSet, eval_set

__all__ = ["Analyzer", "ConstIntBound", "IntervalSet", "eval_set", "simplify"]
