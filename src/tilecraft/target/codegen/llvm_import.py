"""The `import_llvm` pragma: LLVM IR text (e.g. from `contrib.clang.create_llvm`) attached to a
loop with `s[C].pragma(axis, "import_llvm", ll_code)` is linked into the module that calls it, so
`tir.call_extern("int32", "gemv_update", ...)` finds its definition.

As in classic TVM a function an earlier import (or the module itself) already defines is not
defined twice: imported functions get `linkonce_odr` linkage, so the linker keeps the first
definition of each name and LLVM may still inline them.
"""

from __future__ import annotations

import llvmlite.binding as llvm

from ...ir.expr import StringImm
from ...ir.functor import post_order_visit
from ...tir.stmt import AttrStmt, For

PRAGMA = "pragma_import_llvm"


def imported_ir(funcs) -> list:
    """The IR texts of every import_llvm pragma in the PrimFuncs `funcs`, in order, once each."""
    found: dict = {}

    def add(v):
        text = v.value if isinstance(v, StringImm) else v
        if not isinstance(text, str):
            raise ValueError(f"pragma import_llvm takes LLVM IR text (a str), got {type(text).__name__}")
        found.setdefault(text, None)

    def visit(n):
        if isinstance(n, For):
            for k, v in n.annotations:
                if k == PRAGMA:
                    add(v)
        elif isinstance(n, AttrStmt) and n.attr_key == PRAGMA:
            add(n.value)

    for f in funcs:
        post_order_visit(f.body, visit)
    return list(found)


def link_imported(llmod: llvm.ModuleRef, texts) -> None:
    """Link each IR text into llmod (see the module docstring)."""
    for n, text in enumerate(texts):
        try:
            imp = llvm.parse_assembly(text)
            imp.verify()
        except RuntimeError as e:
            first = text.strip().splitlines()[0] if text.strip() else "(empty)"
            raise ValueError(f"pragma import_llvm #{n}: the text is not valid LLVM IR for this LLVM "
                             f"({'.'.join(map(str, llvm.llvm_version_info))}): {e}\n  it starts: {first[:120]}"
                             ) from None
        imp.triple = llmod.triple
        imp.data_layout = llmod.data_layout
        for fn in imp.functions:
            if not fn.is_declaration and fn.linkage == llvm.Linkage.external:
                fn.linkage = llvm.Linkage.linkonce_odr
        llmod.link_in(imp)
