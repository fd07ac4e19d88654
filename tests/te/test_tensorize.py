"""s[C].tensorize(axis, te.decl_tensor_intrin(...)): the loops below the axis become the intrinsic's
statement, bound to the regions of the real tensors (checked against numpy on random inputs);
the import_llvm pragma links the external functions such a statement calls; mismatches fail
with the stage, axis and intrinsic named."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.contrib import clang

N, M, L = 32, 48, 64
RNG = np.random.default_rng(12)

# gemv_update(cc, aa, bb, m, l, stride): cc[i] += sum_j aa[j] * bb[i * stride + j];  gemv_reset(cc, m): cc[:m] = 0
# (the tutorial's C functions, written as LLVM IR so that no clang is needed)
GEMV_LL = """
define i32 @gemv_update(ptr %cc, ptr %aa, ptr %bb, i32 %m, i32 %l, i32 %stride) {
entry:
  br label %oc
oc:
  %i = phi i32 [ 0, %entry ], [ %i1, %oe ]
  %t = icmp slt i32 %i, %m
  br i1 %t, label %ob, label %done
ob:
  %row = mul i32 %i, %stride
  %cp = getelementptr float, ptr %cc, i32 %i
  br label %ic
ic:
  %j = phi i32 [ 0, %ob ], [ %j1, %ib ]
  %t2 = icmp slt i32 %j, %l
  br i1 %t2, label %ib, label %oe
ib:
  %ap = getelementptr float, ptr %aa, i32 %j
  %a = load float, ptr %ap
  %bi = add i32 %row, %j
  %bp = getelementptr float, ptr %bb, i32 %bi
  %b = load float, ptr %bp
  %c = load float, ptr %cp
  %p = fmul float %a, %b
  %s = fadd float %c, %p
  store float %s, ptr %cp
  %j1 = add i32 %j, 1
  br label %ic
oe:
  %i1 = add i32 %i, 1
  br label %oc
done:
  ret i32 0
}

define i32 @gemv_reset(ptr %cc, i32 %m) {
entry:
  br label %c
c:
  %i = phi i32 [ 0, %entry ], [ %i1, %b ]
  %t = icmp slt i32 %i, %m
  br i1 %t, label %b, label %done
b:
  %p = getelementptr float, ptr %cc, i32 %i
  store float 0.0, ptr %p
  %i1 = add i32 %i, 1
  br label %c
done:
  ret i32 0
}
"""


def matmul_bt():
    A = te.placeholder((N, L), name="A")
    B = te.placeholder((M, L), name="B")
    k = te.reduce_axis((0, L), name="k")
    C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[j, k], axis=k), name="C")
    return A, B, C


def gemv_decl(m, l, dtype="float32", b_strides=True):
    a = te.placeholder((l,), name="a", dtype=dtype)
    b = te.placeholder((m, l), name="b", dtype=dtype)
    k = te.reduce_axis((0, l), name="k")
    c = te.compute((m,), lambda i: te.sum(a[k] * b[i, k], axis=k), name="c")
    Bb = tvm.tir.decl_buffer(b.shape, b.dtype, name="B", offset_factor=1,
                             strides=[te.var("s1"), 1] if b_strides else None)
    return a, b, c, Bb


def intrin_tir(m, l, split_reduction=False, b_strides=True, with_reset=True):
    """GEMV as plain TIR over the intrinsic's buffers."""
    a, b, c, Bb = gemv_decl(m, l, b_strides=b_strides)

    def fcompute(ins, outs):
        aa, bb = ins
        (cc,) = outs

        def reset():
            ib = tvm.tir.ir_builder.create()
            pc = ib.buffer_ptr(cc)
            with ib.for_range(0, m, name="ii") as ii:
                pc[ii] = tvm.tir.const(0, "float32")
            return ib.get()

        def update():
            ib = tvm.tir.ir_builder.create()
            pc, pa, pb = ib.buffer_ptr(cc), ib.buffer_ptr(aa), ib.buffer_ptr(bb)
            with ib.for_range(0, m, name="ii") as ii:
                with ib.for_range(0, l, name="kk") as kk:
                    pc[ii] = pc[ii] + pa[kk] * pb[ii, kk]
            return ib.get()

        body = tvm.tir.SeqStmt((reset(), update()))
        if split_reduction:
            return body, (reset() if with_reset else None), update()
        return body

    return te.decl_tensor_intrin(c.op, fcompute, binds={b: Bb}, default_buffer_params={"offset_factor": 1})


def intrin_extern(m, l, split_reduction=False):
    """GEMV as calls of gemv_update / gemv_reset (the tutorial's intrinsic)."""
    a, b, c, Bb = gemv_decl(m, l)
    Ab = tvm.tir.decl_buffer(a.shape, a.dtype, name="A", offset_factor=1, strides=[1])
    Cb = tvm.tir.decl_buffer(c.shape, c.dtype, name="C", offset_factor=1, strides=[1])

    def fcompute(ins, outs):
        aa, bb = ins
        (cc,) = outs
        update = tvm.tir.call_extern("int32", "gemv_update", cc.access_ptr("w"), aa.access_ptr("r"),
                                     bb.access_ptr("r"), m, l, bb.strides[0])
        reset = tvm.tir.call_extern("int32", "gemv_reset", cc.access_ptr("w"), m)
        if split_reduction:
            return tvm.tir.SeqStmt((tvm.tir.Evaluate(reset), tvm.tir.Evaluate(update))), reset, update
        return tvm.tir.SeqStmt((tvm.tir.Evaluate(reset), tvm.tir.Evaluate(update)))

    return te.decl_tensor_intrin(c.op, fcompute, binds={a: Ab, b: Bb, c: Cb})


def run(s, A, B, C):
    f = tvm.build(s, [A, B, C], target="llvm")
    a = RNG.uniform(-1, 1, size=(N, L)).astype("float32")
    b = RNG.uniform(-1, 1, size=(M, L)).astype("float32")
    c = tvm.nd.array(RNG.uniform(size=(N, M)).astype("float32"))  # garbage the intrinsic must overwrite
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a @ b.T, rtol=1e-4, atol=1e-4)


def gemv_schedule(split_k=None):
    A, B, C = matmul_bt()
    s = te.create_schedule(C.op)
    x, y = C.op.axis
    (z,) = C.op.reduce_axis
    yo, yi = s[C].split(y, factor=16)
    if split_k is None:
        s[C].reorder(x, yo, yi, z)
    else:
        zo, zi = s[C].split(z, factor=split_k)
        s[C].reorder(x, yo, zo, yi, zi)
    return A, B, C, s, x, yo, yi


def test_gemv_with_plain_tir_intrinsic():
    A, B, C, s, x, yo, yi = gemv_schedule()
    s[C].tensorize(yi, intrin_tir(16, L))
    text = str(tvm.lower(s, [A, B, C], simple_mode=True))
    assert "j_inner" not in text and "kk" in text  # the intrinsic replaced the loops below yi
    run(s, A, B, C)


def test_gemv_calling_an_external_function_imported_as_llvm_ir():
    A, B, C, s, x, yo, yi = gemv_schedule()
    s[C].tensorize(yi, intrin_extern(16, L))
    s[C].pragma(x, "import_llvm", GEMV_LL)
    text = str(tvm.lower(s, [A, B, C], simple_mode=True))
    assert "gemv_update" in text and "tvm_access_ptr" in text
    run(s, A, B, C)


def test_symbolic_stride_and_offset_are_bound_to_the_region():
    A, B, C, s, x, yo, yi = gemv_schedule(split_k=16)
    s[C].tensorize(yi, intrin_extern(16, 16, split_reduction=True))
    s[C].pragma(yo, "import_llvm", GEMV_LL)
    text = str(tvm.lower(s, [A, B, C], simple_mode=True))
    # B's tile starts at row j_outer*16, column k_outer*16, and keeps B's row stride L = 64
    assert "j_outer * 1024 + k_outer * 16" in text.replace("k_outer * 16 + j_outer * 1024",
                                                            "j_outer * 1024 + k_outer * 16")
    assert ", 16, 16, 64)" in text
    run(s, A, B, C)


@pytest.mark.parametrize("with_reset", [True, False])
def test_reduction_split_across_the_axis_uses_reset_and_update(with_reset):
    A, B, C, s, x, yo, yi = gemv_schedule(split_k=16)
    s[C].tensorize(yi, intrin_tir(16, 16, split_reduction=True, with_reset=with_reset))
    run(s, A, B, C)


def test_reduction_split_with_external_reset_and_update_twice_imported():
    A, B, C, s, x, yo, yi = gemv_schedule(split_k=16)
    s[C].tensorize(yi, intrin_extern(16, 16, split_reduction=True))
    s[C].pragma(x, "import_llvm", GEMV_LL)  # the same functions imported twice: the first definition wins
    s[C].pragma(yo, "import_llvm", GEMV_LL.replace("\n}", "\n}\n", 1))
    run(s, A, B, C)


def test_gemm_intrinsic_with_two_axes_on_a_tile():
    A, B, C = matmul_bt()
    s = te.create_schedule(C.op)
    x, y = C.op.axis
    (z,) = C.op.reduce_axis
    xo, yo, xi, yi = s[C].tile(x, y, 8, 16)
    s[C].reorder(xo, yo, xi, yi, z)
    a = te.placeholder((8, L), name="a")
    b = te.placeholder((16, L), name="b")
    k = te.reduce_axis((0, L), name="k")
    c = te.compute((8, 16), lambda i, j: te.sum(a[i, k] * b[j, k], axis=k), name="c")
    bufs = {t: tvm.tir.decl_buffer(t.shape, t.dtype, t.op.name, offset_factor=1, strides=[te.var(f"s_{t.op.name}"), 1])
            for t in (a, b, c)}

    def fcompute(ins, outs):
        ib = tvm.tir.ir_builder.create()
        pa, pb, pc = ib.buffer_ptr(ins[0]), ib.buffer_ptr(ins[1]), ib.buffer_ptr(outs[0])
        with ib.for_range(0, 8, name="ii") as ii:
            with ib.for_range(0, 16, name="jj") as jj:
                pc[ii, jj] = tvm.tir.const(0, "float32")
                with ib.for_range(0, L, name="kk") as kk:
                    pc[ii, jj] = pc[ii, jj] + pa[ii, kk] * pb[jj, kk]
        return ib.get()

    s[C].tensorize(xi, te.decl_tensor_intrin(c.op, fcompute, binds=bufs))
    run(s, A, B, C)


# ---------------------------------------------------------------------------------------- errors

def test_mismatched_computation_is_a_clear_error():
    A, B, C, s, x, yo, yi = gemv_schedule()
    a = te.placeholder((L,), name="a")
    b = te.placeholder((16, L), name="b")
    k = te.reduce_axis((0, L), name="k")
    c = te.compute((16,), lambda i: te.sum(a[k] + b[i, k], axis=k), name="c")  # + instead of *
    intrin = te.decl_tensor_intrin(c.op, lambda ins, outs: tvm.tir.Evaluate(0), name="gemv_add")
    with pytest.raises(te.ScheduleError, match=r"stage C: tensorize at j_inner with intrinsic 'gemv_add'.*does not "
                                                r"match the intrinsic's declaration"):
        s[C].tensorize(yi, intrin)


def test_extent_mismatch_is_a_clear_error():
    A, B, C, s, x, yo, yi = gemv_schedule(split_k=16)
    with pytest.raises(te.ScheduleError, match=r"reduction axis k covers 16 iterations.*extent 64"):
        s[C].tensorize(yi, intrin_tir(16, L))


def test_mismatch_found_when_lowering_after_later_primitives():
    A, B, C, s, x, yo, yi = gemv_schedule()
    s[C].tensorize(yi, intrin_tir(16, L))  # matches now
    (z,) = [iv for iv in s[C].leaf_iter_vars if iv.var.name == "k"]
    zo, zi = s[C].split(z, factor=16)
    s[C].reorder(x, yo, zo, yi, zi)  # ... but no longer: only 16 of k's 64 iterations lie below j_inner
    with pytest.raises(te.ScheduleError, match=r"tensorize at j_inner.*covers 16 iterations"):
        tvm.lower(s, [A, B, C])


def test_dtype_mismatch_is_a_clear_error():
    A, B, C, s, x, yo, yi = gemv_schedule()
    a, b, c, Bb = gemv_decl(16, L, dtype="float64")
    intrin = te.decl_tensor_intrin(c.op, lambda ins, outs: tvm.tir.Evaluate(0), binds={b: Bb})
    with pytest.raises(te.ScheduleError, match="computes float32, the intrinsic declares float64"):
        s[C].tensorize(yi, intrin)


def test_compact_buffer_bound_to_a_strided_region_is_a_clear_error():
    A, B, C, s, x, yo, yi = gemv_schedule(split_k=16)
    s[C].tensorize(yi, intrin_tir(16, 16, split_reduction=True, b_strides=False))
    with pytest.raises(te.ScheduleError, match=r"buffer 'B' .*declared compact.*stride 64.*strides=\[te.var"):
        tvm.lower(s, [A, B, C])


def test_split_reduction_without_update_is_a_clear_error():
    A, B, C, s, x, yo, yi = gemv_schedule(split_k=16)
    s[C].tensorize(yi, intrin_tir(16, 16))  # a body only
    with pytest.raises(te.ScheduleError, match="needs a reduce_update"):
        tvm.lower(s, [A, B, C])


def test_tensorize_needs_an_intrinsic_and_a_leaf_axis():
    A, B, C, s, x, yo, yi = gemv_schedule()
    with pytest.raises(TypeError, match="decl_tensor_intrin"):
        s[C].tensorize(yi, "gemv")
    with pytest.raises(te.ScheduleError, match="no longer a leaf"):
        s[C].tensorize(C.op.axis[1], intrin_tir(16, L))


# ---------------------------------------------------------------------------------------- buffers and clang

def test_decl_buffer_classic_arguments():
    s1 = te.var("s1")
    b = tvm.tir.decl_buffer((16, 64), "float32", name="B", offset_factor=1, strides=[s1, 1])
    assert b.strides[0] is s1 and b.elem_offset.name == "B_elem_offset" and b.offset_factor == 1
    plain = tvm.tir.decl_buffer((4,), "float32", "P")
    assert plain.elem_offset.value == 0 and plain.strides == ()
    ptr = b.access_ptr("rw")
    assert ptr.op == "tvm_access_ptr" and ptr.args[-1].value == 3
    with pytest.raises(ValueError, match="access mask"):
        b.access_ptr("x")


def test_create_llvm_without_clang_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="needs clang"):
        clang.create_llvm("int f(void) { return 0; }")


@pytest.mark.skipif(not clang.find_clang(required=False) and not shutil.which("clang"), reason="no clang")
def test_create_llvm_output_links_through_import_llvm(tmp_path):
    code = """
      extern "C" int gemv_update(float *cc, float *aa, float *bb, int m, int l, int stride) {
        for (int i = 0; i < m; ++i) for (int j = 0; j < l; ++j) cc[i] += aa[j] * bb[i * stride + j];
        return 0;
      }
      extern "C" int gemv_reset(float *cc, int m) { for (int i = 0; i < m; ++i) cc[i] = 0.0f; return 0; }
    """
    ll = clang.create_llvm(code, output=str(tmp_path / "gemv.ll"))
    assert "gemv_update" in ll and (tmp_path / "gemv.ll").exists()
    A, B, C, s, x, yo, yi = gemv_schedule(split_k=16)
    s[C].tensorize(yi, intrin_extern(16, 16, split_reduction=True))
    s[C].pragma(yo, "import_llvm", ll)
    run(s, A, B, C)


# ---------------------------------------------------------------------------------------- classic test shapes

def vadd_intrin(n, guard=None):
    vx = te.placeholder((n,), name="vx")
    vy = te.placeholder((n,), name="vy")
    if guard is None:
        vz = te.compute((n,), lambda i: vx[i] + vy[i], name="vz")
    else:  # classic intrinsics declare a tail guard with Select over the outer loop
        xo, m = guard
        vz = te.compute((n,), lambda i: tvm.tir.Select(xo * n + i < m, vx[i] + vy[i], tvm.tir.const(0, "float32")),
                        name="vz")
    return te.decl_tensor_intrin(vz.op, lambda ins, outs: tvm.tir.call_packed("test_tensorize.vadd", *ins, outs[0]),
                                 default_buffer_params={"offset_factor": 16})


@tvm.register_func("test_tensorize.vadd", override=True)
def _vadd(a, b, c):
    c.copyfrom(a.numpy() + b.numpy())


def test_vadd_intrinsic_through_call_packed_sees_the_regions():
    m = 128
    x = te.placeholder((m,), name="x")
    y = te.placeholder((m,), name="y")
    z = te.compute((m,), lambda i: x[i] + y[i], name="z")
    s = te.create_schedule(z.op)
    xo, xi = s[z].split(z.op.axis[0], factor=16)
    s[z].tensorize(xi, vadd_intrin(16))
    f = tvm.build(s, [x, y, z], "llvm")
    a, b = (RNG.uniform(size=m).astype("float32") for _ in range(2))
    c = tvm.nd.array(np.zeros(m, "float32"))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a + b, rtol=1e-6)


def test_cache_write_tail_guard_matches_a_select_declaration():
    m = 129
    x = te.placeholder((m,), name="x")
    y = te.placeholder((m,), name="y")
    z = te.compute((m,), lambda i: x[i] + y[i], name="z")
    s = te.create_schedule(z.op)
    s[z].split(z.op.axis[0], factor=16)
    zg = s.cache_write(z, "global")
    xo, xi = zg.op.axis
    s[zg].tensorize(xi, vadd_intrin(16, guard=(xo, m)))
    text = str(tvm.lower(s, [x, y, z], simple_mode=True))
    assert "test_tensorize.vadd" in text and "i_outer_c * 16" in text


def test_import_llvm_on_a_loop_that_lowering_removes():
    A, B, C, s, x, yo, yi = gemv_schedule()
    s[C].tensorize(yi, intrin_extern(16, L))
    one, _ = s[C].split(x, nparts=1)  # a loop of extent 1: simplification drops it, the import stays
    s[C].pragma(one, "import_llvm", GEMV_LL)
    run(s, A, B, C)


def test_calling_an_undefined_external_function_is_an_error_not_a_crash():
    A, B, C, s, x, yo, yi = gemv_schedule()
    s[C].tensorize(yi, intrin_extern(16, L))  # no import_llvm: gemv_update is defined nowhere
    with pytest.raises(ValueError, match=r"calls 'gemv_reset', 'gemv_update', defined neither.*import_llvm"):
        run(s, A, B, C)


@pytest.mark.parametrize("with_reset", [True, False])
def test_reset_nest_over_data_parallel_loops_between_reduction_and_axis(with_reset):
    A, B, C = matmul_bt()
    s = te.create_schedule(C.op)
    x, y = C.op.axis
    (z,) = C.op.reduce_axis
    yo, yi = s[C].split(y, factor=16)
    zo, zi = s[C].split(z, factor=16)
    s[C].reorder(x, zo, yo, yi, zi)  # the reset runs over yo before the zo loop
    s[C].tensorize(yi, intrin_tir(16, 16, split_reduction=True, with_reset=with_reset))
    run(s, A, B, C)
