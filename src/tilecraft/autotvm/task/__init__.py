"""AutoTVM tasks, templates and the dispatch contexts that apply tuned configurations."""

from ...tuning.template import (  # noqa: F401
    TASK_TABLE,
    args_to_workload,
    get_config,
    register_topi_compute,
    register_topi_schedule,
    template,
)
from .dispatcher import ApplyConfig, ApplyHistoryBest, apply_history_best  # noqa: F401
from .relay_integration import extract_from_multiple_program, extract_from_program  # noqa: F401
from .task import Task, create  # noqa: F401
