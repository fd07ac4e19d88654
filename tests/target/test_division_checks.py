"""Integer division by zero returns an error from the compiled function instead of SIGFPE, and
MIN / -1 (which also traps on x86) gives numpy's wrapped result."""

from __future__ import annotations

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te, tir

OPS = {
    "floordiv": (lambda a, b: a // b, np.floor_divide),
    "floormod": (lambda a, b: a % b, np.remainder),
    "truncdiv": (tir.truncdiv, lambda a, b: np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))),
    "truncmod": (tir.truncmod, np.fmod),
}


def _kernel(op, dtype, n, schedule):
    A = te.placeholder((n,), name="A", dtype=dtype)
    B = te.placeholder((n,), name="B", dtype=dtype)
    C = te.compute((n,), lambda i: OPS[op][0](A[i], B[i]), name="C")
    s = te.create_schedule(C.op)
    if schedule == "vector_parallel":
        xo, xi = s[C].split(C.op.axis[0], 8)
        s[C].vectorize(xi)
        s[C].parallel(xo)
    return tvm.build(s, [A, B, C])


@pytest.mark.parametrize("schedule", ["scalar", "vector_parallel"])
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_division_by_zero_is_an_error_and_others_match_numpy(op, dtype, schedule):
    rng = np.random.default_rng(7)
    n = 64
    info = np.iinfo(dtype)
    f = _kernel(op, dtype, n, schedule)
    a = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    b = rng.integers(max(info.min, -9), 10, n, dtype=dtype, endpoint=True)
    b[b == 0] = 3
    if info.min < 0:
        a[0], b[0] = info.min, -1  # traps in hardware; numpy wraps
    c = tvm.nd.empty((n,), dtype)
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    with np.errstate(all="ignore"):
        ref = OPS[op][1](a.astype("int64"), b.astype("int64"))
        if info.min < 0:
            ref[0] = OPS[op][1](a[:1], b[:1])[0]  # numpy's own wrapped result at the width
    np.testing.assert_array_equal(c.numpy(), ref.astype(dtype))
    b[17] = 0
    with pytest.raises(RuntimeError, match=r"integer division by zero in `.*A\[.*B\["):
        f(tvm.nd.array(a), tvm.nd.array(b), c)


def test_constant_divisor_has_no_check():
    """Index arithmetic divides by positive constants: no check, no branch in the loop."""
    A = te.placeholder((64,), name="A", dtype="int32")
    C = te.compute((64,), lambda i: A[i] // 7 + A[i] % 5, name="C")
    assert "div.nonzero" not in tvm.build(te.create_schedule(C.op), [A, C]).get_source()
    assert "div.nonzero" in _kernel("floordiv", "int32", 64, "scalar").get_source()


def test_failed_check_names_only_itself():
    """Each check returns a code of its own, so the error names the one that failed."""
    n = tir.Var("n", "int32")
    A = te.placeholder((n,), name="A", dtype="int32")
    B = te.placeholder((n,), name="B", dtype="int32")
    C = te.compute((n,), lambda i: A[i] // B[i], name="C")
    D = te.compute((n,), lambda i: C[i] % A[i], name="D")
    f = tvm.build(te.create_schedule(D.op), [A, B, D])
    a, b = np.array([5, 6], "int32"), np.array([1, 2], "int32")
    with pytest.raises(RuntimeError) as info:
        f(tvm.nd.array(np.array([5, 0], "int32")), tvm.nd.array(b), tvm.nd.empty((2,), "int32"))
    assert "%" in str(info.value) and "//" not in str(info.value)
    d = tvm.nd.empty((2,), "int32")
    f(tvm.nd.array(a), tvm.nd.array(b), d)
    np.testing.assert_array_equal(d.numpy(), (a // b) % a)
