"""Code generators: TIR in, a runtime `Artifact` (source text plus calling conventions) out.

llvm.py and cuda.py import llvmlite or the CUDA toolchain helpers; import them by name."""
