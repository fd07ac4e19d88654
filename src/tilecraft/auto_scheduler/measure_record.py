"""Auto-scheduler records: the classic Ansor v0.6 JSON lines, one measured candidate per line,

    {"i": [[workload_key, target, [hardware params], target_host, layout_rewrite_option,
            [task input names]], [[], [[step], ...]]],
     "r": [[costs], error_no, all_cost, timestamp], "v": "v0.6"}

appended (flushed and synced line by line) through tilecraft.tuning.records, so a killed tuning
run loses at most the line in flight; a truncated or corrupt line is skipped with a warning.
Logs written by classic TVM read here, and logs written here read in classic TVM.
"""

from __future__ import annotations

import json
import math
import os

from ..tuning.records import append_records, read_records
from .measure import MAX_COST, MeasureCallback, MeasureErrorNo, MeasureInput, MeasureResult
from .search_task import SearchTask
from .transform_steps import step_from_record
from .workload_registry import decode_workload_key

LOG_VERSION = "v0.6"


# ---------------------------------------------------------------------- one record
def encode_record(inp: MeasureInput, res: MeasureResult) -> dict:
    costs = [float(c) for c in res.costs] or [MAX_COST]
    return {"i": [inp.task.record_prefix(), [[], inp.steps_record()]],
            "r": [costs, int(res.error_no), float(res.all_cost), int(res.timestamp)],
            "v": LOG_VERSION}


def _steps_of(state_rec) -> list:
    # Classic writes a state as [stages (always []), steps]; accept a bare step list too.
    if len(state_rec) == 2 and state_rec[0] == [] and isinstance(state_rec[1], list):
        state_rec = state_rec[1]
    elif state_rec and not (isinstance(state_rec[0], list) and state_rec[0] and isinstance(state_rec[0][0], str)):
        raise ValueError(f"cannot read the state of a record: {json.dumps(state_rec)[:80]}")
    return [step_from_record(r) for r in state_rec]


def decode_record(obj) -> tuple:
    """(MeasureInput, MeasureResult) of a decoded record line."""
    if not isinstance(obj, dict) or "i" not in obj or "r" not in obj:
        raise ValueError("not an auto-scheduler record (no \"i\" and \"r\" fields)")
    task_rec, state_rec = obj["i"]
    task = SearchTask.from_record(task_rec)
    costs, error_no, all_cost, timestamp = obj["r"][:4]
    res = MeasureResult(tuple(float(c) for c in costs), int(error_no), "", float(all_cost), float(timestamp))
    return MeasureInput(task, _steps_of(state_rec)), res


def dump_record_to_string(inp: MeasureInput, res: MeasureResult) -> str:
    return json.dumps(encode_record(inp, res)) + "\n"


def load_record_from_string(record: str) -> tuple:
    return decode_record(json.loads(record))


# ---------------------------------------------------------------------- files
def save_records(filename, inputs, results) -> None:
    """Append records (one line per input/result pair)."""
    filename = _log_path(filename)
    append_records(filename, [encode_record(i, r) for i, r in zip(inputs, results)])


def _log_path(filename) -> str:
    """The log's path, its folder created; a folder that cannot be made is named with the log."""
    filename = os.fspath(filename)
    directory = os.path.dirname(os.path.abspath(filename))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot write the tuning log {filename!r}: its folder {directory!r} cannot be "
                      f"created ({e.strerror}); choose a writable path") from e
    return filename


class RecordToFile(MeasureCallback):
    """A measure callback appending every measured candidate to `filename` as it comes."""

    def __init__(self, filename):
        self.filename = _log_path(filename)

    def callback(self, policy, inputs, results) -> None:
        save_records(self.filename, inputs, results)


class RecordReader:
    """Iterate the (MeasureInput, MeasureResult) pairs of a log.  Reading does not build the
    tasks' ComputeDAGs nor the states' loop views (asked for, they are built)."""

    def __init__(self, filename):
        self.filename = os.fspath(filename)

    def __iter__(self):
        if not os.path.exists(self.filename):
            return iter(())
        return iter(read_records(self.filename, decode_record))

    def read_lines(self, max_lines=None, skip_lines: int = 0) -> tuple:
        inputs, results = [], []
        for n, (inp, res) in enumerate(self):
            if n < skip_lines:
                continue
            if max_lines is not None and max_lines > 0 and len(inputs) >= max_lines:
                break
            inputs.append(inp)
            results.append(res)
        return inputs, results


def load_records(filename):
    """(MeasureInput, MeasureResult) pairs of a log."""
    return zip(*RecordReader(_existing(filename, "load_records")).read_lines())


def _existing(filename, who: str) -> str:
    """An explicit read of a log that is not there is a wrong path (autotvm raises too); RecordReader
    itself stays lenient, since resuming reads the log that tuning is about to create."""
    filename = os.fspath(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f"{who}: no tuning log at {filename!r}; check the path (tuning with "
                                f"measure_callbacks=[auto_scheduler.RecordToFile(path)] writes it)")
    return filename


def calc_workload_dis_factor(target_key: tuple, key: tuple) -> float:
    """How many times bigger the target workload is than a compatible one (1 if equal, inf if
    incompatible), as classic: same function and non-integer arguments, integer arguments that
    divide the target's."""
    name1, args1 = target_key
    name2, args2 = key
    if name1 != name2:
        return math.inf
    if args1 is None or args2 is None:
        return 1 if (args1 is None and args2 is None) else math.inf
    if len(args1) != len(args2):
        return math.inf
    factor = 1

    def flat(a):
        for x in a:
            if isinstance(x, (list, tuple)):
                yield from flat(x)
            else:
                yield x

    f1, f2 = list(flat(args1)), list(flat(args2))
    if len(f1) != len(f2):
        return math.inf
    for a, b in zip(f1, f2):
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            if a == b:
                continue
            if a == 0 or b == 0 or a % b != 0:
                return math.inf
            factor *= a // b
        elif a != b:
            return math.inf
    return factor


def load_best_record(filename, workload_key=None, target=None, include_compatible: bool = False) -> tuple:
    """The (MeasureInput, MeasureResult) with the lowest mean cost among the valid (error_no 0)
    records of `workload_key` (any, if None) for `target`'s kind (any, if None); (None, None)
    when there is none."""
    best_cost, best = math.inf, (None, None)
    kind = None
    if target is not None:
        kind = getattr(target, "kind", None) or str(target).split()[0]
        kind = getattr(kind, "name", kind)
    wanted = decode_workload_key(workload_key) if workload_key is not None else None
    for inp, res in RecordReader(_existing(filename, "load_best_record")):
        if res.error_no != MeasureErrorNo.NO_ERROR or not res.costs:
            continue
        if kind is not None and inp.task.target.kind != kind:
            continue
        cost = sum(res.costs) / len(res.costs)
        if wanted is not None:
            if inp.task.workload_key == workload_key:
                factor = 1
            else:
                factor = calc_workload_dis_factor(wanted, decode_workload_key(inp.task.workload_key))
            if factor == math.inf or (not include_compatible and factor != 1):
                continue
            cost *= factor
        if cost < best_cost:
            best_cost, best = cost, (inp, res)
    return best
