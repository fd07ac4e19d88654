"""Legalize: a transposed convolution whose windows do not overlap (stride = kernel size) becomes a
1x1 convolution and a pixel shuffle; same numbers as the transposed convolution, other cases kept."""

import numpy as np
import pytest
from passes_ref import build_run, ops_in, rand, run_passes

from tilecraft import relay
from tilecraft.relay.transform import FoldConstant, Legalize


def _upsample(cin, cout, k, s, padding=(0, 0), output_padding=(0, 0), const_weight=True, bias=True):
    x = relay.var("x", shape=(1, cin, 5, 7))
    w = relay.const(rand(cin, cout, *k)) if const_weight else relay.var("w", shape=(cin, cout, *k))
    y = relay.nn.conv2d_transpose(x, w, strides=s, padding=padding, output_padding=output_padding,
                                  channels=cout, kernel_size=k)
    if bias:
        y = relay.nn.bias_add(y, relay.const(rand(cout, seed=3)))
    return relay.Function(relay.analysis.free_vars(y), y)


@pytest.mark.parametrize("cin, cout, k", [(16, 8, (2, 2)), (3, 5, (3, 3)), (8, 16, (2, 3))])
def test_non_overlapping_windows_become_a_1x1_conv_and_a_pixel_shuffle(cin, cout, k):
    f = _upsample(cin, cout, k, k)
    g = run_passes(f, [Legalize(), FoldConstant()])
    assert "nn.conv2d_transpose" not in ops_in(g) and "nn.conv2d" in ops_in(g)
    inputs = {"x": rand(1, cin, 5, 7, seed=1)}
    want = build_run(f, inputs, opt_level=0)  # Legalize runs from opt_level 1
    for level in (1, 3):
        for got, ref in zip(build_run(f, inputs, opt_level=level), want):
            np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", [
    dict(k=(3, 3), s=(2, 2)),                           # overlapping windows
    dict(k=(2, 2), s=(2, 2), padding=(1, 1)),           # padded
    dict(k=(2, 2), s=(2, 2), output_padding=(1, 1)),    # an extra row and column
    dict(k=(2, 2), s=(2, 2), const_weight=False),       # a weight that is an input
])
def test_other_transposed_convolutions_are_kept(case):
    f = _upsample(4, 4, **case)
    assert "nn.conv2d_transpose" in ops_in(run_passes(f, [Legalize()]))
