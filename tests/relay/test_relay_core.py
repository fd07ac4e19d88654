"""The relay core: typing, printing, fusion, relay.build, the graph executor and deploy artifacts."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor

RNG = np.random.default_rng(7)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _chain():
    x = relay.var("x", shape=(4, 8))
    y = relay.var("y", shape=(4, 8))
    z = relay.nn.relu(relay.add(x, y)) * relay.const(2.0)
    w = relay.exp(z) - x
    return relay.Function([x, y], relay.Tuple([w, z]))


def _run(lib, **inputs):
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for k, v in inputs.items():
        m.set_input(k, v)
    m.run()
    return [m.get_output(i).numpy() for i in range(m.get_num_outputs())]


def test_infer_type_and_text():
    mod = relay.transform.InferType()(tvm.IRModule.from_expr(_chain()))
    text = str(mod)
    assert "nn.relu(%0)" in text and "Tensor[(4, 8), float32]" in text
    assert mod["main"].body.ty.fields[0].shape == (4, 8)


def test_type_error_names_operator_and_inputs():
    x = relay.var("x", shape=(4, 8))
    w = relay.var("w", shape=(16, 9))
    f = relay.Function([x, w], relay.nn.dense(x, w))
    with pytest.raises(TypeError, match=r"nn.dense: data has 8 features but weight expects 9"):
        relay.transform.InferType()(tvm.IRModule.from_expr(f))


def test_missing_input_type_is_named():
    x = relay.var("x")
    with pytest.raises(TypeError, match=r"input %x has no type"):
        relay.build(tvm.IRModule.from_expr(relay.Function([x], relay.nn.relu(x))), target="llvm")


def test_build_fuses_and_matches_numpy():
    lib = relay.build(tvm.IRModule.from_expr(_chain()), target="llvm")
    graph = json.loads(lib.get_graph_json())
    kernels = [n for n in graph["nodes"] if n["op"] == "tvm_op"]
    assert len(kernels) == 2  # add+relu+multiply, exp+subtract
    a, b = _rand(4, 8), _rand(4, 8)
    w, z = _run(lib, x=a, y=b)
    zz = np.maximum(a + b, 0) * 2
    np.testing.assert_allclose(z, zz, rtol=1e-6)
    np.testing.assert_allclose(w, np.exp(zz) - a, rtol=1e-5)


def test_identical_groups_share_one_kernel():
    x = relay.var("x", shape=(3, 5))
    y = x
    for _ in range(4):
        y = relay.exp(relay.negative(relay.sum(relay.nn.relu(y), axis=1, keepdims=True))) * y
    lib = relay.build(tvm.IRModule.from_expr(relay.Function([x], y)), target="llvm")
    names = {n["attrs"]["func_name"] for n in json.loads(lib.get_graph_json())["nodes"] if n["op"] == "tvm_op"}
    assert len(names) <= 2
    a = _rand(3, 5)
    ref = a
    for _ in range(4):
        ref = np.exp(-np.maximum(ref, 0).sum(1, keepdims=True)) * ref
    np.testing.assert_allclose(_run(lib, x=a)[0], ref, rtol=1e-5)


def test_memory_planning_reuses_storage():
    x = relay.var("x", shape=(64, 64))
    y = x
    for _ in range(6):  # a chain of reductions cannot fuse, so every value is materialized
        y = relay.sum(y, axis=1, keepdims=True) + y
    lib = relay.build(tvm.IRModule.from_expr(relay.Function([x], y)), target="llvm")
    g = json.loads(lib.get_graph_json())
    sids = g["attrs"]["storage_id"][1]
    assert len(set(sids)) < len(sids)
    a = _rand(64, 64)
    ref = a
    for _ in range(6):
        ref = ref.sum(1, keepdims=True) + ref
    np.testing.assert_allclose(_run(lib, x=a)[0], ref, rtol=1e-4)


def test_executor_api_and_errors():
    lib = relay.build(tvm.IRModule.from_expr(_chain()), target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    assert m.get_num_outputs() == 2
    a, b = _rand(4, 8), _rand(4, 8)
    m.set_input(0, tvm.nd.array(a))
    m.set_input("y", b)
    m.run()
    np.testing.assert_allclose(m.get_output(1).numpy(), np.maximum(a + b, 0) * 2, rtol=1e-6)
    with pytest.raises(KeyError, match="no input named 'nope'"):
        m.set_input("nope", a)
    with pytest.raises(ValueError, match=r"input 'x': expected shape \(4, 8\)"):
        m.set_input("x", _rand(2, 8))
    with pytest.raises(IndexError):
        m.get_output(5)
    prof = m.benchmark(repeat=3, number=2)
    assert len(prof.results) == 3 and prof.median > 0
    per_kernel = m.profile(number=3)
    assert len(per_kernel) == 2 and abs(sum(s for _, _, s in per_kernel) - 1) < 1e-6


def test_params_become_constants():
    x = relay.var("x", shape=(2, 6))
    w = relay.var("w", shape=(6,))
    f = relay.Function([x, w], relay.multiply(x, w) + relay.const(1.0))
    wv = _rand(6)
    lib = relay.build(tvm.IRModule.from_expr(f), target="llvm", params={"w": wv})
    assert list(lib.get_params()) == ["p0"]
    a = _rand(2, 6)
    np.testing.assert_allclose(_run(lib, x=a)[0], a * wv + 1, rtol=1e-6)


def test_deploy_artifacts_round_trip_without_torch(tmp_path):
    x = relay.var("x", shape=(3, 4))
    w = relay.var("w", shape=(3, 4))
    f = relay.Function([x, w], relay.nn.relu(x * w))
    wv = _rand(3, 4)
    lib = relay.build(tvm.IRModule.from_expr(f), target="llvm", params={"w": wv})
    paths = lib.save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["deploy_graph.json", "deploy_lib.tar", "deploy_params.bin"]
    assert all(os.path.getsize(p) > 0 for p in paths.values())
    a = _rand(3, 4)
    np.save(tmp_path / "in.npy", a)
    code = (
        "import sys; sys.modules['torch'] = None\n"  # prove torch is not needed
        "import numpy as np, tilecraft as tvm\n"
        "from tilecraft import relay\n"
        f"m = relay.load_deployed({str(tmp_path)!r})\n"
        f"m.set_input('x', np.load({str(tmp_path / 'in.npy')!r})); m.run()\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, m.get_output(0).numpy())\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "src"))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), np.maximum(a * wv, 0), rtol=1e-6)


def test_params_file_is_safetensors(tmp_path):
    from tilecraft.runtime.params import load_param_dict, save_param_dict

    params = {"a": _rand(2, 3), "b": np.arange(5, dtype="int32")}
    data = save_param_dict(params)
    back = load_param_dict(data)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    st = pytest.importorskip("safetensors.numpy")
    for k, v in st.load(data).items():
        np.testing.assert_array_equal(v, params[k])
    with pytest.raises(ValueError, match="not a safetensors"):
        load_param_dict(b"\x00" * 4)
