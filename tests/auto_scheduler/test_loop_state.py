"""Loop states: every transform step updates the state's view, serialises to a v0.6 record line,
reads back, and replays onto a fresh te schedule that lowers to the same loop IR and computes the
same numbers as numpy; the view's extents agree with te bound inference."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import auto_scheduler, te
from tilecraft.auto_scheduler import measure_record
from tilecraft.auto_scheduler.transform_steps import STEP_KINDS, StepError

N = 64


def matmul_relu(n=N, relu_input=False):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    AA = te.compute((n, n), lambda i, j: te.max(A[i, j], 0.0), name="AA") if relu_input else A
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(AA[i, k] * B[k, j], axis=k), name="C")
    D = te.compute((n, n), lambda i, j: te.max(C[i, j], 0.0), name="D")
    return [A, B, D]


def reference(tensors, inputs):
    a, b = inputs
    if any(op.name == "AA" for op in auto_scheduler.ComputeDAG(tensors).ops):
        a = np.maximum(a, 0)
    return np.maximum(a @ b, 0)


def lowered(dag, steps):
    sch, args = dag.apply_steps_from_state(steps)
    return str(tvm.lower(sch, args, simple_mode=True))


def check_state(dag, state, ref=None, build=True):
    """print, record line, read back, replay: same loop IR, numpy's numbers, te's extents."""
    text = str(state)
    assert "Placeholder:" in text and " = ..." in text
    task = auto_scheduler.SearchTask(compute_dag=dag, workload_key=dag.workload_key(), target="llvm")
    res = auto_scheduler.MeasureResult((0.5,), 0, "", 1.0, 1700000000)
    line = measure_record.dump_record_to_string(auto_scheduler.MeasureInput(task, state), res)
    assert line.count("\n") == 1 and '"v": "v0.6"' in line
    inp, res2 = measure_record.load_record_from_string(line)
    assert inp.steps == state.transform_steps
    assert res2.costs == (0.5,) and res2.error_no == 0
    replayed = dag.state_from_steps(inp.steps)
    assert str(replayed) == text
    ir = lowered(dag, state)
    assert lowered(dag, inp.steps) == ir

    # the view's own extents are te's (where the view knows them)
    bound = dag.infer_bound_from_state(state)
    compared = 0
    for st, bst in zip(state.stages, bound.stages):
        for it, bit in zip(st.iters, bst.iters):
            if it.extent is not None:
                assert it.extent == bit.extent, (st.op.name, it.name, it.extent, bit.extent)
                compared += 1
    assert compared > 0

    if build:
        sch, args = dag.apply_steps_from_state(inp.steps)
        f = tvm.build(sch, args, target="llvm")
        rng = np.random.default_rng(0)
        ins = [rng.standard_normal([int(s) for s in t.shape]).astype("float32") for t in args[:-1]]
        out = tvm.nd.array(np.zeros([int(s) for s in args[-1].shape], "float32"))
        f(*[tvm.nd.array(x) for x in ins], out)
        np.testing.assert_allclose(out.numpy(), ref(ins), rtol=1e-4, atol=1e-4)
    return inp.steps


def test_dag_prints_like_classic_and_counts_flops():
    dag = auto_scheduler.ComputeDAG(matmul_relu())
    text = str(dag)
    assert "A = PLACEHOLDER [64, 64]" in text
    assert "C(i, j) += (A[i, k]*B[k, j])" in text
    assert "D(i, j) = max(C[i, j], 0f)" in text
    assert dag.flop_ct == 2 * N ** 3 + N * N
    assert [op.name for op in dag.ops] == ["A", "B", "C", "D"]
    C, D = dag.ops[2], dag.ops[3]
    assert dag.is_compute_intensive(C) and dag.needs_multi_level_tiling(C) and dag.has_data_reuse(C)
    assert not dag.is_compute_intensive(D) and dag.is_element_wise(D) and dag.is_strictly_inlineable(D)
    assert dag.is_output(D) and not dag.is_output(C) and dag.output_of(C) == [D]


def test_split_reorder_fuse_annotations_pragma():
    tensors = matmul_relu()
    dag = auto_scheduler.ComputeDAG(tensors)
    s = dag.get_init_state()
    C = tensors[2].op.input_tensors[0]
    its0 = s.split(C, s[C].iters[0], [4, 2])
    its1 = s.split(C, s[C].iters[3], [8, 2], inner_to_outer=False)
    assert [it.name for it in its0] == ["i.0", "i.1", "i.2"] and [it.extent for it in its0] == [8, 4, 2]
    assert [it.extent for it in its1] == [8, 2, 4]
    s.reorder(C, [its0[0], its1[0], its0[1], its1[1], s[C].iters[6], its0[2], its1[2]])
    fused = s.fuse(C, [s[C].iters[0], s[C].iters[1]])
    assert fused.name == "i.0@j.0@" and fused.extent == 64
    s.parallel(C, fused)
    s.unroll(C, s[C].iters[4])
    s.vectorize(C, s[C].iters[5])
    s.pragma(C, s[C].iters[0], "auto_unroll_max_step$16")
    text = str(s)
    assert "parallel i.0@j.0@ (0,64)" in text and "vectorize j.2 (0,4)" in text and "unroll i.2 (0,2)" in text
    assert "C auto_unroll: 16" in text
    steps = check_state(dag, s, lambda ins: reference(tensors, ins))
    assert [x.to_record()[0] for x in steps] == ["SP", "SP", "RE", "FU", "AN", "AN", "AN", "PR"]


def test_cache_write_follow_split_compute_at():
    """The classic CPU sketch of a matmul: a local write cache tiled SSRSRS, the output following
    its outer tiles, the cache computed inside them."""
    A = te.placeholder((N, N), name="A")
    B = te.placeholder((N, N), name="B")
    k = te.reduce_axis((0, N), name="k")
    C = te.compute((N, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    dag = auto_scheduler.ComputeDAG([A, B, C])
    s = dag.get_init_state()
    CL = s.cache_write(C, "local")
    assert s.stages[2].op is CL and s[C].op.name == "C" and len(s.stages) == 4
    s.split(CL, s[CL].iters[0], [2, 2, 4])
    s.split(CL, s[CL].iters[4], [2, 4, 2])
    s.split(CL, s[CL].iters[8], [8])
    s.reorder(CL, [0, 4, 1, 5, 8, 2, 6, 9, 3, 7])
    s.follow_split(C, s[C].iters[0], 1, 2)
    s.follow_split(C, s[C].iters[3], 2, 2)
    s.reorder(C, [0, 3, 1, 4, 2, 5])
    s.compute_at(CL, C, s[C].iters[3])
    assert all(it.extent is None for it in s[CL].iters)  # bounds depend on the attach point
    s.fuse(C, [0, 1])
    s.parallel(C, 0)
    s.vectorize(CL, 9)
    s.pragma(C, 0, "auto_unroll_max_step$64")
    assert "C_local = ..." in str(s)
    steps = check_state(dag, s, lambda ins: ins[0] @ ins[1])
    assert steps[0].to_record() == ["CHW", 2, "local"]
    assert steps[5].to_record() == ["FSP", 3, 0, 1, 2]
    bound = dag.infer_bound_from_state(s)
    assert all(it.extent is not None for it in bound[CL].iters)


def test_consumer_fused_into_tiles_and_follow_fused_split():
    tensors = matmul_relu()
    dag = auto_scheduler.ComputeDAG(tensors)
    D = tensors[2]
    C = D.op.input_tensors[0]
    s = dag.get_init_state()
    s.split(C, 0, [2, 4])
    s.split(C, 3, [4, 2])
    s.split(C, 6, [16])
    s.reorder(C, [0, 3, 1, 4, 6, 2, 5, 7])
    s.follow_split(D, 0, 0, 2)
    s.follow_split(D, 3, 1, 2)
    s.reorder(D, [0, 3, 1, 4, 2, 5])
    s.compute_at(C, D, 3)
    s.fuse(D, [0, 1])
    s.parallel(D, 0)
    check_state(dag, s, lambda ins: reference(tensors, ins))

    # follow_fused_split: a loop fused from two split loops follows their level-1 tiles
    s = dag.get_init_state()
    s.split(C, 0, [2, 4])
    s.split(C, 3, [4, 2])
    s.reorder(C, [0, 3, 1, 4, 2, 5, 6])
    s.fuse(D, [0, 1])
    its = s.follow_fused_split(D, 0, [0, 1], 1, True)
    assert its[1].extent == 4 * 2 and its[0].extent == N * N // 8
    s.compute_at(C, D, 0)
    check_state(dag, s, lambda ins: reference(tensors, ins))


def test_compute_inline_root_cache_read_storage_align():
    tensors = matmul_relu(relu_input=True)
    dag = auto_scheduler.ComputeDAG(tensors)
    assert [op.name for op in dag.ops] == ["A", "AA", "B", "C", "D"]  # classic's order
    AA = dag.ops[1]
    C, D = dag.ops[3], dag.ops[4]
    s = dag.get_init_state()
    s.compute_inline(AA)
    BG = s.cache_read(tensors[1], "global", [C])
    assert s.stages[3].op is BG and s[C].op.name == "C" and s.stage_id_map[C] == 4
    s.storage_align(BG, 0, 16, 4)
    s.compute_at(BG, C, 0)
    s.compute_root(BG)
    s.split(D, 0, [8])
    s.compute_at(C, D, 0)
    steps = check_state(dag, s, lambda ins: reference(tensors, ins))
    assert [x.to_record()[0] for x in steps] == ["CI", "CHR", "SA", "CA", "CR", "SP", "CA"]
    assert steps[1].to_record() == ["CHR", 2, "global", [3]]


def test_rfactor():
    A = te.placeholder((8, 256), name="A")
    k = te.reduce_axis((0, 256), name="k")
    S = te.compute((8,), lambda i: te.sum(A[i, k], axis=k), name="S")
    dag = auto_scheduler.ComputeDAG([A, S])
    s = dag.get_init_state()
    ko, ki = s.split(S, s[S].iters[1], [16])
    rf = s.rfactor(S, ko, 1)
    assert s.stages[1].op is rf and len(s.stages) == 3
    assert [it.extent for it in s[rf].iters] == [8, 16, 16]
    s.parallel(rf, 0)
    s.compute_at(rf, S, 0)
    s.pragma(S, 0, "auto_unroll_max_step$16")
    steps = check_state(dag, s, lambda ins: ins[0].sum(axis=1))
    assert steps[1].to_record() == ["RF", 1, 1, 1]


def test_bind_records_and_lowers():
    A = te.placeholder((1024,), name="A")
    B = te.compute((1024,), lambda i: A[i] * 2.0, name="B")
    dag = auto_scheduler.ComputeDAG([A, B])
    s = dag.get_init_state()
    bx, tx = s.split(B, 0, [64])
    s.bind(B, bx, "blockIdx.x")
    s.bind(B, tx, "threadIdx.x")
    assert "blockIdx.x i.0 (0,16)" in str(s)
    check_state(dag, s, build=False)
    with pytest.raises(ValueError, match="unknown thread name"):
        s.bind(B, 0, "threadIdx.w")


def test_every_step_kind_is_covered_and_round_trips():
    from tilecraft.auto_scheduler import transform_steps as ts

    examples = [ts.AnnotationStep(2, 0, 3), ts.FuseStep(2, (0, 1)), ts.PragmaStep(2, 0, "auto_unroll_max_step$64"),
                ts.ReorderStep(2, (1, 0, 2)), ts.SplitStep(2, 0, 128, (8, 2, 2), True),
                ts.FollowSplitStep(3, 0, 1, 2), ts.FollowFusedSplitStep(3, 0, (1, 2), 1, True),
                ts.StorageAlignStep(1, 0, 16, 4), ts.ComputeAtStep(2, 3, 1), ts.ComputeInlineStep(1),
                ts.ComputeRootStep(1), ts.CacheReadStep(0, "shared", (2,)), ts.CacheWriteStep(2, "local"),
                ts.RfactorStep(2, 2, 0)]
    assert {type(x) for x in examples} == set(STEP_KINDS)
    codes = set()
    for step in examples:
        rec = step.to_record()
        codes.add(rec[0])
        assert ts.step_from_record(rec) == step
    assert codes == {"AN", "FU", "PR", "RE", "SP", "FSP", "FFSP", "SA", "CA", "CI", "CR", "CHR", "CHW", "RF"}
    with pytest.raises(StepError, match="unknown step code"):
        ts.step_from_record(["XX", 1])


def test_states_copy_cheaply_and_independently():
    dag = auto_scheduler.ComputeDAG(matmul_relu())
    s = dag.get_init_state()
    s.split(2, 0, [4])
    t = s.copy()
    t.split(2, 0, [2])
    t.parallel(3, 0)
    assert len(s.transform_steps) == 1 and len(t.transform_steps) == 3
    assert t.transform_steps[0] is s.transform_steps[0]  # steps are shared
    assert [it.name for it in s[2].iters] == ["i.0", "i.1", "j", "k"]
    assert s[3].iters[0].annotation == 0


def test_invalid_steps_fail_with_the_stage_named_and_leave_the_state_unchanged():
    dag = auto_scheduler.ComputeDAG(matmul_relu())
    s = dag.get_init_state()
    with pytest.raises(StepError, match="reduction"):
        s.parallel(2, 2)
    with pytest.raises(StepError, match="not consecutive"):
        s.fuse(2, [0, 2])
    s.parallel(3, 0)
    with pytest.raises(StepError, match="already parallel"):
        s.vectorize(3, 0)
    assert len(s.transform_steps) == 1


def test_te_code_of_a_state():
    dag = auto_scheduler.ComputeDAG(matmul_relu())
    s = dag.get_init_state()
    s.split(2, 0, [8])
    s.compute_at(2, 3, 0)
    code = dag.print_python_code_from_state(s)
    assert "s[C].split(i, factor=8)" in code and "s[C].compute_at(s[D]" in code
    assert "compute_at" in s.transform_steps[1].te_code(dag, s.transform_steps[:1])
