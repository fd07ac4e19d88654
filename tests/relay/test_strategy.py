"""Operator strategies: which kernel each call gets, and that a configuration from the dispatch
context (what a tuning log will provide) changes the choice and the layout, never the numbers."""

import threading

import numpy as np
import pytest
import torch
from passes_ref import build_run, ops_in, rand

import tilecraft as tvm
from tilecraft import relay, te
from tilecraft.relay.expr import Call
from tilecraft.relay.op import get
from tilecraft.relay.op.strategy import op_strategy, select_implementation, workload_of
from tilecraft.relay.visitor import post_order
from tilecraft.target import Target
from tilecraft.tuning import ApplyConfig, current_context
from tilecraft.tuning.space import ConfigEntity, SplitEntity

CPU = Target("llvm")


def _placeholders(*shapes):
    return [te.placeholder(s, "float32", name=f"a{i}") for i, s in enumerate(shapes)]


def _conv_call(cin=32, cout=64, groups=1):
    x = relay.var("x", shape=(1, cin, 10, 10))
    w = relay.const(rand(cout, cin // groups, 3, 3, seed=1))
    return x, w, relay.nn.conv2d(x, w, padding=(1, 1), groups=groups)


def _conv_selection(cin, cout, groups=1):
    _, _, c = _conv_call(cin, cout, groups)
    c = relay.transform.infer_type.infer_type(relay.Function([c.args[0]], c)).body
    ins = _placeholders(c.args[0].ty.shape, c.args[1].ty.shape)
    return select_implementation(c.op, c.attrs, ins, c.ty, CPU), ins, c


def _torch_conv(x, w, groups=1):
    return torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1, groups=groups).numpy()


def _tuned(impl, call, ins, cost, **splits):
    """A configuration as a tuning log gives it: the implementation's default knobs with `splits`
    (knob -> innermost factor) changed, and the measured cost."""
    base = impl.config(call.attrs, ins, call.ty)
    entities = dict(base._entity_map) if base else {}
    entities.update({k: SplitEntity([-1, v]) for k, v in splits.items()})
    cfg = ConfigEntity(0, None, entities)
    cfg.cost = cost
    return cfg


def _key(impl, call, ins):
    return workload_of(impl, call.attrs, ins, call.ty)


@pytest.mark.parametrize("cin,cout,groups,expected", [
    (32, 64, 1, "conv2d_NCHWc.x86"),
    (3, 64, 1, "conv2d_NCHWc.x86"),  # 3 input channels are one block (NCHW3c)
    (20, 64, 1, "conv2d_nchw.x86"),  # 20 input channels do not block
    (32, 32, 32, "depthwise_conv2d_NCHWc.x86"),
    (12, 12, 12, "depthwise_conv2d_nchw.x86"),  # 12 channels do not block
    (32, 64, 4, "group_conv2d_nchw.x86"),
])
def test_conv2d_strategy_picks_by_shape(cin, cout, groups, expected):
    chosen, _, _ = _conv_selection(cin, cout, groups)
    assert chosen.impl.name == expected and not chosen.tuned
    if expected == "conv2d_NCHWc.x86":
        assert (chosen.config["tile_ic"].size[-1], chosen.config["tile_oc"].size[-1]) == (min(cin, 16), 16)
    if expected == "depthwise_conv2d_NCHWc.x86":
        assert set(chosen.config.space_map) == {"tile_ow", "unroll_kw"}  # the block comes from the layout


def test_every_implementation_of_a_call_computes_the_same_numbers():
    """The blocked and the direct conv2d kernels (what a tuner chooses between) agree with PyTorch,
    at opt_level 2, where no layout pass runs and the blocked kernel re-lays out inside itself."""
    x, w, c = _conv_call(16, 24)
    f = relay.Function([x], relay.nn.relu(c))
    xv = rand(1, 16, 10, 10, seed=7)
    ref = np.maximum(_torch_conv(xv, w.data), 0)
    _, ins, call = _conv_selection(16, 24)
    names = [i.name for i in op_strategy(call.op, call.attrs, ins, call.ty, CPU).implementations]
    assert names == ["conv2d_NCHWc.x86", "conv2d_nchw.x86"]
    for name in names:
        impl = next(i for i in op_strategy(call.op, call.attrs, ins, call.ty, CPU).implementations if i.name == name)
        with ApplyConfig({_key(impl, call, ins): _tuned(impl, call, ins, 0.0)}):
            assert select_implementation(call.op, call.attrs, ins, call.ty, CPU).impl.name == name
            (out,) = build_run(f, {"x": xv}, opt_level=2)
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_layout_comes_from_the_selected_configuration():
    """A tuned conv2d_NCHWc config with 8-channel blocks makes AlterOpLayout use NCHW8c; a tuned
    direct kernel that measured faster keeps NCHW; the numbers never change."""
    x, w, c = _conv_call(32, 64)
    f = relay.Function([x], c)
    xv = rand(1, 32, 10, 10, seed=3)
    ref = _torch_conv(xv, w.data)
    chosen, ins, call = _conv_selection(32, 64)
    nchwc = chosen.impl
    direct = next(i for i in op_strategy(call.op, call.attrs, ins, call.ty, CPU).implementations
                  if i.name == "conv2d_nchw.x86")

    with tvm.transform.PassContext(opt_level=3), Target("llvm"):
        g = relay.transform.AlterOpLayout()(tvm.IRModule.from_expr(f))["main"]
    assert [n.attrs["data_layout"] for n in post_order(g) if isinstance(n, Call)
            and n.op.name == "nn.contrib_conv2d_NCHWc"] == ["NCHW16c"]

    with ApplyConfig({_key(nchwc, call, ins): _tuned(nchwc, call, ins, 1e-3, tile_ic=8, tile_oc=8)}):
        with tvm.transform.PassContext(opt_level=3), Target("llvm"):
            g = relay.transform.AlterOpLayout()(tvm.IRModule.from_expr(f))["main"]
        convs = [n for n in post_order(g) if isinstance(n, Call) and n.op.name == "nn.contrib_conv2d_NCHWc"]
        assert [(n.attrs["data_layout"], n.attrs["kernel_layout"]) for n in convs] == [("NCHW8c", "OIHW8i8o")]
        (out,) = build_run(f, {"x": xv})
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)

    faster_direct = {_key(nchwc, call, ins): _tuned(nchwc, call, ins, 2e-3),
                     _key(direct, call, ins): _tuned(direct, call, ins, 1e-3)}
    with ApplyConfig(faster_direct):
        with tvm.transform.PassContext(opt_level=3), Target("llvm"):
            g = relay.transform.AlterOpLayout()(tvm.IRModule.from_expr(f))["main"]
        assert "nn.contrib_conv2d_NCHWc" not in ops_in(g) and "nn.conv2d" in ops_in(g)
        (out,) = build_run(f, {"x": xv})
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_dense_packs_constant_weights_unless_the_plain_kernel_is_tuned_faster():
    x = relay.var("x", shape=(8, 64))
    wv = rand(48, 64, seed=2)
    f = relay.Function([x], relay.nn.dense(x, relay.const(wv)))
    xv = rand(8, 64, seed=4)
    with tvm.transform.PassContext(opt_level=3), Target("llvm"):
        g = relay.transform.AlterOpLayout()(tvm.IRModule.from_expr(f))["main"]
    assert "nn.contrib_dense_pack" in ops_in(g)
    call = relay.transform.infer_type.infer_type(f).body
    ins = _placeholders((8, 64), (48, 64))
    impls = {i.name: i for i in op_strategy(get("nn.dense"), call.attrs, ins, call.ty, CPU).implementations}
    assert set(impls) == {"dense_pack.x86", "dense_nopack.x86"}
    nopack = impls["dense_nopack.x86"]
    with ApplyConfig({_key(nopack, call, ins): _tuned(nopack, call, ins, 1e-6)}):
        with tvm.transform.PassContext(opt_level=3), Target("llvm"):
            g = relay.transform.AlterOpLayout()(tvm.IRModule.from_expr(f))["main"]
        assert "nn.contrib_dense_pack" not in ops_in(g)
        (out,) = build_run(f, {"x": xv})
    np.testing.assert_allclose(out, xv @ wv.T, rtol=1e-4, atol=1e-4)


def test_dense_with_a_runtime_weight_packs_inside_its_kernel():
    x, w = relay.var("x", shape=(4, 32)), relay.var("w", shape=(16, 32))
    f = relay.Function([x, w], relay.nn.relu(relay.nn.dense(x, w)))
    xv, wv = rand(4, 32, seed=5), rand(16, 32, seed=6)
    (out,) = build_run(f, {"x": xv, "w": wv})
    np.testing.assert_allclose(out, np.maximum(xv @ wv.T, 0), rtol=1e-4, atol=1e-4)


def test_dispatch_context_is_per_thread():
    seen = []
    with ApplyConfig({}) as ctx:
        t = threading.Thread(target=lambda: seen.append(current_context()))
        t.start()
        t.join()
        assert current_context() is ctx
    assert seen[0] is not ctx


def test_an_operator_without_an_implementation_for_the_target_is_named():
    _, ins, call = _conv_selection(32, 64)
    with pytest.raises(ValueError, match=r"nn\.conv2d has no implementation for target cuda"):
        op_strategy(call.op, call.attrs, ins, call.ty, Target("cuda"))
    # element-wise operators have their family's schedule on each target
    add = get("add")
    assert op_strategy(add, {}, ins, None, Target("cuda")).implementations[0].name == "injective.cuda"
    assert op_strategy(add, {}, ins, None, Target("llvm")).implementations[0].name == "injective.x86"


def test_constant_folding_compiles_without_running_the_pipeline_again(monkeypatch):
    """FoldConstant evaluates constant subgraphs through the backend, not a nested relay.build."""
    from tilecraft.relay import build_module

    calls = []
    real = build_module.optimize
    monkeypatch.setattr(build_module, "optimize", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = relay.var("x", shape=(4, 8))
    wv = rand(8, 4, seed=1)
    f = relay.Function([x], relay.nn.dense(x, relay.transpose(relay.const(wv), (1, 0))))
    xv = rand(4, 8, seed=2)
    (out,) = build_run(f, {"x": xv})
    assert len(calls) == 1
    np.testing.assert_allclose(out, xv @ wv, rtol=1e-4, atol=1e-4)
