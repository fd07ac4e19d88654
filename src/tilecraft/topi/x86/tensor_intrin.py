"""x86 int8 dot products as tensor intrinsics (classic `topi.x86.tensor_intrin` names).

    out[i] (+)= sum(data[k] * kernel[i, k] for k < 4)     i < lanes, data uint8, kernel int8

one short instruction sequence per vector of `lanes` int32 outputs (4 with SSE, 8 with AVX2, 16
with AVX-512), the four data bytes broadcast to every lane.  With VNNI (avx512vnni, or avxvnni on
AVX2 cores) it is one `vpdpbusd`, exact.  Without it, `pmaddubsw` multiplies the bytes and adds
neighbouring pairs into int16, then `pmaddwd` by ones adds the pairs into int32.  pmaddubsw
*saturates* a pair whose sum leaves [-32768, 32767], which takes data above 128 meeting large
weights of one sign: the trade classic TVM and ONNX Runtime's U8S8 kernels make on these CPUs.
"""

from __future__ import annotations

from ... import te, tir
from ...target.x86 import get_simd_32bit_lanes, target_has_features

_PMADDUBS = {4: ("llvm.x86.ssse3.pmadd.ub.sw.128", "llvm.x86.sse2.pmadd.wd"),
             8: ("llvm.x86.avx2.pmadd.ub.sw", "llvm.x86.avx2.pmadd.wd"),
             16: ("llvm.x86.avx512.pmaddubs.w.512", "llvm.x86.avx512.pmaddw.d.512")}
_VPDPBUSD = {4: "llvm.x86.avx512.vpdpbusd.128", 8: "llvm.x86.avx512.vpdpbusd.256", 16: "llvm.x86.avx512.vpdpbusd.512"}


def has_int8_dot(target=None) -> bool:
    """Whether the target has a fast uint8 x int8 dot product (pmaddubsw needs SSSE3)."""
    return target_has_features("ssse3", target)


def has_vnni(target=None, lanes: int | None = None) -> bool:
    lanes = lanes or get_simd_32bit_lanes(target)
    if lanes == 16:
        return target_has_features("avx512vnni", target)
    return target_has_features("avxvnni", target) or target_has_features(["avx512vnni", "avx512vl"], target)


def dot_16x1x16_uint8_int8_int32(target=None):
    """The dot product for the target's widest vectors, VNNI where the CPU has it (classic name;
    the output has get_simd_32bit_lanes() lanes, 16 only with AVX-512)."""
    lanes = get_simd_32bit_lanes(target)
    return dot_uint8_int8_int32(lanes, has_vnni(target, lanes))


def dot_16x1x16_uint8_int8_int32_cascadelake():
    return dot_uint8_int8_int32(16, vnni=True)


def dot_16x1x16_uint8_int8_int32_skylake():
    return dot_uint8_int8_int32(get_simd_32bit_lanes(), vnni=False)


def dot_uint8_int8_int32(lanes: int, vnni: bool):
    """The intrinsic over `lanes` int32 outputs: vpdpbusd (vnni) or pmaddubsw + pmaddwd."""
    if lanes not in _PMADDUBS:
        raise ValueError(f"dot_uint8_int8_int32: lanes must be 4, 8 or 16 (the int32 lanes of an SSE, AVX2 or "
                         f"AVX-512 register), got {lanes}")
    data = te.placeholder((4,), "uint8", name="data")
    kernel = te.placeholder((lanes, 4), "int8", name="kernel")
    k = te.reduce_axis((0, 4), name="k")
    out = te.compute((lanes,), lambda i: te.sum(data[k].astype("int32") * kernel[i, k].astype("int32"), axis=k),
                     name="dot")
    a_buf = tir.decl_buffer((4,), "uint8", name="a_buffer", offset_factor=1, strides=[1])
    b_buf = tir.decl_buffer((lanes, 4), "int8", name="b_buffer", offset_factor=1, strides=[te.var("ldw"), 1])
    i32, i8 = f"int32x{lanes}", f"int8x{4 * lanes}"

    def fcompute(ins, outs):
        four = tir.call_intrin("int32", "tir.reinterpret", ins[0].vload([0], "uint8x4"))
        a = tir.call_intrin(i8, "tir.reinterpret", four.astype(i32))  # the 4 bytes in every lane
        b = ins[1].vload([0, 0], i8)
        acc = outs[0].vload([0], i32)

        def dot(acc):
            if vnni:
                return tir.call_llvm_pure_intrin(i32, _VPDPBUSD[lanes], tir.const(3, "uint32"),
                                                 acc if acc is not None else tir.const(0, i32), a, b)
            pmaddubs, pmaddwd = _PMADDUBS[lanes]
            i16 = f"int16x{2 * lanes}"
            pairs = tir.call_llvm_pure_intrin(i16, pmaddubs, tir.const(2, "uint32"), a, b)
            quads = tir.call_llvm_pure_intrin(i32, pmaddwd, tir.const(2, "uint32"), pairs, tir.const(1, i16))
            return quads if acc is None else quads + acc

        body = outs[0].vstore([0], dot(None))
        reset = outs[0].vstore([0], tir.const(0, i32))
        update = outs[0].vstore([0], dot(acc))
        return body, reset, update

    return te.decl_tensor_intrin(out.op, fcompute, name=f"dot_{lanes}x4_uint8_int8_int32{'_vnni' * vnni}",
                                 binds={data: a_buf, kernel: b_buf}, default_buffer_params={"offset_factor": 1})


__all__ = ["dot_16x1x16_uint8_int8_int32", "dot_16x1x16_uint8_int8_int32_cascadelake",
           "dot_16x1x16_uint8_int8_int32_skylake", "dot_uint8_int8_int32", "has_int8_dot", "has_vnni"]
