"""`tilecraft report DIR`: one self-contained HTML page (and its PNGs) from a run's files.

It reads what `tilecraft run` (metrics.json) and `tilecraft export` (metadata.json, tuning logs)
left in DIR, so a report can be drawn again later, on another machine, without re-measuring.
The page embeds its charts as data URIs, so it can be mailed or attached as one file; the PNGs
are written next to it for slides.  matplotlib is imported only here, and only when a report is
written (it is an extra: `pip install 'tilecraft[tune]'`).
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import json
import math
import os
import pathlib

from ..runtime.fileio import write_atomic

SYSTEMS = {  # metrics.json baseline key -> the name shown; the order of the table and chart
    "pytorch_eager": "PyTorch eager",
    "torch_compile": "torch.compile",
    "onnxruntime": "ONNX Runtime",
    "apache_tvm": "Apache TVM",
    "tilecraft": "tilecraft",
}
MANY_TASKS = 8  # more tasks than this: one total-over-tasks line instead of one line per task
MAX_COST = 1e10  # the cost (s) both tuners record for a candidate that could not be measured
_SKIP_FILES = {"metrics.json", "metadata.json", "summary.json", "deploy_graph.json"}
_HIGHLIGHT, _OTHER = "#e8710a", "#7b8fa8"


# ---------------------------------------------------------------------- reading the run
def _read_json(path: pathlib.Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: malformed JSON ({err}); re-run the command that wrote it") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(obj).__name__}")
    return obj


def _find_metadata(directory: pathlib.Path, metrics: dict | None) -> pathlib.Path | None:
    """metadata.json in DIR, DIR/tvm/ (where `run` exports) or the run's tvm artifacts_dir."""
    candidates = [directory / "metadata.json", directory / "tvm" / "metadata.json"]
    artifacts = ((metrics or {}).get("tvm_baseline") or {}).get("artifacts_dir")
    if isinstance(artifacts, str) and artifacts:
        p = pathlib.Path(artifacts)
        candidates += [p / "metadata.json"] if p.is_absolute() else [directory / p / "metadata.json",
                                                                     p / "metadata.json"]
    return next((c for c in candidates if c.is_file()), None)


def _stats(latency) -> dict | None:
    """A latency statistics dict, or None where the value is a skip note or missing."""
    return latency if isinstance(latency, dict) and isinstance(latency.get("mean"), (int, float)) else None


def _row(key: str, entry, verification=None, compile_seconds=None) -> dict:
    if not isinstance(entry, dict):
        entry = {"status": "error", "error": f"unreadable entry: {entry!r}"}
    status = str(entry.get("status") or ("ok" if _stats(entry.get("latency")) else "unknown"))
    if status == "missing_dependencies":
        missing = entry.get("missing") or []
        reason = "missing: " + ", ".join(map(str, missing)) if missing else str(entry.get("error") or "")
    else:
        reason = str(entry.get("error") or entry.get("reason") or "")
    if status == "ok" and not _stats(entry.get("latency")):
        status, reason = "skipped", reason or "no latency recorded"
    return {"key": key, "name": SYSTEMS.get(key, key), "status": status, "reason": reason,
            "latency": _stats(entry.get("latency")) if status == "ok" else None,
            "verification": entry.get("verification") or verification,
            "compile_seconds": entry.get("compile_seconds", compile_seconds)}


def system_rows(metrics: dict | None, metadata: dict | None) -> list[dict]:
    """One row per system, in SYSTEMS order then any others: name, status, reason, latency
    stats (None unless ok), verification, compile seconds.  tilecraft's row comes from
    metrics.json when there is one (the side-by-side run), else from metadata.json."""
    meta = metadata or {}
    rows: dict[str, dict] = {}
    if metrics is not None:
        baselines = metrics.get("baselines") if isinstance(metrics.get("baselines"), dict) else {}
        for key, entry in baselines.items():
            rows[key] = _row(key, entry)
        tvm = metrics.get("tvm_baseline") if isinstance(metrics.get("tvm_baseline"), dict) else None
        if tvm is not None and "tilecraft" not in rows:
            rows["tilecraft"] = _row("tilecraft", tvm)
        elif tvm is not None and not rows["tilecraft"]["verification"]:
            rows["tilecraft"]["verification"] = tvm.get("verification")
        primary = metrics.get("primary")
        if isinstance(primary, str) and primary not in rows and _stats(metrics.get("latency")):
            rows[primary] = _row(primary, {"status": "ok", "latency": metrics["latency"]})
    if metadata is not None:
        if "tilecraft" in rows:
            row = rows["tilecraft"]
            row["verification"] = row["verification"] or meta.get("verification")
            if row["compile_seconds"] is None:
                row["compile_seconds"] = meta.get("compile_seconds")
        else:
            lat = meta.get("latency")
            entry = ({"status": "ok", "latency": lat} if _stats(lat) else
                     {"status": "skipped", "reason": (lat or {}).get("reason", "latency not measured")
                      if isinstance(lat, dict) else "latency not measured"})
            rows["tilecraft"] = _row("tilecraft", entry, meta.get("verification"), meta.get("compile_seconds"))
    order = list(SYSTEMS) + sorted(k for k in rows if k not in SYSTEMS)
    return [rows[k] for k in order if k in rows]


# ---------------------------------------------------------------------- tuning logs
def _task_label(name, args) -> str:
    """'dense_nopack.x86(1x768 float32, 768x768 float32, None, float32)' for an AutoTVM task."""
    def arg(a):
        if isinstance(a, list) and len(a) == 3 and a[0] == "TENSOR":
            return "x".join(map(str, a[1])) + f" {a[2]}"
        return a if isinstance(a, str) else str(a) if a is None else json.dumps(a)
    return f"{name}({', '.join(arg(a) for a in args)})" if isinstance(args, list) else str(name)


def _decode_line(obj) -> tuple[str, float | None]:
    """(task, mean cost in ms or None for a failed trial) of one AutoTVM v0.2 or Ansor v0.6 record.

    Only the task and the result are read: the full decoders (autotvm.record.decode,
    auto_scheduler.decode_record) parse the target and every step, and reject lines of classic
    logs for targets or steps this build does not compile (opencl, rocm, ...), whose trials
    would silently vanish from the curve."""
    if isinstance(obj, dict) and "input" in obj and "result" in obj:
        _target, name, args = obj["input"][:3]
        task, result = _task_label(name, args), obj["result"]
    elif isinstance(obj, dict) and "i" in obj and "r" in obj:
        task, result = str(obj["i"][0][0]), obj["r"]
    else:
        raise ValueError("neither an AutoTVM (v0.2) nor an auto-scheduler (v0.6) record")
    costs, error_no = result[0], int(result[1])
    if error_no != 0 or not costs:
        return task, None
    mean = sum(float(c) for c in costs) / len(costs)
    return task, (mean * 1e3 if math.isfinite(mean) and 0 <= mean < MAX_COST else None)


def read_tuning_log(path) -> list[tuple[str, float | None]]:
    """(task, mean cost ms or None for an error) per trial of a log, in file order; a truncated
    or corrupt line is skipped with a warning (the shared JSON-lines reader's behaviour)."""
    from ..tuning.records import read_records

    return list(read_records(path, _decode_line))


def _is_record_file(path: pathlib.Path) -> bool:
    """Whether the first readable line of `path` is an AutoTVM or Ansor record."""
    try:
        with open(path, "rb") as f:
            for n, raw in enumerate(f):
                if n >= 5:
                    return False
                if not raw.strip():
                    continue
                try:
                    _decode_line(json.loads(raw))
                    return True
                except (ValueError, TypeError, KeyError, IndexError):
                    continue
    except OSError:
        return False
    return False


def tuning_curves(trials) -> dict[str, list[float]]:
    """{task: best-so-far mean cost (ms) after trial 1, 2, ...} from (task, cost ms or None)
    pairs in measurement order.  A failed trial counts as a trial and improves nothing; before
    the first successful trial of a task its best is math.inf."""
    curves: dict[str, list[float]] = {}
    for task, cost in trials:
        curve = curves.setdefault(task, [])
        best = curve[-1] if curve else math.inf
        curve.append(min(best, cost) if cost is not None else best)
    return curves


def total_tuning_curve(trials) -> list[float]:
    """Sum over tasks of the best cost so far (ms) after each trial of the whole log.

    A task not reached yet counts at its first successful cost, so the line starts at the sum of
    the first candidates and falls only when a task improves (tasks never measured successfully
    are left out).  Used instead of one line per task when there are many tasks."""
    trials = list(trials)
    first: dict[str, float] = {}
    for task, cost in trials:
        if cost is not None and task not in first:
            first[task] = cost
    best = dict(first)
    total = sum(best.values())
    out = []
    for task, cost in trials:
        if cost is not None and cost < best[task]:
            total -= best[task] - cost
            best[task] = cost
        out.append(total if first else math.inf)
    return out


def _log_files(directory: pathlib.Path, meta_path: pathlib.Path | None, metadata: dict | None):
    """(record files, notes): the log metadata.json names, and record files beside metadata.json
    and in DIR."""
    notes, files = [], []
    named = ((metadata or {}).get("tuning") or {}).get("log")
    if isinstance(named, str) and named:
        p = pathlib.Path(named)
        options = [p] if p.is_absolute() else [meta_path.parent / p, p] if meta_path else [directory / p, p]
        found = next((o for o in options if o.is_file()), None)
        if found is None:
            notes.append(f"the tuning log {named} named in metadata.json was not found")
        else:
            files.append(found)
    for folder in dict.fromkeys(d for d in (meta_path.parent if meta_path else None, directory) if d):
        for p in sorted(folder.iterdir()):
            if (p.suffix in (".log", ".json") and p.name not in _SKIP_FILES and p.is_file()
                    and _is_record_file(p)):
                files.append(p)
    unique = list(dict.fromkeys(f.resolve() for f in files))
    return unique, notes


# ---------------------------------------------------------------------- charts
def _matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("tilecraft report draws its charts with matplotlib, which is not installed: "
                          "pip install 'tilecraft[tune]' (or pip install matplotlib)") from err
    return Figure, FigureCanvasAgg


def _png(fig, canvas_cls) -> bytes:
    # A Figure on its own Agg canvas: no pyplot, no global backend switch, no GUI.
    canvas_cls(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _latency_png(rows: list[dict], title: str, mpl) -> bytes:
    Figure, Canvas = mpl
    ok = [r for r in rows if r["latency"]]
    fig = Figure(figsize=(7.5, 1.2 + 0.55 * len(ok)))
    ax = fig.add_subplot()
    means = [r["latency"]["mean"] for r in ok]
    lo, hi = [], []
    for r, m in zip(ok, means):
        ci = r["latency"].get("ci95")
        ci = ci if isinstance(ci, (list, tuple)) and len(ci) == 2 else (m, m)
        lo.append(max(0.0, m - float(ci[0])))
        hi.append(max(0.0, float(ci[1]) - m))
    colors = [_HIGHLIGHT if r["key"] == "tilecraft" else _OTHER for r in ok]
    y = range(len(ok))
    ax.barh(y, means, xerr=[lo, hi], color=colors, capsize=4, ecolor="#333333")
    ax.set_yticks(list(y), [r["name"] for r in ok])
    for label, r in zip(ax.get_yticklabels(), ok):
        if r["key"] == "tilecraft":
            label.set_fontweight("bold")
    for i, (m, h) in enumerate(zip(means, hi)):
        ax.text(m + h, i, f"  {_ms(m)} ms", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(m + h for m, h in zip(means, hi)) * 1.25 or 1.0)
    ax.set_xlabel("mean latency (ms); error bars: 95 % confidence interval")
    ax.set_title(title, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig, Canvas)


def _tuning_png(curves: dict[str, list[float]], total: list[float] | None, mpl) -> bytes:
    Figure, Canvas = mpl
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()

    def plot(values, label, **kw):
        ys = [v if math.isfinite(v) else math.nan for v in values]
        ax.plot(range(1, len(ys) + 1), ys, drawstyle="steps-post", label=label, **kw)

    if total is not None:
        plot(total, f"total over {len(curves)} tasks", color=_HIGHLIGHT, linewidth=2)
        ax.set_xlabel("trial (whole log)")
        ax.set_ylabel("sum of best costs (ms)")
    else:
        for task, curve in curves.items():
            plot(curve, task if len(task) <= 60 else task[:57] + "...")
        ax.set_xlabel("trial (per task)")
        ax.set_ylabel("best mean cost so far (ms)")
        finite = [v for c in curves.values() for v in c if math.isfinite(v) and v > 0]
        if finite and max(finite) / min(finite) > 20:
            ax.set_yscale("log")
    ax.set_title("tuning: best cost found so far", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    return _png(fig, Canvas)


# ---------------------------------------------------------------------- HTML
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _ms(x) -> str:
    if not isinstance(x, (int, float)) or not math.isfinite(x):
        return "—"
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.3f}" if abs(x) >= 1 else f"{x:.4g}"


def _num(x, fmt="{:.3g}") -> str:
    return fmt.format(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else "—"


def verification_text(v) -> str:
    """'passed (max abs error 1e-06, max rel error 2e-05; atol 1e-05, rtol 1e-05)', 'skipped: why', or '—'."""
    if not isinstance(v, dict):
        return "—"
    status = v.get("status") or {True: "passed", False: "failed"}.get(v.get("passed"), "unknown")
    if status == "skipped":
        return f"skipped: {v.get('reason') or 'no reason given'}"
    details = []
    if "max_abs_error" in v or "max_rel_error" in v:
        details.append(f"max abs error {_num(v.get('max_abs_error'))}, max rel error {_num(v.get('max_rel_error'))}")
    if "atol" in v or "rtol" in v:
        details.append(f"atol {_num(v.get('atol'))}, rtol {_num(v.get('rtol'))}")
    text = f"{status} ({'; '.join(details)})" if details else str(status)
    why = v.get("reason") or v.get("error")
    return f"{text}: {why}" if why else text


def _cells(values, tag="td") -> str:
    return "<tr>" + "".join(f"<{tag}>{_e(v)}</{tag}>" for v in values) + "</tr>"


def _systems_table(rows: list[dict]) -> str:
    tc = next((r["latency"]["mean"] for r in rows if r["key"] == "tilecraft" and r["latency"]), None)
    head = _cells(["System", "Status", "Mean (ms)", "p50 (ms)", "p95 (ms)", "95 % CI (ms)", "Repeats",
                   "tilecraft speed-up", "Compile (s)", "Verification", "Note"], "th")
    body = []
    for r in rows:
        s = r["latency"] or {}
        ci = s.get("ci95")
        ci = f"[{_ms(ci[0])}, {_ms(ci[1])}]" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "—"
        speed = f"{s['mean'] / tc:.2f}×" if tc and s.get("mean") else "—"
        reps = s.get("repeats", "—")
        if s.get("warmup") is not None:
            reps = f"{reps} (+{s['warmup']} warm-up)"
        cls = ' class="tc"' if r["key"] == "tilecraft" else ""
        compile_s = _num(r["compile_seconds"], "{:.2f}") if r["status"] == "ok" else "—"
        body.append(_cells([r["name"], r["status"], _ms(s.get("mean")), _ms(s.get("p50")), _ms(s.get("p95")), ci,
                            reps, speed, compile_s, verification_text(r["verification"]),
                            r["reason"] or ""]).replace("<tr>", f"<tr{cls}>", 1))
    return f"<table>{head}{''.join(body)}</table>"


def _tuning_table(curves: dict[str, list[float]], trials) -> str:
    errors: dict[str, int] = {}
    firsts: dict[str, float] = {}
    for task, cost in trials:
        errors[task] = errors.get(task, 0) + (cost is None)
        if cost is not None:
            firsts.setdefault(task, cost)
    head = _cells(["Task", "Trials", "Errors", "First valid (ms)", "Best (ms)", "Improvement"], "th")
    body = []
    for task, curve in curves.items():
        first, best = firsts.get(task), curve[-1]
        gain = f"{first / best:.2f}×" if first and math.isfinite(best) and best > 0 else "—"
        body.append(_cells([task, len(curve), errors[task], _ms(first), _ms(best), gain]))
    return f"<table>{head}{''.join(body)}</table>"


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left}th{background:#f0f0f0}tr.tc{background:#fff1e4;font-weight:600}.note{color:#666}
.passed{color:#1a7f37}.failed{color:#c62828}.skipped{color:#8a6d00}img{max-width:100%}code{font-size:.9em}"""


def _html(ctx: dict) -> str:
    p = [f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>tilecraft report: {_e(ctx['model'])}"
         f"</title><style>{_CSS}</style></head><body>", f"<h1>tilecraft report: {_e(ctx['model'])}</h1>"]
    facts = [(k, v) for k, v in ctx["facts"] if v not in (None, "", [])]
    if facts:
        p.append("<table>" + "".join(_cells([k, v]) for k, v in facts) + "</table>")
    p.append("<h2>Latency</h2>")
    p.append(_img(ctx["latency_png"], "mean latency per system") if ctx["latency_png"] else
             '<p class="note">No system has a latency measurement; no chart.</p>')
    p.append(_systems_table(ctx["rows"]))
    p.append('<p class="note">tilecraft speed-up = the system\'s mean latency / tilecraft\'s; above 1 means '
             "tilecraft is faster.</p>")
    skipped = [r for r in ctx["rows"] if r["status"] != "ok"]
    if skipped:
        p.append("<h3>Not measured</h3><ul>" + "".join(
            f"<li><b>{_e(r['name'])}</b>: {_e(r['status'])}{' — ' + _e(r['reason']) if r['reason'] else ''}</li>"
            for r in skipped) + "</ul>")
    p.append("<h2>Verification</h2>")
    v = ctx["verification"]
    status = (v.get("status") or {True: "passed", False: "failed"}.get(v.get("passed"), "unknown")
              if isinstance(v, dict) else "unknown")
    p.append(f'<p class="{_e(status)}">tilecraft against PyTorch: {_e(verification_text(v))}</p>'
             if isinstance(v, dict) else '<p class="note">No verification result recorded.</p>')
    p.append("<h2>Tuning</h2>")
    if ctx["tuning_facts"]:
        p.append("<table>" + "".join(_cells([k, v]) for k, v in ctx["tuning_facts"] if v is not None) + "</table>")
    for note in ctx["tuning_notes"]:
        p.append(f'<p class="note">{_e(note)}</p>')
    if ctx["tuning_png"]:
        p.append(_img(ctx["tuning_png"], "best cost found so far per tuning task"))
    if ctx["curves"]:
        p.append(_tuning_table(ctx["curves"], ctx["trials"]))
    p.append(f'<p class="note">Generated {_e(ctx["when"])} from {_e(", ".join(ctx["sources"]))}.</p>')
    p.append("</body></html>\n")
    return "\n".join(p)


# ---------------------------------------------------------------------- entry point
def _output_path(directory: pathlib.Path, output) -> pathlib.Path:
    if output is None:
        return directory / "report.html"
    out = pathlib.Path(output)
    return out / "report.html" if out.is_dir() else out


def write_report(directory, output=None) -> pathlib.Path:
    """Write report.html (or `output`) with latency.png and tuning.png beside it from the
    metrics.json and/or metadata.json in `directory`; returns the HTML's path.

    Raises ValueError when the directory holds neither file or one is malformed, ImportError
    when matplotlib is missing.  Every file is written atomically; a chart that has nothing to
    show is not written (and a stale one from an earlier report is removed)."""
    directory = pathlib.Path(directory)
    if directory.is_file() and directory.name in ("metrics.json", "metadata.json"):
        directory = directory.parent
    if not directory.is_dir():
        raise ValueError(f"tilecraft report: {directory} is not a directory; give the --out folder of "
                         "`tilecraft run` or the --artifacts folder of `tilecraft export`")
    metrics_path = directory / "metrics.json"
    metrics = _read_json(metrics_path) if metrics_path.is_file() else None
    meta_path = _find_metadata(directory, metrics)
    metadata = _read_json(meta_path) if meta_path else None
    if metrics is None and metadata is None:
        raise ValueError(f"tilecraft report: {directory} has neither metrics.json (written by `tilecraft run`) "
                         "nor metadata.json (written by `tilecraft export`, also looked for in tvm/)")
    mpl = _matplotlib()

    meta, tvm = metadata or {}, (metrics or {}).get("tvm_baseline") or {}
    rows = system_rows(metrics, metadata)
    model = meta.get("model") or (metrics or {}).get("model") or directory.name
    inputs = meta.get("inputs") if isinstance(meta.get("inputs"), list) else []
    facts = [("Model", model), ("Target", meta.get("target") or tvm.get("target")),
             ("Import path", meta.get("import_path")), ("tilecraft version", meta.get("tilecraft_version")),
             ("Inputs", "; ".join(f"{i.get('name')}: {i.get('shape')} {i.get('dtype')}"
                                  for i in inputs if isinstance(i, dict)))]

    tuning = meta.get("tuning") if isinstance(meta.get("tuning"), dict) else {}
    trials_n = tuning.get("trials", tvm.get("tuning_trials"))
    tuner = tuning.get("tuner") if tuning else ("ansor" if tvm.get("use_ansor") else "autotvm") if trials_n else None
    tuning_facts = [("Tuner", tuner or "none (untuned)"), ("Trials", trials_n), ("Log", tuning.get("log")),
                    ("Tuning seconds", _num(tuning.get("seconds"), "{:.1f}") if "seconds" in tuning else None)]
    logs, notes = _log_files(directory, meta_path, metadata)
    trials = [t for log in logs for t in read_tuning_log(log)]
    curves = tuning_curves(trials)
    total = total_tuning_curve(trials) if len(curves) > MANY_TASKS else None
    if not logs:
        notes.append("No tuning log found (untuned, or the log lives elsewhere); no tuning chart.")
    elif not curves:
        notes.append("The tuning logs hold no readable records; no tuning chart.")
    elif not any(math.isfinite(c[-1]) for c in curves.values()):
        notes.append("No trial in the tuning logs was measured successfully; no tuning chart.")
    elif total is not None:
        notes.append(f"{len(curves)} tasks: the chart shows the sum of their best costs over the whole log.")
    if logs:
        tuning_facts.append(("Records read", ", ".join(str(p) for p in logs)))

    out = _output_path(directory, output)
    out.parent.mkdir(parents=True, exist_ok=True)
    charts = {"latency.png": _latency_png(rows, str(model), mpl) if any(r["latency"] for r in rows) else None,
              "tuning.png": (_tuning_png(curves, total, mpl)
                             if curves and any(math.isfinite(c[-1]) for c in curves.values()) else None)}
    tilecraft_row = next((r for r in rows if r["key"] == "tilecraft"), None)
    ctx = {"model": model, "facts": facts, "rows": rows, "latency_png": charts["latency.png"],
           "verification": (tilecraft_row or {}).get("verification") or meta.get("verification"),
           "tuning_facts": tuning_facts, "tuning_notes": notes, "tuning_png": charts["tuning.png"],
           "curves": curves, "trials": trials,
           "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
           "sources": [str(p) for p in (metrics_path if metrics is not None else None, meta_path) if p]}
    for name, data in charts.items():
        png = out.parent / name
        if data is not None:
            write_atomic(png, data)
        elif png.is_file():
            os.unlink(png)
    write_atomic(out, _html(ctx).encode("utf-8"))
    return out
