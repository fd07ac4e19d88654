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
from tilecraft import relay, te
from tilecraft.error import TVMError
from tilecraft.runtime import graph_executor
from tilecraft.runtime.artifact import ArtifactError
from tilecraft.runtime.params import save_param_dict

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


# ---------------------------------------------------------------------------- deployed graph + params

@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """relu(dense(x, w) + b) with w, b as parameters p0, p1, saved as deploy_lib.tar + graph + params."""
    x = relay.var("x", shape=(1, 4), dtype="float32")
    w = relay.var("w", shape=(3, 4), dtype="float32")
    b = relay.var("b", shape=(3,), dtype="float32")
    y = relay.nn.relu(relay.nn.bias_add(relay.nn.dense(x, w), b))
    params = {"w": np.arange(12, dtype="float32").reshape(3, 4), "b": np.ones(3, "float32")}
    factory = relay.build(tvm.IRModule.from_expr(relay.Function([x, w, b], y)), target="llvm", params=params)
    directory = tmp_path_factory.mktemp("deployed")
    factory.save(directory)
    return directory, factory


def _copy_deployed(src, dst, graph=None, params=None):
    """A copy of the deployed directory with the graph (a dict, or raw bytes) and/or params bytes replaced."""
    dst.mkdir(exist_ok=True)
    for f in ("deploy_lib.tar", "deploy_graph.json", "deploy_params.bin"):
        (dst / f).write_bytes((src / f).read_bytes())
    if graph is not None:
        (dst / "deploy_graph.json").write_bytes(graph if isinstance(graph, bytes) else json.dumps(graph).encode())
    if params is not None:
        (dst / "deploy_params.bin").write_bytes(params)
    return dst


def _graph_edit(fn):
    def edit(g):
        fn(g)
        return g
    return edit


def _set(path, value):
    """An edit of the graph dict setting the item at `path` (a tuple of keys) to `value`."""
    def edit(g):
        *head, last = path
        for k in head:
            g = g[k]
        g[last] = value
    return _graph_edit(edit)


def _delete(key):
    return _graph_edit(lambda g: g.pop(key))


def _resize_x(g):  # shape [1, 4] -> [1, 8] everywhere the graph says it: the kernel was built for [1, 4]
    g["attrs"]["shape"][1][0] = [1, 8]


GRAPH_CASES = {
    "not JSON": (lambda g: b'{"nodes": [', "not valid JSON"),
    "not UTF-8": (lambda g: b"\xff\xfe\x00", "not valid JSON"),
    "a list": (lambda g: [], "graph: expected a JSON object"),
    "missing nodes": (_delete("nodes"), "nodes: missing"),
    "missing attrs": (_delete("attrs"), "attrs: missing"),
    "missing heads": (_delete("heads"), "heads: missing"),
    "short node_row_ptr": (_set(("node_row_ptr",), [0, 1, 2]), "node_row_ptr: expected 5 non-decreasing"),
    "negative shape": (_set(("attrs", "shape", 1, 1), [-3, 4]), r"attrs.shape\[1\]: expected a list of non-neg"),
    "huge shape": (_set(("attrs", "shape", 1, 3), [1 << 40, 1 << 20]), r"attrs.shape\[3\].*implausibly large"),
    "short shape list": (_set(("attrs", "shape", 1), [[1, 4]]), "attrs.shape: 1 values for the graph's 4"),
    "bad dtype": (_set(("attrs", "dltype", 1, 0), "float33"), r"attrs.dltype\[0\]: unknown dtype 'float33'"),
    "negative storage id": (_set(("attrs", "storage_id", 1, 2), -1), r"attrs.storage_id\[2\]"),
    "dangling input": (_set(("nodes", 3, "inputs", 0), [99, 0, 0]), r"nodes\[3\].inputs\[0\]: refers to node 99"),
    "forward input": (_set(("nodes", 3, "inputs", 0), [3, 0, 0]), r"nodes\[3\].inputs\[0\]: refers to node 3"),
    "bad output index": (_set(("nodes", 3, "inputs", 1), [1, 5, 0]), r"refers to output 5 of node 1"),
    "bad head": (_set(("heads", 0), [7, 0, 0]), r"heads\[0\]: refers to node 7"),
    "head not a list": (_set(("heads", 0), "x"), r"heads\[0\]: expected \[node, index, version\]"),
    "unknown op": (_set(("nodes", 0, "op"), "python"), r"nodes\[0\].op: expected \"null\" or \"tvm_op\""),
    "node missing name": (_graph_edit(lambda g: g["nodes"][1].pop("name")), r"nodes\[1\].name: missing"),
    "missing func_name": (_graph_edit(lambda g: g["nodes"][3]["attrs"].pop("func_name")),
                          r"nodes\[3\].attrs.func_name: missing"),
    "unknown kernel": (_set(("nodes", 3, "attrs", "func_name"), "nope"), "calls kernel 'nope', which the library"),
    "shape the kernel was not built for": (_graph_edit(_resize_x), "do not fit kernel"),
}


@pytest.mark.parametrize("case", sorted(GRAPH_CASES))
def test_bad_graph_json_is_refused(case, deployed, tmp_path):
    edit, message = GRAPH_CASES[case]
    src, factory = deployed
    graph = edit(json.loads((src / "deploy_graph.json").read_text()))
    bad = _copy_deployed(src, tmp_path / "d", graph=graph)
    with pytest.raises(ArtifactError, match=message) as err:
        relay.load_deployed(bad)
    assert str(bad / "deploy_graph.json") in str(err.value)
    text = graph if isinstance(graph, bytes) else json.dumps(graph)
    with pytest.raises(ArtifactError, match=message):  # graph_executor.create, the classic entry, too
        graph_executor.create(text, factory.get_lib(), tvm.cpu(0))


def _params_bytes(header: dict, body: bytes) -> bytes:
    head = json.dumps(header).encode()
    return len(head).to_bytes(8, "little") + head + body


def _params_edit(fn):
    def edit(data):
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + n])
        fn(header)
        return _params_bytes(header, data[8 + n:])
    return edit


def _entry(name, key, value):
    return _params_edit(lambda h: h[name].__setitem__(key, value))


PARAM_CASES = {
    "truncated": (lambda d: d[:-5], "parameter 'p1'.*truncated"),
    "truncated header": (lambda d: d[:20], "header"),
    "empty": (lambda d: b"", "header.*too short"),
    "garbage": (lambda d: b"\x10" + b"\x00" * 7 + b"not json at all!", "header.*bad header"),
    "dtype disagrees with bytes": (_entry("p0", "dtype", "F64"), "parameter 'p0'.*F64.*need 96 bytes"),
    "shape disagrees with bytes": (_entry("p0", "shape", [4, 4]), r"parameter 'p0'.*\[4, 4\] need 64 bytes"),
    "negative shape": (_entry("p0", "shape", [-3, -4]), "parameter 'p0': shape"),
    "unknown dtype": (_entry("p1", "dtype", "Q7"), "parameter 'p1': unknown dtype 'Q7'"),
    "bad offsets": (_entry("p1", "data_offsets", [8, 4]), "parameter 'p1': data_offsets"),
    "entry missing a key": (_params_edit(lambda h: h["p1"].pop("shape")), "parameter 'p1': the header entry"),
    "missing weight": (lambda d: save_param_dict({"p1": np.ones(3, "float32")}),
                       r"needs the parameters \['p0'\], which are missing"),
    "unknown name": (lambda d: save_param_dict({"p0": np.ones((3, 4), "float32"), "p1": np.ones(3, "float32"),
                                                "bogus": np.ones(2, "float32")}), r"\['bogus'\] are not inputs"),
    "wrong shape for the graph": (lambda d: save_param_dict({"p0": np.ones((4, 3), "float32"),
                                                            "p1": np.ones(3, "float32")}),
                                  r"parameter 'p0': float32\[4, 3\], but the graph needs float32\[3, 4\]"),
    "wrong dtype for the graph": (lambda d: save_param_dict({"p0": np.ones((3, 4), "float64"),
                                                            "p1": np.ones(3, "float32")}),
                                  "parameter 'p0': float64"),
}


@pytest.mark.parametrize("case", sorted(PARAM_CASES))
def test_bad_params_are_refused(case, deployed, tmp_path):
    edit, message = PARAM_CASES[case]
    src, factory = deployed
    data = edit((src / "deploy_params.bin").read_bytes())
    bad = _copy_deployed(src, tmp_path / "d", params=data)
    with pytest.raises(ArtifactError, match=message) as err:
        relay.load_deployed(bad)
    assert str(bad / "deploy_params.bin") in str(err.value)
    ex = factory["default"](tvm.cpu(0))
    with pytest.raises(ArtifactError, match=message):
        ex.load_params(data)


def test_deployed_still_loads_and_runs(deployed):
    src, _ = deployed
    m = relay.load_deployed(src)
    x = np.array([[1, -2, 3, -4]], "float32")
    m.set_input("x", x)
    m.run()
    w = np.arange(12, dtype="float32").reshape(3, 4)
    np.testing.assert_allclose(m.get_output(0).numpy(), np.maximum(x @ w.T + 1, 0), rtol=1e-6)


def test_run_refuses_unset_inputs(deployed):
    src, factory = deployed
    m = relay.load_deployed(src)  # parameters loaded, x never set
    with pytest.raises(TVMError, match=r"input\(s\) \['x'\] were never set"):
        m.run()
    m.get_input("x").copyfrom(np.ones((1, 4), "float32"))  # filled in place: counts as set
    m.run()
    bare = graph_executor.create(factory.get_graph_json(), factory.get_lib(), tvm.cpu(0))
    with pytest.raises(TVMError, match=r"\['x'\] were never set .* and parameter\(s\) \['p0', 'p1'\] were never"):
        bare.run()
    bare.set_input("x", np.ones((1, 4), "float32"))
    bare.load_params((src / "deploy_params.bin").read_bytes())
    bare.run()
    m = tvm.contrib.graph_executor.GraphModule(factory["default"](tvm.cpu(0)))  # params bound by the factory
    with pytest.raises(TVMError, match=r"\['x'\] were never set \(set_input\(name, value\)\); the graph"):
        m.run()
    m.run(x=np.ones((1, 4), "float32"))


def test_library_with_a_graph_checks_graph_and_params(deployed, tmp_path):
    """A factory exported to one .tar: its graph.json and params.bin are covered by the checksums."""
    _, factory = deployed
    path = tmp_path / "model.tar"
    factory.export_library(path)
    assert tvm.runtime.load_module(path)["default"]  # the good one loads
    members = _members(path)
    for name, data in (("graph.json", b"{"), ("params.bin", members["params.bin"][:-4])):
        bad = tmp_path / f"bad-{name}.tar"
        _write_tar(bad, {**members, name: data})
        with pytest.raises(ArtifactError, match=f"{name}: its sha256 differs"):
            tvm.runtime.load_module(bad)


def test_tampered_deployments_cannot_crash_the_process(deployed, kernel_tar, tmp_path):
    """The worst of the cases above, loaded and run in a fresh interpreter."""
    src, _ = deployed
    dirs = []
    for i, case in enumerate(("shape the kernel was not built for", "negative shape", "dangling input")):
        dirs.append(_copy_deployed(src, tmp_path / f"g{i}",
                                   graph=GRAPH_CASES[case][0](json.loads((src / "deploy_graph.json").read_text()))))
    for i, case in enumerate(("truncated", "dtype disagrees with bytes", "missing weight")):
        dirs.append(_copy_deployed(src, tmp_path / f"p{i}",
                                   params=PARAM_CASES[case][0]((src / "deploy_params.bin").read_bytes())))
    lib = tmp_path / "lib"
    lib.mkdir()
    _write_tar(lib / "deploy_lib.tar", _edit_meta(_members(kernel_tar)))
    dirs.append(_copy_deployed(src, tmp_path / "l", graph=None))
    (tmp_path / "l" / "deploy_lib.tar").write_bytes((lib / "deploy_lib.tar").read_bytes())
    code = ("import sys, numpy as np, tilecraft as tvm\n"
            "for d in sys.argv[1:]:\n"
            "    try:\n"
            "        m = tvm.relay.load_deployed(d)\n"
            "        m.run(x=np.ones((1, 4), 'float32'))\n"
            "        print('ran', d)\n"
            "    except tvm.runtime.ArtifactError as e:\n"
            "        print('refused', e)\n")
    out = subprocess.run([sys.executable, "-c", code, *map(str, dirs)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0, (out.returncode, out.stderr)
    assert out.stdout.count("refused") == len(dirs), out.stdout


# ---------------------------------------------------------------------------- ONNX files

def _onnx_model():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((3, 4), "float32"), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    return onnx, helper.make_model(graph)


ONNX_FILE_CASES = {
    "truncated": (lambda d: d[: len(d) // 2], "not an ONNX model, or truncated"),
    "not ONNX": (lambda d: b"PK\x03\x04 this is a zip file, not a model" * 3, "not an ONNX model"),
    "empty": (lambda d: b"", "no ir_version or no graph"),
}


@pytest.mark.parametrize("case", sorted(ONNX_FILE_CASES))
def test_bad_onnx_file_is_named(case, tmp_path):
    onnx, model = _onnx_model()
    edit, message = ONNX_FILE_CASES[case]
    path = tmp_path / "model.onnx"
    path.write_bytes(edit(model.SerializeToString()))
    with pytest.raises(ArtifactError, match=message) as err:
        relay.frontend.from_onnx(str(path))
    assert str(path) in str(err.value)


def _raw(n):
    def edit(init):
        init.raw_data = b"\x00" * n
    return edit


def _float_data(init):
    init.ClearField("raw_data")
    init.float_data.extend([1.0] * 5)


ONNX_INIT_CASES = {
    "raw_data too short": (_raw(5), "raw_data holds 5 bytes, but dims \\[3, 4\\] of FLOAT need 48"),
    "raw_data too long": (_raw(49), "raw_data holds 49 bytes"),
    "unknown data type": (lambda init: setattr(init, "data_type", 999), "unsupported data type 999"),
    "string data type": (lambda init: setattr(init, "data_type", 8), "unsupported data type 8"),
    "negative dims": (lambda init: init.dims.__setitem__(0, -3), "negative dimension"),
    "float_data count": (_float_data, "its data does not match its dims"),
}


@pytest.mark.parametrize("case", sorted(ONNX_INIT_CASES))
def test_bad_onnx_initializer_is_named(case, tmp_path):
    onnx, model = _onnx_model()
    edit, message = ONNX_INIT_CASES[case]
    edit(model.graph.initializer[0])
    with pytest.raises(ArtifactError, match=f"initializer 'w': {message}"):
        relay.frontend.from_onnx(model)
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(ArtifactError, match=f"{path}: initializer 'w'"):
        relay.frontend.from_onnx(str(path))
