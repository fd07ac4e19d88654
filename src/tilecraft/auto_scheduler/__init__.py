"""The auto-scheduler (Ansor): template-free tuning.  A SearchTask's ComputeDAG gives the stages;
a loop State is a list of replayable transform steps with a cheap view of the loop nest; sketch
rules and an evolutionary search guided by a learned cost model choose the candidates, which the
shared measurement layer (tilecraft.tuning) builds and times in worker processes; records are the
classic v0.6 JSON lines.  Whole models: extract_tasks, TaskScheduler, ApplyHistoryBest."""

from ..tuning import DaskBuilder, DaskRunner, LocalBuilder, LocalRunner  # noqa: F401
from . import (  # noqa: F401
    compute_dag,
    cost_model,
    feature,
    loop_state,
    measure,
    measure_record,
    search_task,
    transform_steps,
    workload_registry,
)
from .auto_schedule import TuningOptions, auto_schedule  # noqa: F401
from .compute_dag import ComputeDAG, LayoutRewriteOption  # noqa: F401
from .cost_model import RandomModel, XGBModel  # noqa: F401
from .loop_state import Iterator, Stage, State  # noqa: F401
from .measure import MeasureCallback, MeasureErrorNo, MeasureInput, MeasureResult  # noqa: F401
from .measure_record import (  # noqa: F401
    RecordReader,
    RecordToFile,
    load_best_record,
    load_record_from_string,
    load_records,
    save_records,
)
from .relay_integration import ApplyHistoryBest, extract_tasks  # noqa: F401
from .search_policy import EmptyPolicy, SketchPolicy  # noqa: F401
from .search_task import HardwareParams, SearchTask  # noqa: F401
from .task_scheduler import TaskScheduler  # noqa: F401
from .workload_registry import (  # noqa: F401
    make_workload_key,
    register_workload,
    register_workload_tensors,
    workload_key_to_tensors,
)
