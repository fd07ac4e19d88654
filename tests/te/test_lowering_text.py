"""The text of `tvm.lower(s, args, simple_mode=True)`: loop kinds, cache allocations at the right
place and scope, guards exactly where a split does not divide, constant compute_at bounds."""

import re

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te


def lower_text(s, args) -> str:
    return str(tvm.lower(s, args, simple_mode=True))


def find_line(text: str, pattern: str, start: int = 0) -> int:
    lines = text.splitlines()
    for k in range(start, len(lines)):
        if re.search(pattern, lines[k]):
            return k
    raise AssertionError(f"no line matches {pattern!r} in\n{text}")


def indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def is_inside(text: str, inner: int, outer: int) -> bool:
    """Line `inner` is in the body of the statement on line `outer`."""
    lines = text.splitlines()
    if inner <= outer:
        return False
    base = indent(lines[outer])
    return all(indent(lines[k]) > base for k in range(outer + 1, inner + 1))


def loop_line(text: str, var: str) -> int:
    return find_line(text, rf"^\s*for {re.escape(var)} in ")


def matmul(M, N, K):
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def elementwise(n):
    A = te.placeholder((n,), name="A")
    C = te.compute((n,), lambda i: A[i] * 2.0, name="C")
    return A, C


# ----------------------------------------------------------------------------- structure

def test_default_matmul_nest():
    A, B, C = matmul(8, 9, 10)
    text = lower_text(te.create_schedule(C.op), [A, B, C])
    assert "@T.prim_func" in text
    assert "A: T.Buffer((8, 10), 'float32')" in text
    i, j, k = loop_line(text, "i"), loop_line(text, "j"), loop_line(text, "k")
    assert is_inside(text, j, i) and is_inside(text, k, j)
    assert "range(8)" in text.splitlines()[i] and "range(9)" in text.splitlines()[j]
    assert "range(10)" in text.splitlines()[k]
    # Init of the reduction before the reduction loop, inside j.
    init = find_line(text, r"C\[i, j\] = 0")
    assert is_inside(text, init, j) and init < k
    assert "if " not in text


def test_loop_kinds():
    A, B, C = matmul(64, 64, 64)
    s = te.create_schedule(C.op)
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 16, 8)
    (k,) = C.op.reduce_axis
    ko, ki = s[C].split(k, factor=4)
    s[C].reorder(xo, yo, ko, xi, ki, yi)
    s[C].parallel(xo)
    s[C].vectorize(yi)
    s[C].unroll(ki)
    text = lower_text(s, [A, B, C])
    assert re.search(r"for i_outer in T\.parallel\(4\):", text)
    assert re.search(r"for j_inner in T\.vectorized\(8\):", text)
    assert re.search(r"for k_inner in T\.unroll\(4\):", text)
    assert re.search(r"for j_outer in range\(8\):", text)
    assert re.search(r"for k_outer in range\(16\):", text)
    # The reduction init comes first (over i_inner, j_inner); then the update nest.
    order = [loop_line(text, v) for v in ("i_outer", "j_outer", "k_outer")]
    order.append(find_line(text, r"for i_inner in ", order[-1]))
    order.append(find_line(text, r"for k_inner in ", order[-1]))
    order.append(find_line(text, r"for j_inner in ", order[-1]))
    assert order == sorted(order)
    for outer, inner in zip(order, order[1:]):
        assert is_inside(text, inner, outer)


def test_fuse_text():
    A = te.placeholder((6, 7), name="A")
    C = te.compute((6, 7), lambda i, j: A[i, j] + 1.0, name="C")
    s = te.create_schedule(C.op)
    f = s[C].fuse(*C.op.axis)
    s[C].parallel(f)
    text = lower_text(s, [A, C])
    assert re.search(r"for i_j_fused in T\.parallel\(42\):", text)
    assert "i_j_fused // 7" in text and "i_j_fused % 7" in text


def test_thread_binding_text():
    A, C = elementwise(1024)
    s = te.create_schedule(C.op)
    bx, tx = s[C].split(C.op.axis[0], factor=128)
    s[C].bind(bx, te.thread_axis("blockIdx.x"))
    s[C].bind(tx, te.thread_axis("threadIdx.x"))
    text = lower_text(s, [A, C])
    assert "T.thread_binding(8, thread='blockIdx.x')" in text
    assert "T.thread_binding(128, thread='threadIdx.x')" in text


def test_pragma_text():
    A, C = elementwise(64)
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=8)
    s[C].pragma(xo, "auto_unroll_max_step", 16)
    text = lower_text(s, [A, C])
    assert "auto_unroll_max_step" in text


# ----------------------------------------------------------------------------- guards

# a factor above the extent (128 > 64) gives one loop of the extent: nothing to guard
@pytest.mark.parametrize("n,factor,guarded", [(64, 8, False), (64, 16, False), (63, 8, True), (61, 4, True),
                                               (64, 64, False), (64, 128, False), (1, 1, False)])
def test_split_factor_guard(n, factor, guarded):
    A, C = elementwise(n)
    s = te.create_schedule(C.op)
    s[C].split(C.op.axis[0], factor=factor)
    text = lower_text(s, [A, C])
    assert ("if " in text) == guarded, text
    if guarded:
        assert f"< {n}" in text


@pytest.mark.parametrize("n,nparts,guarded", [(64, 8, False), (64, 4, False), (63, 8, True), (10, 3, True)])
def test_split_nparts_guard(n, nparts, guarded):
    A, C = elementwise(n)
    s = te.create_schedule(C.op)
    s[C].split(C.op.axis[0], nparts=nparts)
    text = lower_text(s, [A, C])
    assert ("if " in text) == guarded, text


def test_symbolic_split_is_guarded():
    n = te.var("n")
    A, C = elementwise(n)
    s = te.create_schedule(C.op)
    s[C].split(C.op.axis[0], factor=8)
    text = lower_text(s, [A, C])
    assert re.search(r"if i_outer \* 8 \+ i_inner < n:", text)


def test_guard_placement_only_where_needed():
    # j does not divide, i does: only the j guard appears, inside the j_inner loop.
    A, B, C = matmul(64, 60, 16)
    s = te.create_schedule(C.op)
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 16, 16)
    text = lower_text(s, [A, B, C])
    assert "< 60" in text and "< 64" not in text
    guard = find_line(text, r"if j_outer \* 16 \+ j_inner < 60")
    assert is_inside(text, guard, loop_line(text, "j_inner"))


def test_divisible_tile_has_no_guard():
    A, B, C = matmul(64, 48, 40)
    s = te.create_schedule(C.op)
    s[C].tile(C.op.axis[0], C.op.axis[1], 16, 16)
    ko, ki = s[C].split(C.op.reduce_axis[0], factor=8)
    assert "if " not in lower_text(s, [A, B, C])


def test_reduction_split_guard():
    A, B, C = matmul(8, 8, 30)
    s = te.create_schedule(C.op)
    ko, ki = s[C].split(C.op.reduce_axis[0], factor=8)
    text = lower_text(s, [A, B, C])
    guard = find_line(text, r"if k_outer \* 8 \+ k_inner < 30")
    assert is_inside(text, guard, loop_line(text, "k_inner"))
    # The init is not guarded by the reduction guard.
    init = find_line(text, r"C\[i, j\] = 0")
    assert init < guard


# ----------------------------------------------------------------------------- caches

def test_cache_write_local_allocated_inside_compute_at_loop():
    A, B, C = matmul(64, 64, 64)
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 32, 32)
    s[CC].compute_at(s[C], yo)
    text = lower_text(s, [A, B, C])
    alloc = find_line(text, r"C_local = T\.allocate\(\[32, 32\], 'float32', 'local'\)")
    assert is_inside(text, alloc, loop_line(text, "j_outer"))
    # ... and not further in: the copy-out loops follow the allocation in the same scope.
    assert is_inside(text, loop_line(text, "i_inner"), alloc) or \
        indent(text.splitlines()[loop_line(text, "i_inner")]) == indent(text.splitlines()[alloc])


def test_cache_read_shared_allocated_inside_reduction_loop():
    A, B, C = matmul(64, 64, 64)
    s = te.create_schedule(C.op)
    AA = s.cache_read(A, "shared", [C])
    BB = s.cache_read(B, "shared", [C])
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 32, 32)
    ko, ki = s[C].split(C.op.reduce_axis[0], factor=16)
    s[C].reorder(xo, yo, ko, xi, yi, ki)
    s[AA].compute_at(s[C], ko)
    s[BB].compute_at(s[C], ko)
    text = lower_text(s, [A, B, C])
    ko_line = loop_line(text, "k_outer")
    a_alloc = find_line(text, r"A_shared = T\.allocate\(\[32, 16\], 'float32', 'shared'\)")
    b_alloc = find_line(text, r"B_shared = T\.allocate\(\[16, 32\], 'float32', 'shared'\)")
    assert is_inside(text, a_alloc, ko_line) and is_inside(text, b_alloc, ko_line)
    # The computation reads the caches, relative to their tile.
    assert re.search(r"A_shared\[i_inner, k_inner\]", text)
    assert re.search(r"B_shared\[k_inner, j_inner\]", text)


def test_compute_at_bounds_are_constant_when_split_does_not_divide():
    # 60 is not a multiple of 32: the cache still has the constant size [32, 32].
    A, B, C = matmul(60, 60, 60)
    s = te.create_schedule(C.op)
    CC = s.cache_write(C, "local")
    xo, yo, xi, yi = s[C].tile(C.op.axis[0], C.op.axis[1], 32, 32)
    s[CC].compute_at(s[C], yo)
    text = lower_text(s, [A, B, C])
    assert "T.allocate([32, 32], 'float32', 'local')" in text
    assert "min(" not in text.split("T.allocate")[1].split(")")[0]


def test_producer_compute_at_bounds():
    # B[i] = A[i] * 2, C[i] = B[i] + B[i + 1] + B[i + 2]: B at C's outer loop needs factor + 2 values.
    A = te.placeholder((66,), name="A")
    B = te.compute((66,), lambda i: A[i] * 2.0, name="B")
    C = te.compute((64,), lambda i: B[i] + B[i + 1] + B[i + 2], name="C")
    s = te.create_schedule(C.op)
    xo, xi = s[C].split(C.op.axis[0], factor=16)
    s[B].compute_at(s[C], xo)
    text = lower_text(s, [A, C])
    alloc = find_line(text, r"B = T\.allocate\(\[18\], 'float32', 'global'\)")
    assert is_inside(text, alloc, loop_line(text, "i_outer"))


def test_compute_inline_leaves_no_buffer():
    A = te.placeholder((16,), name="A")
    B = te.compute((16,), lambda i: A[i] * 2.0, name="B")
    C = te.compute((16,), lambda i: B[i] + 1.0, name="C")
    s = te.create_schedule(C.op)
    s[B].compute_inline()
    text = lower_text(s, [A, C])
    assert "allocate" not in text and "B[" not in text
    assert re.search(r"C\[i\] = A\[i\] \* 2\.0 \+ 1\.0", text)


def test_intermediate_at_root_is_allocated_globally():
    A = te.placeholder((16,), name="A")
    B = te.compute((16,), lambda i: A[i] * 2.0, name="B")
    C = te.compute((16,), lambda i: B[i] + 1.0, name="C")
    s = te.create_schedule(C.op)
    text = lower_text(s, [A, C])
    alloc = find_line(text, r"B = T\.allocate\(\[16\], 'float32', 'global'\)")
    assert indent(text.splitlines()[alloc]) == 4


def test_set_scope_and_storage_align():
    A = te.placeholder((16, 16), name="A")
    B = te.compute((16, 16), lambda i, j: A[i, j] * 2.0, name="B")
    C = te.compute((16, 16), lambda i, j: B[i, j] + 1.0, name="C")
    s = te.create_schedule(C.op)
    s[B].set_scope("local")
    s[B].storage_align(B.op.axis[0], 32, 1)
    text = lower_text(s, [A, C])
    assert "T.allocate([16, 16], 'float32', 'local')" in text
    f = tvm.build(s, [A, C], target="llvm")
    a = (np.random.default_rng(0).random((16, 16)) + 0.5).astype("float32")
    c = tvm.nd.empty((16, 16))
    f(tvm.nd.array(a), c)
    np.testing.assert_allclose(c.numpy(), a * 2 + 1, rtol=1e-6)


def test_rfactor_text():
    A = te.placeholder((8, 64), name="A")
    k = te.reduce_axis((0, 64), name="k")
    B = te.compute((8,), lambda i: te.sum(A[i, k], axis=k), name="B")
    s = te.create_schedule(B.op)
    ko, ki = s[B].split(k, factor=16)
    BF = s.rfactor(B, ki)
    text = lower_text(s, [A, B])
    assert "B_rf = T.allocate([16, 8], 'float32', 'global')" in text
    assert re.search(r"B\[i\] = B\[i\] \+ B_rf\[k_inner_v, i\]", text)
    assert BF.shape[0].value == 16
