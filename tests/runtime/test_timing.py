"""time_evaluator: classic TVM semantics (warm-up, number, repeat, min_repeat_ms)."""

import time

import numpy as np
import pytest

from tilecraft import runtime as rt
from tilecraft.runtime import ndarray as nd


def _args(n=64):
    return [nd.array(np.ones(n, "float32")) for _ in range(3)]


def test_results_per_repeat(add_module):
    ev = add_module.time_evaluator("add_float32", rt.cpu(0), number=5, repeat=4)
    res = ev(*_args())
    assert isinstance(res, rt.ProfileResult)
    assert len(res.results) == 4 and all(r > 0 for r in res.results)
    assert res.mean == pytest.approx(sum(res.results) / 4)
    assert res.min <= res.median <= res.max and res.std >= 0
    assert "ms" in repr(res)


def test_min_repeat_ms_grows_number(add_module):
    # each repeat must last at least 20 ms, so its calls number in the thousands
    ev = add_module.time_evaluator("add_float32", rt.cpu(0), number=1, repeat=2, min_repeat_ms=20)
    start = time.perf_counter()
    res = ev(*_args())
    elapsed = time.perf_counter() - start
    assert len(res.results) == 2
    assert elapsed >= 2 * 0.020
    assert max(res.results) < 1e-3  # per-call time, not the duration of the repeat


def test_time_evaluator_runs_the_function(add_module):
    a, b, c = _args(8)
    add_module.time_evaluator("add_float32", "cpu", number=2)(a, b, c)
    np.testing.assert_array_equal(c.numpy(), np.full(8, 2.0))


def test_time_evaluator_checks_arguments_and_options(add_module):
    ev = add_module.time_evaluator("add_float32", rt.cpu(0))
    with pytest.raises(ValueError, match="inconsistent size n"):
        ev(nd.empty((4,)), nd.empty((5,)), nd.empty((4,)))
    with pytest.raises(ValueError, match="f_preproc 'flush'"):
        add_module.time_evaluator("add_float32", rt.cpu(0), f_preproc="flush")
    with pytest.raises(ValueError, match="repeat must be a positive int"):
        add_module.time_evaluator("add_float32", rt.cpu(0), repeat=0)
    with pytest.raises(ValueError, match="runs on cpu\\(0\\), not on cuda\\(0\\)"):
        add_module.time_evaluator("add_float32", rt.cuda(0))
    with pytest.raises(AttributeError, match="no function 'missing'"):
        add_module.time_evaluator("missing", rt.cpu(0))


def test_cache_flush_preproc(add_module):
    ev = add_module.time_evaluator("add_float32", rt.cpu(0), number=1, repeat=2,
                                   f_preproc="cache_flush_cpu_non_first_arg")
    assert len(ev(*_args()).results) == 2


def test_error_code_during_timing():
    from runtime_ir import FAIL_INFO, FAIL_IR, artifact

    mod = rt.Module.from_artifact(artifact(FAIL_IR, FAIL_INFO))
    with pytest.raises(RuntimeError, match="warm-up call: fail failed.*error code 7"):
        mod.time_evaluator("fail", rt.cpu(0))(nd.empty((1,)))
