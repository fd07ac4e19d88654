"""LocalBuilder / LocalRunner: candidates are built and timed in worker processes; a candidate
that crashes, hangs or fails becomes an error result with the classic number, and the batch
goes on with the others measured (and checked against the reference) correctly."""

import dataclasses
import os
import subprocess
import sys
import textwrap

import pytest
from tuning_candidates import Matmul

from tilecraft.tuning import MAX_COST, LocalBuilder, LocalRunner, MeasureErrorNo

E = MeasureErrorNo
FAST = dict(number=1, repeat=1, min_repeat_ms=0)
BUILD_TIMEOUT, RUN_TIMEOUT = 8, 4


@pytest.fixture(scope="module")
def builder():
    with LocalBuilder(timeout=BUILD_TIMEOUT, n_parallel=2) as b:
        yield b


@pytest.fixture(scope="module")
def runner():
    with LocalRunner(timeout=RUN_TIMEOUT, check_correctness=True, **FAST) as r:
        yield r


KINDS = ["ok", "segv", "wrong", "hang", "bad_instantiate", "sigill", "build_crash", "build_hang", "ok"]


@pytest.fixture(scope="module")
def batch(builder, runner):
    """One tuning round with every kind of failure mixed among good candidates."""
    inputs = [Matmul(n=16, factor=2 + i % 3, kind=k) for i, k in enumerate(KINDS)]
    builds = builder.build(inputs, verbose=0)
    return dict(zip(range(len(KINDS)), zip(KINDS, builds, runner.run(inputs, builds, verbose=0))))


def _result(batch, kind, which=0):
    return [r for k, _, r in batch.values() if k == kind][which]


def test_good_candidates_are_measured_and_checked(batch):
    for which in (0, 1):  # before and after all the failures
        res = _result(batch, "ok", which)
        assert res.error_no == E.NO_ERROR, res
        assert len(res.costs) == 1 and 0 < res.costs[0] < 1 and res.error_msg == ""
        assert res.all_cost > 0 and res.timestamp > 0
    build = batch[0][1]
    assert build.filename.endswith((".so", ".tar")) and os.path.exists(build.filename)
    assert build.arg_info == (((16, 16), "float32"),) * 3


def test_kernel_segfault_and_sigill_become_runtime_errors(batch):
    for kind, sig in (("segv", "SIGSEGV"), ("sigill", "SIGILL")):
        res = _result(batch, kind)
        assert res.error_no == E.RUNTIME_DEVICE and res.costs == (MAX_COST,), res
        assert sig in res.error_msg and "\n" not in res.error_msg


def test_hanging_kernel_is_killed_after_the_timeout(batch):
    res = _result(batch, "hang")
    assert res.error_no == E.RUN_TIMEOUT and f"{RUN_TIMEOUT} s" in res.error_msg, res
    assert res.all_cost < RUN_TIMEOUT + 10


def test_build_side_failures(batch):
    res = _result(batch, "bad_instantiate")
    assert res.error_no == E.INSTANTIATION_ERROR and "does not divide" in res.error_msg
    res = _result(batch, "build_crash")
    assert res.error_no == E.COMPILE_HOST and "SIGILL" in res.error_msg
    res = _result(batch, "build_hang")
    assert res.error_no == E.BUILD_TIMEOUT and f"{BUILD_TIMEOUT} s" in res.error_msg


def test_wrong_answer_is_detected(batch):
    res = _result(batch, "wrong")
    assert res.error_no == E.WRONG_ANSWER, res
    assert "output 2" in res.error_msg and "differs from the reference" in res.error_msg


def test_workers_are_kept_between_calls(builder, runner, batch):
    inputs = [Matmul(n=8, factor=4)]
    before = runner._pool.pids()
    res = runner.run(inputs, builder.build(inputs, verbose=0), verbose=0)
    assert res[0].error_no == E.NO_ERROR and runner._pool.pids() == before


def test_mismatched_argument_shapes_are_an_error(builder):
    inp = Matmul(n=8, factor=4)
    (build,) = builder.build([inp], verbose=0)
    wrong = dataclasses.replace(build, arg_info=(((4, 4), "float32"),) * 3)
    with LocalRunner(timeout=RUN_TIMEOUT, **FAST) as r:
        (res,) = r.run([inp], [wrong], verbose=0)
    assert res.error_no == E.RUNTIME_DEVICE and "shape" in res.error_msg, res
    # with check_correctness the reference's shapes are the yardstick: a WRONG_ANSWER
    with LocalRunner(timeout=RUN_TIMEOUT, check_correctness=True, **FAST) as r:
        (res,) = r.run([Matmul(n=4, factor=2)], [build], verbose=0)
    assert res.error_no == E.WRONG_ANSWER and "differ from the reference" in res.error_msg, res


def test_importing_tilecraft_imports_no_optional_heavyweights():
    code = ("import sys, tilecraft, tilecraft.tuning; "
            "print([m for m in ('dask', 'distributed', 'xgboost', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_script_without_main_guard_can_measure_its_own_candidates(tmp_path):
    """Workers never re-import __main__, so tutorial-style top-level scripts work, and a
    candidate class defined in the script travels by value (cloudpickle)."""
    pytest.importorskip("cloudpickle")
    script = tmp_path / "tune_me.py"
    script.write_text(textwrap.dedent("""
        from tilecraft import te
        from tilecraft.tuning import LocalBuilder, LocalRunner

        class Cand:
            target = "llvm"
            def instantiate(self):
                A = te.placeholder((8,), name="A")
                B = te.compute((8,), lambda i: A[i] * 2.0, name="B")
                return te.create_schedule(B.op), [A, B]
            reference = instantiate

        b = LocalBuilder(timeout=20, n_parallel=1)
        r = LocalRunner(timeout=20, number=1, repeat=1, min_repeat_ms=0, check_correctness=True)
        print("RESULT", r.run([Cand()], b.build([Cand()], verbose=0), verbose=0)[0].error_no)
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert "RESULT 0" in proc.stdout, proc.stdout + proc.stderr


def test_a_candidate_that_cannot_be_pickled_is_an_instantiation_error(builder):
    import threading

    inp = Matmul(n=8, factor=4)
    inp.lock = threading.Lock()  # cannot travel to a worker process
    (res,) = builder.build([inp], verbose=0)
    assert res.error_no == E.INSTANTIATION_ERROR and "could not be sent" in res.error_msg, res
