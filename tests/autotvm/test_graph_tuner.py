"""The graph tuner (DPTuner, PBQPTuner, apply_graph_best).

A four-convolution network with a residual add (16 -> 32 -> 32 -> 32 (+) -> 64 channels on
1x16x16x16 data) and hand-written records whose per-layer fastest configurations disagree on
channel blocks, so taking each layer's best record would insert layout transforms; the tuners'
answer is checked against brute force over every combination under the same cost model, then
built under apply_graph_best and checked against numpy and for the transforms it leaves.
Layout-transform costs are a formula here (layout_cost=...), except in one test that benchmarks
them for real.
"""

import itertools
import time

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import autotvm, relay
from tilecraft.autotvm.graph_tuner import ApplyGraphBest, DPTuner, PBQPTuner, apply_graph_best, solve_dp, solve_pbqp
from tilecraft.autotvm.measure import MeasureInput
from tilecraft.autotvm.record import encode
from tilecraft.relay.expr import Call, Function
from tilecraft.relay.visitor import post_order
from tilecraft.tuning.measure import MeasureResult

DSHAPE = (1, 16, 16, 16)
CONV = [relay.op.get("nn.conv2d")]
# per convolution (graph order): {(tile_ic block, tile_oc block): milliseconds}
TABLE = [
    {(16, 8): 1.00, (8, 32): 1.01, (16, 16): 1.03},
    {(16, 32): 1.00, (8, 8): 1.02, (16, 16): 1.04, (32, 32): 1.06},
    {(32, 16): 0.50, (8, 8): 0.52, (16, 16): 0.53},
    {(8, 16): 0.60, (32, 32): 0.61, (16, 16): 0.62},
]


def transform_cost(shape, src, dst):
    """10 ns per element moved: about 0.08 ms for a 32x16x16 value, more than the kernels differ by."""
    return 1e-8 * float(np.prod(shape))


def _net(seed=0):
    rng = np.random.default_rng(seed)
    x = relay.var("data", shape=DSHAPE, dtype="float32")
    shapes = [(32, 16, 3, 3), (32, 32, 3, 3), (32, 32, 1, 1), (64, 32, 1, 1)]
    ws = [relay.var(f"w{i}", shape=s, dtype="float32") for i, s in enumerate(shapes)]
    c1 = relay.nn.relu(relay.nn.conv2d(x, ws[0], padding=(1, 1)))
    c2 = relay.nn.relu(relay.nn.conv2d(c1, ws[1], padding=(1, 1)))
    c3 = relay.nn.conv2d(c2, ws[2])
    out = relay.nn.conv2d(relay.nn.relu(relay.add(c3, c2)), ws[3])
    params = {f"w{i}": (rng.standard_normal(s) / np.sqrt(np.prod(s[1:]))).astype("float32")
              for i, s in enumerate(shapes)}
    return tvm.IRModule.from_expr(relay.Function([x, *ws], out)), params


def _conv_np(x, w, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # n c oh ow kh kw
    return np.einsum("nchwij,ocij->nohw", win, w)


def _reference(x, p):
    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    c2 = relu(_conv_np(relu(_conv_np(x, p["w0"], 1)), p["w1"], 1))
    return _conv_np(relu(_conv_np(c2, p["w2"], 0) + c2), p["w3"], 0)


@pytest.fixture(scope="module")
def net():
    return _net()


@pytest.fixture(scope="module")
def tasks(net):
    mod, params = net
    found = autotvm.task.extract_from_program(mod["main"], params=params, target="llvm", ops=CONV)
    return [t for t in found if t.name == "conv2d_NCHWc.x86"]


def _config(task, ib, ob):
    space = task.config_space
    want = {"tile_ic": ib, "tile_oc": ob, "tile_ow": 4}
    knobs = [next(k for k, e in enumerate(s.entities) if name not in want or e.size[-1] == want[name])
             for name, s in space.space_map.items()]
    return space.get(space.knob2point(knobs))


def _records(tasks, table=TABLE):
    out = []
    for task, costs in zip(tasks, table):
        for (ib, ob), ms in costs.items():
            res = MeasureResult((ms * 1e-3,), 0, "", 1.0, time.time())
            out.append((MeasureInput(task.target, task, _config(task, ib, ob)), res))
    return out


def _blocks(tuner):
    return [(c.ib, c.ob) for c in tuner._chosen()]


def _brute_force(tuner):
    domains, unary, pair = tuner.cost_tables()
    best = min(itertools.product(*[range(d) for d in domains]),
               key=lambda s: sum(u[k] for u, k in zip(unary, s)) + sum(m[s[i], s[j]] for (i, j), m in pair.items()))
    return tuner.total_cost(best), best


def _data_transforms(mod, params, ctx):
    """layout_transform calls left in the optimized graph (weights' are folded into constants)."""
    with ctx, tvm.transform.PassContext(opt_level=3):
        fused = relay.build_module.optimize(mod, params, "llvm")
    calls = [c for n in post_order(fused["main"].body) if isinstance(n, Call) and isinstance(n.op, Function)
             for c in post_order(n.op.body) if isinstance(c, Call) and getattr(c.op, "name", "") == "layout_transform"]
    return [(c.attrs["src_layout"], c.attrs["dst_layout"]) for c in calls]


@pytest.mark.parametrize("tuner_class", [DPTuner, PBQPTuner])
def test_tuner_matches_brute_force_and_avoids_transforms(net, tasks, tuner_class):
    mod, params = net
    tuner = tuner_class(mod["main"], {"data": DSHAPE}, _records(tasks), CONV, "llvm", params=params,
                        layout_cost=transform_cost)
    tuner.run()
    best_cost, best_states = _brute_force(tuner)
    assert tuner.total_cost(tuner._choice) == pytest.approx(best_cost, rel=1e-12)
    # each layer's fastest record would change blocks between layers; the answer keeps one block (8)
    assert _blocks(tuner) == [(16, 8), (8, 8), (8, 8), (8, 16)]
    greedy = [0] * len(tuner.variables)  # each layer's fastest record; the merge (index 3) in plain NCHW,
    # since the two fastest records meet there with blocks 32 and 16
    assert tuner.total_cost(greedy) > best_cost + 2e-4


def _log(tmp_path, records):
    """The records as a v0.2 log file, written line by line with autotvm.record.encode."""
    path = tmp_path / "tune.log"
    path.write_text("".join(encode(inp, res) + "\n" for inp, res in records))
    return str(path)


def _run(lib, x):
    m = tvm.contrib.graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("data", x)
    m.run()
    return m.get_output(0).numpy()


def _build(mod, params, ctx):
    with ctx, tvm.transform.PassContext(opt_level=3):
        return relay.build(mod, target="llvm", params=params)


def test_build_under_apply_graph_best(net, tasks, tmp_path):
    mod, params = net
    tuner = DPTuner(mod["main"], {"data": DSHAPE}, _log(tmp_path, _records(tasks)), CONV, "llvm", params=params,
                    layout_cost=transform_cost)
    tuner.run()
    path = tmp_path / "graph_opt.log"
    tuner.write_opt_sch2record_file(path)
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and all('"version": 0.2' in line for line in lines)
    assert [(r[0].config["tile_ic"].size[-1], r[0].config["tile_oc"].size[-1])
            for r in tuner.get_optimal_records()] == _blocks(tuner)

    # only the input's and the output's transforms are left; the per-layer best inserts more
    assert sorted(_data_transforms(mod, params, apply_graph_best(str(path)))) == [("NCHW", "NCHW16c"),
                                                                                  ("NCHW16c", "NCHW")]
    assert len(_data_transforms(mod, params, autotvm.apply_history_best(_records(tasks)))) > 2

    x = np.random.default_rng(1).standard_normal(DSHAPE).astype("float32")
    lib = _build(mod, params, apply_graph_best(str(path)))
    np.testing.assert_allclose(_run(lib, x), _reference(x, params), rtol=1e-4, atol=1e-4)


def test_graph_without_params_as_in_the_classic_tutorial(net, tasks):
    """tune_relay_x86.py passes mod["main"] without params: weights that are not inputs count as params."""
    mod, _ = net
    tuner = DPTuner(mod["main"], {"data": DSHAPE}, _records(tasks), CONV, "llvm", layout_cost=transform_cost)
    tuner.run()
    assert _blocks(tuner) == [(16, 8), (8, 8), (8, 8), (8, 16)]


def test_benchmark_layout_transform_for_real(net, tasks):
    mod, params = net
    tuner = DPTuner(mod["main"], {"data": DSHAPE}, _records(tasks), CONV, "llvm", params=params)
    with pytest.raises(RuntimeError, match="benchmark_layout_transform"):
        tuner.run()
    costs = tuner.benchmark_layout_transform(min_exec_num=5)
    assert ((1, 32, 16, 16), 8, 16) in costs and ((1, 64, 16, 16), 16, None) in costs
    assert all(0 < c < 0.1 for c in costs.values())
    tuner.run()
    assert len(tuner.get_optimal_records()) == 4 and np.isfinite(tuner.total_cost(tuner._choice))


def test_direct_kernel_record_is_a_candidate(net, tasks, tmp_path):
    """A fast conv2d_nchw.x86 record for the last layer wins (it reads plain NCHW); apply_graph_best
    then answers nothing for that layer's blocked kernel, even inside an apply_history_best that has one."""
    mod, params = net
    direct = next(t for t in autotvm.task.extract_from_program(mod["main"], params=params, target="llvm", ops=CONV)
                  if t.name == "conv2d_nchw.x86" and t.args[1][1] == (64, 32, 1, 1))
    fast = (MeasureInput(direct.target, direct, direct.config_space.get(0)),
            MeasureResult((0.1e-3,), 0, "", 1.0, time.time()))
    records = _records(tasks) + [fast]
    tuner = DPTuner(mod["main"], {"data": DSHAPE}, records, CONV, "llvm", params=params, layout_cost=transform_cost)
    tuner.run()
    assert _blocks(tuner)[3] == (None, None) and tuner.get_optimal_records()[3][0].task.name == "conv2d_nchw.x86"
    ctx = apply_graph_best(tuner.get_optimal_records())
    assert ctx.query(None, tasks[3].workload) is None
    assert ctx.query(None, direct.workload) is not None
    history = autotvm.apply_history_best(_records(tasks))
    with history:
        assert sorted(_data_transforms(mod, params, apply_graph_best(tuner.get_optimal_records()))) == \
            [("NCHW", "NCHW16c"), ("NCHW8c", "NCHW")]
    x = np.random.default_rng(2).standard_normal(DSHAPE).astype("float32")
    lib = _build(mod, params, apply_graph_best(tuner.get_optimal_records()))
    np.testing.assert_allclose(_run(lib, x), _reference(x, params), rtol=1e-4, atol=1e-4)


def test_no_records_uses_the_fallback(net):
    mod, params = net
    tuner = PBQPTuner(mod["main"], {"data": DSHAPE}, [], CONV, "llvm", params=params, layout_cost=transform_cost)
    tuner.run()
    assert all(res.costs == (0.0,) for _, res in tuner.get_optimal_records())
    # the fallbacks' output block is 16; each layer reads the block it receives
    assert _blocks(tuner) == [(16, 16)] * 4
    assert len(_data_transforms(mod, params, apply_graph_best(tuner.get_optimal_records()))) == 2


def _repeated_net():
    x = relay.var("data", shape=DSHAPE, dtype="float32")
    w = [relay.var(f"w{i}", shape=(16, 16, 3, 3), dtype="float32") for i in range(2)]
    out = relay.nn.conv2d(relay.nn.relu(relay.nn.conv2d(x, w[0], padding=(1, 1))), w[1], padding=(1, 1))
    rng = np.random.default_rng(3)
    params = {f"w{i}": (rng.standard_normal((16, 16, 3, 3)) / 12).astype("float32") for i in range(2)}
    return tvm.IRModule.from_expr(relay.Function([x, *w], out)), params


def test_same_workload_twice_with_different_choices():
    """Two convolutions of one workload: the best pair is (16 -> 8), (8 -> 16) (or the mirror), and
    apply_graph_best answers them per occurrence through AlterOpLayout and the kernels' build."""
    mod, params = _repeated_net()
    task = next(t for t in autotvm.task.extract_from_program(mod["main"], params=params, target="llvm", ops=CONV)
                if t.name == "conv2d_NCHWc.x86")
    table = [{(16, 8): 1.0, (8, 16): 1.0, (16, 16): 1.5, (8, 8): 1.5}]
    tuner = DPTuner(mod["main"], {"data": DSHAPE}, _records([task], table), CONV, "llvm", params=params,
                    layout_cost=transform_cost)
    tuner.run()
    first, second = _blocks(tuner)
    assert first != second and first[1] == second[0]
    records = tuner.get_optimal_records()
    assert len(_data_transforms(mod, params, apply_graph_best(records))) == 2
    x = np.random.default_rng(4).standard_normal(DSHAPE).astype("float32")
    lib = _build(mod, params, apply_graph_best(records))
    ref = _conv_np(np.maximum(_conv_np(x, params["w0"], 1), 0), params["w1"], 1)
    np.testing.assert_allclose(_run(lib, x), ref, rtol=1e-4, atol=1e-4)


def test_apply_graph_best_answers_per_occurrence_and_falls_through(tasks):
    from tilecraft.tuning.dispatch import ApplyConfig

    recs = _records([tasks[1]], [{(16, 32): 1.0, (8, 8): 1.0}])
    ctx = ApplyGraphBest(recs)
    wl = tasks[1].workload
    direct_wl = ("conv2d_nchw.x86",) + wl[1:6] + (wl[-1],)
    with ApplyConfig({tasks[0].workload: "outer"}):
        with ctx:
            got = [ctx.query(None, wl)["tile_oc"].size[-1] for _ in range(3)]
            assert got == [32, 8, 32]  # occurrences in order, then the most frequent (first on a tie)
            assert ctx.query(None, direct_wl) is None  # the other kernel of a planned convolution
            assert ctx.query(None, tasks[0].workload) == "outer"  # not planned: the enclosing context
        with ctx:  # the count restarts
            assert ctx.query(None, wl)["tile_oc"].size[-1] == 32


def test_errors(net, tmp_path):
    mod, params = net
    with pytest.raises(KeyError, match="input"):
        DPTuner(mod["main"], {"x": DSHAPE}, [], CONV, "llvm", params=params)
    with pytest.raises(FileNotFoundError, match="tune the"):
        DPTuner(mod["main"], {"data": DSHAPE}, str(tmp_path / "missing.log"), CONV, "llvm", params=params)
    with pytest.raises(ValueError, match="nn.conv2d only"):
        DPTuner(mod["main"], {"data": DSHAPE}, [], [relay.op.get("nn.dense")], "llvm", params=params)
    with pytest.raises(FileNotFoundError, match="write_opt_sch2record_file"):
        apply_graph_best(str(tmp_path / "missing.log"))
    with pytest.raises(RuntimeError, match="PBQPTuner"):
        solve_dp([4, 4, 4], [np.zeros(4)] * 3, {(0, 1): np.zeros((4, 4)), (0, 2): np.zeros((4, 4))},
                 max_table_size=8)
    tuner = DPTuner(mod["main"], {"data": DSHAPE}, [], CONV, "llvm", params=params, layout_cost=transform_cost)
    with pytest.raises(RuntimeError, match="run()"):
        tuner.get_optimal_records()


def _brute(domains, unary, pair):
    def cost(s):
        return sum(u[k] for u, k in zip(unary, s)) + sum(m[s[i], s[j]] for (i, j), m in pair.items())

    return min(cost(s) for s in itertools.product(*[range(d) for d in domains])), cost


@pytest.mark.parametrize("seed", range(5))
def test_solvers_on_random_problems(seed):
    """DP is exact on any graph (here 6 variables, random edges, some forbidden pairs); PBQP is
    exact on trees (only R0/R1 reductions) and finds a feasible answer elsewhere."""
    rng = np.random.default_rng(seed)
    domains = [int(d) for d in rng.integers(2, 5, size=6)]
    unary = [rng.random(d) for d in domains]
    for u in unary:
        u[0] = 0.0
    edges = [(i, j) for i in range(6) for j in range(i + 1, 6) if rng.random() < 0.5]
    pair = {}
    for i, j in edges:
        m = rng.random((domains[i], domains[j]))
        m[rng.random(m.shape) < 0.2] = np.inf
        m[0, 0] = 0.5  # keep some finite assignment
        pair[(i, j)] = m
    best, cost = _brute(domains, unary, pair)
    assert cost(solve_dp(domains, unary, pair)) == pytest.approx(best)
    tree = {(i - 1 if i % 2 else i // 2, i): rng.random((domains[i - 1 if i % 2 else i // 2], domains[i]))
            for i in range(1, 6)}
    tree_best, tree_cost = _brute(domains, unary, tree)
    assert tree_cost(solve_pbqp(domains, unary, tree)) == pytest.approx(tree_best)
    assert np.isfinite(cost(solve_pbqp(domains, unary, pair)))
