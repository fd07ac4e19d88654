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
    assert set(stats.as_dict()) >= {"median_ms", "p90_ms", "std_ms"}


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
