"""Hand-written LLVM IR functions that follow the calling convention in artifact.py.

The runtime is tested on its own, without the code generator: each helper returns an Artifact
whose IR is written here, small enough to check by eye.
"""

from tilecraft.runtime.artifact import Artifact, FuncInfo, ParamInfo
from tilecraft.target.codegen.llvm import machine_record

_LLVM_TYPE = {"float32": "float", "float64": "double", "int32": "i32", "int64": "i64"}
_OP = {"float32": "fadd", "float64": "fadd", "int32": "add", "int64": "add"}


def add_ir(name: str, dtype: str) -> str:
    """C[i] = A[i] + B[i] for i < n (n: i64 shape variable)."""
    t, op = _LLVM_TYPE[dtype], _OP[dtype]
    return f"""
define i32 @{name}(ptr noalias %a, ptr noalias %b, ptr noalias %c, i64 %n) {{
entry:
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %exit, label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %pa = getelementptr {t}, ptr %a, i64 %i
  %pb = getelementptr {t}, ptr %b, i64 %i
  %pc = getelementptr {t}, ptr %c, i64 %i
  %x = load {t}, ptr %pa
  %y = load {t}, ptr %pb
  %z = {op} {t} %x, %y
  store {t} %z, ptr %pc
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, %n
  br i1 %more, label %loop, label %exit
exit:
  ret i32 0
}}
"""


def add_info(name: str, dtype: str) -> FuncInfo:
    return FuncInfo(name, (ParamInfo("buffer", "A", dtype, ("n",)), ParamInfo("buffer", "B", dtype, ("n",)),
                           ParamInfo("buffer", "C", dtype, ("n",))), (("n", "int64"),))


# B[i, j] = A[i, j] * alpha + offset, A and B of static shape (4, 8); alpha f32, offset i32.
SCALE_IR = """
define i32 @scale(ptr noalias %a, ptr noalias %b, float %alpha, i32 %offset) {
entry:
  %off = sitofp i32 %offset to float
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %pa = getelementptr float, ptr %a, i64 %i
  %pb = getelementptr float, ptr %b, i64 %i
  %x = load float, ptr %pa
  %y = fmul float %x, %alpha
  %z = fadd float %y, %off
  store float %z, ptr %pb
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, 32
  br i1 %more, label %loop, label %exit
exit:
  ret i32 0
}
"""
SCALE_INFO = FuncInfo("scale", (ParamInfo("buffer", "A", "float32", (4, 8)),
                                ParamInfo("buffer", "B", "float32", (4, 8)),
                                ParamInfo("scalar", "alpha", "float32"),
                                ParamInfo("scalar", "offset", "int32")))

# Always reports failure, as generated code does when a runtime check inside it fails.
FAIL_IR = """
define i32 @fail(ptr %a) {
  ret i32 7
}
"""
FAIL_INFO = FuncInfo("fail", (ParamInfo("buffer", "A", "float32", (1,)),))

# out[t] = number of threads, for each OpenMP thread t, through GOMP_parallel.
THREADS_IR = """
declare void @GOMP_parallel(ptr, ptr, i32, i32)
declare i32 @omp_get_thread_num()
declare i32 @omp_get_num_threads()

define internal void @threads_body(ptr %out) {
  %t = call i32 @omp_get_thread_num()
  %n = call i32 @omp_get_num_threads()
  %p = getelementptr i32, ptr %out, i32 %t
  store i32 %n, ptr %p
  ret void
}

define i32 @threads(ptr noalias %out) {
  call void @GOMP_parallel(ptr @threads_body, ptr %out, i32 0, i32 0)
  ret i32 0
}
"""
THREADS_INFO = FuncInfo("threads", (ParamInfo("buffer", "out", "int32", (64,)),))

# Parallel C[i] = A[i] + B[i] (float32, n: i64): the body splits [0, n) into one chunk per thread.
PADD_IR = """
declare void @GOMP_parallel(ptr, ptr, i32, i32)
declare i32 @omp_get_thread_num()
declare i32 @omp_get_num_threads()

define internal void @padd_body(ptr %args) {
entry:
  %a = load ptr, ptr %args
  %pb = getelementptr ptr, ptr %args, i64 1
  %b = load ptr, ptr %pb
  %pc = getelementptr ptr, ptr %args, i64 2
  %c = load ptr, ptr %pc
  %pn = getelementptr ptr, ptr %args, i64 3
  %n = load i64, ptr %pn
  %t32 = call i32 @omp_get_thread_num()
  %nt32 = call i32 @omp_get_num_threads()
  %t = sext i32 %t32 to i64
  %nt = sext i32 %nt32 to i64
  %nm = add i64 %n, %nt
  %nm1 = sub i64 %nm, 1
  %chunk = sdiv i64 %nm1, %nt
  %begin = mul i64 %t, %chunk
  %end0 = add i64 %begin, %chunk
  %lt = icmp slt i64 %end0, %n
  %end = select i1 %lt, i64 %end0, i64 %n
  %none = icmp sge i64 %begin, %end
  br i1 %none, label %exit, label %loop
loop:
  %i = phi i64 [%begin, %entry], [%i1, %loop]
  %xa = getelementptr float, ptr %a, i64 %i
  %xb = getelementptr float, ptr %b, i64 %i
  %xc = getelementptr float, ptr %c, i64 %i
  %x = load float, ptr %xa
  %y = load float, ptr %xb
  %z = fadd float %x, %y
  store float %z, ptr %xc
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, %end
  br i1 %more, label %loop, label %exit
exit:
  ret void
}

define i32 @padd(ptr noalias %a, ptr noalias %b, ptr noalias %c, i64 %n) {
  %args = alloca [4 x ptr]
  store ptr %a, ptr %args
  %pb = getelementptr ptr, ptr %args, i64 1
  store ptr %b, ptr %pb
  %pc = getelementptr ptr, ptr %args, i64 2
  store ptr %c, ptr %pc
  %pn = getelementptr ptr, ptr %args, i64 3
  store i64 %n, ptr %pn
  call void @GOMP_parallel(ptr @padd_body, ptr %args, i32 0, i32 0)
  ret i32 0
}
"""

# B[j, i] = A[i, j] for A of shape (n, m): two shape variables, one per axis.
TRANSPOSE_IR = """
define i32 @transpose(ptr noalias %a, ptr noalias %b, i32 %n, i32 %m) {
entry:
  %total = mul i32 %n, %m
  %empty = icmp sle i32 %total, 0
  br i1 %empty, label %exit, label %loop
loop:
  %k = phi i32 [0, %entry], [%k1, %loop]
  %i = sdiv i32 %k, %m
  %j = srem i32 %k, %m
  %src = getelementptr float, ptr %a, i32 %k
  %jn = mul i32 %j, %n
  %dst_idx = add i32 %jn, %i
  %dst = getelementptr float, ptr %b, i32 %dst_idx
  %x = load float, ptr %src
  store float %x, ptr %dst
  %k1 = add i32 %k, 1
  %more = icmp slt i32 %k1, %total
  br i1 %more, label %loop, label %exit
exit:
  ret i32 0
}
"""
TRANSPOSE_INFO = FuncInfo("transpose", (ParamInfo("buffer", "A", "float32", ("n", "m")),
                                        ParamInfo("buffer", "B", "float32", ("m", "n"))),
                          (("n", "int32"), ("m", "int32")))


def artifact(ir: str, *infos: FuncInfo, entry: str = "", target: str = "llvm") -> Artifact:
    """An artifact for hand-written IR, recording the target's machine as the code generator does."""
    return Artifact("llvm", ir, tuple(infos), target, entry, machine_record(target))
