"""export_library / load_module: compiled modules as files.

".so": a shared library linked with the system C compiler.  The module's metadata (calling
conventions, entry, target) and its LLVM IR are embedded in the library itself, as a constant
string returned by the exported function `__tilecraft_library_info`, so a lone .so file is a
complete module: `load_module` opens it with ctypes, calls that function, and wraps the
functions it lists.

".tar": lib.ll (LLVM IR), lib.o (object code) and metadata.json.  Loading JIT-compiles lib.ll,
so it needs no C compiler on the machine that loads it.  The metadata says how to call the code
(shapes, dtypes), so trusting an edited metadata.json would let a kernel run past its buffers:
lib.ll ends with the same embedded string as a .so, holding the metadata and the sha256 of every
other member, and `load_module` refuses a tar whose members disagree with it.  The tar is read
in memory, never extracted; a member that is not a plain file with a plain name is refused.

Either kind may carry named blobs besides the code: a graph executor factory exports its graph
and parameters that way (runtime/graph_executor.py), and `load_module` then returns the factory.
In a .tar they are members; in a .so, read-only data assembled in with `.incbin`, named in the
embedded metadata.

Files are written atomically (a temporary file in the same directory, then os.replace), so an
error never leaves a half-written library behind.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile

from . import llvm_jit
from .artifact import Artifact, ArtifactError
from .fileio import atomic_output
from .module import CrossModule, LibraryModule, LLVMModule
from .openmp import load_openmp

_INFO_SYMBOL = "__tilecraft_library_info"
_FORMAT = 1


def _with_embedded_metadata(art: Artifact, blob_names=()) -> Artifact:
    """The artifact with its metadata and IR appended to the IR as a getter-returned string."""
    return _with_embedded(art, {"tilecraft_library": _FORMAT, "metadata": art.meta_json(), "source": art.source,
                                "blobs": list(blob_names)})


def _with_embedded(art: Artifact, info: dict) -> Artifact:
    blob = json.dumps(info)
    # json.dumps output is ASCII without control characters; only '"' and '\' need escaping in IR.
    text = blob.replace("\\", "\\5C").replace('"', "\\22")
    n = len(blob) + 1
    ir = (f"{art.source}{_EMBED_HEAD}[{n} x i8] c\"{text}\\00\", align 1\n"
          f"define ptr @{_INFO_SYMBOL}() {{\n  ret ptr @__tilecraft_library_blob\n}}\n")
    return Artifact(art.kind, ir, art.functions, art.target, art.entry, dict(art.extra))


_EMBED_HEAD = "\n@__tilecraft_library_blob = private unnamed_addr constant "
_EMBED_TAIL = re.compile(r'\[(\d+) x i8\] c"([^"\n]*)\\00", align 1\ndefine ptr @' + _INFO_SYMBOL
                         + r'\(\) \{\n  ret ptr @__tilecraft_library_blob\n\}\n')


def _split_embedded(text: str):
    """(the IR before the embedded string, the string's JSON), or None when `text` does not end with one."""
    at = text.rfind(_EMBED_HEAD)
    m = _EMBED_TAIL.fullmatch(text, at + len(_EMBED_HEAD)) if at >= 0 else None
    if m is None:
        return None
    blob = re.sub(r"\\([0-9A-Fa-f]{2})", lambda h: chr(int(h.group(1), 16)), m.group(2))
    try:
        return text[:at], json.loads(blob)
    except ValueError:
        return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_cc(cc) -> str:
    for candidate in (cc, os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise RuntimeError("export_library: linking a .so needs a C compiler (cc, gcc or clang) and none "
                       "was found; install one (Debian/Ubuntu: apt-get install gcc) or set $CC, or "
                       "export to a .tar file, which needs no compiler")


def _openmp_link_args(art: Artifact) -> list:
    if not llvm_jit.needs_openmp(art):
        return []
    lib = load_openmp()
    if os.path.isabs(lib):
        return [lib, f"-Wl,-rpath,{os.path.dirname(lib)}"]
    return [f"-l:{lib}"]


def _blob_symbol(i: int) -> str:
    return f"__tilecraft_blob_{i}"


def _assemble_blobs(work: str, blobs: dict, cc) -> list:
    """An object file holding each blob as read-only data between two symbols (GNU assembler .incbin)."""
    if not blobs:
        return []
    lines = ['.section .rodata.tilecraft_blobs,"a"']
    for i, data in enumerate(blobs.values()):
        file = os.path.join(work, f"blob{i}.bin")
        with open(file, "wb") as f:
            f.write(data)
        sym = _blob_symbol(i)
        lines += [".p2align 6", f".globl {sym}", f"{sym}:", f'.incbin "{file}"', f".globl {sym}_end", f"{sym}_end:"]
    asm, obj = os.path.join(work, "blobs.s"), os.path.join(work, "blobs.o")
    with open(asm, "w") as f:
        f.write("\n".join(lines) + "\n.section .note.GNU-stack,\"\",@progbits\n")
    cmd = [find_cc(cc), "-c", asm, "-o", obj]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"export_library: assembling the graph and parameters failed ({' '.join(cmd)}):\n"
                           f"{proc.stderr}")
    return [obj]


def _export_shared(art: Artifact, path: str, fcompile, cc, options, blobs: dict) -> None:
    obj = llvm_jit.emit_object(_with_embedded_metadata(art, list(blobs)))
    with tempfile.TemporaryDirectory(prefix="tilecraft-export-") as work, atomic_output(path) as out:
        obj_path = os.path.join(work, "lib.o")
        with open(obj_path, "wb") as f:
            f.write(obj)
        objects = [obj_path, *_assemble_blobs(work, blobs, cc)]
        if fcompile is not None:
            fcompile(out, objects, options=options)
            return
        cmd = [find_cc(cc), "-shared", "-o", out, *objects, *_openmp_link_args(art), "-lm", *options]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"export_library: linking {path} failed ({' '.join(cmd)}):\n{proc.stderr}")


_TAR_CODE = ("lib.ll", "lib.o", "metadata.json")


def _export_tar(art: Artifact, path: str, blobs: dict) -> None:
    clash = sorted(set(blobs) & set(_TAR_CODE))
    if clash:
        raise ValueError(f"export_library: blob names {clash} are taken by the library's own members")
    bad = [n for n in blobs if not _plain_name(n)]
    if bad:
        raise ValueError(f"export_library: blob names {bad} are not plain file names")
    obj = llvm_jit.emit_object(art)
    meta = art.meta_json()
    digests = {"lib.ll": _sha256(art.source.encode()), "lib.o": _sha256(obj),
               **{n: _sha256(d) for n, d in blobs.items()}}
    bound = _with_embedded(art, {"tilecraft_library": _FORMAT, "metadata": meta, "sha256": digests})
    members = {"lib.ll": bound.source.encode(), "lib.o": obj, "metadata.json": meta.encode(), **blobs}
    with atomic_output(path) as out, tarfile.open(out, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


def _plain_name(name: str) -> bool:
    return bool(name) and not os.path.isabs(name) and os.path.normpath(name) == name and \
        not name.startswith("..") and "\\" not in name


def export_library(module, path, fcompile=None, cc=None, options=(), blobs=None, **kwargs) -> None:
    """Write `module` to `path` (".so", ".tar" or ".o"), with the named `blobs` (bytes) alongside the
    code in a .so or .tar; see the module docstring for the formats."""
    path = os.fspath(path)
    blobs = dict(blobs or {})
    if kwargs:
        raise TypeError(f"export_library: unexpected options {sorted(kwargs)}; "
                        "supported: fcompile, cc, options")
    if not isinstance(module, (LLVMModule, LibraryModule, CrossModule)):
        raise TypeError(f"export_library: a {module.type_key!r} module has no compiled code to export")
    if path.endswith(".so"):
        if isinstance(module, CrossModule):
            raise ValueError(f"export_library: {path!r} would need a linker for {module.artifact.target!r}; "
                             "export a .o (object file) or .tar and link it with that target's toolchain")
        _export_shared(module.artifact, path, fcompile, cc, list(options or ()), blobs)
    elif path.endswith(".tar"):
        _export_tar(module.artifact, path, blobs)
    elif path.endswith(".o"):
        if blobs:
            raise ValueError(f"export_library: an object file {path!r} holds code only; export the graph "
                             "and parameters to a .so or .tar")
        save_module(module, path)
    else:
        raise ValueError(f"export_library: unknown file type for {path!r}; use a name ending in .so "
                         "(shared library), .tar (IR + object + metadata) or .o (object file)")


def save_module(module, path, fmt: str = "") -> None:
    """`mod.save(path)`: the code alone, by suffix (or `fmt`): ".o" object code (with the module's
    metadata embedded, so a shared library linked from it, e.g. by contrib.cc.create_shared, loads
    with load_module), ".ll" LLVM IR, ".s" assembly."""
    path = os.fspath(path)
    fmt = fmt or os.path.splitext(path)[1].lstrip(".")
    if not isinstance(module, (LLVMModule, LibraryModule, CrossModule)):
        raise TypeError(f"save: a {module.type_key!r} module has no LLVM code; get_source() gives its text")
    art = module.artifact
    if fmt == "o":
        data = llvm_jit.emit_object(_with_embedded_metadata(art))
    elif fmt == "ll":
        data = art.source.encode()
    elif fmt == "s":
        data = llvm_jit.emit_assembly(art).encode()
    else:
        raise ValueError(f"save: unknown format {fmt!r} for {path!r}; use .o (object), .ll (LLVM IR) or "
                         ".s (assembly), or export_library for .so / .tar")
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def load_module(path):
    """Load a module written by export_library (".so" or ".tar"): the kernels, or the graph executor
    factory when the library carries a graph (`lib["default"](dev)`)."""
    from .graph_executor import factory_from_blobs

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_module: {path} does not exist")
    if path.endswith(".so"):
        return factory_from_blobs(*_load_shared(path), where=path)
    if path.endswith(".tar"):
        return factory_from_blobs(*_load_tar(path), where=path)
    raise ValueError(f"load_module: unknown file type for {path!r}; tilecraft loads .so and .tar files "
                     "written by export_library")


def _not_ours(path: str, why: str) -> ArtifactError:
    return ArtifactError(path, "", f"not a tilecraft library ({why}); it must be written by mod.export_library")


def _dlopen_fresh(path: str) -> ctypes.CDLL:
    # dlopen returns the already-loaded library for a path it has seen, even if the file was
    # replaced since; opening through a fresh link name makes a re-exported library load anew.
    with tempfile.TemporaryDirectory(prefix="tilecraft-load-") as tmp:
        link = os.path.join(tmp, os.path.basename(path))
        os.symlink(os.path.abspath(path), link)
        return ctypes.CDLL(link)


def _load_shared(path: str):
    try:
        load_openmp()  # the library may call GOMP_parallel; without OpenMP dlopen says so below
    except RuntimeError:
        pass
    try:
        lib = _dlopen_fresh(path)
    except OSError as err:
        raise RuntimeError(f"load_module: could not load {path}: {err}") from None
    try:
        info = getattr(lib, _INFO_SYMBOL)
    except AttributeError:
        raise _not_ours(path, f"it does not export {_INFO_SYMBOL}") from None
    info.restype = ctypes.c_char_p
    info.argtypes = []
    try:
        blob = json.loads(info().decode())
    except ValueError as err:
        raise ArtifactError(path, _INFO_SYMBOL, f"the embedded metadata is not valid JSON ({err})") from None
    if not isinstance(blob, dict) or blob.get("tilecraft_library") != _FORMAT:
        version = blob.get("tilecraft_library") if isinstance(blob, dict) else blob
        raise _not_ours(path, f"unknown format version {version!r}")
    if not isinstance(blob.get("metadata"), str) or not isinstance(blob.get("source"), str) or \
            not isinstance(blob.get("blobs", []), list):
        raise ArtifactError(path, _INFO_SYMBOL, "the embedded string lacks its metadata, source or blob list")
    art = Artifact.from_meta_json(blob["metadata"], blob["source"], f"{path} (embedded metadata)")
    blobs = {}
    for i, name in enumerate(blob.get("blobs", ())):
        try:
            start = ctypes.addressof(ctypes.c_char.in_dll(lib, _blob_symbol(i)))
            end = ctypes.addressof(ctypes.c_char.in_dll(lib, _blob_symbol(i) + "_end"))
        except ValueError:
            raise ArtifactError(path, f"blob {name!r}", "listed in the metadata but not in the library") from None
        blobs[name] = ctypes.string_at(start, end - start)
    return LibraryModule(art, lib, path), blobs


def _read_tar(path: str) -> dict:
    """{name: bytes} of every member; anything but uniquely named plain files is refused (nothing is extracted)."""
    members = {}
    try:
        with tarfile.open(path, "r") as tar:
            for m in tar.getmembers():
                if not _plain_name(m.name):
                    raise ArtifactError(path, f"member {m.name!r}", "not a plain relative file name")
                if not m.isfile():
                    kind = "symbolic link" if m.issym() else "hard link" if m.islnk() else \
                        "directory" if m.isdir() else "device or special file"
                    raise ArtifactError(path, f"member {m.name!r}", f"a {kind}; a tilecraft library holds "
                                        "plain files only")
                if m.name in members:
                    raise ArtifactError(path, f"member {m.name!r}", "appears twice")
                members[m.name] = tar.extractfile(m).read()
    except (tarfile.TarError, EOFError, OSError) as err:
        raise _not_ours(path, f"not a readable tar archive: {err}") from None
    return members


def _load_tar(path: str):
    members = _read_tar(path)
    if not {"lib.ll", "metadata.json"} <= set(members):
        raise _not_ours(path, f"it lacks lib.ll or metadata.json; it holds {sorted(members)}")
    try:
        text = members["lib.ll"].decode()
    except UnicodeDecodeError:
        raise ArtifactError(path, "lib.ll", "not LLVM IR text (not UTF-8)") from None
    split = _split_embedded(text)
    if split is None or not isinstance(split[1], dict) or split[1].get("tilecraft_library") != _FORMAT:
        raise ArtifactError(path, "lib.ll", "it does not end with the metadata string export_library "
                            "appends: the file was edited, or written by an older tilecraft (export it again)")
    source, info = split
    digests = info.get("sha256") if isinstance(info.get("sha256"), dict) else {}
    embedded = info.get("metadata")
    if not isinstance(embedded, str) or "lib.ll" not in digests:
        raise ArtifactError(path, "lib.ll", "its embedded metadata string lacks the metadata or the checksums")
    art = Artifact.from_meta_json(members["metadata.json"].decode(errors="replace"), source,
                                  f"{path}: metadata.json")
    if Artifact.from_meta_json(embedded, source, f"{path}: lib.ll (embedded metadata)") != art:
        raise ArtifactError(path, "metadata.json", "differs from the metadata embedded in lib.ll when the "
                            "library was exported; it was edited, and the code would run with the wrong shapes")
    actual = {n: _sha256(d) for n, d in members.items() if n not in ("lib.ll", "metadata.json")}
    actual["lib.ll"] = _sha256(source.encode())
    for name in sorted(set(actual) | set(digests)):
        if name not in actual:
            raise ArtifactError(path, name, "missing from the archive, though the library was exported with it")
        if digests.get(name) != actual[name]:
            why = "not part of the exported library" if name not in digests else \
                "its sha256 differs from the one recorded at export: the file was modified"
            raise ArtifactError(path, name, why)
    if art.kind != "llvm":
        raise ArtifactError(path, "metadata.json", f"kind {art.kind!r}; a .tar library holds LLVM code")
    if llvm_jit.needs_openmp(art):
        load_openmp()  # (its own error, not one about lib.ll)
    try:
        lib = LLVMModule(art)
    except RuntimeError as err:  # llvmlite: LLVM IR parsing or verification error
        raise ArtifactError(path, "lib.ll", f"the LLVM IR does not compile ({str(err).strip()})") from None
    return lib, {n: d for n, d in members.items() if n not in _TAR_CODE}
