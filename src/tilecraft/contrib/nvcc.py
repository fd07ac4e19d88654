"""Classic `tvm.contrib.nvcc`: the CUDA compiler and what a compute capability supports."""

from __future__ import annotations

from ..runtime.nvcc import compile_ptx, find_nvcc


def parse_compute_version(compute_version) -> tuple[int, int]:
    """"8.6" (or "sm_86", or 8.6) -> (8, 6)."""
    text = str(compute_version).removeprefix("sm_")
    try:
        if "." in text:
            major, minor = text.split(".", 1)
            return int(major), int(minor)
        return int(text[:-1]), int(text[-1])
    except ValueError:
        raise ValueError(f"compute version {compute_version!r}: expected e.g. '8.6' or 'sm_86'") from None


def have_fp16(compute_version) -> bool:
    """Half-precision arithmetic: compute capability 5.3, and 6.0 and later (CUDA's arithmetic table)."""
    major, minor = parse_compute_version(compute_version)
    return (major, minor) == (5, 3) or major >= 6


def have_int8(compute_version) -> bool:
    """dp4a int8 dot products: compute capability 6.1 and later."""
    return parse_compute_version(compute_version) >= (6, 1)


def have_tensorcore(compute_version=None, target=None) -> bool:
    """Tensor cores: compute capability 7.0 and later."""
    if compute_version is None and target is not None:
        compute_version = getattr(target, "arch", "")
    return compute_version is not None and parse_compute_version(compute_version) >= (7, 0)


def have_bf16(compute_version) -> bool:
    return parse_compute_version(compute_version) >= (8, 0)


def compile_cuda(code: str, target_format: str = "ptx", arch: str | None = None, options=None, path_target=None):
    """CUDA C -> PTX text with nvcc (tilecraft compiles to PTX; cubin comes from the driver)."""
    if target_format != "ptx":
        raise ValueError(f"compile_cuda: target_format {target_format!r} is not supported; use 'ptx'")
    ptx = compile_ptx(code, arch or "sm_80")
    if path_target:
        with open(path_target, "w") as f:
            f.write(ptx)
    return ptx.encode()


__all__ = ["compile_cuda", "find_nvcc", "have_bf16", "have_fp16", "have_int8", "have_tensorcore",
           "parse_compute_version"]
