"""More rows for issue 11: bad inputs that used to fail deep inside (or pass silently).

Each row is (id, a zero-argument callable, the exception class, a regex the message must match);
the regex checks that the message names the user's object and says what was expected.
"""

import functools
import json

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import auto_scheduler, autotvm, relay, te
from tilecraft.runtime import graph_executor
from tilecraft.runtime.params import save_param_dict


def _dense_mod():
    x = relay.var("x", shape=(1, 8), dtype="float32")
    w = relay.var("weight", shape=(4, 8), dtype="float32")
    return tvm.IRModule.from_expr(relay.Function([x, w], relay.nn.dense(x, w)))


@functools.cache
def _factory():
    return relay.build(_dense_mod(), target="llvm", params={"weight": np.ones((4, 8), "float32")})


def _create(graph=None, lib=None, dev=None, *, as_dict=False):
    def run():
        f = _factory()
        g = json.loads(f.get_graph_json()) if as_dict else f.get_graph_json()
        graph_executor.create(g, f.get_lib() if lib is None else lib, tvm.cpu(0) if dev is None else dev)
    return run


def _no_lib():
    f = _factory()
    graph_executor.create(f.get_graph_json(), None, tvm.cpu(0))


@functools.cache
def _traced():
    import torch

    class AddOne(torch.nn.Module):
        def forward(self, x):
            return x + 1

    return torch.jit.trace(AddOne(), torch.ones(1, 4))


def _from_pytorch(infos):
    return lambda: relay.frontend.from_pytorch(_traced(), infos)


@functools.cache
def _scale():
    """scale(A, B, alpha): B = A * alpha over float32[4]."""
    A = te.placeholder((4,), name="A")
    alpha = te.var("alpha", "float32")
    B = te.compute((4,), lambda i: A[i] * alpha, name="B")
    return tvm.build(te.create_schedule(B.op), [A, B, alpha], target="llvm", name="scale")


def _call_scale(alpha):
    def run():
        b = tvm.nd.empty((4,))
        _scale()(tvm.nd.array(np.ones(4, "float32")), b, alpha)
        return b.numpy()
    return run


def _get_output_by_name():
    tvm.contrib.graph_executor.GraphModule(_factory()["default"](tvm.cpu(0))).get_output("out")


TABLE = [
    # ------------------------------------------------------------------ graph executor
    ("create with a parsed graph dict", _create(as_dict=True), TypeError, r"graph_json.*got dict.*json\.dumps"),
    ("create with lib None", _no_lib, TypeError, r"lib must be the compiled module.*got None"),
    ("create with a device name", _create(dev="cpu"), TypeError, r"device must be a Device.*tvm\.cpu\(0\).*'cpu'"),
    ("get_output by name", _get_output_by_name, TypeError, r"get_output\('out'\).*indexed by number, 0\.\.0"),
    # ------------------------------------------------------------------ parameter files
    ("load_param_dict of a path", lambda: tvm.runtime.load_param_dict("path.bin"), TypeError,
     r"bytes of a parameter file.*open\('path.bin', 'rb'\)\.read\(\)"),
    ("load_param_dict of None", lambda: tvm.runtime.load_param_dict(None), TypeError,
     r"bytes of a parameter file.*got NoneType"),
    ("save_param_dict int name", lambda: save_param_dict({1: np.ones(2)}), TypeError,
     r"names must be str, got 1 \(int\)"),
    # ------------------------------------------------------------------ NDArray
    ("nd.empty of a huge shape", lambda: tvm.nd.empty((1 << 40, 1 << 30)), ValueError,
     r"shape \(1099511627776, 1073741824\).*more than any memory"),
    ("nd.empty of a string", lambda: tvm.nd.empty("abc"), TypeError, r"shape \('abc',\) must hold integers"),
    ("nd.empty of a float dim", lambda: tvm.nd.empty((2.5,)), TypeError, r"shape \(2\.5,\) must hold integers"),
    ("nd.array of ragged lists", lambda: tvm.nd.array([[1, 2], [3]]), ValueError,
     r"nd\.array: the nested lists \[\[1, 2\], \[3\]\] are ragged"),
    # ------------------------------------------------------------------ relay.build
    ("relay.build of a bare Var", lambda: relay.build(relay.var("x", shape=(2, 3)), target="llvm"), TypeError,
     r"relay\.build takes an IRModule or a relay\.Function, got Var.*IRModule\.from_expr"),
    ("relay.build params as a list", lambda: relay.build(_dense_mod(), target="llvm", params=[np.ones((4, 8))]),
     TypeError, r"params must be a dict \{name: array\}.*got list"),
    ("relay.build params keyed by Var", lambda: relay.build(_dense_mod(), target="llvm",
                                                            params={relay.var("weight"): np.ones((4, 8))}),
     TypeError, r"keyed by parameter name \(str\), got the key"),
    # ------------------------------------------------------------------ importers
    ("from_pytorch infos None", _from_pytorch(None), TypeError, r"input_infos must be a list.*got None.*\(1, 3, 224"),
    ("from_pytorch shape a string", _from_pytorch([("x", "abc")]), ValueError,
     r"input_infos\[0\].*shape of 'x'.*got 'abc'.*\(\"name\", \(1, 3, 224, 224\)\)"),
    ("from_pytorch entry without a name", _from_pytorch([(1, 4)]), ValueError,
     r"input_infos\[0\] = \(1, 4\): each entry is a \(name, shape\) pair"),
    ("from_pytorch negative dim", _from_pytorch([("x", (1, -4))]), ValueError,
     r"shape of 'x' must be a tuple of non-negative ints, got \(1, -4\)"),
    ("from_pytorch unknown dtype", _from_pytorch([("x", ((1, 4), "float33"))]), ValueError,
     r"dtype of 'x': unknown dtype 'float33'.*\(\"name\", \(\(1, 128\), \"int64\"\)\)"),
    # ------------------------------------------------------------------ te and calls
    ("reduce_axis negative extent", lambda: te.reduce_axis((0, -1), name="k"), ValueError,
     r"reduce_axis k: the range \(0, -1\) has extent -1"),
    ("reduce_axis max below min", lambda: te.reduce_axis((5, 2), name="r"), ValueError,
     r"reduce_axis r: the range \(5, 2\) has extent -3"),
    ("compute negative shape names it", lambda: te.compute((3, -4), lambda i, j: i + j, name="C"), ValueError,
     r"compute C: shape entries must be >= 0, got -4"),
    ("float32 scalar argument 1e300", _call_scale(1e300), ValueError,
     r"argument 2 \('alpha'\) = 1e\+300 does not fit in float32.*inf"),
    ("float32 scalar argument -1e39", _call_scale(-1e39), ValueError, r"'alpha'.*-1e\+39 does not fit in float32"),
    # ------------------------------------------------------------------ targets
    ("target -opt-level=9", lambda: tvm.target.Target("llvm -opt-level=9"), ValueError,
     r"'-opt-level' is 0\.\.3.*not 9"),
    ("target -max_num_threads=0", lambda: tvm.target.Target("cuda -max_num_threads=0"), ValueError,
     r"'-max_num_threads' must be positive, not 0"),
    ("target -arch=sm_1000", lambda: tvm.target.Target("cuda -arch=sm_1000"), ValueError,
     r"'-arch=sm_1000' is not a CUDA architecture.*sm_80"),
    ("target -arch without sm_", lambda: tvm.target.Target("cuda -arch=80"), ValueError,
     r"'-arch=80' is not a CUDA architecture"),
    ("target option given twice", lambda: tvm.target.Target("llvm -mcpu=skylake -mcpu=znver3"), ValueError,
     r"'-mcpu' is given twice"),
    # ------------------------------------------------------------------ tuning
    ("autotvm task of ints", lambda: autotvm.task.create("dense_nopack.x86", args=(1, 2), target="llvm"), TypeError,
     r"argument 0 \('data'\) of the template must be a tensor.*\('TENSOR', shape, dtype\).*got 1"),
    ("SketchPolicy of a string", lambda: auto_scheduler.SketchPolicy("task"), TypeError,
     r"takes an auto_scheduler\.SearchTask, got 'task'"),
    ("load_records of a missing file", lambda: auto_scheduler.load_records("/nonexistent/x.json"), FileNotFoundError,
     r"load_records: no tuning log at '/nonexistent/x\.json'"),
    ("load_best_record of a missing file", lambda: auto_scheduler.load_best_record("/nonexistent/x.json"),
     FileNotFoundError, r"load_best_record: no tuning log at '/nonexistent/x\.json'"),
    ("LocalBuilder n_parallel=0", lambda: autotvm.LocalBuilder(n_parallel=0), ValueError,
     r"n_parallel must be a positive.*got 0"),
    ("HardwareParams num_cores=-1", lambda: auto_scheduler.HardwareParams(num_cores=-1), ValueError,
     r"num_cores must be positive, got -1"),
    ("HardwareParams num_cores=0 for cuda", lambda: auto_scheduler.HardwareParams(num_cores=0, target="cuda"),
     ValueError, r"num_cores must be positive, got 0"),
]


@pytest.mark.parametrize("cid, thing, exc, pattern", TABLE, ids=[row[0] for row in TABLE])
def test_bad_input(cid, thing, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thing()


def test_legitimate_uses_still_work():
    assert tvm.nd.empty(3).shape == (3,)
    assert tvm.nd.empty(te.placeholder((3, 4), name="A").shape).shape == (3, 4)
    assert tvm.nd.empty((np.int64(2), 0)).shape == (2, 0)
    f = _factory()
    m = graph_executor.create(f.get_graph_json(), f.get_lib(), tvm.cpu(0))
    m.load_params(save_param_dict(f.get_params()))
    m.set_input("x", np.ones((1, 8), "float32"))
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), np.full((1, 4), 8.0))
    assert list(tvm.runtime.load_param_dict(save_param_dict({"w": np.ones(2)}))) == ["w"]
    assert te.reduce_axis((0, 0), name="k").dom.extent.value == 0  # an empty reduction: the init value
    assert _call_scale(3.4e38)()[0] == np.float32(3.4e38)
    assert np.isinf(_call_scale(float("inf"))()).all() and np.isnan(_call_scale(float("nan"))()).all()
    assert str(tvm.target.cuda(arch="sm_80", options="-arch=sm_90a")) == "cuda -model=unknown -arch=sm_90a"
    assert tvm.target.Target("cuda -arch=compute_75").arch == "compute_75"
    assert tvm.target.Target("llvm -opt-level=0").opt_level == 0
    assert auto_scheduler.HardwareParams(num_cores=-1, target="cuda").num_cores == -1  # classic's GPU value
    assert auto_scheduler.HardwareParams.from_list([-1, 16, 64, 0, 0, 0, 0, 0]).num_cores == -1
    for infos in ([("x", (1, 4))], [("x", ((1, 4), "float32"))], {"x": [1, 4]}):
        mod, _ = relay.frontend.from_pytorch(_traced(), infos)
        assert int(mod["main"].params[0].type_annotation.shape[1]) == 4


def test_an_unknown_pass_name_is_warned_about_with_close_matches():
    """A warning, not an error: a user's own pass may be built after the context, and classic code
    disables classic passes that tilecraft lacks."""
    with pytest.warns(UserWarning, match=r"no pass is named 'FoldConstnat'.*did you mean 'FoldConstant'"):
        tvm.transform.PassContext(disabled_pass=["FoldConstnat"])
    with pytest.warns(UserWarning, match=r"no pass is named 'NoSuchPass'"):
        tvm.transform.PassContext(disabled_pass=["NoSuchPass"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tvm.transform.PassContext(disabled_pass=["AlterOpLayout", "FoldScaleAxis", "SimplifyInference",
                                                 "VectorizeLoop", "tir.LoopPartition", "FastMath"])
