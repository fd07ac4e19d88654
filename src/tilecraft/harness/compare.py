"""`tilecraft compare metrics.json metadata.json` (seed 000's compare_tvm_results.py): the run's
latency against the exported tilecraft model's, with the other baselines of the run alongside.

Seed 000's fields: icd_latency_ms (the run's mean latency), tvm_latency_ms (metadata's mean),
speedup_vs_tvm = tvm / run, delta_ms = tvm - run (positive: the run is faster), tvm_config and
tvm_verification copied from the metadata."""

from __future__ import annotations

import csv
import io

from ..runtime.fileio import write_atomic
from .artifacts import read_json, write_json


def _mean(latency, what: str) -> float:
    if not isinstance(latency, dict) or not isinstance(latency.get("mean"), (int, float)):
        raise ValueError(f"{what} has no measured latency (\"latency\": {{\"mean\": ...}}); "
                         "was it measured on this machine?")
    return float(latency["mean"])


def compare(metrics_path, metadata_path) -> dict:
    metrics = read_json(metrics_path, "metrics file")
    metadata = read_json(metadata_path, "metadata file")
    run_ms = _mean(metrics.get("latency"), f"metrics file {metrics_path}")
    tvm_ms = _mean(metadata.get("latency"), f"metadata file {metadata_path}")
    baselines = {}
    for name, entry in (metrics.get("baselines") or {}).items():
        lat = (entry or {}).get("latency")
        ms = float(lat["mean"]) if isinstance(lat, dict) and "mean" in lat else None
        baselines[name] = {"status": (entry or {}).get("status"), "latency_ms": ms,
                           "ci95_ms": lat.get("ci95") if ms is not None else None,
                           "speedup_vs_tvm": tvm_ms / ms if ms else None}
    return {
        "run_system": metrics.get("primary"), "model": metrics.get("model") or metadata.get("model"),
        "icd_latency_ms": run_ms, "tvm_latency_ms": tvm_ms, "speedup_vs_tvm": tvm_ms / run_ms,
        "delta_ms": tvm_ms - run_ms,
        "tvm_config": {k: metadata.get(k) for k in ("target", "tuning", "import_path", "opt_level",
                                                    "tilecraft_version", "model")},
        "tvm_verification": metadata.get("verification"),
        "baselines": baselines,
        "sources": {"metrics": str(metrics_path), "metadata": str(metadata_path)},
    }


CSV_FIELDS = ("system", "status", "latency_ms", "ci95_low_ms", "ci95_high_ms", "tvm_latency_ms", "speedup_vs_tvm",
              "delta_ms")


def to_csv(result: dict) -> str:
    """One row for the run, one per baseline of the run."""
    tvm = result["tvm_latency_ms"]
    rows = [{"system": f"run ({result['run_system']})", "status": "ok", "latency_ms": result["icd_latency_ms"]}]
    for name, b in result["baselines"].items():
        ci = b.get("ci95_ms") or [None, None]
        rows.append({"system": name, "status": b["status"], "latency_ms": b["latency_ms"],
                     "ci95_low_ms": ci[0], "ci95_high_ms": ci[1]})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        ms = row["latency_ms"]
        writer.writerow({**row, "tvm_latency_ms": tvm, "speedup_vs_tvm": tvm / ms if ms else None,
                         "delta_ms": tvm - ms if ms is not None else None})
    return buf.getvalue()


def write_comparison(result: dict, path) -> None:
    if str(path).endswith(".csv"):
        write_atomic(path, to_csv(result).encode())
    else:
        write_json(path, result)
