"""Classic deployment by hand: `mod.save("x.o")`, `contrib.cc.create_shared`, `load_module`, in a
`contrib.utils.tempdir()`; `.ll` and `.s` saves; cc.create_shared as export_library's fcompile."""

import os

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.contrib import cc, utils


def _add(parallel: bool):
    n = 1024
    A, B = te.placeholder((n,), name="A"), te.placeholder((n,), name="B")
    C = te.compute((n,), lambda i: A[i] + B[i], name="C")
    s = te.create_schedule(C.op)
    if parallel:
        s[C].parallel(C.op.axis[0])
    return tvm.build(s, [A, B, C], "llvm", name="myadd"), n


def _check(f, n):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(n).astype("float32"), rng.standard_normal(n).astype("float32")
    c = tvm.nd.empty((n,))
    f(tvm.nd.array(a), tvm.nd.array(b), c)
    np.testing.assert_allclose(c.numpy(), a + b, rtol=1e-6)


@pytest.mark.parametrize("parallel", [False, True])
def test_saved_object_linked_by_create_shared_loads_and_runs(parallel):
    f, n = _add(parallel)
    temp = utils.tempdir()
    f.save(temp.relpath("myadd.o"))
    cc.create_shared(temp.relpath("myadd.so"), [temp.relpath("myadd.o")])
    assert {"myadd.o", "myadd.so"} <= set(temp.listdir())
    _check(tvm.runtime.load_module(temp.relpath("myadd.so")), n)
    f.export_library(temp.relpath("packed.so"), fcompile=cc.create_shared)
    _check(tvm.runtime.load_module(temp.relpath("packed.so")), n)
    path = temp.path
    temp.remove()
    assert not os.path.exists(path)


def test_text_formats_and_bad_suffix(tmp_path):
    f, _ = _add(False)
    f.save(str(tmp_path / "k.ll"))
    f.save(str(tmp_path / "k.s"))
    assert "define" in (tmp_path / "k.ll").read_text() and "myadd" in (tmp_path / "k.s").read_text()
    with pytest.raises(ValueError, match="unknown format 'txt'"):
        f.save(str(tmp_path / "k.txt"))
    with pytest.raises(FileNotFoundError, match="nope.o"):
        cc.create_shared(str(tmp_path / "x.so"), [str(tmp_path / "nope.o")])
