"""relay.nn.upsampling (classic): nearest by integer scales is np.repeat; bilinear with
align_corners matches PyTorch's interpolate."""

import numpy as np
import pytest

from tilecraft import relay


def _run(f, x):
    return relay.create_executor("graph", target="llvm").evaluate(f)(x).numpy()


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_nearest_by_integer_scales_repeats_pixels(layout):
    shape = (1, 3, 5, 7) if layout == "NCHW" else (1, 5, 7, 3)
    x = relay.var("x", shape=shape)
    data = np.random.default_rng(0).standard_normal(shape).astype("float32")
    out = _run(relay.Function([x], relay.nn.upsampling(x, 2, 3, layout=layout)), data)
    h, w = (2, 3) if layout == "NCHW" else (1, 2)
    np.testing.assert_array_equal(out, np.repeat(np.repeat(data, 2, axis=h), 3, axis=w))


def test_bilinear_align_corners_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = relay.var("x", shape=(1, 2, 4, 6))
    data = np.random.default_rng(1).standard_normal((1, 2, 4, 6)).astype("float32")
    out = _run(relay.Function([x], relay.nn.upsampling(x, 2, 2, method="bilinear", align_corners=True)), data)
    ref = torch.nn.functional.interpolate(torch.from_numpy(data), scale_factor=2, mode="bilinear",
                                          align_corners=True).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="method 'area'"):
        relay.nn.upsampling(x, 2, 2, method="area")
