"""The classic AutoTVM log (v0.2): one JSON object per measured configuration.

    {"input": [target, task_name, args, kwargs],
     "config": {"index": ..., "code_hash": ..., "entity": [[knob, kind, value], ...]},
     "result": [[costs...], error_no, all_cost, timestamp],
     "version": 0.2, "tvm_version": "..."}

Lines are appended and flushed one at a time (tuning/records.py), so a killed run loses at most
the line being written; a torn or corrupt line is skipped with a warning when read.  Logs
written by classic TVM for the same task and target load here.
"""

from __future__ import annotations

import json
from collections import OrderedDict

from ..target import Target
from ..tuning import append_records, read_records
from ..tuning.measure import MeasureResult
from ..tuning.space import ConfigEntity
from ..tuning.template import as_tuples
from .measure import MeasureInput
from .task.task import Task

AUTOTVM_LOG_VERSION = 0.2
TVM_VERSION = "0.16.0"  # the classic release whose log format this writes


def _jsonable(x):
    return [_jsonable(v) for v in x] if isinstance(x, (list, tuple)) else x


def encode(inp: MeasureInput, result: MeasureResult, protocol: str = "json"):
    """One record as a JSON string (protocol "json") or the object itself ("dict")."""
    obj = {
        "input": [str(inp.target), inp.task.name, _jsonable(inp.task.args), inp.task.kwargs],
        "config": inp.config.to_json_dict(),
        "result": [list(result.costs), int(result.error_no), float(result.all_cost), float(result.timestamp)],
        "version": AUTOTVM_LOG_VERSION,
        "tvm_version": TVM_VERSION,
    }
    if protocol == "dict":
        return obj
    if protocol != "json":
        raise ValueError(f"record.encode: protocol must be 'json' or 'dict', got {protocol!r}")
    return json.dumps(obj)


def decode(row, protocol: str = "json"):
    """(MeasureInput, MeasureResult) of one record (a JSON string or the decoded object)."""
    obj = json.loads(row) if isinstance(row, str) else row
    target, name, args, kwargs = obj["input"]
    task = Task(name, as_tuples(args))
    task.kwargs = dict(kwargs or {})
    task.target = Target(target)
    config = ConfigEntity.from_json_dict(obj["config"])
    costs, error_no, all_cost, timestamp = obj["result"]
    result = MeasureResult(tuple(float(c) for c in costs), int(error_no), "", float(all_cost), float(timestamp))
    return MeasureInput(task.target, task, config), result


def load_from_file(filename):
    """Yield (MeasureInput, MeasureResult) for each record of a log file (bad lines are skipped)."""
    yield from read_records(filename, decode)


def save_records(filename, inputs, results) -> None:
    """Append records to `filename` (one flushed line each)."""
    append_records(filename, (encode(i, r, "dict") for i, r in zip(inputs, results)))


def _key(inp) -> tuple:
    return (inp.task.name, as_tuples(inp.task.args), str(inp.target.keys if hasattr(inp.target, "keys") else ""))


def pick_best(in_file, out_file) -> None:
    """Write the fastest valid record of each (task, arguments, target) of `in_file` to `out_file`."""
    best: OrderedDict = OrderedDict()
    for inp, res in load_from_file(in_file):
        if res.error_no != 0:
            continue
        k = _key(inp)
        if k not in best or res.mean_cost < best[k][1].mean_cost:
            best[k] = (inp, res)
    with open(out_file, "w") as f:
        for inp, res in best.values():
            f.write(encode(inp, res) + "\n")


def split_workload(in_file, clean: bool = True):
    """{(task name, args): [(inp, res), ...]} of a log (only valid records when `clean`)."""
    out: OrderedDict = OrderedDict()
    for inp, res in load_from_file(in_file):
        if clean and res.error_no != 0:
            continue
        out.setdefault((inp.task.name, as_tuples(inp.task.args)), []).append((inp, res))
    return out
