"""export_library / load_module: .so and .tar round trips, checked in fresh processes."""

import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest
from runtime_ir import PADD_IR, SCALE_INFO, SCALE_IR, add_info, add_ir, artifact

from tilecraft import runtime as rt

needs_cc = pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")), reason="no C compiler")

# Runs in a fresh interpreter: load the library, compute, compare with numpy, print "ok".
CHECK = """
import sys, numpy as np
from tilecraft import runtime as rt
from tilecraft.runtime import ndarray as nd
mod = rt.load_module(sys.argv[1])
rng = np.random.default_rng(3)
a, b = rng.standard_normal(1000).astype("float32"), rng.standard_normal(1000).astype("float32")
c = nd.empty((1000,), "float32")
mod(nd.array(a), nd.array(b), c)
np.testing.assert_array_equal(c.numpy(), a + b)
c2 = np.zeros(1000, "float32")
mod["padd"](a, b, c2)
np.testing.assert_array_equal(c2, a + b)
x = rng.standard_normal((4, 8)).astype("float32")
y = nd.empty((4, 8), "float32")
mod["scale"](x, y, 2.0, 1)
np.testing.assert_allclose(y.numpy(), x * 2 + 1, rtol=1e-6)
try:
    mod(nd.empty((3,)), nd.empty((4,)), nd.empty((3,)))
except ValueError as e:
    assert "inconsistent size n" in str(e)
else:
    raise AssertionError("no error for mismatched sizes")
assert "define i32 @add" in mod.get_source("ll")
print("ok", mod.type_key, mod.entry_name)
"""


def _run_fresh(path: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", CHECK, path], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def module():
    ir = add_ir("add", "float32") + PADD_IR + SCALE_IR
    return rt.Module.from_artifact(artifact(ir, add_info("add", "float32"), add_info("padd", "float32"),
                                            SCALE_INFO, entry="add"))


@needs_cc
def test_shared_library_round_trip(module, tmp_path):
    path = str(tmp_path / "deploy.so")
    module.export_library(path)
    assert sorted(os.listdir(tmp_path)) == ["deploy.so"]  # no temporaries left behind
    assert _run_fresh(path) == "ok library add"


def test_tar_round_trip(module, tmp_path):
    path = tmp_path / "deploy.tar"
    module.export_library(path)
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == ["lib.ll", "lib.o", "metadata.json"]
        assert b"define i32 @padd" in tar.extractfile("lib.ll").read()
    assert _run_fresh(str(path)) == "ok llvm add"


@needs_cc
def test_reexport_of_a_loaded_library(module, tmp_path):
    first = str(tmp_path / "a.so")
    module.export_library(first)
    loaded = rt.load_module(first)
    second = tmp_path / "b.tar"
    loaded.export_library(second)
    assert _run_fresh(str(second)) == "ok llvm add"


@needs_cc
def test_overwritten_library_is_reloaded(tmp_path):
    path = str(tmp_path / "f.so")
    for value in (7, 9):
        ir = f"define i32 @f(ptr %a) {{\n  store i32 {value}, ptr %a\n  ret i32 0\n}}\n"
        from tilecraft.runtime.artifact import FuncInfo, ParamInfo

        info = FuncInfo("f", (ParamInfo("buffer", "A", "int32", (1,)),))
        rt.Module.from_artifact(artifact(ir, info)).export_library(path)
        out = np.zeros(1, "int32")
        rt.load_module(path)(out)
        assert out[0] == value


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.so does not exist"):
        rt.load_module(tmp_path / "nothere.so")
    weird = tmp_path / "model.bin"
    weird.write_bytes(b"x")
    with pytest.raises(ValueError, match="unknown file type.*model.bin"):
        rt.load_module(weird)
    fake_tar = tmp_path / "fake.tar"
    with tarfile.open(fake_tar, "w") as tar:
        tar.add(weird, arcname="model.bin")
    with pytest.raises(ValueError, match="not a tilecraft library.*lacks lib.ll"):
        rt.load_module(fake_tar)
    not_tar = tmp_path / "junk.tar"
    not_tar.write_bytes(b"definitely not a tar archive" * 40)
    with pytest.raises(ValueError, match="not a tilecraft library"):
        rt.load_module(not_tar)
    not_elf = tmp_path / "junk.so"
    not_elf.write_bytes(b"garbage")
    with pytest.raises(RuntimeError, match="could not load"):
        rt.load_module(not_elf)


@needs_cc
def test_foreign_shared_library_is_rejected(tmp_path):
    c = tmp_path / "other.c"
    c.write_text("int other(void) { return 1; }\n")
    so = tmp_path / "other.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(c)], check=True)
    with pytest.raises(ValueError, match="not a tilecraft library.*__tilecraft_library_info"):
        rt.load_module(so)


def test_export_errors_leave_nothing_behind(module, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="unknown file type.*use a name ending in .so"):
        module.export_library(tmp_path / "lib.dll")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        module.export_library(tmp_path / "missing_dir" / "lib.tar")
    monkeypatch.setenv("PATH", str(tmp_path))  # no compiler reachable
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(RuntimeError, match="needs a C compiler.*\\.tar"):
        module.export_library(tmp_path / "lib.so")
    assert os.listdir(tmp_path) == []


@needs_cc
def test_link_failure_is_reported_and_atomic(module, tmp_path):
    target = tmp_path / "lib.so"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="linking .* failed"):
        module.export_library(target, options=["-Wl,--no-such-linker-flag"])
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["lib.so"]
