"""The profilers: classic debug_executor (per-node times, the _tvmdbg_ dump, the printed table) and
GraphModule.profile(report=True) (per-kernel table with GFLOP/s, GB/s and share of peak), and the
flop counts they use, checked against closed forms."""

import json
import os

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor
from tilecraft.contrib.debugger import debug_executor
from tilecraft.runtime.params import load_param_dict
from tilecraft.runtime.timing import MachinePeak, ProfileReport, machine_peak

RNG = np.random.default_rng(0)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


@pytest.fixture(scope="module")
def mlp():
    """dense + bias + relu, then dense: two kernels; the weights are parameters."""
    x = relay.var("x", shape=(8, 32))
    w1, w2 = relay.var("w1", shape=(64, 32)), relay.var("w2", shape=(16, 64))
    b1 = relay.var("b1", shape=(64,))
    h = relay.nn.relu(relay.nn.bias_add(relay.nn.dense(x, w1), b1))
    f = relay.Function([x, w1, b1, w2], relay.nn.dense(h, w2))
    params = {"w1": _rand(64, 32), "b1": _rand(64), "w2": _rand(16, 64)}
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(tvm.IRModule.from_expr(f), target="llvm", params=params)
    xv = _rand(8, 32)
    ref = np.maximum(xv @ params["w1"].T + params["b1"], 0) @ params["w2"].T
    return lib, xv, ref


def test_debug_executor_times_dumps_and_prints(mlp, tmp_path, capsys):
    lib, xv, ref = mlp
    m = debug_executor.create(lib.get_graph_json(), lib.get_lib(), tvm.cpu(0), dump_root=str(tmp_path))
    m.set_input("x", xv, **lib.get_params())
    m.run(number=2)
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-4, atol=1e-4)

    graph = json.loads(lib.get_graph_json())
    kernels = [n for n in graph["nodes"] if n["op"] == "tvm_op"]
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["Node", "Name", "Ops", "Time(us)", "Time(%)", "Shape", "Inputs", "Outputs",
                                "Measurements(us)"]
    rows = [r.split() for r in table[2:]]
    assert [r[0] for r in rows[:-1]] == sorted((n["name"] for n in kernels),
                                               key=lambda n: -float(next(r[2] for r in rows if r[0] == n)))
    assert rows[-1][0] == "Total_time"
    assert abs(sum(float(r[3]) for r in rows[:-1]) - 100) < 0.1

    dump = tmp_path / "_tvmdbg_device_CPU_0"
    assert m.dump_path == str(dump)
    assert sorted(os.listdir(dump)) == ["_tvmdbg_execution_trace.json", "_tvmdbg_graph_dump.json",
                                        "output_tensors.params"]
    gd = json.loads((dump / "_tvmdbg_graph_dump.json").read_text())
    assert len(gd["nodes"]) == len(graph["nodes"])
    x_node = gd["nodes"][0]
    assert x_node["op"] == "param" and x_node["shape"] == [8, 32] and x_node["attrs"]["T"] == "type: float32"
    calls = [n for n in gd["nodes"] if n["op"] != "param"]
    assert calls[0]["inputs"][0] == "x" and all(n["op"] == n["attrs"]["func_name"] for n in calls)
    trace = json.loads((dump / "_tvmdbg_execution_trace.json").read_text())
    events = trace["traceEvents"]
    assert [e["ph"] for e in events] == ["B", "E"] * len(graph["nodes"])
    assert all(e["ts"] >= 0 for e in events) and events[-1]["ts"] > 0
    tensors = load_param_dict((dump / "output_tensors.params").read_bytes())
    last = len(graph["nodes"]) - 1
    key = f"{graph['nodes'][last]['name']}____topo-index:{graph['node_row_ptr'][last]}____output-num:0"
    np.testing.assert_allclose(tensors[key], ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m.debug_get_output(last).numpy(), ref, rtol=1e-4, atol=1e-4)

    times = m.run_individual(number=2, repeat=2)
    assert len(times) == len(graph["nodes"])
    for node, t in zip(graph["nodes"], times):
        assert len(t) == 2 and (all(s > 0 for s in t) if node["op"] == "tvm_op" else t == [0.0, 0.0])
    assert m.run_individual_node(last, number=2).mean > 0


def test_debug_create_and_temporary_dump_root(mlp, capsys):
    lib, xv, ref = mlp
    dev = tvm.cpu(0)
    m = debug_executor.GraphModuleDebug(lib["debug_create"]("default", dev), [dev], lib.get_graph_json())
    m.run(x=xv)
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-4, atol=1e-4)
    assert os.path.basename(m.dump_root).startswith("tvmdbg_") and "Total_time" in capsys.readouterr().out
    m.exit()
    assert not os.path.exists(m.dump_root)


def test_profile_report_columns_and_legacy_shape(mlp, capsys):
    from tilecraft.harness.profile import kernel_flops

    lib, xv, _ = mlp
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", xv)
    legacy = m.profile(number=2)
    assert isinstance(legacy, list) and abs(sum(s for *_, s in legacy) - 1) < 1e-6

    flops = kernel_flops(lib)
    report = m.profile(number=2, report=True, flops=flops, peak=(100.0, 10.0))
    out = capsys.readouterr().out
    assert isinstance(report, ProfileReport)
    header = out.splitlines()[0].split()
    assert header == ["#", "Kernel", "Time(ms)", "Share", "Calls", "Output", "shape", "GFLOP/s", "GB/s", "Bound",
                      "%Peak"]
    assert "peak 100 GFLOP/s (given), 10.0 GB/s (given)" in out
    assert len(report) == 2 and [r[0] for r in report] == [k.name for k in report.kernels]
    secs = [k.seconds for k in report.kernels]
    assert secs == sorted(secs, reverse=True) and abs(sum(k.share for k in report.kernels) - 1) < 1e-6
    big = next(k for k in report.kernels if k.shapes == ((8, 64),))
    assert big.calls == 1 and big.nbytes == 4 * (8 * 32 + 64 * 32 + 64 + 8 * 64)
    assert big.flops == flops[big.name] >= 2 * 8 * 64 * 32
    assert big.gflops == pytest.approx(big.flops / big.seconds / 1e9)
    assert big.gbps == pytest.approx(big.nbytes / big.seconds / 1e9)
    ps = report.peak_share(big)
    assert ps == pytest.approx(big.gflops / 100 if report.bound(big) == "compute" else big.gbps / 10)
    d = report.as_dict()
    assert {"name", "ms", "share", "calls", "shapes", "flops", "bytes", "gflops", "gbps", "bound",
            "peak_share"} <= set(d["kernels"][0])
    assert len(report.table(top=1).splitlines()) == 4  # header, rule, one row, footer

    # the factory hands its counted flops to the executors it makes: GFLOP/s without passing flops=
    m2 = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m2.set_input("x", xv)
    assert all(k.gflops is not None for k in m2.profile(number=1, report=True, peak=(100.0, 10.0)).kernels)


def _flops_of(f):
    from tilecraft.harness.profile import kernel_flops

    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(tvm.IRModule.from_expr(f), target="llvm")
    return kernel_flops(lib)


def test_flop_counts_match_closed_forms():
    M, N, K = 16, 48, 40
    a, b = relay.var("a", shape=(M, K)), relay.var("b", shape=(N, K))
    (dense,) = _flops_of(relay.Function([a, b], relay.nn.dense(a, b))).values()
    assert dense == 2 * M * N * K

    n, ic, h, w, oc, kh, kw = 1, 8, 10, 12, 16, 3, 3
    x, wt = relay.var("x", shape=(n, ic, h, w)), relay.var("w", shape=(oc, ic, kh, kw))
    conv = relay.nn.conv2d(x, wt, channels=oc, kernel_size=(kh, kw))
    counts = _flops_of(relay.Function([x, wt], conv))
    oh, ow = h - kh + 1, w - kw + 1
    conv_kernel = next(v for k, v in counts.items() if "conv2d" in k)
    assert conv_kernel == 2 * n * oc * oh * ow * ic * kh * kw


def test_machine_peak_estimate_and_overrides(monkeypatch):
    monkeypatch.delenv("TILECRAFT_PEAK_GFLOPS", raising=False)
    monkeypatch.delenv("TILECRAFT_PEAK_GBPS", raising=False)
    p = machine_peak(threads=2)
    assert p.gflops > 0 and p.gbps > 0 and "flop/cycle" in p.gflops_source and "measured" in p.gbps_source
    monkeypatch.setenv("TILECRAFT_PEAK_GFLOPS", "189")
    monkeypatch.setenv("TILECRAFT_PEAK_GBPS", "22")
    assert machine_peak() == MachinePeak(189.0, 22.0, "TILECRAFT_PEAK_GFLOPS", "TILECRAFT_PEAK_GBPS")
    assert machine_peak(gflops=50).gflops == 50 and machine_peak(gflops=50).balance == pytest.approx(50 / 22)
    monkeypatch.setenv("TILECRAFT_PEAK_GBPS", "fast")
    with pytest.raises(ValueError, match="TILECRAFT_PEAK_GBPS='fast' is not a number"):
        machine_peak()
