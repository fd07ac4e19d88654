"""What the tuners share, and what the operator library consults.

* dispatch contexts that answer "which configuration for this workload on this target?"
  (tuned records, or None for the default);
* the measurement layer: LocalBuilder / LocalRunner compile and time candidates in worker
  processes with time-outs (a crashing or hanging candidate becomes an error result, never a
  crashed tuner), DaskBuilder / DaskRunner do the same on a Dask cluster, with the classic
  MeasureErrorNo numbers in BuildResult / MeasureResult;
* JSON-lines record files (append_records / read_records) under both tuners' log formats.

This layer sits below topi and relay (driver < tuning < topi < relay), because the operator
strategies and, later, the operator templates ask it for their configuration.  Dask is
imported only when a Dask builder or runner is made.
"""

from .builder import LocalBuilder  # noqa: F401
from .dispatch import ApplyConfig, DispatchContext, current_context, workload_key  # noqa: F401
from .distributed import DaskBuilder, DaskRunner  # noqa: F401
from .measure import MAX_COST, BuildResult, MeasureErrorNo, MeasureResult  # noqa: F401
from .records import append_records, read_records  # noqa: F401
from .runner import LocalRunner  # noqa: F401
