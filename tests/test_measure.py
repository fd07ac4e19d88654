"""tilecraft.measure: compile a torch model through both import paths, verify, time."""

import numpy as np
import pytest

from tilecraft.measure import VerificationError, compile_torch, latency, verify

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


@pytest.mark.parametrize("path", ["trace", "export"])
def test_compile_torch_small_cnn(path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4)).eval()
    x = torch.randn(2, 3, 16, 16)
    compiled = compile_torch(model, (x,), path=path)
    with torch.no_grad():
        ref = model(x).numpy()
    verify(compiled(x), [ref], atol=1e-4, rtol=1e-4)
    assert compiled.compile_seconds > 0 and compiled.import_path == path
    with pytest.raises(ValueError, match="unknown import path"):
        compile_torch(model, (x,), path="onnx-ish")
