"""A large model's weights are held once: relay.build binds the caller's NDArrays (what the importers
return) without copying them (numpy arrays are copied, as classic tvm.nd.array does),
constant folding reads them in place, and every executor made from a built module reads the module's
weights through set_input_zero_copy instead of a copy (TinyLlama-1.1B did not compile in 23 GiB)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor

RNG = np.random.default_rng(0)


def _affine():
    x = relay.var("x", shape=(8, 8))
    w = relay.var("w", shape=(8, 8))
    return tvm.IRModule.from_expr(relay.Function([x, w], relay.add(x, w)))


def _executor():
    lib = relay.build(_affine(), target="llvm")
    return graph_executor.GraphModule(lib["default"](tvm.cpu(0))).module


def test_zero_copy_input_is_read_in_place_and_never_written():
    ex = _executor()
    lent = RNG.standard_normal((8, 8)).astype("float32")
    x = RNG.standard_normal((8, 8)).astype("float32")
    ex.set_input("x", x)
    ex.set_input_zero_copy("w", lent)
    ex.run()
    np.testing.assert_allclose(ex.get_output(0).numpy(), x + lent, rtol=1e-6)
    lent[:] = 1.0  # the executor reads the caller's memory
    ex.run()
    np.testing.assert_allclose(ex.get_output(0).numpy(), x + 1.0, rtol=1e-6)
    keep = lent.copy()
    ex.set_input("w", np.zeros((8, 8), "float32"))  # a later set_input gets private memory ...
    np.testing.assert_array_equal(lent, keep)  # ... and leaves the lent array alone
    ex.run()
    np.testing.assert_allclose(ex.get_output(0).numpy(), x, rtol=1e-6)


def test_get_input_of_a_lent_array_gives_private_memory():
    ex = _executor()
    lent = np.ones((8, 8), "float32")
    ex.set_input_zero_copy("w", lent)
    ex.get_input("w").copyfrom(np.zeros((8, 8), "float32"))  # classic in-place fill
    assert lent.sum() == 64.0


def test_zero_copy_refuses_a_strided_view_and_a_wrong_shape():
    ex = _executor()
    with pytest.raises(ValueError, match="not C-contiguous"):
        ex.set_input_zero_copy("w", np.ones((8, 16), "float32")[:, ::2])
    with pytest.raises(ValueError, match="expected shape"):
        ex.set_input_zero_copy("w", np.ones((4, 8), "float32"))


def test_executors_of_one_module_share_its_weights_and_stay_independent():
    x = relay.var("x", shape=(4, 64))
    w = relay.var("w", shape=(32, 64))
    mod = tvm.IRModule.from_expr(relay.Function([x, w], relay.nn.relu(relay.nn.dense(x, w))))
    weight = RNG.standard_normal((32, 64)).astype("float32")
    lib = relay.build(mod, target="llvm", params={"w": weight})
    a, b = (graph_executor.GraphModule(lib["default"](tvm.cpu(0))) for _ in range(2))
    xs = [RNG.standard_normal((4, 64)).astype("float32") for _ in range(2)]
    for m, xv in zip((a, b), xs):
        m.set_input("x", xv)
        m.run()
    for m, xv in zip((a, b), xs):
        np.testing.assert_allclose(m.get_output(0).numpy(), np.maximum(xv @ weight.T, 0), rtol=1e-4, atol=1e-4)


def test_a_numpy_weight_is_copied_at_build_so_reusing_the_buffer_changes_nothing():
    x = relay.var("x", shape=(2, 8))
    w = relay.var("w", shape=(4, 8))
    mod = tvm.IRModule.from_expr(relay.Function([x, w], relay.nn.dense(x, w)))
    weight = RNG.standard_normal((4, 8)).astype("float32")
    keep = weight.copy()
    lib = relay.build(mod, target="llvm", params={"w": weight})
    weight[:] = 0.0  # the caller reuses its buffer (classic: tvm.nd.array copied it)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    xv = RNG.standard_normal((2, 8)).astype("float32")
    m.set_input("x", xv)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), xv @ keep.T, rtol=1e-5, atol=1e-5)


_PEAK = textwrap.dedent("""
    import resource, numpy as np, tilecraft as tvm
    from tilecraft import relay
    from tilecraft.contrib import graph_executor
    from tilecraft.ir.transform import PassContext
    n = 4096
    rng = np.random.default_rng(0)
    x = relay.var("x", shape=(1, n))
    ws = [relay.var(f"w{i}", shape=(n, n)) for i in range(3)]
    y = x
    for w in ws:
        y = relay.nn.relu(relay.nn.dense(y, w))
    mod = tvm.IRModule.from_expr(relay.Function([x, *ws], y))
    params = {f"w{i}": tvm.nd.array(rng.standard_normal((n, n), dtype="float32") / 40) for i in range(3)}
    weights = 3 * n * n * 4
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    xv = rng.standard_normal((1, n), dtype="float32")
    m.set_input("x", xv)
    m.run()
    ref = xv
    for i in range(3):
        ref = np.maximum(ref @ params[f"w{i}"].numpy().T, 0)
    np.testing.assert_allclose(m.get_output(0).numpy(), ref, rtol=1e-3, atol=1e-4)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print((after - before) / weights)
""")


def test_build_and_executor_hold_the_weights_about_once():
    """Peak memory that relay.build (opt_level 3, dense weights repacked) and an executor add on top of the
    caller's weights: the repacked copy, the compiler's code and little else (1.4x here; it was 4.7x: a
    bound copy, folding's input, output and two result copies, and the executor's copy)."""
    env = dict(os.environ, TVM_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", _PEAK], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    added = float(out.stdout.split()[-1])
    assert added < 2.0, f"build + executor added {added:.2f}x the weights' size"
