"""`tilecraft report`: the HTML page and PNGs from synthetic run files, the tuning curves
against hand-computed values, and the error paths."""

from __future__ import annotations

import base64
import json
import math
import re
import subprocess
import sys
import warnings

import pytest

from tilecraft.harness.report import (
    read_tuning_log,
    system_rows,
    total_tuning_curve,
    tuning_curves,
    verification_text,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def stats(mean, half=0.5, repeats=50, warmup=5):
    return {"unit": "ms", "mean": mean, "std": half, "min": mean - 1, "max": mean + 2, "p50": mean - 0.25,
            "p90": mean + 1, "p95": mean + 1.5, "p99": mean + 1.75, "ci95": [mean - half, mean + half],
            "repeats": repeats, "warmup": warmup}


VERIFIED = {"status": "passed", "passed": True, "max_abs_error": 2.5e-06, "max_rel_error": 1e-05,
            "atol": 1e-05, "rtol": 1e-05}


def entry(status, latency=None, **kw):
    return {"status": status, "latency": latency, "missing": [], "error": "", "verification": None,
            "compile_seconds": 0.0, **kw}


def metrics_doc(artifacts_dir="tvm"):
    return {
        "model": "tilecraft.models:bert_base", "latency": stats(40.0), "primary": "pytorch_eager",
        "baselines": {
            "pytorch_eager": entry("ok", stats(40.0)),
            "torch_compile": entry("ok", stats(25.0), compile_seconds=31.5),
            "onnxruntime": entry("missing_dependencies", missing=["onnxruntime"]),
            "apache_tvm": entry("error", error="tvm.relay has no <attribute> 'frontend'"),
            "tilecraft": entry("ok", stats(20.0), verification=VERIFIED, compile_seconds=4.25),
        },
        "tvm_baseline": {"status": "ok", "latency": stats(20.0), "target": "llvm", "tuning_trials": 4,
                         "use_ansor": False, "artifacts_dir": artifacts_dir, "verification": VERIFIED},
    }


def metadata_doc(log=None, tuner="autotvm", trials=4, latency=None):
    return {"tilecraft_version": "0.1.0", "model": "tilecraft.models:bert_base", "target": "llvm -mcpu=znver3",
            "import_path": "trace", "inputs": [{"name": "input_0", "shape": [1, 128], "dtype": "int64"}],
            "tuning": {"tuner": tuner, "trials": trials, "log": log, "seconds": 12.0},
            "compile_seconds": 4.25, "verification": VERIFIED,
            "latency": latency if latency is not None else stats(20.0)}


def autotvm_line(name, shape, cost_s, error_no=0):
    args = [["TENSOR", shape, "float32"], ["TENSOR", [shape[-1], shape[-1]], "float32"], None, "float32"]
    return json.dumps({"input": ["llvm -keys=cpu", name, args, {}],
                       "config": {"index": 3, "code_hash": None, "entity": [["tile_y", "sp", [-1, 1]]]},
                       "result": [[cost_s] if cost_s is not None else [1e10], error_no, 0.5, 1700000000.0],
                       "version": 0.2, "tvm_version": "0.16.0"})


def ansor_line(key, cost_s, error_no=0):
    return json.dumps({"i": [[key, "llvm -keys=cpu", [8, 64, 64, 0, 0, 0, 0, 0], "", 0, []],
                             [[], [["SP", 2, 0, 128, [16], 1]]]],
                       "r": [[cost_s] if cost_s is not None else [1e10], error_no, 0.3, 1700000000], "v": "v0.6"})


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def is_png(path):
    data = path.read_bytes()
    return len(data) > 100 and data.startswith(PNG_MAGIC)


def embedded_pngs(page):
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


# ---------------------------------------------------------------------- curves
def test_tuning_curves_best_so_far_hand_computed():
    trials = [("a", 5.0), ("a", None), ("b", 3.0), ("a", 4.0), ("a", 6.0), ("b", None), ("b", 1.0),
              ("c", None), ("c", 2.0), ("c", 2.5)]
    curves = tuning_curves(trials)
    assert list(curves) == ["a", "b", "c"]
    assert curves["a"] == [5.0, 5.0, 4.0, 4.0]      # an error and a slower trial improve nothing
    assert curves["b"] == [3.0, 3.0, 1.0]
    assert curves["c"] == [math.inf, 2.0, 2.0]      # before the first success there is no best
    for curve in curves.values():
        assert all(x >= y for x, y in zip(curve, curve[1:]))
    # total: tasks not reached yet count at their first success (a 5, b 3, c 2 -> 10)
    assert total_tuning_curve(trials) == [10, 10, 10, 9, 9, 9, 7, 7, 7, 7]
    assert total_tuning_curve([("x", None)]) == [math.inf]


def test_read_tuning_logs_in_both_formats(tmp_path):
    log = write(tmp_path / "a.log", "\n".join([
        autotvm_line("dense_nopack.x86", [1, 768], 2e-3),
        autotvm_line("dense_nopack.x86", [1, 768], None, error_no=4),
        autotvm_line("dense_nopack.x86", [1, 768], 1e-3),
        autotvm_line("dense_pack.x86", [1, 64], 5e-4),
    ]) + "\n" + autotvm_line("dense_pack.x86", [1, 64], 1e-4)[:40])   # torn last line of a killed run
    with pytest.warns(RuntimeWarning, match="truncated"):
        trials = read_tuning_log(log)
    big = "dense_nopack.x86(1x768 float32, 768x768 float32, None, float32)"
    assert trials == [(big, 2.0), (big, None), (big, 1.0),
                      ("dense_pack.x86(1x64 float32, 64x64 float32, None, float32)", 0.5)]

    key = json.dumps(["6b7583cf23c7c37d3212cad9d06e58c1", 1, 128, 768])
    alog = write(tmp_path / "b.json", "\n".join([ansor_line(key, 3e-4), ansor_line(key, None, error_no=2),
                                                 ansor_line(key, 1e-4)]) + "\n")
    assert read_tuning_log(alog) == [(key, pytest.approx(0.3)), (key, None), (key, pytest.approx(0.1))]


def test_logs_written_by_the_project_writers_are_read(tmp_path):
    from tilecraft.auto_scheduler import measure_record
    from tilecraft.autotvm import record
    from tilecraft.tuning.measure import MeasureResult

    inp, _ = record.decode(autotvm_line("conv2d_NCHWc.x86", [1, 32], 1.0))
    record.save_records(tmp_path / "t.log", [inp, inp], [MeasureResult((4e-3, 2e-3), 0, "", 1.0, 1.0),
                                                           MeasureResult((1e10,), 1, "", 1.0, 2.0)])
    assert [c for _, c in read_tuning_log(tmp_path / "t.log")] == [pytest.approx(3.0), None]

    key = json.dumps(["abc", 1, 64])
    ainp, ares = measure_record.decode_record(json.loads(ansor_line(key, 2e-4)))
    measure_record.save_records(tmp_path / "s.json", [ainp], [ares])
    assert read_tuning_log(tmp_path / "s.json") == [(key, pytest.approx(0.2))]


def test_verification_text():
    assert verification_text(VERIFIED) == ("passed (max abs error 2.5e-06, max rel error 1e-05; "
                                           "atol 1e-05, rtol 1e-05)")
    assert verification_text({"status": "skipped", "passed": None, "reason": "no GPU"}) == "skipped: no GPU"
    assert verification_text({"passed": False}) == "failed"
    assert verification_text(None) == "—"


# ---------------------------------------------------------------------- the report
def test_report_of_a_run_with_exported_artifacts(tmp_path):
    write(tmp_path / "metrics.json", json.dumps(metrics_doc()))
    write(tmp_path / "tvm" / "metadata.json", json.dumps(metadata_doc(log="tune.log")))
    write(tmp_path / "tvm" / "tune.log", "\n".join([
        autotvm_line("dense_nopack.x86", [1, 768], 2e-3), autotvm_line("dense_nopack.x86", [1, 768], None, 1),
        autotvm_line("dense_nopack.x86", [1, 768], 1.5e-3), autotvm_line("batch_matmul.x86", [12, 128], 8e-3),
    ]) + "\n")
    write(tmp_path / "tvm" / "deploy_graph.json", json.dumps({"nodes": []}))

    out = write_report(tmp_path)
    assert out == tmp_path / "report.html"
    page = out.read_text()
    for name in ("PyTorch eager", "torch.compile", "ONNX Runtime", "Apache TVM", "tilecraft"):
        assert f"<td>{name}</td>" in page
    assert "<td>40.000</td>" in page and "<td>25.000</td>" in page and "<td>20.000</td>" in page  # means
    assert "<td>19.750</td>" in page and "<td>21.500</td>" in page        # tilecraft p50, p95
    assert "[19.500, 20.500]" in page                                      # CI
    assert "<td>2.00×</td>" in page and "<td>1.25×</td>" in page and "<td>1.00×</td>" in page
    assert "31.50" in page and "4.25" in page                              # compile seconds
    assert "50 (+5 warm-up)" in page
    assert "missing: onnxruntime" in page
    assert "tvm.relay has no &lt;attribute&gt; &#x27;frontend&#x27;" in page   # escaped error text
    assert "passed (max abs error 2.5e-06" in page
    assert "llvm -mcpu=znver3" in page and "input_0: [1, 128] int64" in page
    assert "dense_nopack.x86(1x768 float32" in page and "1.333×" not in page
    assert "<td>1.33×</td>" in page                                        # 2.0 ms first -> 1.5 ms best

    for png in ("latency.png", "tuning.png"):
        assert is_png(tmp_path / png)
    assert embedded_pngs(page) == [(tmp_path / "latency.png").read_bytes(), (tmp_path / "tuning.png").read_bytes()]
    assert not list(tmp_path.glob(".*.tmp"))


def test_report_of_an_export_with_an_ansor_log_and_no_latency(tmp_path):
    keys = [json.dumps(["k1", 1, 128]), json.dumps(["k2", 64])]
    write(tmp_path / "logs" / "ansor.json", "\n".join(
        [ansor_line(keys[0], 1e-3), ansor_line(keys[1], None, 3), ansor_line(keys[1], 4e-4),
         ansor_line(keys[0], 6e-4)]) + "\n")
    meta = metadata_doc(log=str(tmp_path / "logs" / "ansor.json"), tuner="ansor",
                        latency={"status": "skipped", "reason": "target cuda: no GPU on this machine"})
    meta["verification"] = {"status": "skipped", "passed": None, "reason": "no GPU <here>"}
    write(tmp_path / "metadata.json", json.dumps(meta))
    write(tmp_path / "latency.png", "stale")

    page = write_report(tmp_path).read_text()
    assert not (tmp_path / "latency.png").exists()                 # nothing to draw: the stale chart goes
    assert "No system has a latency measurement" in page
    assert "target cuda: no GPU on this machine" in page and "skipped: no GPU &lt;here&gt;" in page
    assert is_png(tmp_path / "tuning.png") and len(embedded_pngs(page)) == 1
    assert "<td>ansor</td>" in page
    assert html_escaped(keys[0]) in page and "<td>1.667×</td>" not in page and "<td>1.67×</td>" in page


def html_escaped(s):
    import html

    return html.escape(s, quote=True)


def test_many_tasks_draw_one_total_line(tmp_path):
    lines = [autotvm_line(f"task{i}.x86", [1, 8 * (i + 1)], 1e-3 * (i + 1)) for i in range(10)]
    lines += [autotvm_line("task0.x86", [1, 8], 5e-4)]
    write(tmp_path / "tuning.log", "\n".join(lines) + "\n")
    write(tmp_path / "metadata.json", json.dumps(metadata_doc(log="tuning.log", trials=11)))
    page = write_report(tmp_path).read_text()
    assert "10 tasks: the chart shows the sum of their best costs" in page
    assert is_png(tmp_path / "tuning.png")


def test_run_without_tuning_log_omits_the_tuning_chart(tmp_path):
    doc = metrics_doc(artifacts_dir=str(tmp_path / "nowhere"))
    del doc["baselines"]["tilecraft"]                      # tilecraft then comes from tvm_baseline
    doc["model"] = "<script>alert(1)</script>"
    write(tmp_path / "metrics.json", json.dumps(doc))
    write(tmp_path / "tuning.png", "stale")
    out = write_report(tmp_path, output=tmp_path / "site" / "index.html")
    page = out.read_text()
    assert out == tmp_path / "site" / "index.html" and is_png(tmp_path / "site" / "latency.png")
    assert not (tmp_path / "site" / "tuning.png").exists()
    assert "No tuning log found" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<td>tilecraft</td><td>ok</td><td>20.000</td>" in page


def test_system_rows_from_metadata_only_and_unknown_systems():
    rows = system_rows({"baselines": {"tensorrt": entry("skipped", error="not on CPU"),
                                      "pytorch_eager": entry("ok", stats(3.0))}}, metadata_doc())
    assert [r["key"] for r in rows] == ["pytorch_eager", "tilecraft", "tensorrt"]
    tc = rows[1]
    assert tc["status"] == "ok" and tc["latency"]["mean"] == 20.0 and tc["compile_seconds"] == 4.25
    assert tc["verification"] == VERIFIED
    assert rows[2]["status"] == "skipped" and rows[2]["reason"] == "not on CPU"
    # metrics.json alone: tilecraft's verification falls back to tvm_baseline's (seed 000's entry)
    doc = metrics_doc()
    doc["baselines"]["tilecraft"]["verification"] = None
    assert system_rows(doc, None)[-1]["verification"] == VERIFIED


# ---------------------------------------------------------------------- errors
def test_directory_without_run_files(tmp_path):
    with pytest.raises(ValueError, match=r"neither metrics.json .* nor metadata.json") as err:
        write_report(tmp_path)
    assert str(tmp_path) in str(err.value)
    with pytest.raises(ValueError, match="not a directory"):
        write_report(tmp_path / "missing")


@pytest.mark.parametrize("name", ["metrics.json", "metadata.json"])
def test_malformed_json_names_the_file(tmp_path, name):
    write(tmp_path / name, '{"model": "x", "latency": {')
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / name)) + ": malformed JSON"):
        write_report(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]       # nothing written


def test_missing_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    write(tmp_path / "metrics.json", json.dumps(metrics_doc()))
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(ImportError, match=r"tilecraft\[tune\]"):
        write_report(tmp_path)


def test_importing_the_report_module_loads_neither_matplotlib_nor_torch():
    code = ("import sys, tilecraft, tilecraft.harness.report; "
            "print([m for m in ('matplotlib', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_warnings_do_not_escape_for_clean_logs(tmp_path):
    write(tmp_path / "metadata.json", json.dumps(metadata_doc(log="x.log")))
    write(tmp_path / "x.log", autotvm_line("dense.x86", [1, 4], 1e-3) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_report(tmp_path)
