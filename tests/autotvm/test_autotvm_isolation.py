"""AutoTVM on the shared measurement layer: a configuration that crashes, hangs or cannot be
instantiated becomes an error record and tuning goes on; a Dask cluster measures the same way;
a fallback can come from the most similar workload of a reference log."""

import signal

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import autotvm, te, tir
from tilecraft.tuning import MeasureErrorNo
from tilecraft.tuning.space import FallbackConfigEntity

E = MeasureErrorNo


def _calls(name, arg):
    return tir.Call("int32", "call_extern", (tir.StringImm(name), tvm.tir.const(arg, "int32")))


@autotvm.template("test_iso/add")
def misbehaving_add(n, dtype):
    """A + B whose 'kind' knob makes the kernel raise SIGSEGV, sleep, or the template raise."""
    cfg = autotvm.get_config()
    cfg.define_knob("kind", ["ok", "segv", "hang", "raise"])
    kind = cfg["kind"].val
    if kind == "raise":
        raise ValueError("this configuration cannot be instantiated")
    A = te.placeholder((n,), name="A", dtype=dtype)
    B = te.placeholder((n,), name="B", dtype=dtype)
    extra = {"segv": _calls("raise", int(signal.SIGSEGV)), "hang": _calls("sleep", 600)}.get(kind)
    if extra is None:
        C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    else:  # the call never returns (or only after 600 s)
        C = te.compute((n,), lambda i: A[i] + B[i] + extra.astype(dtype), name="C")
    return te.create_schedule(C.op), [A, B, C]


@autotvm.template("test_iso/matmul")
def matmul(n, dtype):
    A = te.placeholder((n, n), name="A", dtype=dtype)
    B = te.placeholder((n, n), name="B", dtype=dtype)
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)
    cfg = autotvm.get_config()
    cfg.define_split("tile_x", s[C].op.axis[1], num_outputs=2)
    cfg["tile_x"].apply(s, C, s[C].op.axis[1])
    return s, [A, B, C]


def test_crashing_hanging_and_broken_configurations_are_error_records(tmp_path):
    task = autotvm.task.create("test_iso/add", args=(64, "float32"), target="llvm")
    log = tmp_path / "iso.log"
    option = autotvm.measure_option(builder=autotvm.LocalBuilder(timeout=20),
                                    runner=autotvm.LocalRunner(timeout=3, number=1, repeat=1, min_repeat_ms=0))
    tuner = autotvm.tuner.GridSearchTuner(task)
    tuner.tune(4, option, callbacks=[autotvm.callback.log_to_file(str(log))])
    records = list(autotvm.record.load_from_file(log))
    assert [(inp.config["kind"].val, res.error_no) for inp, res in records] == [
        ("ok", E.NO_ERROR), ("segv", E.RUNTIME_DEVICE), ("hang", E.RUN_TIMEOUT), ("raise", E.INSTANTIATION_ERROR)]
    assert tuner.best_config["kind"].val == "ok"
    with autotvm.apply_history_best(str(log)), tvm.target.Target("llvm"):
        s, args = misbehaving_add(64, "float32")
    f = tvm.build(s, args)
    a, b = np.random.rand(64).astype("float32"), np.random.rand(64).astype("float32")
    c = tvm.nd.empty((64,))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a + b, rtol=1e-6)


def test_tuning_on_a_dask_cluster_writes_records_apply_history_best_uses(tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (pip install "
                                      "'tilecraft[tune]')")
    from tilecraft.tuning import DaskBuilder, DaskRunner

    task = autotvm.task.create("test_iso/matmul", args=(32, "float32"), target="llvm")
    log = tmp_path / "dask.log"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        option = autotvm.measure_option(builder=DaskBuilder(client, timeout=30),
                                        runner=DaskRunner(client, timeout=10, number=1, repeat=1, min_repeat_ms=0))
        autotvm.tuner.RandomTuner(task).tune(3, option, callbacks=[autotvm.callback.log_to_file(str(log))])
    records = list(autotvm.record.load_from_file(log))
    assert len(records) == 3 and all(res.error_no == E.NO_ERROR and res.costs[0] > 0 for _, res in records)
    with autotvm.apply_history_best(str(log)), tvm.target.Target("llvm"):
        s, args = matmul(32, "float32")
    f = tvm.build(s, args)
    a, b = np.random.rand(32, 32).astype("float32"), np.random.rand(32, 32).astype("float32")
    c = tvm.nd.empty((32, 32))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-5)


def test_fallback_from_the_most_similar_workload_of_a_reference_log():
    near = autotvm.task.create("test_iso/matmul", args=(64, "float32"), target="llvm")
    far = autotvm.task.create("test_iso/matmul", args=(512, "float32"), target="llvm")
    result = autotvm.MeasureResult((1e-3,), 0, "", 0.1, 1.0)
    ref_log = [(autotvm.MeasureInput(near.target, near, near.config_space.get(3)), result),  # tile_x 8
               (autotvm.MeasureInput(far.target, far, far.config_space.get(9)), result)]  # tile_x 512
    cfg = FallbackConfigEntity(workload=("test_iso/matmul", 48, "float32"))
    cfg.define_split("tile_x", 48, num_outputs=2)
    cfg.fallback_with_reference_log(ref_log)
    assert cfg["tile_x"].size == [-1, 8]  # from the 64 one, the closest shape; 8 divides 48
