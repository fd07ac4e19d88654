"""What relay.build returns, as classic code uses it: the exported library carries the graph and the
parameters (`GraphModule(load_module(path)["default"](dev))` in a fresh process), the legacy
three-value form, `relay.build_config`, and the three-file deployment beside them."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.runtime.graph_executor import GraphExecutorFactoryModule


def _model():
    rng = np.random.default_rng(0)
    x = relay.var("x", shape=(3, 8))
    w = relay.var("w", shape=(5, 8))
    b = relay.var("b", shape=(5,))
    f = relay.Function([x, w, b], relay.nn.relu(relay.nn.bias_add(relay.nn.dense(x, w), b)))
    params = {"w": rng.standard_normal((5, 8)).astype("float32"), "b": rng.standard_normal(5).astype("float32")}
    data = rng.standard_normal((3, 8)).astype("float32")
    ref = np.maximum(data @ params["w"].T + params["b"], 0)
    return tvm.IRModule.from_expr(f), params, data, ref


def _build(opt_level=3):
    mod, params, data, ref = _model()
    with tvm.transform.PassContext(opt_level=opt_level):
        return relay.build(mod, target="llvm", params=params), data, ref


@pytest.mark.parametrize("suffix", [".tar", ".so"])
def test_exported_library_carries_graph_and_params_into_a_fresh_process(tmp_path, suffix):
    lib, data, ref = _build()
    path = tmp_path / f"deploy_lib{suffix}"
    lib.export_library(str(path))
    np.save(tmp_path / "x.npy", data)
    script = textwrap.dedent(f"""
        import numpy as np, tilecraft as tvm
        from tilecraft.contrib import graph_executor
        lib = tvm.runtime.load_module({str(path)!r})
        m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
        m.set_input("x", np.load({str(tmp_path / "x.npy")!r}))
        m.run()
        np.save({str(tmp_path / "y.npy")!r}, m.get_output(0).numpy())
        print(type(lib).__name__, sorted(lib.get_params()))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"GraphExecutorFactoryModule {sorted(lib.get_params())}" in proc.stdout  # the parameters came along
    assert lib.get_params()
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), ref, rtol=1e-5, atol=1e-5)


def test_loaded_factory_exposes_its_kernels_and_parts(tmp_path):
    lib, data, _ = _build()
    lib.export_library(str(tmp_path / "lib.tar"))
    back = tvm.runtime.load_module(str(tmp_path / "lib.tar"))
    assert isinstance(back, GraphExecutorFactoryModule) and back.mod_name == "default"
    assert back.get_graph_json() == lib.get_graph_json()
    for k, v in lib.get_params().items():
        np.testing.assert_array_equal(back.get_params()[k].numpy(), v.numpy())
    kernel = back.function_names[0]
    assert kernel in back and back[kernel] is not None
    with pytest.raises(AttributeError, match="'nope'.*'default'"):
        back["nope"]


def test_three_file_deployment_still_works_with_a_kernels_only_library(tmp_path):
    lib, data, ref = _build()
    paths = lib.save(tmp_path)
    kernels = tvm.runtime.load_module(paths["lib"])
    assert not isinstance(kernels, GraphExecutorFactoryModule)  # save() writes the kernels beside the graph
    m = relay.load_deployed(tmp_path)
    m.set_input("x", data)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_legacy_three_values_from_relay_build():
    mod, params, data, ref = _model()
    with relay.build_config(opt_level=3):
        with pytest.warns(DeprecationWarning, match="legacy"):
            graph, lib, params = relay.build(mod, target="llvm", params=params)
    assert isinstance(graph, str) and all(hasattr(v, "numpy") for v in params.values())
    m = graph_executor.create(graph, lib, tvm.cpu(0))
    m.set_input(**params)
    m.set_input("x", data)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-5, atol=1e-5)


def test_build_config_is_a_pass_context():
    with relay.build_config(opt_level=3, disabled_pass=["FoldScaleAxis"]) as ctx:
        assert tvm.transform.PassContext.current() is ctx
        assert ctx.opt_level == 3 and "FoldScaleAxis" in ctx.disabled_pass
    assert relay.build_config().opt_level == 2
