"""Classic AutoTVM: write a matmul template with knobs, tune it, build the best configuration.

This is classic TVM's "Writing Tunable Templates and Using the Auto-tuning Module" tutorial with
only the import line changed.  The template defines two split knobs; the task's configuration
space is their product; the tuner measures configurations in worker processes and appends each
to the log; `apply_history_best` makes the template use the fastest logged one.

    python examples/autotvm_matmul.py [--size 512] [--trials 20] [--tuner xgb|ga|random|grid] [--log matmul.log]
"""

import argparse
import os
import tempfile

import numpy as np

import tilecraft as tvm
from tilecraft import autotvm, te


@autotvm.template("tutorial/matmul")
def matmul(N, L, M, dtype):
    A = te.placeholder((N, L), name="A", dtype=dtype)
    B = te.placeholder((L, M), name="B", dtype=dtype)
    k = te.reduce_axis((0, L), name="k")
    C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C.op)

    # schedule
    y, x = s[C].op.axis
    k = s[C].op.reduce_axis[0]

    # 1. get the config object
    cfg = autotvm.get_config()

    # 2. define search space
    cfg.define_split("tile_y", y, num_outputs=2)
    cfg.define_split("tile_x", x, num_outputs=2)

    # 3. schedule according to config
    yo, yi = cfg["tile_y"].apply(s, C, y)
    xo, xi = cfg["tile_x"].apply(s, C, x)

    s[C].reorder(yo, xo, k, yi, xi)
    return s, [A, B, C]


TUNERS = {"xgb": autotvm.tuner.XGBTuner, "ga": autotvm.tuner.GATuner, "random": autotvm.tuner.RandomTuner,
          "grid": autotvm.tuner.GridSearchTuner}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--tuner", choices=sorted(TUNERS), default="xgb")
    p.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "autotvm_matmul.log"))
    args = p.parse_args()

    N = L = M = args.size
    task = autotvm.task.create("tutorial/matmul", args=(N, L, M, "float32"), target="llvm")
    print(task.config_space)

    measure_option = autotvm.measure_option(builder=autotvm.LocalBuilder(),
                                            runner=autotvm.LocalRunner(number=5))
    tuner = TUNERS[args.tuner](task)
    if os.path.exists(args.log):  # resume: logged configurations are not measured again
        tuner.load_history(autotvm.record.load_from_file(args.log), min_seed_records=1)
    tuner.tune(n_trial=min(args.trials, len(task.config_space)), measure_option=measure_option,
               callbacks=[autotvm.callback.progress_bar(args.trials), autotvm.callback.log_to_file(args.log)])

    # apply history best from the log file
    with autotvm.apply_history_best(args.log):
        with tvm.target.Target("llvm"):
            s, arg_bufs = matmul(N, L, M, "float32")
            func = tvm.build(s, arg_bufs)
    best = autotvm.ApplyHistoryBest(args.log).query(task.target, task.workload)
    print("best configuration:", best)

    # check correctness
    a_np = np.random.uniform(size=(N, L)).astype(np.float32)
    b_np = np.random.uniform(size=(L, M)).astype(np.float32)
    c_np = a_np.dot(b_np)
    c_tvm = tvm.nd.empty(c_np.shape)
    func(tvm.nd.array(a_np), tvm.nd.array(b_np), c_tvm)
    tvm.testing.assert_allclose(c_np, c_tvm.numpy(), rtol=1e-4)
    t = func.time_evaluator(func.entry_name, tvm.cpu(0), number=5)(tvm.nd.array(a_np), tvm.nd.array(b_np),
                                                                   c_tvm).mean
    print(f"tuned matmul {N}x{L}x{M} matches numpy: {t * 1e3:.3f} ms, {2 * N * L * M / t / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
