"""Workload keys, search tasks and v0.6 records: a log line written by hand in the classic format is
read and applied; records round-trip; load_best_record picks the fastest valid one; measure inputs
travel to a spawned worker even when the workload is defined in the parent's __main__."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import auto_scheduler, te
from tilecraft.auto_scheduler import measure_record, workload_registry


@auto_scheduler.register_workload
def matmul(N, M, K, dtype):
    A = te.placeholder((N, K), name="A", dtype=dtype)
    B = te.placeholder((K, M), name="B", dtype=dtype)
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return [A, B, C]


@auto_scheduler.register_workload("named_add")
def add(n):
    A = te.placeholder((n,), name="A")
    return [A, te.compute((n,), lambda i: A[i] + 1.0, name="B")]


KEY = '["matmul", 128, 128, 128, "float32"]'

# A line as classic TVM writes it (tvm/gallery ci_logs layout): task [workload_key, target,
# hardware params, target_host, layout_rewrite_option, task input names], state [[], steps].
CLASSIC_LINE = json.dumps({
    "i": [[KEY, "llvm -keys=cpu", [2, 64, 64, 0, 0, 0, 0, 0], "", 1, []],
          [[], [["CHW", 2, "local"], ["SP", 2, 0, 128, [1, 8, 2], 1], ["SP", 2, 4, 128, [2, 4, 16], 1],
                ["SP", 2, 8, 128, [4], 1], ["RE", 2, [0, 4, 1, 5, 8, 2, 6, 9, 3, 7]],
                ["FSP", 3, 0, 1, 2], ["FSP", 3, 3, 2, 2], ["RE", 3, [0, 3, 1, 4, 2, 5]],
                ["CA", 2, 3, 3], ["FU", 3, [0, 1, 2]], ["AN", 3, 0, 3], ["PR", 2, 0, "auto_unroll_max_step$16"],
                ["AN", 2, 9, 2]]]],
    "r": [[0.001], 0, 0.1, 1700000000], "v": "v0.6"})


def run_matmul(sch, args, n=128):
    f = tvm.build(sch, args, target="llvm")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n)).astype("float32")
    b = rng.standard_normal((n, n)).astype("float32")
    c = tvm.nd.array(np.zeros((n, n), "float32"))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b, rtol=1e-4, atol=1e-4)


def test_workload_keys_are_classic():
    assert auto_scheduler.make_workload_key(matmul, (128, 128, 128, "float32")) == KEY
    assert auto_scheduler.make_workload_key("named_add", (8,)) == '["named_add", 8]'
    assert [t.name for t in auto_scheduler.workload_key_to_tensors(KEY)] == ["A", "B", "C"]
    with pytest.raises(ValueError, match="not registered"):
        auto_scheduler.make_workload_key("nope", (1,))
    with pytest.raises(RuntimeError, match="registered already"):
        auto_scheduler.register_workload("named_add", lambda n: None)
    # an anonymous DAG (a relay subgraph) is keyed by the hash of its text and its shapes
    dag = auto_scheduler.ComputeDAG(matmul(16, 16, 16, "float32"))
    key = dag.workload_key()
    name, *shapes = json.loads(key)
    assert len(name) == 32 and shapes == [[16, 16], [16, 16], [16, 16]]
    assert auto_scheduler.ComputeDAG(matmul(16, 16, 16, "float32")).workload_key() == key
    task = auto_scheduler.SearchTask(compute_dag=dag, target="llvm")
    assert task.workload_key == key
    assert str(auto_scheduler.ComputeDAG(key)) == str(dag)


def test_search_task_from_function_or_key():
    task = auto_scheduler.SearchTask(func=matmul, args=(128, 128, 128, "float32"), target="llvm")
    assert task.workload_key == KEY
    assert "C(i, j) += (A[i, k]*B[k, j])" in str(task.compute_dag)
    hw = task.hardware_params
    assert hw.num_cores >= 1 and hw.vector_unit_bytes in (16, 32, 64) and hw.cache_line_bytes > 0
    task2 = auto_scheduler.SearchTask(workload_key=KEY, target="llvm",
                                      hardware_params=auto_scheduler.HardwareParams(num_cores=4, target="llvm"))
    assert task2.hardware_params.num_cores == 4 and str(task2.compute_dag) == str(task.compute_dag)


def test_hand_written_classic_line_is_read_and_applied(tmp_path):
    log = tmp_path / "matmul.json"
    log.write_text(CLASSIC_LINE + "\n")
    task = auto_scheduler.SearchTask(func=matmul, args=(128, 128, 128, "float32"), target="llvm")
    inp, res = auto_scheduler.load_best_record(str(log), task.workload_key)
    assert inp.task.workload_key == KEY and res.costs == (0.001,) and res.error_no == 0
    assert inp.task.hardware_params.to_list() == [2, 64, 64, 0, 0, 0, 0, 0]
    assert "parallel i.0@j.0@i.1@ (0,8)" in str(inp.state)
    run_matmul(*task.apply_best(str(log)))
    code = task.print_best(str(log))
    assert 's.cache_write(C, "local")' in code and ".parallel(" in code and ".vectorize(" in code
    # written back, the line is the classic one
    again = measure_record.dump_record_to_string(inp, res)
    assert json.loads(again) == json.loads(CLASSIC_LINE)


def test_records_round_trip(tmp_path):
    task = auto_scheduler.SearchTask(func=matmul, args=(64, 64, 64, "float32"), target="llvm")
    dag = task.compute_dag
    states = []
    for f in (2, 4, 8):
        s = dag.get_init_state()
        s.split(2, 0, [f])
        s.parallel(2, 0)
        states.append(s)
    inputs = [auto_scheduler.MeasureInput(task, s) for s in states]
    results = [auto_scheduler.MeasureResult((0.1 * (i + 1), 0.2), 0, "", 1.5, 1700000000 + i) for i in range(3)]
    log = str(tmp_path / "sub" / "log.json")
    auto_scheduler.save_records(log, inputs[:1], results[:1])
    cb = auto_scheduler.RecordToFile(log)
    cb(None, inputs[1:], results[1:])
    lines = open(log).read().splitlines()
    assert len(lines) == 3 and all(json.loads(x)["v"] == "v0.6" for x in lines)
    read_inputs, read_results = auto_scheduler.RecordReader(log).read_lines()
    assert len(read_inputs) == 3
    for a, b, ra, rb in zip(inputs, read_inputs, results, read_results):
        assert b.task.workload_key == a.task.workload_key and str(b.task.target) == str(a.task.target)
        assert b.steps == a.steps and str(b.state) == str(a.state)
        assert dag.infer_bound_from_state(b.state) == dag.infer_bound_from_state(a.state)
        assert (rb.costs, rb.error_no, rb.all_cost, rb.timestamp) == (ra.costs, ra.error_no, ra.all_cost, ra.timestamp)
    assert len(list(auto_scheduler.load_records(log))) == 3
    assert auto_scheduler.RecordReader(log).read_lines(max_lines=1, skip_lines=1)[0][0].steps == inputs[1].steps
    # a killed writer's torn last line is skipped with a warning
    with open(log, "a") as f:
        f.write(lines[0][: len(lines[0]) // 2])
    with pytest.warns(RuntimeWarning, match="truncated"):
        assert len(auto_scheduler.RecordReader(log).read_lines()[0]) == 3


def test_load_best_record_picks_lowest_mean_among_valid(tmp_path):
    task = auto_scheduler.SearchTask(func=matmul, args=(64, 64, 64, "float32"), target="llvm")
    other = auto_scheduler.SearchTask(func=add, args=(64,), target="llvm")
    dag = task.compute_dag

    def inp(f):
        s = dag.get_init_state()
        s.split(2, 0, [f])
        return auto_scheduler.MeasureInput(task, s)

    MR = auto_scheduler.MeasureResult
    pairs = [
        (inp(2), MR((0.3, 0.3), 0, "", 1, 1)),
        (inp(4), MR((0.05, 0.45), 0, "", 1, 1)),  # mean 0.25: the best valid one
        (inp(8), MR((0.01,), 4, "crash", 1, 1)),  # faster but an error
        (inp(16), MR((0.28,), 0, "", 1, 1)),
        (auto_scheduler.MeasureInput(other, other.compute_dag.get_init_state()), MR((0.001,), 0, "", 1, 1)),
    ]
    log = str(tmp_path / "log.json")
    auto_scheduler.save_records(log, *zip(*pairs))
    best, res = auto_scheduler.load_best_record(log, task.workload_key)
    assert best.steps == pairs[1][0].steps and res.costs == (0.05, 0.45)
    best_any, _ = auto_scheduler.load_best_record(log)
    assert best_any.task.workload_key == other.workload_key
    assert auto_scheduler.load_best_record(log, task.workload_key, target="cuda") == (None, None)
    assert auto_scheduler.load_best_record(log, task.workload_key, target=tvm.target.Target("llvm"))[0] is not None
    # a compatible (smaller) workload counts when asked for, scaled by the size factor
    assert auto_scheduler.load_best_record(log, '["matmul", 128, 64, 64, "float32"]') == (None, None)
    best_c, _ = auto_scheduler.load_best_record(log, '["matmul", 128, 64, 64, "float32"]', include_compatible=True)
    assert best_c.steps == pairs[1][0].steps


def test_measure_input_is_a_candidate_and_pickles():
    import pickle

    task = auto_scheduler.SearchTask(func=matmul, args=(32, 32, 32, "float32"), target="llvm")
    s = task.compute_dag.get_init_state()
    s.split(2, 0, [4])
    inp = auto_scheduler.MeasureInput(task, s)
    assert str(inp.target) == "llvm"
    back = pickle.loads(pickle.dumps(inp))
    assert back.steps == inp.steps and str(back.state) == str(inp.state)
    lower = lambda sa: str(tvm.lower(sa[0], sa[1], simple_mode=True))  # noqa: E731
    assert lower(back.instantiate()) == lower(inp.instantiate())
    ref_sch, ref_args = inp.reference()
    run_matmul(ref_sch, ref_args, n=32)
    assert back.reference_key() == inp.reference_key()


def test_workload_from_main_reaches_a_spawned_worker(tmp_path):
    """A workload registered in the parent's __main__ is rebuilt in a spawned worker from the
    pickled measure input (the worker cannot import __main__'s function)."""
    script = tmp_path / "main_workload.py"
    script.write_text(textwrap.dedent("""
        import multiprocessing as mp
        import tilecraft as tvm
        from tilecraft import auto_scheduler, te

        @auto_scheduler.register_workload
        def scaled(n):
            A = te.placeholder((n,), name="A")
            return [A, te.compute((n,), lambda i: A[i] * 3.0, name="B")]

        def work(inp):
            sch, args = inp.instantiate()
            return str(tvm.lower(sch, args, simple_mode=True))

        if __name__ == "__main__":
            task = auto_scheduler.SearchTask(func=scaled, args=(64,), target="llvm")
            s = task.compute_dag.get_init_state()
            s.split(1, 0, [8])
            inp = auto_scheduler.MeasureInput(task, s)
            with mp.get_context("spawn").Pool(1) as pool:
                print(pool.apply(work, (inp,)) == work(inp))
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("True")


def test_registry_entries_serialise():
    data = workload_registry.serialize_workload_registry_entry(KEY)
    assert data == ("matmul", matmul) or data[0] == KEY
