"""OpenCL C from the CUDA generator's kernels, and user lowering rules for intrinsics
(tvm.ir.register_op_attr / register_intrin_lowering) in the CUDA, OpenCL and LLVM generators."""

import numpy as np
import pytest
from test_codegen_cuda import _matmul_shared

import tilecraft as tvm
from tilecraft import te
from tilecraft.ir import register_intrin_lowering, register_op_attr


def _exp_kernel(fcompute=te.exp):
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.compute(A.shape, lambda i: fcompute(A[i]), name="B")
    s = te.create_schedule(B.op)
    bx, tx = s[B].split(B.op.axis[0], factor=64)
    s[B].bind(bx, te.thread_axis("blockIdx.x"))
    s[B].bind(tx, te.thread_axis("threadIdx.x"))
    return s, [A, B]


def test_opencl_kernel_source_and_no_runtime():
    mod = tvm.build(*_exp_kernel(), target="opencl", name="myexp")
    src = mod.imported_modules[0].get_source()
    assert "__kernel void myexp_kernel0(__global float* restrict A, __global float* restrict B, int n)" in src
    assert "get_group_id(0)" in src and "get_local_id(0)" in src and "exp(A[" in src and "expf" not in src
    with pytest.raises(RuntimeError, match="no OpenCL runtime"):
        mod(tvm.nd.array(np.zeros(4, "float32")), tvm.nd.array(np.zeros(4, "float32")))
    t = tvm.target.Target("opencl")
    assert t.keys == ("opencl", "gpu") and t.max_num_threads == 256 and t.kind.name == "opencl"


def test_opencl_shared_memory_and_barriers():
    s, args = _matmul_shared()
    src = tvm.build(s, args, target="opencl").get_source()
    assert "__local float A_shared[" in src and "barrier(CLK_LOCAL_MEM_FENCE);" in src
    assert "__syncthreads" not in src and "__shared__" not in src


def test_user_lowering_rule_per_target_and_levels():
    def to_fast_exp(call):
        assert call.op.name == "tir.exp"
        return tvm.tir.call_pure_extern("float32", "__expf", call.args[0]) if call.dtype == "float32" else call

    register_intrin_lowering("tir.exp", target="cuda", f=to_fast_exp, level=97)
    try:
        assert "__expf(A[" in tvm.build(*_exp_kernel(), target="cuda").get_source()
        assert "exp(A[" in tvm.build(*_exp_kernel(), target="opencl").get_source()  # cuda's rule only
        with pytest.raises(ValueError, match="already registered at level 97"):
            register_intrin_lowering("tir.exp", target="cuda", f=to_fast_exp, level=97)
    finally:  # a higher level replaces it: a rule that declines restores the built-in lowering
        register_intrin_lowering("tir.exp", target="cuda", f=lambda call: call, level=98)
    assert "expf(A[" in tvm.build(*_exp_kernel(), target="cuda").get_source()


def test_a_new_intrinsic_defined_by_its_lowering_runs_on_the_cpu():
    register_op_attr("tir.tc_test_cube", "TCallEffectKind", tvm.tir.CallEffectKind.Pure)
    register_intrin_lowering("tir.tc_test_cube", target="llvm", f=lambda c: c.args[0] * c.args[0] * c.args[0])
    assert tvm.ir.get_op_attr("tir.tc_test_cube", "TCallEffectKind") == tvm.tir.CallEffectKind.Pure
    A = te.placeholder((37,), name="A")
    B = te.compute(A.shape, lambda i: tvm.tir.call_intrin("float32", "tir.tc_test_cube", A[i]), name="B")
    s = te.create_schedule(B.op)
    s[B].vectorize(s[B].split(B.op.axis[0], factor=8)[1])
    f = tvm.build(s, [A, B], "llvm")
    a = np.random.default_rng(0).standard_normal(37).astype("float32")
    b = tvm.nd.array(np.zeros(37, "float32"))
    f(tvm.nd.array(a), b)
    np.testing.assert_allclose(b.numpy(), a ** 3, rtol=1e-6)
