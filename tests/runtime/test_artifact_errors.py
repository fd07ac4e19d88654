"""Tampered, truncated or malformed artifacts raise ArtifactError naming the file and the field.

Each bad file is made by editing a good one; whatever might crash the interpreter instead of
raising runs in a subprocess whose return code must not be a signal.
"""

import io
import json
import os
import subprocess
import sys
import tarfile

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te
from tilecraft.runtime.artifact import ArtifactError

N = 1 << 20  # a kernel this size writes far past a 4-element buffer if its shapes are not checked


@pytest.fixture(scope="module")
def kernel_tar(tmp_path_factory):
    """B = A + 1 over float32[N], exported as a .tar."""
    A = te.placeholder((N,), name="A")
    B = te.compute((N,), lambda i: A[i] + 1.0, name="B")
    path = tmp_path_factory.mktemp("lib") / "addone.tar"
    tvm.build(te.create_schedule(B.op), [A, B], target="llvm", name="addone").export_library(path)
    return path


def _members(path) -> dict:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def _write_tar(path, members: dict, special=()) -> None:
    """A tar of `members` ({name: bytes}) plus `special` TarInfo entries (links, devices)."""
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in special:
            tar.addfile(info)


def _edit_meta(members: dict, shape=(4,)) -> dict:
    meta = json.loads(members["metadata.json"])
    for p in meta["functions"][0]["params"]:
        p[3] = list(shape)
    return {**members, "metadata.json": json.dumps(meta).encode()}


def _link(name, kind, target="/etc/passwd"):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _drop_key(members, key):
    meta = json.loads(members["metadata.json"])
    del meta[key]
    return {**members, "metadata.json": json.dumps(meta).encode()}


# name -> (edit of the members, extra special members, text the message must contain)
TAR_CASES = {
    "metadata shape edited": (_edit_meta, (), "metadata.json.*differs from the metadata embedded"),
    "metadata not JSON": (lambda m: {**m, "metadata.json": b"{not json"}, (), "metadata.json: not valid JSON"),
    "metadata missing key": (lambda m: _drop_key(m, "functions"), (), "metadata.json: metadata.functions: missing"),
    "metadata negative dim": (lambda m: _edit_meta(m, (-4,)), (), r"params\[0\].shape: dimension -4"),
    "garbage lib.ll": (lambda m: {**m, "lib.ll": b"this is not LLVM IR"}, (), "lib.ll: it does not end with"),
    "lib.ll code edited": (lambda m: {**m, "lib.ll": m["lib.ll"].replace(b"fadd", b"fsub", 1)}, (),
                           "lib.ll: its sha256 differs"),
    "lib.o edited": (lambda m: {**m, "lib.o": m["lib.o"][:-1]}, (), "lib.o: its sha256 differs"),
    "lib.ll not utf-8": (lambda m: {**m, "lib.ll": b"\xff\xfe"}, (), "lib.ll: not LLVM IR text"),
    "extra member": (lambda m: {**m, "graph.json": b"{}"}, (), "graph.json: not part of the exported library"),
    "path traversal": (lambda m: {**m, "../escaped": b"x"}, (), r"member '\.\./escaped': not a plain"),
    "absolute path": (lambda m: {**m, "/tmp/abs_escaped": b"x"}, (), "member '/tmp/abs_escaped': not a plain"),
    "symlink": (lambda m: m, (_link("link", tarfile.SYMTYPE),), "member 'link': a symbolic link"),
    "hardlink": (lambda m: m, (_link("hard", tarfile.LNKTYPE, "lib.ll"),), "member 'hard': a hard link"),
    "symlinked lib.ll": (lambda m: {k: v for k, v in m.items() if k != "lib.ll"},
                         (_link("lib.ll", tarfile.SYMTYPE, "/etc/passwd"),), "member 'lib.ll': a symbolic link"),
    "device": (lambda m: m, (_link("dev", tarfile.CHRTYPE, ""),), "member 'dev': a device"),
    "missing lib.o": (lambda m: {k: v for k, v in m.items() if k != "lib.o"}, (), "lib.o: missing from the archive"),
    "truncated tar": (None, (), "not a readable tar archive|lacks lib.ll"),
}


@pytest.mark.parametrize("case", sorted(TAR_CASES))
def test_tampered_tar_is_refused(case, kernel_tar, tmp_path):
    edit, special, message = TAR_CASES[case]
    bad = tmp_path / "bad.tar"
    if edit is None:
        bad.write_bytes(kernel_tar.read_bytes()[:700])
    else:
        _write_tar(bad, edit(_members(kernel_tar)), special)
    with pytest.raises(ArtifactError, match=message) as err:
        tvm.runtime.load_module(bad)
    assert str(bad) in str(err.value)
    assert not (tmp_path.parent / "escaped").exists()


def test_tampered_tar_cannot_crash_the_process(kernel_tar, tmp_path):
    """Today's failure: metadata edited to [4] made a 1M-element kernel write past a 4-element array."""
    bad = tmp_path / "bad.tar"
    _write_tar(bad, _edit_meta(_members(kernel_tar)))
    code = ("import sys, numpy as np, tilecraft as tvm\n"
            "try:\n    lib = tvm.runtime.load_module(sys.argv[1])\n"
            "except tvm.runtime.ArtifactError as e:\n    print('refused:', e); sys.exit(3)\n"
            "lib(np.zeros(4, 'float32'), np.zeros(4, 'float32'))\n")
    out = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 3, (out.returncode, out.stderr)
    assert "refused:" in out.stdout and "metadata.json" in out.stdout


def test_good_tar_still_loads_and_runs(kernel_tar):
    lib = tvm.runtime.load_module(kernel_tar)
    a = np.arange(N, dtype="float32")
    b = np.empty(N, "float32")
    lib(a, b)
    np.testing.assert_array_equal(b, a + 1)
    assert "__tilecraft_library_info" not in lib.get_source()  # the binding is not part of the code


def test_artifact_error_is_a_value_and_tvm_error():
    assert issubclass(ArtifactError, ValueError) and issubclass(ArtifactError, tvm.error.TVMError)
