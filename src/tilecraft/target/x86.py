"""What an x86 CPU model can execute, for a target named only by `-mcpu=` (classic `tvm.target.x86`).

A target for this machine lists its features (`-mattr`, taken from the host); one for another CPU
("llvm -mcpu=cascadelake", to cross-compile or to read its assembly) carries only the model's
name, and kernels still have to know whether that model has AVX-512 registers or the VNNI dot
product.  LLVM knows, but llvmlite does not expose it, so the vector features of the models are
listed here, each generation adding to the one before.
"""

from __future__ import annotations

_SSE2 = frozenset(("sse", "sse2"))
_SSE42 = _SSE2 | {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"}
_AVX = _SSE42 | {"avx"}
_AVX2 = _AVX | {"avx2", "fma", "f16c", "bmi", "bmi2"}
_AVX512 = _AVX2 | {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}
_AVX512_VNNI = _AVX512 | {"avx512vnni"}
_ICELAKE = _AVX512_VNNI | {"avx512vbmi", "avx512vbmi2", "avx512bitalg", "avx512vpopcntdq", "avx512ifma"}
_SAPPHIRE = _ICELAKE | {"avx512bf16", "avx512fp16", "avxvnni", "amx-tile", "amx-int8", "amx-bf16"}

_CPUS: dict[str, frozenset] = {
    **dict.fromkeys(("x86-64", "generic", "core2", "k8", "opteron", "athlon64"), _SSE2),
    **dict.fromkeys(("nehalem", "westmere", "corei7", "x86-64-v2", "silvermont", "slm", "goldmont",
                     "goldmont-plus", "tremont", "bonnell", "atom"), _SSE42),
    **dict.fromkeys(("sandybridge", "corei7-avx", "ivybridge", "core-avx-i", "btver2", "bdver1"), _AVX),
    "bdver2": _AVX | {"fma", "f16c", "bmi"}, "bdver3": _AVX | {"fma", "f16c", "bmi"},
    **dict.fromkeys(("haswell", "core-avx2", "broadwell", "skylake", "x86-64-v3", "bdver4", "znver1", "znver2",
                     "znver3"), _AVX2),
    **dict.fromkeys(("alderlake", "raptorlake", "meteorlake", "arrowlake", "arrowlake-s", "lunarlake",
                     "pantherlake", "gracemont", "sierraforest", "grandridge", "clearwaterforest"),
                    _AVX2 | {"avxvnni"}),
    **dict.fromkeys(("skylake-avx512", "x86-64-v4"), _AVX512),
    "cannonlake": _AVX512 | {"avx512vbmi", "avx512ifma"},
    **dict.fromkeys(("knl", "knm"), _AVX2 | {"avx512f", "avx512cd", "avx512er", "avx512pf"}),
    "cascadelake": _AVX512_VNNI, "cooperlake": _AVX512_VNNI | {"avx512bf16"},
    **dict.fromkeys(("icelake-client", "icelake-server", "tigerlake", "rocketlake"), _ICELAKE),
    **dict.fromkeys(("sapphirerapids", "emeraldrapids", "graniterapids", "graniterapids-d", "diamondrapids"),
                    _SAPPHIRE),
    "znver4": _ICELAKE | {"avx512bf16"}, "znver5": _ICELAKE | {"avx512bf16", "avxvnni"},
}

AVX512_CPUS = frozenset(c for c, f in _CPUS.items() if "avx512f" in f)
AVX_CPUS = frozenset(c for c, f in _CPUS.items() if "avx" in f and "avx512f" not in f)


def cpu_has_feature(mcpu: str, name: str) -> bool:
    """Whether the x86 CPU model `mcpu` (an -mcpu name) executes instructions of feature `name`."""
    return name in _CPUS.get(mcpu, ())


def target_has_features(features, target=None) -> bool:
    """Whether `target` (default: the current one, else this machine) has every feature named
    ("avx512vnni", or a list of them)."""
    from .target import Target

    target = Target(target) if target is not None else Target.current() or Target("llvm")
    names = [features] if isinstance(features, str) else list(features)
    return all(target.has_feature(n) for n in names)


def get_simd_32bit_lanes(target=None) -> int:
    """32-bit lanes of the widest integer vector register (16 with AVX-512BW, 8 with AVX2, else 4)."""
    if target_has_features("avx512bw", target):
        return 16
    if target_has_features("avx2", target):
        return 8
    return 4


__all__ = ["AVX512_CPUS", "AVX_CPUS", "cpu_has_feature", "get_simd_32bit_lanes", "target_has_features"]
