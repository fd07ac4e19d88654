"""AutoTVM templates, configuration spaces, tasks, the v0.2 log and apply_history_best: the classic
matmul tutorial flow, the operator library's templates in relay.build, and logs written by hand
in classic TVM's format."""

import json
import math

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import autotvm, relay, te, topi
from tilecraft.autotvm.measure import MeasureInput, MeasureResult
from tilecraft.contrib import graph_executor
from tilecraft.relay.expr import Call
from tilecraft.relay.visitor import post_order
from tilecraft.tuning.space import ConfigEntity, ConfigSpace, FallbackConfigEntity, SplitEntity, get_factors
from tilecraft.tuning.template import deserialize_args

RNG = np.random.default_rng(0)


@autotvm.template("test/matmul")
def matmul(N, L, M, dtype):
    A = te.placeholder((N, L), name="A", dtype=dtype)
    B = te.placeholder((L, M), name="B", dtype=dtype)
    k = te.reduce_axis((0, L), name="k")
    C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    y, x = s[C].op.axis
    k = s[C].op.reduce_axis[0]
    cfg = autotvm.get_config()
    cfg.define_split("tile_y", y, num_outputs=2)
    cfg.define_split("tile_x", x, num_outputs=2)
    yo, yi = cfg["tile_y"].apply(s, C, y)
    xo, xi = cfg["tile_x"].apply(s, C, x)
    s[C].reorder(yo, xo, k, yi, xi)
    return s, [A, B, C]


def _run(s, args, inputs):
    f = tvm.build(s, args, target="llvm")
    dev = tvm.cpu(0)
    arrays = [tvm.nd.array(x, dev) for x in inputs] + [tvm.nd.empty(tuple(int(d) for d in args[-1].shape),
                                                                     args[-1].dtype, dev)]
    f(*arrays)
    return arrays[-1].numpy()


# ---------------------------------------------------------------------------- spaces

def test_split_policies_and_filters():
    s = ConfigSpace()
    s.define_split("f", 64, num_outputs=2)
    s.define_split("p", 48, num_outputs=2, policy="power2")
    s.define_split("v", 48, num_outputs=3, policy="verbose", filter=lambda e: e.size[-1] <= 8)
    s.define_split("m", 64, num_outputs=2, max_factor=8)
    assert [e.size for e in s.space_map["f"].entities] == [[-1, f] for f in get_factors(64)]
    assert {e.size[-1] for e in s.space_map["p"].entities} == {1, 2, 4, 8, 16, 32}  # 64 > 48 has no room
    assert all(e.size[-1] <= 8 and e.size[1] * e.size[2] <= 48 for e in s.space_map["v"].entities)
    assert [e.size[-1] for e in s.space_map["m"].entities] == [1, 2, 4, 8]
    assert len(s) == math.prod(len(k) for k in s.space_map.values())


def test_indices_are_mixed_radix_with_the_first_knob_fastest():
    s = ConfigSpace()
    s.define_split("a", 8, num_outputs=2)  # 4 entities
    s.define_knob("b", [10, 20, 30])
    s.define_reorder("r", [0, 1, 2], policy="all")
    s.define_annotate("an", [0, 1], policy="try_unroll_vec")
    assert len(s) == 4 * 3 * 6 * 6
    cfg = s.get(1 + 4 * 2)
    assert cfg["a"].size == [-1, 2] and cfg["b"].val == 30
    for i in RNG.integers(0, len(s), 20):
        assert s.knob2point(s.point2knob(int(i))) == i
        got = s.get(int(i))
        assert ConfigEntity.from_json_dict(json.loads(json.dumps(got.to_json_dict()))) == got
    with pytest.raises(IndexError, match="outside the space"):
        s.get(len(s))


def test_fallback_split_takes_the_largest_factors_under_the_limits():
    cfg = FallbackConfigEntity()
    cfg.define_split("t", 96, num_outputs=3)
    cfg.fallback_split("t", [-1, 4, 8])
    assert cfg["t"].size == [-1, 4, 8]
    cfg.fallback_split("t", [-1, 5, 7])  # 96 = ... 4 x 6
    assert cfg["t"].size == [-1, 4, 6]
    cfg["t"] = SplitEntity([-1, 2, 2])
    assert cfg["t"].size == [-1, 2, 2] and cfg.is_fallback


# ---------------------------------------------------------------------------- the tutorial flow

def test_classic_matmul_template_task_and_instantiation():
    task = autotvm.task.create("test/matmul", args=(64, 32, 48, "float32"), target="llvm")
    assert len(task.config_space) == len(get_factors(64)) * len(get_factors(48))
    assert "tile_y: Split(policy=factors, product=64, num_outputs=2)" in str(task.config_space)
    assert task.flop == 2 * 64 * 32 * 48
    a, b = RNG.standard_normal((64, 32), dtype="float32"), RNG.standard_normal((32, 48), dtype="float32")
    for index in (0, len(task.config_space) // 2, len(task.config_space) - 1):
        s, args = task.instantiate(task.config_space.get(index))
        np.testing.assert_allclose(_run(s, args, [a, b]), a @ b, rtol=1e-4, atol=1e-4)


def test_get_config_outside_a_template_is_an_error():
    with pytest.raises(RuntimeError, match="outside a template"):
        autotvm.get_config()


def test_unknown_template_names_close_matches():
    with pytest.raises(KeyError, match="did you mean test/matmul"):
        autotvm.task.create("test/matmull", args=(8, 8, 8, "float32"), target="llvm")


def _record(task, config, cost, error_no=0):
    return MeasureInput(task.target, task, config), MeasureResult((cost,), error_no, "", 0.1, 1.0)


def test_records_round_trip_and_apply_history_best_picks_the_fastest(tmp_path):
    task = autotvm.task.create("test/matmul", args=(64, 32, 48, "float32"), target="llvm")
    space = task.config_space
    log = tmp_path / "matmul.log"
    fast = space.knob2point([2, 4])  # tile_y 4, tile_x 6
    autotvm.record.save_records(log, *zip(_record(task, space.get(3), 2e-3), _record(task, space.get(fast), 1e-3),
                                          _record(task, space.get(9), 1e-4, error_no=4)))
    back = list(autotvm.record.load_from_file(log))
    assert [inp.config.index for inp, _ in back] == [3, fast, 9]
    assert back[0][0].task.args == task.args and back[1][1].costs == (1e-3,)
    best = space.get(fast)
    with autotvm.apply_history_best(str(log)):
        with tvm.target.Target("llvm"):
            s, args = matmul(64, 32, 48, "float32")
    text = str(tvm.lower(s, args, simple_mode=True))
    assert (best["tile_y"].size[-1], best["tile_x"].size[-1]) == (4, 6)
    assert "range(4)" in text and "range(6)" in text and "range(16)" in text and "range(8)" in text
    a, b = RNG.standard_normal((64, 32), dtype="float32"), RNG.standard_normal((32, 48), dtype="float32")
    np.testing.assert_allclose(_run(s, args, [a, b]), a @ b, rtol=1e-4, atol=1e-4)
    autotvm.record.pick_best(log, tmp_path / "best.log")
    assert [inp.config.index for inp, _ in autotvm.record.load_from_file(tmp_path / "best.log")] == [fast]


def test_a_workload_missing_from_the_log_uses_the_fallback(tmp_path):
    task = autotvm.task.create("test/matmul", args=(64, 32, 48, "float32"), target="llvm")
    log = tmp_path / "other.log"
    autotvm.record.save_records(log, *zip(_record(task, task.config_space.get(5), 1e-3)))
    with autotvm.apply_history_best(str(log)), tvm.target.Target("llvm"):
        s, args = matmul(32, 32, 32, "float32")  # not in the log
    a, b = RNG.standard_normal((32, 32), dtype="float32"), RNG.standard_normal((32, 32), dtype="float32")
    np.testing.assert_allclose(_run(s, args, [a, b]), a @ b, rtol=1e-4, atol=1e-4)
    with pytest.raises(FileNotFoundError, match="does not exist; tune first"):
        autotvm.apply_history_best(str(tmp_path / "missing.log"))


CLASSIC_DENSE_LINE = (
    '{"input": ["llvm -keys=cpu -mcpu=core-avx2", "dense_nopack.x86", [["TENSOR", [4, 64], "float32"], '
    '["TENSOR", [32, 64], "float32"], null, "float32"], {}], "config": {"index": 7, "code_hash": null, '
    '"entity": [["tile_y", "sp", [-1, 2]], ["tile_x", "sp", [-1, 8]], ["tile_k", "sp", [-1, 4]]]}, '
    '"result": [[1.2e-06], 0, 0.53, 1690000000.0], "version": 0.2, "tvm_version": "0.16.0"}')


def _dense_graph():
    x = relay.var("x", shape=(4, 64))
    w = relay.var("w", shape=(32, 64))
    return relay.Function([x, w], relay.nn.relu(relay.nn.dense(x, w)))


def _check_dense(lib, xv, wv):
    """The built _dense_graph computes relu(x @ w.T)."""
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", xv)
    m.set_input("w", wv)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), np.maximum(xv @ wv.T, 0), rtol=1e-4, atol=1e-4)


def test_a_classic_tvm_log_line_loads_and_is_used_by_relay_build(tmp_path):
    """A line as classic TVM writes it (its target string, null bias, its knob names) is read and
    relay.build compiles dense with that configuration."""
    log = tmp_path / "classic.log"
    log.write_text(CLASSIC_DENSE_LINE + "\n")
    ((inp, res),) = list(autotvm.record.load_from_file(log))
    assert inp.task.name == "dense_nopack.x86" and inp.config["tile_x"].size == [-1, 8] and res.costs == (1.2e-06,)
    f = _dense_graph()
    xv, wv = RNG.standard_normal((4, 64), dtype="float32"), RNG.standard_normal((32, 64), dtype="float32")
    with autotvm.apply_history_best(str(log)) as ctx, tvm.target.Target("llvm"):
        call = next(n for n in post_order(relay.transform.infer_type.infer_type(f).body)
                    if isinstance(n, Call) and n.op.name == "nn.dense")
        ins = [te.placeholder((4, 64), name="x"), te.placeholder((32, 64), name="w")]
        chosen = relay.op.strategy.select_implementation(call.op, call.attrs, ins, call.ty, tvm.target.Target("llvm"))
        assert chosen.tuned and chosen.impl.name == "dense_nopack.x86" and chosen.config["tile_x"].size == [-1, 8]
        assert ctx.query(tvm.target.Target("llvm"), chosen.impl.template.workload(chosen.impl.args(
            call.attrs, ins, call.ty))) is not None
        with tvm.transform.PassContext(opt_level=3):
            lib = relay.build(tvm.IRModule.from_expr(f), target="llvm")
    _check_dense(lib, xv, wv)


def test_a_logged_config_outside_the_templates_space_is_ignored(tmp_path):
    """A record whose knobs do not fit the template (another version's, or a mistyped hand edit)
    leaves the call on its fallback instead of failing the build."""
    log = tmp_path / "bad.log"
    log.write_text(CLASSIC_DENSE_LINE.replace('["tile_k", "sp", [-1, 4]]', '["tile_k", "sp", [-1, 7]]') + "\n")
    f = _dense_graph()
    xv, wv = RNG.standard_normal((4, 64), dtype="float32"), RNG.standard_normal((32, 64), dtype="float32")
    call = relay.transform.infer_type.infer_type(f).body.args[0]
    ins = [te.placeholder((4, 64), name="x"), te.placeholder((32, 64), name="w")]
    with autotvm.apply_history_best(str(log)), tvm.target.Target("llvm"):
        chosen = relay.op.strategy.select_implementation(call.op, call.attrs, ins, call.ty, tvm.target.Target("llvm"))
        assert not chosen.tuned
        with tvm.transform.PassContext(opt_level=3):
            lib = relay.build(tvm.IRModule.from_expr(f), target="llvm")
    _check_dense(lib, xv, wv)


# ---------------------------------------------------------------------------- the operator library

def _cnn():
    x = relay.var("x", shape=(1, 16, 12, 12))
    w1 = relay.const(RNG.standard_normal((32, 16, 3, 3)).astype("float32"))
    w2 = relay.const(RNG.standard_normal((32, 1, 3, 3)).astype("float32"))
    w3 = relay.const(RNG.standard_normal((10, 32 * 6 * 6)).astype("float32"))
    y = relay.nn.relu(relay.nn.conv2d(x, w1, padding=(1, 1)))
    y = relay.nn.conv2d(y, w2, padding=(1, 1), strides=(2, 2), groups=32)
    y = relay.nn.dense(relay.reshape(y, (1, 32 * 6 * 6)), w3)
    return relay.Function([x], y)


def test_extract_from_program_finds_every_templated_implementation():
    tasks = autotvm.task.extract_from_program(_cnn(), params={}, target="llvm")
    names = [t.name for t in tasks]
    assert names == ["conv2d_NCHWc.x86", "conv2d_nchw.x86", "depthwise_conv2d_NCHWc.x86",
                     "depthwise_conv2d_nchw.x86", "dense_nopack.x86"]
    assert all(len(t.config_space) > 1 for t in tasks)
    only = autotvm.task.extract_from_program(_cnn(), params={}, target="llvm", ops=(relay.op.get("nn.dense"),))
    assert [t.name for t in only] == ["dense_nopack.x86"]
    with pytest.raises(Exception, match="nn.dens"):
        autotvm.task.extract_from_program(_cnn(), params={}, target="llvm", ops=["nn.dens"])


def test_what_a_tuner_measures_is_what_relay_build_deploys():
    """A task's kernel under its fallback config (as a tuner instantiates it: inputs already in the
    blocked / packed layout AlterOpLayout gives them) lowers to the same loop IR as the template
    called on those inputs outside tuning, with no config (the relay strategies' default)."""
    for task in autotvm.task.extract_from_program(_cnn(), params={}, target="llvm"):
        s1, a1 = task.instantiate(task.fallback_config())
        ins = [t for t in a1 if type(t.op).__name__ == "PlaceholderOp"]
        args = ins + deserialize_args(task.args)[len(ins):]
        with tvm.target.Target("llvm"):
            outs = task.template.fcompute(FallbackConfigEntity(), *args)
            outs = outs if isinstance(outs, list) else [outs]
            s2 = task.template.fschedule(None, outs)
        t2 = str(tvm.lower(s2, ins + outs, simple_mode=True))
        assert str(tvm.lower(s1, a1, simple_mode=True)) == t2, task.name
        if task.name in ("conv2d_NCHWc.x86", "depthwise_conv2d_NCHWc.x86"):
            assert [len(t.shape) for t in ins] == [5, 6]  # no layout transform inside the measured kernel


def _torch_cnn(f, xv):
    import torch
    import torch.nn.functional as F

    convs = [n for n in post_order(f.body) if isinstance(n, Call) and n.op.name in ("nn.conv2d", "nn.dense")]
    w1, w2, w3 = (torch.tensor(c.args[1].data) for c in convs)
    y = F.relu(F.conv2d(torch.tensor(xv), w1, padding=1))
    y = F.conv2d(y, w2, padding=1, stride=2, groups=32)
    return (y.reshape(1, -1) @ w3.T).numpy()


def test_tuned_conv_blocks_reach_the_layout_and_the_numbers_stay_right(tmp_path):
    f = _cnn()
    (conv_task,) = [t for t in autotvm.task.extract_from_program(f, {}, "llvm") if t.name == "conv2d_NCHWc.x86"]
    space = conv_task.config_space
    picked = next(space.get(i) for i in range(len(space))
                  if space.get(i)["tile_ic"].size[-1] == 8 and space.get(i)["tile_oc"].size[-1] == 4)
    log = tmp_path / "conv.log"
    autotvm.record.save_records(log, *zip(_record(conv_task, picked, 1e-5)))
    xv = RNG.standard_normal((1, 16, 12, 12), dtype="float32")
    ref = _torch_cnn(f, xv)
    with autotvm.apply_history_best(str(log)), tvm.transform.PassContext(opt_level=3), tvm.target.Target("llvm"):
        g = relay.transform.AlterOpLayout()(relay.transform.InferType()(tvm.IRModule.from_expr(f)))["main"]
        convs = [n for n in post_order(g) if isinstance(n, Call) and n.op.name == "nn.contrib_conv2d_NCHWc"]
        assert [(c.attrs["data_layout"], c.attrs["out_layout"]) for c in convs] == [("NCHW8c", "NCHW4c")]
        # the blocked call is built with the configuration that chose its blocks (register tile included)
        ins = [te.placeholder(a.ty.shape, a.ty.dtype) for a in convs[0].args]
        chosen = relay.op.strategy.select_implementation(convs[0].op, convs[0].attrs, ins, convs[0].ty,
                                                         tvm.target.Target("llvm"))
        assert chosen.tuned and chosen.config == picked
        # the depthwise convolution after it stays in the blocked layout it is given (no transform)
        (dw,) = [n for n in post_order(g) if isinstance(n, Call) and n.op.name == "nn.contrib_depthwise_conv2d_NCHWc"]
        assert dw.attrs["data_layout"] == "NCHW4c" and dw.args[0].op.name == "nn.relu"
        lib = relay.build(tvm.IRModule.from_expr(f), target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", xv)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-3, atol=1e-3)


def _torch_depthwise(x, w):
    import torch

    return torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1, groups=32).numpy()


def _in_layout(t, x):
    """x laid out as the tuned kernel's placeholder t reads it (blocked data, packed weights)."""
    shape = tuple(int(d) for d in t.shape)
    if t.op.name == "packed_weight":  # [N, K] -> [N/nr, K, nr]
        return np.ascontiguousarray(x.reshape(shape[0], shape[2], shape[1]).transpose(0, 2, 1))
    if t.op.name == "data_vec":  # NCHW -> NCHW<b>c
        n, c, h, w = x.shape
        return np.ascontiguousarray(x.reshape(n, c // shape[4], shape[4], h, w).transpose(0, 1, 3, 4, 2))
    if t.op.name == "kernel_vec" and shape[1] == 1:  # depthwise [C, 1, KH, KW] -> OIHW1i<b>o
        o, _, kh, kw = x.shape
        return np.ascontiguousarray(x.reshape(o // shape[5], shape[5], 1, kh, kw).transpose(0, 2, 3, 4, 1)[
            :, :, :, :, None, :])
    return x


def _plain(y):
    """A blocked NCHW<b>c result as NCHW."""
    if y.ndim != 5:
        return y
    n, cc, h, w, b = y.shape
    return y.transpose(0, 1, 4, 2, 3).reshape(n, cc * b, h, w)


def test_every_config_of_an_operator_template_computes_the_same_numbers():
    """Property: random points of the dense_pack, batch_matmul and depthwise NCHWc spaces match numpy."""
    cases = [
        ("dense_pack.x86", (("TENSOR", (8, 48), "float32"), ("TENSOR", (32, 48), "float32"), None, "float32"),
         lambda a, b: a @ b.T),
        ("batch_matmul.x86", (("TENSOR", (2, 8, 24), "float32"), ("TENSOR", (2, 24, 16), "float32"), None,
                              "float32", False, False), lambda a, b: a @ b),
        ("batch_matmul.x86", (("TENSOR", (2, 8, 24), "float32"), ("TENSOR", (2, 16, 24), "float32"), None,
                              "float32", False, True), lambda a, b: a @ b.transpose(0, 2, 1)),
        ("depthwise_conv2d_NCHWc.x86", (("TENSOR", (1, 32, 9, 9), "float32"), ("TENSOR", (32, 1, 3, 3), "float32"),
                                        (2, 2), (1, 1, 1, 1), (1, 1), "NCHW", "NCHW", "float32"), _torch_depthwise),
    ]
    rng = np.random.default_rng(1)
    for name, args, ref in cases:
        task = autotvm.task.create(name, args=args, target="llvm")
        a = rng.standard_normal(args[0][1], dtype="float32")
        b = rng.standard_normal(args[1][1], dtype="float32")
        for index in rng.choice(len(task.config_space), size=min(4, len(task.config_space)), replace=False):
            s, targs = task.instantiate(task.config_space.get(int(index)))
            packed = [_in_layout(t, x) for t, x in zip(targs, (a, b))]
            np.testing.assert_allclose(_plain(_run(s, targs, packed)), ref(a, b), rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name} config {index}")


def test_topi_schedules_still_work_without_a_config():
    data, weight = te.placeholder((4, 32), name="d"), te.placeholder((16, 32), name="w")
    out = topi.nn.dense(data, weight)
    s = topi.x86.schedule_dense([out])
    a, b = RNG.standard_normal((4, 32), dtype="float32"), RNG.standard_normal((16, 32), dtype="float32")
    np.testing.assert_allclose(_run(s, [data, weight, out], [a, b]), a @ b.T, rtol=1e-4, atol=1e-4)
