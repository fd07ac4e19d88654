"""The examples run from a checkout and check their own numbers against numpy."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))


def _run(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=timeout, check=True).stdout


def test_te_basics():
    out = _run("examples/te_basics.py")
    assert "vector add matches numpy" in out and "matmul 64x64x64 matches numpy" in out
    assert "for i in range(n):" in out


def test_manual_schedule_shows_each_primitive():
    out = _run("examples/manual_schedule.py")
    for marker in ("---- naive", "i_outer", "T.vectorized(32)", "T.parallel(8)", "scheduled matmul matches numpy"):
        assert marker in out


@pytest.mark.slow
def test_schedule_analysis_small():
    out = _run("examples/schedule_analysis.py", "--sizes", "64", "96")
    assert "numpy (BLAS)" in out and "packed+register tile+parallel" in out
    assert "All schedules matched numpy" in out


def test_version():
    from tilecraft import __version__

    assert _run("-m", "tilecraft", "--version").strip() == f"tilecraft {__version__}"


def test_auto_tune_small(tmp_path):
    log = tmp_path / "mm.json"
    out = _run("examples/auto_tune.py", "--size", "64", "--trials", "6", "--per-round", "3", "--log", str(log),
               "--plot", str(tmp_path / "curve.png"))
    assert "auto-scheduler (tuned)" in out and "numpy (BLAS)" in out and "s = te.create_schedule" in out
    assert len(log.read_text().splitlines()) == 6 and (tmp_path / "curve.png").exists()
    # run again: the log already holds the trials, nothing is measured again
    again = _run("examples/auto_tune.py", "--size", "64", "--trials", "6", "--per-round", "3", "--log", str(log))
    assert "auto-scheduler (tuned)" in again and len(log.read_text().splitlines()) == 6


def test_autotvm_matmul_small(tmp_path):
    log = tmp_path / "mm.log"
    out = _run("examples/autotvm_matmul.py", "--size", "64", "--trials", "4", "--log", str(log))
    assert "tile_y: Split(policy=factors, product=64, num_outputs=2)" in out
    assert "tuned matmul 64x64x64 matches numpy" in out and len(log.read_text().splitlines()) == 4
    # run again: resumed from the log, the 4 logged configurations are not measured again
    again = _run("examples/autotvm_matmul.py", "--size", "64", "--trials", "4", "--tuner", "ga", "--log", str(log))
    lines = log.read_text().splitlines()
    assert "matches numpy" in again and len(lines) == 8 and len({line.split('"index": ')[1].split(",")[0]
                                                                for line in lines}) == 8


@pytest.mark.slow
def test_main_runs_the_five_phases_in_order(tmp_path):
    out = _run("examples/main.py", "--quick", "--workdir", str(tmp_path), timeout=600)
    starts = [out.index(f"Phase {i}:") for i in range(1, 6)]
    assert starts == sorted(starts) and "All five phases ran." in out
    assert "matches numpy" in out and (tmp_path / "matmul_autotune.json").exists()
