"""deploy_params (safetensors): every array comes back with its shape and dtype, 0-d ones included."""

import numpy as np

from tilecraft.runtime.params import load_param_dict, save_param_dict


def test_params_round_trip_keeps_shapes_0d_included():
    params = {"index": np.array(7, "int64"), "scale": np.float32(0.5) * np.ones((), "float32"),
              "w": np.arange(6, dtype="float32").reshape(2, 3).T}  # a transposed (non C-contiguous) view
    back = load_param_dict(save_param_dict(params))
    for k, v in params.items():
        assert back[k].shape == v.shape and back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k], v)
