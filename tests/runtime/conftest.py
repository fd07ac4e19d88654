"""Shared fixture: one JIT-compiled module of the hand-written functions in runtime_ir.py."""

import pytest
from runtime_ir import (
    FAIL_INFO,
    FAIL_IR,
    SCALE_INFO,
    SCALE_IR,
    TRANSPOSE_INFO,
    TRANSPOSE_IR,
    add_info,
    add_ir,
    artifact,
)


@pytest.fixture(scope="session")
def add_module():
    """float32 vector add (entry), plus float64/int32 variants and the other helpers above."""
    from tilecraft.runtime import Module

    ir = "".join(add_ir(f"add_{dt}", dt) for dt in ("float32", "float64", "int32")) + SCALE_IR \
        + FAIL_IR + TRANSPOSE_IR
    infos = [add_info(f"add_{dt}", dt) for dt in ("float32", "float64", "int32")]
    return Module.from_artifact(artifact(ir, *infos, SCALE_INFO, FAIL_INFO, TRANSPOSE_INFO,
                                         entry="add_float32"))
