"""tilecraft.measure: compile a torch model through both import paths, verify, time."""

import time

import numpy as np
import pytest

from tilecraft.measure import VerificationError, latency, verify

torch = pytest.importorskip("torch")


def test_verify_reports_the_worst_element():
    ref = np.arange(6, dtype="float32").reshape(2, 3)
    out = ref.copy()
    assert verify([out], [ref])[0]["max_abs"] == 0
    out[1, 2] += 0.5
    with pytest.raises(VerificationError, match=r"output 0 .* at index \(1, 2\) got 5.5"):
        verify([out], [ref])
    with pytest.raises(VerificationError, match="shape"):
        verify([out[:1]], [ref])


def test_latency_statistics():
    stats = latency(lambda: sum(range(1000)), repeat=5, min_time=0.01)
    assert len(stats.results) == 5 and stats.min <= stats.median <= stats.max
    d = stats.as_dict()
    assert d["unit"] == "ms" and d["min"] <= d["p50"] <= d["p90"] <= d["p95"] <= d["p99"] <= d["max"]
    assert d["ci95"][0] <= d["mean"] <= d["ci95"][1] and d["repeats"] == 5


def test_latency_warms_up_for_warmup_time_seconds():
    calls = []
    t0 = time.perf_counter()
    latency(lambda: calls.append(time.perf_counter()), repeat=3, min_time=0.0, warmup=1, warmup_time=0.05)
    warm = [t for t in calls if t - t0 < 0.05]
    assert len(warm) > 1 and calls[-1] - t0 >= 0.05  # kept calling past the warm-up count, for 50 ms


def test_latency_statistics_match_numpy_and_student_t():
    from tilecraft.runtime.timing import latency_statistics

    rng = np.random.default_rng(0)
    xs = rng.uniform(1e-3, 2e-3, size=40)
    d = latency_statistics(xs)
    ms = xs * 1e3
    assert np.isclose(d["mean"], ms.mean()) and np.isclose(d["std"], ms.std(ddof=1))
    assert np.isclose(d["p95"], np.percentile(ms, 95)) and np.isclose(d["p50"], np.median(ms))
    half = 2.0227 * ms.std(ddof=1) / np.sqrt(40)  # t(0.975, 39)
    assert np.allclose(d["ci95"], [ms.mean() - half, ms.mean() + half], rtol=1e-3)
    assert latency_statistics([1e-3])["ci95"] == [1.0, 1.0]
    with pytest.raises(ValueError, match="no samples"):
        latency_statistics([])


def test_latency_measurer_counts_calls_and_feeds_inputs():
    from tilecraft.measure import LatencyMeasurer

    calls = []
    stats = LatencyMeasurer(warmup_iter=3, repeats=7).measure_callable(lambda: calls.append(1))
    assert len(calls) == 10 and stats["repeats"] == 7 and stats["warmup"] == 3
    seen = []
    LatencyMeasurer(1, 2).measure(lambda a, b: seen.append((a, b)), (1, 2))
    assert seen == [(1, 2)] * 3
    with pytest.raises(ValueError, match="repeats must be an int >= 1"):
        LatencyMeasurer(1, 0)
    with pytest.raises(TypeError, match="neither a graph module"):
        LatencyMeasurer(1, 1).measure(42, None)


@pytest.mark.parametrize("path", ["trace", "export", "onnx"])
def test_compile_pytorch_module_small_cnn(path):
    from tilecraft.measure import ExportConfig, compile_pytorch_module, verify_runtime

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4)).eval()
    x = torch.randn(2, 3, 16, 16)
    gm = compile_pytorch_module(model, ExportConfig(example_input=x, import_path=path))
    x2 = torch.randn(2, 3, 16, 16)  # fresh inputs, not the example the model was traced with
    with torch.no_grad():
        ref = model(x2).numpy()
    out = verify_runtime(gm, [("input_0", x2.numpy())], reference=[ref], atol=1e-4, rtol=1e-4)
    assert np.allclose(out[0], ref, atol=1e-4)
    with pytest.raises(VerificationError, match="output 0"):
        verify_runtime(gm, [("input_0", x2.numpy())], reference=[ref + 1])
    with pytest.raises(ValueError, match="unknown import_path"):
        ExportConfig(example_input=x, import_path="onnx-ish")


def test_example_inputs_are_token_ids_for_embedding_models():
    from tilecraft.measure import make_example_inputs

    emb = torch.nn.Sequential(torch.nn.Embedding(50, 8), torch.nn.Linear(8, 2))
    ids, mask = make_example_inputs(emb, [(1, 16), (1, 16)])
    assert ids.dtype == torch.int64 and 0 <= int(ids.min()) and int(ids.max()) < 50
    assert len(set(ids.flatten().tolist())) > 1
    assert mask.dtype == torch.int64 and bool((mask == 1).all())
    (x,) = make_example_inputs(torch.nn.Linear(4, 2), [(3, 4)])
    assert x.dtype == torch.float32 and float(x.std()) > 0.1
    (h,) = make_example_inputs(emb, [(2,)], dtype="float16")
    assert h.dtype == torch.float16
    with pytest.raises(ValueError, match="unknown example dtype"):
        make_example_inputs(emb, [(2,)], dtype="float99")


def test_export_result_has_inputs_stages_and_an_embedding_model_verifies():
    from tilecraft.measure import ExportConfig, export_pytorch_module, flatten_outputs, verify_runtime

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(30, 8), torch.nn.Linear(8, 3)).eval()
    res = export_pytorch_module(model, ExportConfig(input_shapes={"input_ids": (2, 5)}))
    assert res.input_names == ["input_ids"] and res.inputs[0].dtype == np.int64
    assert res.import_seconds > 0 and res.compile_seconds > 0 and res.tuning == {}
    with torch.no_grad():
        ref = flatten_outputs(model(torch.from_numpy(res.inputs[0])))
    verify_runtime(res.graph_module, res.named_inputs(), ref, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="needs example_input or input_shapes"):
        ExportConfig()
    with pytest.raises(ValueError, match="CPU"):
        export_pytorch_module(model, ExportConfig(input_shapes={"x": (2, 5)}, target="cuda"))


def test_max_seconds_bounds_a_slow_callable():
    import time as _time

    from tilecraft.measure import LatencyMeasurer

    stats = LatencyMeasurer(warmup_iter=5, repeats=1000, max_seconds=0.2).measure_callable(lambda: _time.sleep(0.02))
    assert 3 <= stats["repeats"] < 1000 and stats["time_limited"] is True and stats["warmup"] <= 5
    assert stats["min"] >= 19.0  # milliseconds: every call was timed whole
    fast = LatencyMeasurer(warmup_iter=2, repeats=5, max_seconds=60).measure_callable(lambda: None)
    assert fast["repeats"] == 5 and fast["warmup"] == 2 and "time_limited" not in fast
    with pytest.raises(ValueError, match="max_seconds"):
        LatencyMeasurer(max_seconds=0)
