"""The auto-scheduler (Ansor): template-free tuning.  A SearchTask's ComputeDAG gives the stages;
a loop State is a list of replayable transform steps with a cheap view of the loop nest; records
are the classic v0.6 JSON lines."""

from . import compute_dag, loop_state, measure, measure_record, search_task, transform_steps, workload_registry  # noqa: F401
from .compute_dag import ComputeDAG, LayoutRewriteOption  # noqa: F401
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
from .search_task import HardwareParams, SearchTask  # noqa: F401
from .workload_registry import (  # noqa: F401
    make_workload_key,
    register_workload,
    register_workload_tensors,
    workload_key_to_tensors,
)
