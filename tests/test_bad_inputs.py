"""The acceptance table of issue 11: bad inputs and the error each one gets.

Every row is (id, what to run, the exception class, a regex the message must match). The regex
checks that the message names the user's object: the tensor, stage, axis, option, parameter,
input or file the mistake is about.

A row's "what to run" is either a callable, run here under pytest.raises, or a `Sub` snippet of
code, run in a fresh interpreter because the input could crash the process (unknown CPUs, reads
outside buffers, division by zero, tampered artifacts). All the snippets run in one child
process, which prints, for each, the exception's class and message; the child must not die of a
signal. The table is the documentation of what bad input gets which error.
"""

import functools
import io
import json
import os
import re
import subprocess
import sys
import tarfile

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay, te
from tilecraft.error import TVMError
from tilecraft.runtime import graph_executor
from tilecraft.runtime import ndarray as nd
from tilecraft.runtime.artifact import ArtifactError
from tilecraft.runtime.params import load_param_dict, save_param_dict
from tilecraft.target import Target
from tilecraft.te import ScheduleError
from tilecraft.tir.transform import OutOfBoundsError


class Sub(str):
    """Code run in a child interpreter; `TMP` there is a folder holding the files made by `_files`."""


# ----------------------------------------------------------------------------- small fixtures


def matmul(n=16):
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    return A, B, C


def chain():
    """X -> Y, X -> Z, (Y, Z) -> W"""
    X = te.placeholder((16,), name="X")
    Y = te.compute((16,), lambda i: X[i] * 2.0, name="Y")
    Z = te.compute((16,), lambda i: X[i] + 1.0, name="Z")
    W = te.compute((16,), lambda i: Y[i] + Z[i], name="W")
    return X, Y, Z, W


def sched():
    """A matmul schedule and its tensors: s, A, B, C."""
    A, B, C = matmul()
    return te.create_schedule(C.op), A, B, C


@functools.cache
def add_kernel():
    """add(A, B, C): C = A + B over float32[n], n a size variable."""
    n = te.var("n")
    A = te.placeholder((n,), name="A")
    B = te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    return tvm.build(te.create_schedule(C.op), [A, B, C], target="llvm", name="add")


@functools.cache
def scale_kernel():
    """scale(A, B, alpha, offset): B = A * alpha + offset over float32[4, 8]."""
    A = te.placeholder((4, 8), name="A")
    alpha = te.var("alpha", "float32")
    offset = te.var("offset", "int32")
    B = te.compute((4, 8), lambda i, j: A[i, j] * alpha + offset.astype("float32"), name="B")
    return tvm.build(te.create_schedule(B.op), [A, B, alpha, offset], target="llvm", name="scale")


def read_only(n):
    a = np.zeros(n, "float32")
    a.setflags(write=False)
    return a


def f32(*shape):
    return nd.empty(shape, "float32")


def call(fn, *args, **kwargs):
    """A zero-argument callable for the table."""
    return lambda: fn(*args, **kwargs)


def _dense_mod():
    x = relay.var("x", shape=(1, 8), dtype="float32")
    w = relay.var("weight", shape=(4, 8), dtype="float32")
    return tvm.IRModule.from_expr(relay.Function([x, w], relay.nn.dense(x, w)))


def _infer(expr, *params):
    return relay.transform.InferType()(tvm.IRModule.from_expr(relay.Function(list(params), expr)))


@functools.cache
def dense_factory():
    return relay.build(_dense_mod(), target="llvm", params={"weight": np.ones((4, 8), "float32")})


def graph_module():
    return tvm.contrib.graph_executor.GraphModule(dense_factory()["default"](tvm.cpu(0)))


def relay_build(params):
    return lambda: relay.build(_dense_mod(), target="llvm", params=params)


def set_and(action):
    def run():
        m = graph_module()
        action(m)
    return run


def tune_task():
    from tilecraft import autotvm

    return autotvm.task.create("dense_nopack.x86", args=(("TENSOR", (1, 8), "float32"),
                                                         ("TENSOR", (4, 8), "float32"), None, "float32"),
                               target="llvm")


# ----------------------------------------------------------------------------- the table

TABLE = [
    # ------------------------------------------------------------------ targets
    ("target unknown kind", call(Target, "metal"), ValueError, r"unknown target kind 'metal'"),
    ("target unknown option", call(Target, "llvm -mcpux=znver3"), ValueError, r"unknown option '-mcpux'.*-mcpu"),
    ("target option of another kind", call(Target, "llvm -arch=sm_80"), ValueError,
     r"unknown option '-arch' for kind 'llvm'"),
    ("target cuda with -mcpu", call(Target, "cuda -mcpu=x"), ValueError, r"unknown option '-mcpu' for kind 'cuda'"),
    ("target -num-cores not an int", call(Target, "llvm -num-cores=two"), ValueError, r"'-num-cores' takes an integer"),
    ("target -num-cores=0", call(Target, "llvm -num-cores=0"), ValueError, r"-num-cores.*must be positive"),
    ("target flag with a value", call(Target, "llvm -fast-math=maybe"), ValueError, r"-fast-math.*is a flag"),
    ("target option without value", call(Target, "llvm -mcpu"), ValueError, r"-mcpu.*needs a value"),
    ("target bare word", call(Target, "llvm znver3"), ValueError,
     r"expected an option starting with '-', got 'znver3'"),
    ("target empty string", call(Target, ""), ValueError, r"empty target string"),
    ("target of an int", call(Target, 42), TypeError, r"42|int"),
    ("target host not a CPU", call(Target, "cuda", host="cuda"), ValueError, r"host must be a CPU target.*cuda"),
    ("target unknown board", call(tvm.target.arm_cpu, "rasp9"), ValueError, r"unknown board 'rasp9'.*rasp3b"),
    ("target dict unknown option", call(Target, {"kind": "llvm", "mcpux": "x"}), ValueError, r"mcpux"),
    ("target dict unknown kind", call(Target, {"kind": "metal"}), ValueError, r"'metal'"),
    ("target kind in capitals", call(Target, "LLVM"), ValueError, r"unknown target kind 'LLVM'"),
    ("target -num-cores negative", call(Target, "llvm -num-cores=-2"), ValueError,
     r"'-num-cores' must be positive, not -2"),
    ("target of a list", call(Target, ["llvm"]), TypeError, r"cannot make a Target from \['llvm'\] \(a list\)"),
    ("target host of an unknown kind", call(Target, "llvm", host="metal"), ValueError, r"unknown target kind 'metal'"),
    ("build for an unknown triple", Sub(
        "A = te.placeholder((4,), name='A')\n"
        "B = te.compute((4,), lambda i: A[i] + 1.0, name='B')\n"
        "tvm.build(te.create_schedule(B.op), [A, B], target='llvm -mtriple=foo-bar-baz')"),
     ValueError, r"triple 'foo-bar-baz'"),
    ("target unknown cpu", Sub("tvm.target.Target('llvm -mcpu=skylakx')"), ValueError, r"'skylakx'.*'skylake'"),
    ("target unknown feature", Sub("tvm.target.Target('llvm -mattr=+avx9')"), ValueError, r"'\+avx9'.*'\+avx2'"),
    ("target feature without a sign", Sub("tvm.target.Target('llvm -mattr=avx2')"), ValueError,
     r"'\+avx2' to enable"),
    ("target one unknown feature of two", Sub("tvm.target.Target('llvm -mcpu=skylake -mattr=+avx2,+fmaa')"),
     ValueError, r"'\+fmaa'.*'\+fma'"),
    ("target unknown arm cpu", Sub("tvm.target.Target('llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a7x')"),
     ValueError, r"'cortex-a7x'.*'cortex-a72'"),
    ("build for an unknown cpu", Sub(
        "A = te.placeholder((4,), name='A')\n"
        "B = te.compute((4,), lambda i: A[i] + 1.0, name='B')\n"
        "tvm.build(te.create_schedule(B.op), [A, B], target='llvm -mcpu=skylakx')"), ValueError, r"'skylakx'"),

    # ------------------------------------------------------------------ te: tensors and computes
    ("placeholder negative shape", call(te.placeholder, (4, -1), name="P"), ValueError, r"shape"),
    ("index with too few indices", lambda: (lambda A: te.compute((16,), lambda i: A[i], name="bad"))(matmul()[0]),
     IndexError, r"tensor A has 2 dimensions, indexed with 1"),
    ("index with too many indices", lambda: matmul()[0][0, 0, 0], IndexError, r"tensor A.*2 dimensions"),
    ("index with a float", lambda: matmul()[0][0.5, 0], TypeError, r"tensor A.*(?i:float)"),
    ("compute lambda arity", lambda: te.compute((4, 4), lambda i: i), ValueError, r"1 index arguments.*2 dimensions"),
    ("tensor used as a scalar", lambda: (lambda B: te.compute((4,), lambda i: B[i] * B))(
        te.placeholder((4,), name="B")),
     TypeError, r"tensor B of shape \(4,\) is used as a scalar"),
    ("var in a python if", lambda: bool(te.var("n") > 1), TypeError, r"no Python truth value.*if_then_else"),
    ("placeholder unknown dtype", call(te.placeholder, (4,), name="P", dtype="float33"), ValueError,
     r"unknown dtype 'float33'"),
    ("placeholder float shape", call(te.placeholder, (4.5,), name="P"), TypeError,
     r"shape entries must be integers.*4.5"),
    ("compute negative shape", lambda: te.compute((-4,), lambda i: i, name="N"), ValueError,
     r"shape entries must be >= 0, got -4"),
    ("compute body a string", lambda: te.compute((4,), lambda i: "x", name="N"), TypeError,
     r"cannot use 'x' \(a str\)"),
    ("sum without axis", lambda: te.sum(matmul()[0][0, 0]), TypeError, r"sum.*axis"),
    ("reduction inside a larger expression", lambda: (lambda A, k: te.compute(
        (4,), lambda i: te.sum(A[i, k], axis=k) + 1.0, name="bad"))(te.placeholder((4, 4), name="A"),
                                                                  te.reduce_axis((0, 4), name="k")),
     ValueError, r"compute bad.*reduction"),

    # ------------------------------------------------------------------ schedules
    ("split axis of another stage", lambda: (lambda A, B, C: (lambda D: te.create_schedule(D.op)[D].split(
        C.op.axis[0], factor=2))(te.compute((16, 16), lambda a, b: C[a, b] + 1.0, name="D")))(*matmul()),
     ScheduleError, r"stage D.*axis i.*not an axis of this stage.*stage C"),
    ("split non-leaf axis", lambda: (lambda s, A, B, C: (s[C].split(C.op.axis[0], factor=4),
                                                          s[C].split(C.op.axis[0], factor=2)))(*sched()),
     ScheduleError, r"stage C.*axis i.*no longer a leaf"),
    ("split factor 0", lambda: (lambda s, A, B, C: s[C].split(C.op.axis[1], factor=0))(*sched()),
     ScheduleError, r"stage C.*j.*factor.*positive"),
    ("split nparts -1", lambda: (lambda s, A, B, C: s[C].split(C.op.axis[1], nparts=-1))(*sched()),
     ScheduleError, r"stage C.*j.*nparts.*positive"),
    ("split factor and nparts", lambda: (lambda s, A, B, C: s[C].split(C.op.axis[1], factor=2, nparts=2))(*sched()),
     ScheduleError, r"stage C.*j.*exactly one of factor= or nparts="),
    ("split float factor", lambda: (lambda s, A, B, C: s[C].split(C.op.axis[1], factor=2.5))(*sched()),
     TypeError, r"stage C.*j.*integer"),
    ("split placeholder", lambda: (lambda s, A, B, C: s[A].split(C.op.axis[0], factor=2))(*sched()),
     ScheduleError, r"A.*placeholder"),
    ("split not an axis", lambda: (lambda s, A, B, C: s[C].split(3, factor=2))(*sched()),
     ScheduleError, r"stage C.*expected an axis"),
    ("fuse non-adjacent", lambda: (lambda s, A, B, C: (lambda i, j: (lambda jo, ji: s[C].fuse(i, ji))(
        *s[C].split(j, factor=4)))(*C.op.axis))(*sched()),
     ScheduleError, r"stage C.*fuse.*i.*j_inner.*adjacent"),
    ("fuse reduce with data parallel", lambda: (lambda s, A, B, C: (s[C].reorder(C.op.axis[0], C.op.axis[1],
                                                                                  C.op.reduce_axis[0]),
                                                                     s[C].fuse(C.op.axis[1], C.op.reduce_axis[0])))(
        *sched()), ScheduleError, r"stage C.*fuse.*j.*k.*reduction"),
    ("reorder duplicate axes", lambda: (lambda s, A, B, C: s[C].reorder(C.op.axis[0], C.op.axis[0]))(*sched()),
     ScheduleError, r"stage C.*reorder.*twice.*i"),
    ("reorder non-leaf", lambda: (lambda s, A, B, C: (s[C].split(C.op.axis[0], factor=4),
                                                       s[C].reorder(C.op.axis[1], C.op.axis[0])))(*sched()),
     ScheduleError, r"stage C.*reorder.*axis i.*no longer a leaf"),
    ("vectorize reduce axis", lambda: (lambda s, A, B, C: s[C].vectorize(C.op.reduce_axis[0]))(*sched()),
     ScheduleError, r"stage C.*vectorize.*k.*reduction axis"),
    ("parallel reduce axis", lambda: (lambda s, A, B, C: s[C].parallel(C.op.reduce_axis[0]))(*sched()),
     ScheduleError, r"stage C.*parallel.*k.*reduction axis"),
    ("unroll of a vectorized axis", lambda: (lambda s, A, B, C: (s[C].vectorize(C.op.axis[1]),
                                                                  s[C].unroll(C.op.axis[1])))(*sched()),
     ScheduleError, r"stage C.*unroll.*j.*already marked vectorized"),
    ("split of a parallel axis", lambda: (lambda s, A, B, C: (s[C].parallel(C.op.axis[0]),
                                                               s[C].split(C.op.axis[0], factor=2)))(*sched()),
     ScheduleError, r"stage C.*split.*i.*parallel"),
    ("bind to a non-thread axis", lambda: (lambda s, A, B, C: s[C].bind(C.op.axis[0], C.op.axis[1]))(*sched()),
     ScheduleError, r"stage C.*bind.*i.*te.thread_axis"),
    ("bind reduce axis", lambda: (lambda s, A, B, C: s[C].bind(C.op.reduce_axis[0],
                                                                te.thread_axis("threadIdx.x")))(*sched()),
     ScheduleError, r"stage C.*k.*reduction"),
    ("unknown thread tag", call(te.thread_axis, "threadIdx.w"), ValueError, r"threadIdx.w.*threadIdx.x"),
    ("compute_at a non-consumer", lambda: (lambda X, Y, Z, W: (lambda s: s[Y].compute_at(s[Z], Z.op.axis[0]))(
        te.create_schedule(W.op)))(*chain()), ScheduleError, r"stage Y.*Z.*does not consume"),
    ("compute_at axis of another stage", lambda: (lambda X, Y, Z, W: (lambda s: s[Y].compute_at(s[W], Z.op.axis[0]))(
        te.create_schedule(W.op)))(*chain()), ScheduleError, r"stage Y.*not a leaf axis of stage W"),
    ("compute_at itself", lambda: (lambda X, Y, Z, W: (lambda s: s[Y].compute_at(s[Y], Y.op.axis[0]))(
        te.create_schedule(W.op)))(*chain()), ScheduleError, r"stage Y.*itself"),
    ("compute_at of the output", lambda: (lambda X, Y, Z, W: (lambda s: s[W].compute_at(s[Y], Y.op.axis[0]))(
        te.create_schedule(W.op)))(*chain()), ScheduleError, r"stage W.*compute_at.*output"),
    ("compute_at not a stage", lambda: (lambda X, Y, Z, W: (lambda s: s[Y].compute_at(W, W.op.axis[0]))(
        te.create_schedule(W.op)))(*chain()), ScheduleError, r"stage Y.*expects a stage"),
    ("compute_inline of a reduction", lambda: (lambda A, B, C: (lambda D: te.create_schedule(D.op)[C].compute_inline())(
        te.compute((16, 16), lambda a, b: C[a, b] + 1.0, name="D")))(*matmul()),
     ScheduleError, r"stage C.*compute_inline.*reduction"),
    ("compute_inline of the output", lambda: (lambda X, Y, Z, W: te.create_schedule(W.op)[W].compute_inline())(
        *chain()), ScheduleError, r"stage W.*compute_inline.*output"),
    ("compute_inline of a placeholder", lambda: (lambda X, Y, Z, W: te.create_schedule(W.op)[X].compute_inline())(
        *chain()), ScheduleError, r"X.*placeholder"),
    ("stage of a tensor not in the schedule", lambda: (lambda X, Y, Z, W: te.create_schedule(Y.op)[W])(*chain()),
     ScheduleError, r"W.*not part of this schedule"),
    ("cache_write after an annotation", lambda: (lambda s, A, B, C: (s[C].vectorize(C.op.axis[1]),
                                                                      s.cache_write(C, "local")))(*sched()),
     ScheduleError, r"stage C.*cache_write.*before"),
    ("cache_write of a placeholder", lambda: (lambda s, A, B, C: s.cache_write(A, "local"))(*sched()),
     ScheduleError, r"A.*placeholder"),
    ("cache_read with a reader that does not read", lambda: (lambda X, Y, Z, W: te.create_schedule(W.op).cache_read(
        Y, "shared", [Z]))(*chain()), ScheduleError, r"cache_read of Y.*Z does not read Y"),
    ("rfactor of a data-parallel axis", lambda: (lambda s, A, B, C: s.rfactor(C, C.op.axis[0]))(*sched()),
     ScheduleError, r"stage C.*rfactor.*axis i.*reduction"),
    ("rfactor of a non-reduction stage", lambda: (lambda X, Y, Z, W: te.create_schedule(W.op).rfactor(
        Y, Y.op.axis[0]))(*chain()), ScheduleError, r"stage Y.*rfactor.*reduction"),
    ("storage_align innermost axis", lambda: (lambda s, A, B, C: s[C].storage_align(C.op.axis[1], 8, 0))(*sched()),
     ScheduleError, r"stage C.*storage_align.*innermost"),
    ("storage_align factor 0", lambda: (lambda s, A, B, C: s[C].storage_align(C.op.axis[0], 0, 0))(*sched()),
     ScheduleError, r"stage C.*storage_align.*factor > 0"),
    ("compute_at a sibling stage", lambda: (lambda X, Y, Z, W: (lambda s: s[Z].compute_at(s[Y], Y.op.axis[0]))(
        te.create_schedule(W.op)))(*chain()),
     ScheduleError, r"stage Z: cannot compute_at stage Y: Y does not consume Z"),
    ("rfactor factor_axis out of range", lambda: (lambda s, A, B, C: s.rfactor(C, C.op.reduce_axis[0],
                                                                                factor_axis=5))(*sched()),
     ScheduleError, r"stage C: rfactor factor_axis must be in \[0, 2\], got 5"),
    ("rfactor twice", lambda: (lambda s, A, B, C: (s.rfactor(C, C.op.reduce_axis[0]),
                                                    s.rfactor(C, C.op.reduce_axis[0])))(*sched()),
     ScheduleError, r"stage C: cannot rfactor axis k: it is not an axis of this stage"),
    ("fuse an axis of another stage", lambda: (lambda X, Y, Z, W: te.create_schedule(W.op)[W].fuse(Y.op.axis[0]))(
        *chain()), ScheduleError, r"stage W: cannot fuse axis i.*belongs to stage Y"),
    ("tile factor 0", lambda: (lambda s, A, B, C: s[C].tile(C.op.axis[0], C.op.axis[1], 0, 4))(*sched()),
     ScheduleError, r"stage C: split of i: factor must be positive, got 0"),
    ("build with a string argument", lambda: (lambda s, A, B, C: tvm.build(s, [A, "B", C]))(*sched()),
     TypeError, r"arguments must be tensors or te.var scalars, got 'B'"),
    ("build with a tensor passed twice", lambda: (lambda s, A, B, C: tvm.build(s, [A, A, B, C]))(*sched()),
     ValueError, r"buffers 'A' and another parameter.*share one data pointer"),
    ("build for an unknown target kind", lambda: (lambda s, A, B, C: tvm.build(s, [A, B, C], target="metal"))(
        *sched()), ValueError, r"unknown target kind 'metal'"),
    ("build a GPU bind for the CPU", lambda: (lambda s, A, B, C: (
        s[C].bind(C.op.axis[0], te.thread_axis("threadIdx.x")), tvm.build(s, [A, B, C], target="llvm")))(*sched()),
     ValueError, r"loop variable 'i' \(threadIdx.x\) is bound to a GPU thread"),
    ("build missing an input tensor", lambda: (lambda s, A, B, C: tvm.build(s, [A, C], target="llvm"))(*sched()),
     ScheduleError, r"input B.*read by C.*missing from the argument list"),

    # ------------------------------------------------------------------ reads outside a tensor, division by zero
    ("read proven outside a tensor", lambda: (lambda A: (lambda B: tvm.build(te.create_schedule(B.op), [A, B]))(
        te.compute((16,), lambda i: A[i + 100000], name="B")))(te.placeholder((16,), name="A")),
     OutOfBoundsError, r"compute 'B' reads A\[i \+ 100000\] outside A"),
    ("data-dependent index out of bounds", Sub(
        "A = te.placeholder((8,), name='A')\n"
        "idx = te.placeholder((4,), name='idx', dtype='int32')\n"
        "B = te.compute((4,), lambda i: A[idx[i]], name='B')\n"
        "f = tvm.build(te.create_schedule(B.op), [A, idx, B])\n"
        "f(tvm.nd.array(np.ones(8, 'float32')), tvm.nd.array(np.array([0, 1, 99, 2], 'int32')), tvm.nd.empty((4,)))"),
     RuntimeError, r"index out of bounds: compute 'B' reads A\[idx\[i\]\]"),
    ("non-affine index out of bounds", Sub(
        "A = te.placeholder((16,), name='A')\n"
        "B = te.compute((8,), lambda i: A[i * i], name='B')\n"
        "f = tvm.build(te.create_schedule(B.op), [A, B])\n"
        "f(tvm.nd.array(np.ones(16, 'float32')), tvm.nd.empty((8,)))"),
     RuntimeError, r"index out of bounds: compute 'B' reads A\[i \* i\]"),
    ("integer division by zero", Sub(
        "A = te.placeholder((2,), name='A', dtype='int32')\n"
        "B = te.placeholder((2,), name='B', dtype='int32')\n"
        "C = te.compute((2,), lambda i: tvm.tir.floordiv(A[i], B[i]), name='C')\n"
        "f = tvm.build(te.create_schedule(C.op), [A, B, C])\n"
        "f(tvm.nd.array(np.array([5, 6], 'int32')), tvm.nd.array(np.array([1, 0], 'int32')),"
        " tvm.nd.empty((2,), 'int32'))"),
     RuntimeError, r"integer division by zero.*A\[.*B\["),
    ("integer modulo by zero", Sub(
        "A = te.placeholder((2,), name='A', dtype='int32')\n"
        "B = te.placeholder((2,), name='B', dtype='int32')\n"
        "C = te.compute((2,), lambda i: tvm.tir.floormod(A[i], B[i]), name='C')\n"
        "f = tvm.build(te.create_schedule(C.op), [A, B, C])\n"
        "f(tvm.nd.array(np.array([5, 6], 'int32')), tvm.nd.array(np.array([0, 1], 'int32')),"
        " tvm.nd.empty((2,), 'int32'))"),
     RuntimeError, r"integer division by zero.*%.*B\["),

    # ------------------------------------------------------------------ calls of built functions
    ("call with too few arguments", lambda: add_kernel()(f32(4), f32(4)), TypeError,
     r"add takes 3 arguments \(A, B, C\) but 2"),
    ("call with too many arguments", lambda: add_kernel()(f32(4), f32(4), f32(4), f32(4)), TypeError,
     r"add takes 3 arguments \(A, B, C\)"),
    ("call with a wrong dtype", lambda: add_kernel()(f32(4), nd.empty((4,), "float64"), f32(4)), TypeError,
     r"add: argument 1 \('B'\) must have dtype float32 but has float64"),
    ("call with a wrong rank", lambda: add_kernel()(f32(4), f32(4), f32(2, 2)), ValueError,
     r"argument 2 \('C'\) must have rank 1"),
    ("call with a wrong static shape", lambda: scale_kernel()(f32(4, 8), f32(8, 4), 1.0, 0), ValueError,
     r"scale: argument 1 \('B'\) must have shape \(4, 8\) but has shape \(8, 4\)"),
    ("call with inconsistent sizes", lambda: add_kernel()(f32(8), f32(4), f32(8)), ValueError,
     r"inconsistent size n: argument 0 \('A'\) axis 0 sets n = 8 but argument 1 \('B'\) axis 0 has 4"),
    ("call with a non-contiguous array", lambda: add_kernel()(np.zeros(8, "float32")[::2], f32(4), f32(4)),
     ValueError, r"argument 0 \('A'\) is not C-contiguous"),
    ("call with a read-only array", lambda: add_kernel()(np.zeros(4, "float32"), f32(4), read_only(4)),
     ValueError, r"argument 2 \('C'\) is a read-only array"),
    ("call with a list", lambda: add_kernel()(f32(2), f32(2), [0.0, 0.0]), TypeError,
     r"argument 2 \('C'\) must be an array.*got list"),
    ("call with overlapping input and output", lambda: (lambda a: add_kernel()(a, f32(8), a))(np.zeros(8, "float32")),
     ValueError, r"argument 0 \('A'\) and argument 2 \('C'\) share memory"),
    ("call with a string scalar", lambda: scale_kernel()(f32(4, 8), f32(4, 8), "x", 0), TypeError,
     r"argument 2 \('alpha'\) must be a number"),
    ("call with a float for an int scalar", lambda: scale_kernel()(f32(4, 8), f32(4, 8), 1.0, 1.5), TypeError,
     r"argument 3 \('offset'\) must be an integer"),
    ("call with an int32 overflow", lambda: scale_kernel()(f32(4, 8), f32(4, 8), 1.0, 2**31), ValueError,
     r"argument 3 \('offset'\) = 2147483648 does not fit in int32"),
    ("call with a bool for an int scalar", lambda: scale_kernel()(f32(4, 8), f32(4, 8), 1.0, True), TypeError,
     r"argument 3 \('offset'\) must be an integer"),
    ("call with None", lambda: add_kernel()(None, f32(4), f32(4)), TypeError,
     r"add: argument 0 \('A'\) must be an array.*got NoneType"),
    ("call with an int64 array", lambda: add_kernel()(np.zeros(4, "int64"), f32(4), f32(4)), TypeError,
     r"add: argument 0 \('A'\) must have dtype float32 but has int64"),
    ("call with a numpy scalar for an array", lambda: add_kernel()(np.float32(1), f32(4), f32(4)), TypeError,
     r"argument 0 \('A'\) must be an array.*got float32"),
    ("call with a float for an array", lambda: scale_kernel()(1.0, f32(4, 8), 1.0, 0), TypeError,
     r"scale: argument 0 \('A'\) must be an array.*got float"),
    ("call with keyword arguments", lambda: add_kernel()(A=f32(4), B=f32(4), C=f32(4)), TypeError,
     r"unexpected keyword argument 'A'"),
    ("call with None for a scalar", lambda: scale_kernel()(f32(4, 8), f32(4, 8), None, 0), TypeError,
     r"scale: argument 2 \('alpha'\) must be a number \(dtype float32\), got None"),
    ("call with nan for an int scalar", lambda: scale_kernel()(f32(4, 8), f32(4, 8), 1.0, float("nan")), TypeError,
     r"argument 3 \('offset'\) must be an integer.*nan"),
    ("call with an array for a scalar", lambda: scale_kernel()(f32(4, 8), f32(4, 8), np.array([1.0]), 0), TypeError,
     r"argument 2 \('alpha'\) must be a number"),
    ("call with an NDArray for a scalar", lambda: scale_kernel()(f32(4, 8), f32(4, 8), f32(1), 0), TypeError,
     r"argument 2 \('alpha'\) must be a number"),
    ("call with an int64 overflow of int32", lambda: scale_kernel()(f32(4, 8), f32(4, 8), 1.0, np.int64(2**40)),
     ValueError, r"argument 3 \('offset'\) = 1099511627776 does not fit in int32"),
    ("call with a negative int32 overflow", lambda: scale_kernel()(f32(4, 8), f32(4, 8), 1.0, -2**31 - 1),
     ValueError, r"argument 3 \('offset'\) = -2147483649 does not fit in int32"),
    ("call with a Fortran-ordered array", lambda: scale_kernel()(np.asfortranarray(np.zeros((4, 8), "float32")),
                                                                f32(4, 8), 1.0, 0),
     ValueError, r"scale: argument 0 \('A'\) is not C-contiguous"),
    ("time_evaluator of an unknown function", lambda: add_kernel().time_evaluator("nope", tvm.cpu(0)),
     AttributeError, r"no function 'nope'; it has: add"),
    ("time_evaluator number 0", lambda: add_kernel().time_evaluator("add", tvm.cpu(0), number=0)(
        f32(4), f32(4), f32(4)),
     ValueError, r"number must be a positive int, got 0"),
    ("time_evaluator repeat -1", lambda: add_kernel().time_evaluator("add", tvm.cpu(0), repeat=-1)(
        f32(4), f32(4), f32(4)), ValueError, r"repeat must be a positive int, got -1"),
    ("module has no such function", lambda: add_kernel()["nope"], AttributeError, r"no function 'nope'.*add"),
    ("module source of an unknown format", lambda: add_kernel().get_source("ptx"), ValueError, r"'ptx'"),

    # ------------------------------------------------------------------ runtime NDArray
    ("ndarray negative shape", call(nd.empty, (2, -1)), ValueError, r"negative.*-1|-1.*negative"),
    ("ndarray unsupported dtype", call(nd.empty, (2,), "complex64"), TypeError, r"complex64"),
    ("ndarray copyfrom wrong dtype", lambda: f32(2, 3).copyfrom(np.zeros((2, 3))), ValueError,
     r"dtype float64 .* float32"),
    ("ndarray copyfrom wrong shape", lambda: f32(2, 3).copyfrom(np.zeros((3, 2), "float32")), ValueError,
     r"shape \(3, 2\) .* \(2, 3\)"),
    ("ndarray item assignment", lambda: f32(2).__setitem__(0, 1.0), ValueError, r"arr\[:\]"),
    ("ndarray copyto an int", lambda: f32(2).copyto(3), TypeError, r"NDArray or a Device.*int|3"),
    ("ndarray on a missing cuda device", call(nd.empty, (3,), device=tvm.cuda(0)), RuntimeError,
     r"no CUDA device"),
    ("ndarray from a non-contiguous dlpack", lambda: nd.from_dlpack(np.zeros((2, 3), "float32").T), ValueError,
     r"C-contiguous"),

    ("ndarray unknown dtype", call(nd.empty, (2,), "float33"), TypeError, r"unknown dtype 'float33'"),
    ("ndarray of objects", lambda: nd.array(np.array([object()])), TypeError, r"dtype\('O'\) is not supported"),
    ("ndarray of strings", lambda: nd.array(np.array(["a", "b"])), TypeError, r"dtype\('<U1'\) is not supported"),
    ("ndarray copyto a missing cuda device", lambda: f32(2).copyto(tvm.cuda(0)), RuntimeError,
     r"cuda\(0\) is not available"),
    ("unknown device name", call(tvm.device, "tpu", 0), ValueError, r"unknown device 'tpu'"),
    ("negative device id", lambda: nd.empty((2,), device=tvm.cpu(-1)), ValueError,
     r"device id must be a non-negative int, got -1"),

    # ------------------------------------------------------------------ relay
    ("relay dense of mismatched shapes", lambda: _infer(
        relay.nn.dense(relay.var("x", shape=(2, 8)), relay.var("w", shape=(4, 9))),
        relay.var("x", shape=(2, 8)), relay.var("w", shape=(4, 9))),
     TypeError, r"nn.dense: data has 8 features but weight expects 9"),
    ("relay add of incompatible shapes", lambda: (lambda a, b: _infer(relay.add(a, b), a, b))(
        relay.var("a", shape=(2, 3)), relay.var("b", shape=(4, 5))), TypeError, r"add.*\(2, 3\).*\(4, 5\)|add.*3.*5"),
    ("relay add of mixed dtypes", lambda: (lambda a, b: _infer(relay.add(a, b), a, b))(
        relay.var("a", shape=(2,), dtype="float32"), relay.var("b", shape=(2,), dtype="float16")),
     TypeError, r"^add:.*float16"),
    ("relay reshape to another size", lambda: _infer1(lambda x: relay.reshape(x, (4, 5))), TypeError,
     r"reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4, 5\)"),
    ("relay reshape with two -1", lambda: _infer1(lambda x: relay.reshape(x, (-1, -1))), TypeError,
     r"reshape: at most one -1 in the new shape, got \(-1, -1\)"),
    ("relay transpose not a permutation", lambda: _infer1(lambda x: relay.transpose(x, (0, 0))), TypeError,
     r"transpose: axes \(0, 0\) is not a permutation"),
    ("relay sum over a missing axis", lambda: _infer1(lambda x: relay.sum(x, axis=3)), TypeError,
     r"sum: axis 3 is out of range for a tensor of rank 2"),
    ("relay concatenate of mismatched shapes", lambda: (lambda a, b: _infer(relay.concatenate([a, b], axis=0), a, b))(
        relay.var("a", shape=(2, 3)), relay.var("b", shape=(4, 5))), TypeError,
     r"concatenate:.*shape \(4, 5\), incompatible with \(2, 3\) outside axis 0"),
    ("relay concatenate over a missing axis", lambda: _infer1(lambda x: relay.concatenate([x, x], axis=9)),
     TypeError, r"concatenate: axis 9 is out of range"),
    ("relay take over a missing axis", lambda: _infer1(lambda x: relay.take(x, relay.const(np.array([0], "int32")),
                                                                           axis=4)),
     TypeError, r"take: axis 4 is out of range"),
    ("relay take with float indices", lambda: _infer1(lambda x: relay.take(
        x, relay.const(np.array([0.5], "float32")), axis=0)), TypeError, r"take:.*indices must be integers"),
    ("relay conv2d channel mismatch", lambda: (lambda d, w: _infer(relay.nn.conv2d(d, w), d, w))(
        relay.var("d", shape=(1, 3, 8, 8)), relay.var("w", shape=(4, 5, 3, 3))), TypeError,
     r"nn.conv2d: data has 3 channels but weight expects 5"),
    ("relay batch_matmul of 2-D inputs", lambda: (lambda a, b: _infer(relay.nn.batch_matmul(a, b), a, b))(
        relay.var("a", shape=(2, 3)), relay.var("b", shape=(4, 5))), TypeError,
     r"nn.batch_matmul: batch_matmul needs 3-D inputs, got \(2, 3\) and \(4, 5\)"),
    ("relay add of int and float", lambda: (lambda a, b: _infer(relay.add(a, b), a, b))(
        relay.var("i", shape=(2,), dtype="int32"), relay.var("f", shape=(2,))), TypeError,
     r"add: dtypes differ: int32 vs float32"),
    ("relay split into unequal sections", lambda: _infer1(lambda x: relay.split(x, 4, axis=1).astuple()), TypeError,
     r"split: axis 1 of size 3 does not divide into 4"),
    ("relay strided_slice stride 0", lambda: _infer1(lambda x: relay.strided_slice(x, [0, 0], [5, 5], [0, 0])),
     TypeError, r"strided_slice: a stride of 0 is not allowed"),
    ("relay expand_dims of a missing axis", lambda: _infer1(lambda x: relay.expand_dims(x, 7)), TypeError,
     r"expand_dims: axis 7 is out of range"),
    ("relay squeeze of a non-1 axis", lambda: _infer1(lambda x: relay.squeeze(x, axis=[0])), TypeError,
     r"squeeze: axis 0 has size 2, not 1"),
    ("relay unknown operator", call(relay.op.get, "nn.dens"), KeyError, r"unknown operator 'nn.dens'"),
    ("relay build of softmax over a missing axis", lambda: (lambda x: relay.build(
        tvm.IRModule.from_expr(relay.Function([x], relay.nn.softmax(x, axis=5))), target="llvm"))(
        relay.var("x", shape=(2, 3))), TypeError, r"nn.softmax: axis 5 is out of range"),
    ("relay transpose axes outside the rank", lambda: relay.transform.InferType()(tvm.IRModule.from_expr(
        (lambda x: relay.Function([x], relay.transpose(x, (0, 5))))(relay.var("x", shape=(2, 3))))),
     TypeError, r"axes \(0, 5\) is not a permutation"),
    ("relay conv2d with zero strides", lambda: relay.nn.conv2d(relay.var("d", shape=(1, 3, 8, 8)),
                                                               relay.var("w", shape=(4, 3, 3, 3)), strides=(0, 0)),
     ValueError, r"strides must be positive"),
    ("relay max_pool2d window larger than the input", lambda: relay.transform.InferType()(tvm.IRModule.from_expr(
        (lambda d: relay.Function([d], relay.nn.max_pool2d(d, pool_size=(20, 20))))(
            relay.var("d", shape=(1, 3, 8, 8))))), TypeError, r"20x20 window .* does not fit the 8x8 input"),
    ("relay var of an unknown dtype", lambda: relay.var("v", shape=(2,), dtype="float33"), ValueError,
     r"unknown dtype 'float33'"),
    ("relay const of a string", lambda: relay.const("abc"), TypeError, r"relay.const takes numbers.*'abc'"),
    ("relay op with an unknown attribute", lambda: relay.nn.relu(relay.var("x", shape=(2,)), alpha=1.0),
     TypeError, r"alpha"),
    ("relay conv2d with an unknown layout", lambda: (lambda x, w: _infer(
        relay.nn.conv2d(x, w, data_layout="NCWH"), x, w))(relay.var("x", shape=(1, 3, 8, 8)),
                                                          relay.var("w", shape=(4, 3, 3, 3))),
     Exception, r"NCWH"),
    ("relay build of an untyped input", lambda: (lambda x: relay.build(
        tvm.IRModule.from_expr(relay.Function([x], relay.nn.relu(x))), target="llvm"))(relay.var("x")),
     TypeError, r"input %x has no type"),
    ("relay build with an unknown param name", relay_build({"wieght": np.ones((4, 8), "float32")}),
     KeyError, r"params \['wieght'\] are not inputs of the function"),
    ("relay build with a param of another shape", relay_build({"weight": np.ones((8, 4), "float32")}),
     ValueError, r"'weight'.*\(4, 8\).*\(8, 4\)|'weight'.*\(8, 4\).*\(4, 8\)"),
    ("relay build with a param of another dtype", relay_build({"weight": np.ones((4, 8), "float64")}),
     TypeError, r"'weight'.*float"),
    ("relay build with a string param", relay_build({"weight": "abc"}), TypeError,
     r"param 'weight' is Tensor\[\(4, 8\), float32\] but the value bound to it is"),
    ("relay build for an unknown target", lambda: relay.build(_dense_mod(), target="metal"), ValueError, r"'metal'"),
    ("create_executor of an unknown kind", call(relay.create_executor, "jit"), ValueError, r"unknown kind 'jit'"),
    ("evaluate with free variables", lambda: relay.create_executor().evaluate(relay.exp(relay.var("x", shape=(2,)))),
     ValueError, r"free variables \['x'\]"),
    ("set_input of an unknown name", set_and(lambda m: m.set_input("nope", np.ones((1, 8), "float32"))),
     KeyError, r"no input named 'nope'"),
    ("set_input of a wrong shape", set_and(lambda m: m.set_input("x", np.ones((2, 8), "float32"))),
     ValueError, r"input 'x': expected shape \(1, 8\)"),
    ("set_input of a dtype of another kind", set_and(lambda m: m.set_input("x", np.ones((1, 8), "complex64"))),
     TypeError, r"input 'x': expected dtype float32, got complex64 \(convert it: value.astype\('float32'\)\)"),
    ("set_input of a bound parameter's name", set_and(lambda m: m.set_input("weight", np.ones((4, 8), "float32"))),
     KeyError, r"no input named 'weight'; its inputs are \['x'\]"),
    ("set_input of an index out of range", set_and(lambda m: m.set_input(9, np.ones((1, 8), "float32"))),
     IndexError, r"input index 9 out of range; the graph has inputs \['x', 'p0'\]"),
    ("get_input of an unknown name", set_and(lambda m: m.get_input("nope")), KeyError, r"no input named 'nope'"),
    ("get_output out of range", set_and(lambda m: m.get_output(5)), IndexError,
     r"output index 5 out of range; the graph has 1 outputs"),
    ("run with an unknown keyword input", set_and(lambda m: m.run(nope=np.ones((1, 8), "float32"))), KeyError,
     r"no input named 'nope'"),
    ("factory has no such function", lambda: dense_factory()["nope"], AttributeError,
     r"no function 'nope'.*fused_nn_dense"),
    ("factory on a missing cuda device", lambda: dense_factory()["default"](tvm.cuda(0)), RuntimeError,
     r"cuda\(0\) is not available"),
    ("executor called with an input missing", lambda: _executor()(np.ones((1, 8), "float32")), TVMError,
     r"input\(s\) \['weight'\] were never set"),
    ("executor called with a wrong shape", lambda: _executor()(np.ones((2, 8), "float32"), np.ones((4, 8), "float32")),
     ValueError, r"input 'x': expected shape \(1, 8\), got \(2, 8\)"),
    ("executor called with a dtype of another kind", lambda: _executor()(np.ones((1, 8), "complex64"),
                                                                        np.ones((4, 8), "float32")),
     TypeError, r"input 'x': expected dtype float32, got complex64"),
    ("executor called with an unknown keyword", lambda: _executor()(nope=np.ones((1, 8), "float32")), KeyError,
     r"no input named 'nope'"),
    ("graph_executor.create with another library", lambda: graph_executor.create(
        dense_factory().get_graph_json(), add_kernel(), tvm.cpu(0)), ArtifactError,
     r"calls kernel 'fused_nn_dense', which the library does not have; it has \['add'\]"),
    ("run with an input never set", set_and(lambda m: m.run()), TVMError, r"input\(s\) \['x'\] were never set"),

    # ------------------------------------------------------------------ artifacts (files are loaded in a child process)
    ("load_module of a missing file", Sub("tvm.runtime.load_module(TMP + '/nothere.so')"),
     FileNotFoundError, r"nothere.so does not exist"),
    ("load_module of an unknown file type", Sub("tvm.runtime.load_module(TMP + '/model.bin')"),
     ValueError, r"unknown file type.*model.bin"),
    ("load_module of a garbage .so", Sub("tvm.runtime.load_module(TMP + '/junk.so')"),
     RuntimeError, r"could not load.*junk.so|junk.so.*could not load"),
    ("load_module of a garbage .tar", Sub("tvm.runtime.load_module(TMP + '/junk.tar')"),
     ArtifactError, r"junk.tar.*not a tilecraft library|not a tilecraft library.*junk.tar"),
    ("load_module of a truncated .tar", Sub("tvm.runtime.load_module(TMP + '/truncated.tar')"),
     ArtifactError, r"truncated.tar.*(not a readable tar archive|lacks lib.ll)"),
    ("load_module with metadata.json edited", Sub("tvm.runtime.load_module(TMP + '/meta_edited.tar')"),
     ArtifactError, r"meta_edited.tar.*metadata.json.*differs from the metadata embedded"),
    ("load_module with lib.ll edited", Sub("tvm.runtime.load_module(TMP + '/code_edited.tar')"),
     ArtifactError, r"code_edited.tar.*lib.ll: its sha256 differs"),
    ("load_module with a path traversal member", Sub("tvm.runtime.load_module(TMP + '/traversal.tar')"),
     ArtifactError, r"traversal.tar.*member '\.\./escaped': not a plain"),
    ("load_param_dict of truncated bytes", Sub("tvm.runtime.params.load_param_dict(open(TMP + '/params.bin', 'rb')"
                                               ".read()[:-5])"),
     ArtifactError, r"parameter 'weight'.*truncated"),
    ("load_param_dict of garbage", call(load_param_dict, b"\x00" * 4), ValueError, r"not a safetensors"),
    ("graph_executor.create of invalid JSON", Sub(
        "from tilecraft.runtime import graph_executor\n"
        "graph_executor.create('{\"nodes\": [', tvm.runtime.load_module(TMP + '/addone.tar'), tvm.cpu(0))"),
     ArtifactError, r"not valid JSON"),
    ("load_deployed with a dangling graph input", Sub("tvm.relay.load_deployed(TMP + '/dangling')"),
     ArtifactError, r"deploy_graph.json.*nodes\[\d+\].inputs\[0\]: refers to node 99"),
    ("load_deployed with a missing weight", Sub("tvm.relay.load_deployed(TMP + '/noweight')"),
     ArtifactError, r"deploy_params.bin.*needs the parameters \['p0'\], which are missing"),

    ("load_module of a directory", Sub("tvm.runtime.load_module(TMP)"), ValueError,
     r"unknown file type for '.*bad_inputs"),
    ("load_deployed of a missing directory", Sub("tvm.relay.load_deployed(TMP + '/nodir')"), FileNotFoundError,
     r"nodir/deploy_lib.tar does not exist"),
    ("export_library to an unknown file type", lambda: add_kernel().export_library("/tmp/tilecraft_bad_inputs.dll"),
     ValueError, r"unknown file type for '/tmp/tilecraft_bad_inputs.dll'"),
    ("export_library into a missing directory", lambda: add_kernel().export_library("/nonexistent/lib.tar"),
     FileNotFoundError, r"directory /nonexistent does not exist"),
    ("save_param_dict of a string", call(save_param_dict, {"a": "x"}), TypeError,
     r"parameter 'a' has dtype <U1, which safetensors cannot store"),
    ("save_param_dict of objects", call(save_param_dict, {"a": np.array([object()])}), TypeError,
     r"parameter 'a' has dtype object"),

    # ------------------------------------------------------------------ importers
    ("from_onnx of a non-ONNX file", Sub("tvm.relay.frontend.from_onnx(TMP + '/zip.onnx')"),
     ArtifactError, r"zip.onnx.*not an ONNX model"),
    ("from_onnx of a truncated file", Sub("tvm.relay.frontend.from_onnx(TMP + '/truncated.onnx')"),
     ArtifactError, r"truncated.onnx.*not an ONNX model, or truncated"),
    ("from_onnx of an empty file", Sub("tvm.relay.frontend.from_onnx(TMP + '/empty.onnx')"),
     ArtifactError, r"empty.onnx.*no ir_version or no graph"),
    ("from_onnx of a missing file", Sub("tvm.relay.frontend.from_onnx(TMP + '/missing.onnx')"),
     FileNotFoundError, r"missing.onnx"),
    ("from_pytorch of a non-traced module", lambda: _from_pytorch(traced=False, shapes=[("x", (1, 4))]),
     TypeError, r"Linear.*from_exported_program|from_exported_program"),
    ("from_pytorch with too many inputs", lambda: _from_pytorch(traced=True, shapes=[("a", (1, 4)), ("b", (1, 4))]),
     ValueError, r"takes 1 input"),

    ("from_pytorch with a wrong input shape", lambda: _from_pytorch(traced=True, shapes=[("x", (1, 5))]),
     RuntimeError, r"aten::linear.*nn.dense: data has 5 features but weight expects 4"),
    ("from_pytorch with no inputs", lambda: _from_pytorch(traced=True, shapes=[]), ValueError,
     r"takes 1 input\(s\) \['input'\] but input_infos describes 0"),
    ("from_pytorch of a file name", call(relay.frontend.from_pytorch, "model.pt", [("x", (1, 4))]), TypeError,
     r"from_pytorch expects a torch.jit.ScriptModule.*got str"),
    ("from_onnx of bytes", call(relay.frontend.from_onnx, b"garbage bytes"), TypeError,
     r"from_onnx expects an onnx.ModelProto or a path, got bytes"),
    ("from_onnx of an int", call(relay.frontend.from_onnx, 42), TypeError, r"got int"),
    ("from_onnx of a directory", Sub("tvm.relay.frontend.from_onnx(TMP)"), ArtifactError,
     r"bad_inputs\w*: not an ONNX model"),
    ("from_onnx shape of an unknown input", lambda: relay.frontend.from_onnx(_onnx_matmul(), shape={"z": (1, 3)}),
     ValueError, r"shape_dict names \['z'\], which are not inputs of the ONNX graph; its inputs are \['x'\]"),
    ("from_onnx with a wrong input shape", lambda: relay.frontend.from_onnx(_onnx_matmul(), shape={"x": (1, 5)}),
     ValueError, r"MatMul.*inner dimensions differ \(\(1, 5\) x \(3, 4\)\)"),
    ("from_onnx of a node reading an undefined name", lambda: relay.frontend.from_onnx(
        _onnx_model("MatMul", ["x", "q"], "y")), ValueError, r"MatMul\) reads \['q'\], which no node produced"),
    ("from_onnx of an unknown operator", lambda: relay.frontend.from_onnx(_onnx_model("Frobnicate", ["x"], "y")),
     NotImplementedError, r"Frobnicate"),
    ("from_onnx of an output nothing produces", lambda: relay.frontend.from_onnx(_onnx_model("Relu", ["x"], "y", "z")),
     ValueError, r"graph output 'z' is not produced by any node"),

    # ------------------------------------------------------------------ tuning
    ("autotvm task of an unknown template", lambda: _autotvm().task.create(
        "dense_nopack.x86x", args=(), target="llvm"), KeyError, r"dense_nopack.x86x"),
    ("autotvm tuner of a task name", lambda: _autotvm().tuner.RandomTuner("matmul"),
     TypeError, r"autotvm.task.create"),
    ("autotvm tune with 0 trials", lambda: _autotvm().tuner.RandomTuner(
        tune_task()).tune(0, None), ValueError, r"n_trial"),
    ("autotvm measure_option with a bad builder", lambda: _autotvm().measure_option(
        builder="remote"), TypeError, r"measure_option: builder.*str"),
    ("autotvm XGBTuner unknown feature_type", lambda: _autotvm().tuner.XGBTuner(
        tune_task(), feature_type="loops"), ValueError, r"feature_type.*loops|loops.*feature_type"),
    ("autotvm apply_history_best of a missing log", lambda: _autotvm().apply_history_best(
        "/nonexistent/autotvm.log"), FileNotFoundError, r"autotvm.log.*does not exist"),
    ("autotvm get_config outside a template", lambda: _autotvm().get_config(),
     RuntimeError, r"get_config.*outside a template|outside a template"),
    ("autotvm task for an unknown target", lambda: _autotvm().task.create(
        "dense_nopack.x86", args=(("TENSOR", (1, 8), "float32"), ("TENSOR", (4, 8), "float32"), None, "float32"),
        target="metal"), ValueError, r"unknown target kind 'metal'"),
    ("autotvm runner number 0", lambda: _autotvm().LocalRunner(number=0), ValueError,
     r"runner: number must be a positive int, got 0"),
    ("autotvm runner negative timeout", lambda: _autotvm().LocalRunner(timeout=-1),
     ValueError, r"runner: timeout must be a positive number of seconds, got -1"),
    ("autotvm runner repeat as a string", lambda: _autotvm().LocalRunner(repeat="x"),
     ValueError, r"runner: repeat must be a positive int, got 'x'"),
    ("autotvm grid range outside the space", lambda: _autotvm().tuner.GridSearchTuner(
        tune_task(), range_idx=(5, 100000)), ValueError, r"range_idx.*space of dense_nopack.x86.*got \(5, 100000\)"),
    ("autotvm XGBTuner unknown loss_type", lambda: _autotvm().tuner.XGBTuner(
        tune_task(), loss_type="huber"), ValueError, r"loss_type must be one of .*got 'huber'"),
    ("autotvm tune without measure_option", lambda: _autotvm().tuner.RandomTuner(
        tune_task()).tune(5, None), TypeError, r"measure_option must be the dict.*got NoneType"),
    ("autotvm extract an unknown op", lambda: _autotvm().task.extract_from_program(
        _dense_mod(), params={}, target="llvm", ops=["nn.dens"]), KeyError, r"unknown operator 'nn.dens'"),
    ("autotvm config index outside the space", lambda: tune_task().config_space.get(10**9), IndexError,
     r"config index 1000000000 is outside the space"),
    ("autotvm records of a directory", lambda: _autotvm().apply_history_best("/tmp"),
     IsADirectoryError, r"cannot read tuning records at /tmp: it is a directory"),
    ("autotvm records in a missing directory", lambda: list(_autotvm().record.load_from_file(
        "/nonexistent/y.log")), FileNotFoundError, r"/nonexistent/y.log.*the directory /nonexistent does not exist"),
    ("auto_scheduler runner repeat 0", lambda: _auto_scheduler().LocalRunner(repeat=0), ValueError,
     r"runner: repeat must be a positive int, got 0"),
    ("auto_scheduler builder timeout 0", lambda: _auto_scheduler().LocalBuilder(timeout=0), ValueError,
     r"LocalBuilder: timeout must be a positive number of seconds, got 0"),
    ("auto_scheduler register a non-function", lambda: _auto_scheduler().register_workload(42), ValueError,
     r"register_workload expects a function or a name, got 42"),
    ("auto_scheduler workload key not JSON", lambda: _auto_scheduler().SearchTask(workload_key="not json",
                                                                                 target="llvm"),
     ValueError, r"workload key 'not json' is not JSON"),
    ("auto_scheduler unregistered function", lambda: _auto_scheduler().SearchTask(func="matmul_nope", args=(8,),
                                                                                 target="llvm"),
     ValueError, r"workload 'matmul_nope' is not registered"),
    ("auto_scheduler cost model as a string", lambda: _auto_scheduler().SketchPolicy(program_cost_model="xgb"),
     TypeError, r"SketchPolicy\(program_cost_model=...\).*got 'xgb'"),
    ("auto_scheduler task of an unknown workload", lambda: _auto_scheduler().SearchTask(
        workload_key='["no_such_workload", 8]', target="llvm"), Exception, r"no_such_workload"),
    ("auto_scheduler unknown policy parameter", lambda: _auto_scheduler().SketchPolicy(sketch_max=3),
     ValueError, r"SketchPolicy has no parameter 'sketch_max'"),
    ("auto_scheduler runner as a string", lambda: _auto_scheduler().TuningOptions(runner="remote"),
     TypeError, r"TuningOptions\(runner=...\)"),
    ("auto_scheduler negative trials", lambda: _auto_scheduler().TuningOptions(num_measure_trials=-1),
     ValueError, r"num_measure_trials"),
    ("auto_scheduler trials as a string", lambda: _auto_scheduler().TuningOptions(num_measure_trials="ten"),
     ValueError, r"num_measure_trials=...\) takes an integer >= 0, got 'ten'"),
    ("auto_scheduler missing log", lambda: _auto_scheduler().ApplyHistoryBest("/nonexistent/log.json"),
     FileNotFoundError, r"no tuning log at '/nonexistent/log.json'"),
    # ------------------------------------------------------------------ global functions and pass options
    ("register a global function twice", lambda: [tvm.register_func("test_bad_inputs.twice", lambda: 1, override=True),
                                                   tvm.register_func("test_bad_inputs.twice", lambda: 2)],
     ValueError, r"global function 'test_bad_inputs.twice' is already registered"),
    ("unknown global function", call(tvm.get_global_func, "no.such.func"), ValueError,
     r"no global function 'no.such.func' is registered"),
    ("PassContext unknown config", call(tvm.transform.PassContext, config={"tir.no_such": 1}), ValueError,
     r"PassContext config has no option 'tir.no_such'"),
    ("PassContext opt_level 9", call(tvm.transform.PassContext, opt_level=9), ValueError,
     r"PassContext\(opt_level=9\)"),
    ("auto_scheduler unwritable log", lambda: _auto_scheduler().RecordToFile("/proc/no/such/dir/log.json"),
     OSError, r"cannot write the tuning log.*/proc/no/such/dir/log.json"),
]


def _infer1(make):
    """Type inference of make(x) for x: float32[2, 3]."""
    x = relay.var("x", shape=(2, 3))
    return _infer(make(x), x)


def _executor():
    return relay.create_executor("graph", mod=_dense_mod(), target="llvm").evaluate()


def _onnx_model(op, inputs, output, graph_output=None):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.ones((3, 4), "float32"), "w")] if "w" in inputs else []
    graph = helper.make_graph([helper.make_node(op, inputs, [output])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info(graph_output or output, TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph)


def _onnx_matmul():
    return _onnx_model("MatMul", ["x", "w"], "y")


def _autotvm():
    from tilecraft import autotvm
    from tilecraft.autotvm import tuner  # noqa: F401  (autotvm.tuner)

    return autotvm


def _auto_scheduler():
    from tilecraft import auto_scheduler

    return auto_scheduler


def _from_pytorch(traced, shapes):
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(4, 2)
    if traced:
        model = torch.jit.trace(model, torch.zeros(1, 4))
    return relay.frontend.from_pytorch(model, shapes)


# ----------------------------------------------------------------------------- files for the artifact rows


def _members(path) -> dict:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def _write_tar(path, members: dict) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _files(tmp):
    """The bad files the artifact and importer rows load, each made by editing a good one."""
    A = te.placeholder((1024,), name="A")
    B = te.compute((1024,), lambda i: A[i] + 1.0, name="B")
    good = tmp / "addone.tar"
    tvm.build(te.create_schedule(B.op), [A, B], target="llvm", name="addone").export_library(good)
    members = _members(good)
    (tmp / "model.bin").write_bytes(b"x")
    (tmp / "junk.so").write_bytes(b"garbage")
    (tmp / "junk.tar").write_bytes(b"definitely not a tar archive" * 40)
    (tmp / "truncated.tar").write_bytes(good.read_bytes()[:700])
    meta = json.loads(members["metadata.json"])
    for p in meta["functions"][0]["params"]:
        p[3] = [4]
    _write_tar(tmp / "meta_edited.tar", {**members, "metadata.json": json.dumps(meta).encode()})
    _write_tar(tmp / "code_edited.tar", {**members, "lib.ll": members["lib.ll"].replace(b"fadd", b"fsub", 1)})
    _write_tar(tmp / "traversal.tar", {**members, "../escaped": b"x"})
    (tmp / "params.bin").write_bytes(save_param_dict({"weight": np.ones((4, 8), "float32")}))

    # a deployed dense + bias graph, then two broken copies of it
    x = relay.var("x", shape=(1, 4), dtype="float32")
    w = relay.var("w", shape=(3, 4), dtype="float32")
    b = relay.var("b", shape=(3,), dtype="float32")
    factory = relay.build(tvm.IRModule.from_expr(relay.Function([x, w, b], relay.nn.bias_add(relay.nn.dense(x, w), b))),
                          target="llvm", params={"w": np.ones((3, 4), "float32"), "b": np.ones(3, "float32")})
    factory.save(tmp / "deployed")
    for name in ("dangling", "noweight"):
        (tmp / name).mkdir()
        for f in ("deploy_lib.tar", "deploy_graph.json", "deploy_params.bin"):
            (tmp / name / f).write_bytes((tmp / "deployed" / f).read_bytes())
    graph = json.loads((tmp / "deployed" / "deploy_graph.json").read_text())
    op_node = next(i for i, n in enumerate(graph["nodes"]) if n["op"] == "tvm_op")
    graph["nodes"][op_node]["inputs"][0] = [99, 0, 0]
    (tmp / "dangling" / "deploy_graph.json").write_text(json.dumps(graph))
    (tmp / "noweight" / "deploy_params.bin").write_bytes(save_param_dict({"p1": np.ones(3, "float32")}))

    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    init = numpy_helper.from_array(np.ones((3, 4), "float32"), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [init])
    data = helper.make_model(graph).SerializeToString()
    assert onnx
    (tmp / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (tmp / "zip.onnx").write_bytes(b"PK\x03\x04 this is a zip file, not a model" * 3)
    (tmp / "empty.onnx").write_bytes(b"")


# ----------------------------------------------------------------------------- the child interpreter

CHILD = """
import json, sys
import numpy as np
import tilecraft as tvm
from tilecraft import te, relay
TMP = sys.argv[1]
for cid, code in json.loads(sys.stdin.read()):
    print(json.dumps({"id": cid, "started": True}), flush=True)
    try:
        exec(code, {"tvm": tvm, "te": te, "relay": relay, "np": np, "TMP": TMP})
    except Exception as e:
        print(json.dumps({"id": cid, "type": type(e).__name__, "mro": [c.__name__ for c in type(e).__mro__],
                          "message": str(e)}), flush=True)
    else:
        print(json.dumps({"id": cid, "type": None, "message": "no exception"}), flush=True)
"""


def _run_child(cases, tmp):
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp)], input=json.dumps(cases), capture_output=True,
                         text=True, timeout=120, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    results = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            if "started" not in row:
                results[row["id"]] = row
    return out, results


@pytest.fixture(scope="module")
def child(tmp_path_factory):
    """All the Sub rows, run in one child interpreter; rows it did not finish are rerun alone."""
    tmp = tmp_path_factory.mktemp("bad_inputs")
    _files(tmp)
    cases = [(cid, str(thing)) for cid, thing, _, _ in TABLE if isinstance(thing, Sub)]
    out, results = _run_child(cases, tmp)
    return tmp, out, results


IDS = [row[0] for row in TABLE]


@pytest.mark.parametrize("cid, thing, exc, pattern", TABLE, ids=IDS)
def test_bad_input(cid, thing, exc, pattern, request):
    if not isinstance(thing, Sub):
        with pytest.raises(exc, match=pattern):
            thing()
        return
    tmp, out, results = request.getfixturevalue("child")
    if cid not in results:  # the shared child died before this row: run it alone to see whether it is the culprit
        out, results = _run_child([(cid, str(thing))], tmp)
    assert out.returncode >= 0, f"the child interpreter died of signal {-out.returncode}:\n{out.stderr[-3000:]}"
    assert cid in results, f"the child printed no result for {cid!r}:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    row = results[cid]
    assert row["type"] is not None, f"{cid}: no exception was raised"
    assert exc.__name__ in row["mro"], f"{cid}: raised {row['type']}: {row['message']}, not {exc.__name__}"
    assert re.search(pattern, row["message"]), f"{cid}: {row['type']}: {row['message']!r} does not match {pattern!r}"


def test_the_table_is_big_and_its_ids_are_unique():
    assert len(TABLE) >= 100
    assert len(set(IDS)) == len(IDS), sorted(i for i in IDS if IDS.count(i) > 1)
    for cid, thing, exc, pattern in TABLE:
        assert callable(thing) or isinstance(thing, Sub), cid
        assert isinstance(exc, type) and issubclass(exc, BaseException), cid
        re.compile(pattern)
