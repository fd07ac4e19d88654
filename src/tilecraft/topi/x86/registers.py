"""How wide a register tile the target CPU holds: the fallback configurations size their tiles by it.

A blocked convolution keeps `columns x ceil(channel_block / lanes)` vector accumulators live over
its whole reduction, plus a few registers for the kernel vector and the input broadcasts.  AVX2 has
16 ymm registers (8 floats); AVX-512 has 32 zmm registers (16 floats), so the same 16-channel block
takes half the registers per column and twice as many columns fit.  A tile sized for AVX2 on an
AVX-512 machine leaves most accumulators unused (ResNet-18's 14x14 layers ran at half speed with 2
columns of 16 channels); one sized for AVX-512 on AVX2 spills.
"""

from __future__ import annotations

from ...target import Target

MAX_TILE_COLUMNS = 16  # the tuning spaces' bound on the register tile's columns
SPARE_REGISTERS = 4  # kernel vector, input broadcasts, addresses


def vector_registers(target: Target | None = None) -> tuple[int, int]:
    """(float32 lanes per vector register, number of vector registers) of `target`, by default the
    enclosing `with Target(...)`, else the host."""
    target = target or Target.current() or Target("llvm")
    if target.kind != "llvm":
        return 8, 16
    lanes = target.vector_lanes("float32")
    return lanes, 32 if target.vector_width_bits >= 512 else 16


def tile_columns(width: int, channel_block: int, target: Target | None = None, spare: int = SPARE_REGISTERS) -> int:
    """Output columns of a register tile over `width` with `channel_block` channels per column: as
    many as the registers hold, then as few as give the same number of column chunks (14 on
    AVX2 -> 5+5+4 rather than 6+6+2), so the tail tile is not a sliver.  `spare`: registers the
    kernel needs besides the accumulators."""
    if not isinstance(width, int):
        return 4
    lanes, registers = vector_registers(target)
    per_column = max(1, -(-channel_block // lanes))
    most = max(1, min(MAX_TILE_COLUMNS, (registers - spare) // per_column, width))
    chunks = -(-width // most)
    return -(-width // chunks)


__all__ = ["MAX_TILE_COLUMNS", "vector_registers", "tile_columns"]
