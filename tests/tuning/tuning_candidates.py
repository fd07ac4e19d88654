"""Tiny candidates for the measurement-layer tests (importable by worker processes by name).

A candidate is a te matmul C = A @ B with its j axis split by `factor`; `kind` makes it misbehave
in one specific way, always through real code paths (the kernel itself raises a signal or
sleeps through a C call, or instantiate() misbehaves in the build worker).
"""

import os
import signal
import time

import tilecraft as tvm
from tilecraft import te, tir


def _matmul(n, plus_one=False):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    if not plus_one:
        return A, B, C
    D = te.compute((n, n), lambda i, j: C[i, j] + 1.0, name="D")
    return A, B, D


def _calls(name, *args):
    """A kernel expression calling the C function `name`(args) (its int result cast to float)."""
    return tir.Call("int32", "call_extern", (tir.StringImm(name), *[tvm.tir.const(a, "int32") for a in args]))


class Matmul:
    """kinds: ok, wrong (computes A@B + 1), segv / sigill (kernel raises the signal), hang (kernel
    sleeps), build_hang / build_crash / bad_instantiate (instantiate misbehaves)."""

    def __init__(self, n=16, factor=4, kind="ok", target="llvm"):
        self.n, self.factor, self.kind, self.target = n, factor, kind, target

    def reference(self):
        A, B, C = _matmul(self.n)
        return te.create_schedule(C.op), [A, B, C]

    def instantiate(self):
        kind = self.kind
        if kind == "bad_instantiate":
            raise ValueError(f"split factor {self.factor} does not divide anything")
        if kind == "build_hang":
            time.sleep(600)
        if kind == "build_crash":
            os.kill(os.getpid(), signal.SIGILL)
        if kind in ("segv", "sigill", "hang"):
            A, B, _ = _matmul(self.n)
            call = {"segv": _calls("raise", int(signal.SIGSEGV)), "sigill": _calls("raise", int(signal.SIGILL)),
                    "hang": _calls("sleep", 600)}[kind]
            C = te.compute((self.n, self.n), lambda i, j: A[i, j] + B[i, j] + call.astype("float32"), name="C")
        else:
            A, B, C = _matmul(self.n, plus_one=(kind == "wrong"))
        s = te.create_schedule(C.op)
        s[C].split(C.op.axis[1], factor=self.factor)
        return s, [A, B, C]

    def __repr__(self):
        return f"Matmul(n={self.n}, factor={self.factor}, kind={self.kind!r})"
