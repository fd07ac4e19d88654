"""Imports only go down the layers (see shared/DESIGN.md), lazy imports inside functions included.

A lazy import is still a dependency: it hides a cycle rather than removing it, and it costs a
dictionary lookup (or worse) on every call.  This test reads every import statement under
src/tilecraft with `ast` and fails, naming file:line and the import, when a module reaches a
layer above its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tilecraft"

# Lowest first; a module may import its own layer and any layer listed before it.
LAYERS = (
    ("error", "ir", "transform"),
    ("arith",),
    ("tir",),
    ("te",),
    ("runtime",),
    ("target",),
    ("contrib",),
    ("driver",),
    # Tuning records are read where kernels are chosen (topi templates, relay strategies), so the
    # dispatch contexts sit below topi; the tuners that write them sit above relay.
    ("tuning",),
    ("topi",),
    ("relay",),
    ("autotvm", "auto_scheduler"),
    ("measure", "harness", "models"),
    ("__init__", "__main__", "testing", "_ffi"),
)
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str:
    """'tilecraft.relay.frontend.onnx' -> 'relay'; the package itself -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_module(module: str) -> bool:
    rel = Path(*module.split(".")[1:]) if "." in module else Path()
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def imported_modules(path: Path, tree: ast.AST):
    """(line, text, module) for every tilecraft module a file imports."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "tilecraft" or alias.name.startswith("tilecraft."):
                    yield node.lineno, f"import {alias.name}", alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == "tilecraft" or target.startswith("tilecraft.")):
                continue
            text = f"from {'.' * node.level}{node.module or ''} import {', '.join(a.name for a in node.names)}"
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield node.lineno, text, sub if is_module(sub) else target


def violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        me = module_name(path)
        mine = layer_of(me) if me != "tilecraft" else "__init__"
        if mine not in RANK:
            found.append(f"{path.relative_to(SRC.parent)}: package {mine!r} has no layer; add it to LAYERS")
            continue
        tree = ast.parse(path.read_text(), str(path))
        seen = set()
        for line, text, target in sorted(imported_modules(path, tree)):
            theirs = layer_of(target)
            if RANK.get(theirs, len(LAYERS)) > RANK[mine] and (line, text) not in seen:
                seen.add((line, text))
                found.append(f"{path.relative_to(SRC.parent)}:{line}: {text}  ({mine} -> {theirs})")
    return found


def test_imports_only_go_down_the_layers():
    found = violations()
    assert not found, "imports that reach a higher layer:\n  " + "\n  ".join(found)


def test_checker_sees_lazy_and_relative_imports(tmp_path):
    src = "def f():\n    from ..relay.expr import Function\n    import tilecraft.topi\n"
    tree = ast.parse(src)
    got = [(line, mod) for line, _, mod in imported_modules(SRC / "ir" / "module.py", tree)]
    assert got == [(2, "tilecraft.relay.expr"), (3, "tilecraft.topi")]
