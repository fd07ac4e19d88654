"""LLVM code generation: an IRModule of flattened PrimFuncs to optimized LLVM IR (an Artifact).

    art = codegen_llvm(mod, Target("llvm -mcpu=znver3 -num-cores=2"))
    art.source                       # LLVM IR after LLVM's O3 pipeline, ready to JIT
    emit_object(art)                 # ELF/Mach-O bytes for the artifact's target (cross too)
    emit_assembly(art)               # the same as assembly text, for reading the inner loops

Each PrimFunc becomes `i32 name(params..., shape vars...)` as `artifact.py` specifies.  IR is
built with llvmlite.ir, parsed once and optimized once with LLVM's new pass manager at O3
for the target's CPU and features; the runtime only has to generate machine code from
`source`, never optimize it again.

Numerics: without `-fast-math`, float operations carry only LLVM's `contract` flag, which
lets `a * b + c` become one FMA instruction (what classic TVM allows too); with `-fast-math`
they carry `fast`.  Parallel loops call the OpenMP runtime (`GOMP_parallel`), whose symbols
the runtime makes visible to the JIT by loading libgomp.
"""

from __future__ import annotations

import itertools

import llvmlite.binding as llvm
import llvmlite.ir as ir

from ...ir.expr import Buffer
from ...runtime import llvm_jit
from ...runtime.artifact import Artifact, FuncInfo
from ...tir.stmt import IRModule, PrimFunc
from ..target import Target
from .llvm_func import FunctionCodegen, vars_taken_modulo_power_of_two
from .llvm_import import imported_ir, link_imported
from .llvm_packed import packed_buffer_vars
from .llvm_types import I8, I32, PTR, FunctionAttributes, LoopID, value_type
from .signature import func_info, shape_vars

__all__ = ["codegen_llvm", "emit_object", "emit_assembly", "target_machine"]


def target_machine(target) -> llvm.TargetMachine:
    """The (cached) LLVM TargetMachine for a CPU target: its triple, CPU and features."""
    target = _llvm_target(target)
    return llvm_jit.target_machine(target.mtriple, target.mcpu, target.features, target.opt_level, target.mabi)


def machine_record(target) -> dict:
    """What an artifact records about the machine its code is for (read by runtime/llvm_jit.py)."""
    target = _llvm_target(target)
    return {"mtriple": target.mtriple, "mcpu": target.mcpu, "mattr": target.features, "mabi": target.mabi,
            "opt_level": target.opt_level,
            "requires": [f for f in llvm_jit.CHECKED_FEATURES if target.has_feature(f)]}


def _optimize(llmod, target: Target) -> None:
    """Run LLVM's O<opt-level> module pipeline (O3 by default) once, tuned for the target.

    The pass manager is rebuilt per module (a fraction of a millisecond): llvmlite's module
    pass managers cannot be run twice.
    """
    opt = min(3, max(0, target.opt_level))
    pto = llvm.create_pipeline_tuning_options(speed_level=opt)
    if opt >= 2:
        pto.loop_vectorization = True
        pto.slp_vectorization = True
        pto.loop_interleaving = True
        pto.loop_unrolling = True
    pb = llvm.create_pass_builder(target_machine(target), pto)
    pb.getModulePassManager().run(llmod, pb)


def _function_features(target: Target) -> str:
    """The target's features for the functions' "target-features", with AVX-512VL turned off.

    LLVM 22's X86CompressEVEX pass rewrites `vpmovd2m %ymmN, %k; kmov %k, %eax` (a vector sign test
    whose lanes are read as scalars, e.g. the `r < 0` of a floor modulo that the SLP vectorizer
    widened) into the VEX-only `vmovmskps %ymmN, %eax` without checking that N < 16: for
    ymm16-ymm31, which AVX-512 code uses under register pressure, the encoding drops the fifth
    register bit and the instruction reads ymm(N-16), an unrelated value (llvm/llvm-project#191304).
    BERT's embedding kernel (take(wrap) of int64 ids + two adds) read rows 100 rows away: NaN or
    wrong values depending on what the heap held.  That rewrite, and the others of its kind, apply
    to 128/256-bit EVEX instructions only, which exist only with AVX-512VL: without it, 128/256-bit
    code is VEX (16 registers, as with AVX2) and 512-bit code keeps EVEX and all 32 registers.  Only
    the code generator's choice changes, not what the artifact requires of the CPU.
    """
    features = target.features
    if target.mtriple.startswith(("x86_64", "i686", "i386")) and target.has_feature("avx512vl"):
        features = ",".join(f for f in (features, "-avx512vl") if f)
    return features


def _llvm_target(target) -> Target:
    target = Target(target)
    if target.kind == "cuda" and target.host is not None:
        target = target.host
    if target.kind != "llvm":
        raise ValueError(f"the LLVM code generator builds for 'llvm' targets, not {str(target)!r}; "
                         "use target='llvm' (optionally with -mcpu/-mtriple/-mattr)")
    return target


class ModuleCodegen:
    """Module-wide state: the llvmlite module, declarations, loop metadata, target facts."""

    def __init__(self, target: Target):
        self.target = target
        tm = target_machine(target)
        self.module = ir.Module(name="tilecraft")
        self.module.triple = target.mtriple
        self.module.data_layout = str(tm.target_data)
        fast = target.fast_math
        self.float_flags = ("fast",) if fast else ("contract",)
        self.call_flags = ("fast",) if fast else ()
        self.cmp_flags = ("fast",) if fast else ()
        self.num_threads = target.num_cores or 0  # 0: the OpenMP runtime's default team size
        self.uses_openmp = False
        self.asserts: list = []
        self.taken_modulo_power_of_two: set = set()  # loop variables kept from LLVM's loop vectorizer
        self.packed_calls: set = set()  # names of the global functions the code calls (tvm_call_packed)
        self.strings: dict = {}  # C string constants by text
        self._decls: dict = {}
        self._loop_ids: dict = {}
        self._names = itertools.count()
        attrs = [f'"target-cpu"="{target.mcpu}"']
        features = _function_features(target)
        if features:
            attrs.append(f'"target-features"="{features}"')
        self._fn_attrs = attrs

    def function_attributes(self) -> FunctionAttributes:
        """nounwind plus target-cpu/target-features, so any code generator that reads this IR
        (the runtime's JIT included) selects AVX2/FMA instructions for the right CPU."""
        return FunctionAttributes(self._fn_attrs)

    def declare(self, name: str, ret: ir.Type, args) -> ir.Function:
        fn = self._decls.get(name)
        if fn is None:
            fn = self.module.globals.get(name)
            if fn is None:
                fn = ir.Function(self.module, ir.FunctionType(ret, list(args)), name)
            self._decls[name] = fn
        return fn

    def loop_id(self, items) -> LoopID:
        key = tuple(items)
        md = self._loop_ids.get(key)
        if md is None:
            ops = []
            for item in items:
                vals = [ir.MetaDataString(self.module, item[0])]
                for v in item[1:]:
                    vals.append(ir.Constant(ir.IntType(1), v) if isinstance(v, bool) else ir.Constant(I32, v))
                ops.append(self.module.add_metadata(vals))
            md = self._loop_ids[key] = LoopID(self.module, ops)
        return md

    def unique_name(self, base: str) -> str:
        return f"{base}.{next(self._names)}"

    def assert_code(self, message: str) -> int:
        """The return code (-2, -3, ...) of a failed check with `message`: the runtime names it."""
        self.asserts.append(message)
        return -1 - len(self.asserts)

    # ------------------------------------------------------------------ functions
    def add_function(self, name: str, f: PrimFunc) -> FuncInfo:
        svars = shape_vars(f)
        info = func_info(name, f, svars)
        arg_types = [PTR if isinstance(p, Buffer) else _abi_type(p.dtype) for p in f.params]
        arg_types += [_abi_type(v.dtype) for v in svars]
        fn = ir.Function(self.module, ir.FunctionType(I32, arg_types), name)
        fn.attributes = self.function_attributes()
        cg = FunctionCodegen(self, fn, name)
        escaping = packed_buffer_vars(f.body)  # passed to a packed function, which may keep or write them
        for p, arg in zip(list(f.params) + svars, fn.args):
            if isinstance(p, Buffer):
                if p.data not in escaping:
                    arg.add_attribute("noalias")
                    arg.add_attribute("captures(none)")
                if p.data in cg.vars and cg.vars[p.data] is not arg:
                    raise ValueError(f"buffers {p.name!r} and another parameter of {name!r} share one "
                                     "data pointer; pass each array once")
                cg.vars[p.data] = arg
                if p.data not in escaping:
                    cg.noalias.add(p.data)
            else:
                cg.vars[p] = cg.cast(arg, "int8", "bool") if p.dtype == "bool" else arg
                if p in svars:
                    cg.nonneg.add(p)
        self.taken_modulo_power_of_two |= vars_taken_modulo_power_of_two(f.body)
        cg.stmt(f.body)
        cg.finish(0)
        return info


def _abi_type(dtype: str) -> ir.Type:
    """A scalar parameter's native type; bool travels as a byte (C's _Bool)."""
    return I8 if dtype == "bool" else value_type(dtype)


def codegen_llvm(mod, target=None, optimize: bool = True) -> Artifact:
    """Compile every PrimFunc of `mod` (an IRModule, or one PrimFunc) to optimized LLVM IR.

    The first function is the artifact's entry.  `optimize=False` keeps the IR as generated
    (to read what the code generator emitted; far slower to run).  Raises ValueError, naming
    the variable, loop or intrinsic, for TIR the CPU cannot run (GPU thread bindings,
    unflattened buffer accesses, unknown intrinsics).
    """
    target = _llvm_target(target)
    if isinstance(mod, PrimFunc):
        mod = IRModule({mod.name: mod})
    mcg = ModuleCodegen(target)
    funcs = [mcg.add_function(name, f) for name, f in mod.items()]
    llmod = llvm.parse_assembly(str(mcg.module))
    link_imported(llmod, imported_ir(f for _, f in mod.items()))  # pragma import_llvm
    llmod.verify()
    if optimize:
        _optimize(llmod, target)
    extra = {**machine_record(target), "needs_openmp": mcg.uses_openmp, "optimized": optimize}
    if mcg.asserts:
        extra["asserts"] = list(mcg.asserts)
    if mcg.packed_calls:
        extra["packed_calls"] = sorted(mcg.packed_calls)  # the runtime binds @__tilecraft_call_packed
    return Artifact("llvm", str(llmod), tuple(funcs), str(target),
                    entry=funcs[0].name if funcs else "", extra=extra)


def _as_artifact(artifact_or_ir, target) -> Artifact:
    """The artifact itself (for its own machine), or the given IR as an artifact for `target`."""
    if isinstance(artifact_or_ir, Artifact):
        if target is None or artifact_or_ir.kind != "llvm":
            return artifact_or_ir
        artifact_or_ir = artifact_or_ir.source
    elif isinstance(artifact_or_ir, llvm.ModuleRef):
        artifact_or_ir = str(artifact_or_ir)
    elif not isinstance(artifact_or_ir, str):
        raise TypeError(f"expected an Artifact, LLVM IR text or an llvmlite ModuleRef, "
                        f"got {type(artifact_or_ir).__name__}")
    target = _llvm_target(target)
    return Artifact("llvm", artifact_or_ir, (), str(target), extra=machine_record(target))


def emit_object(artifact_or_ir, target=None) -> bytes:
    """Position-independent object code for the target (the artifact's own by default)."""
    return llvm_jit.emit_object(_as_artifact(artifact_or_ir, target))


def emit_assembly(artifact_or_ir, target=None) -> str:
    """Assembly text for the target: the place to check for vfmadd231ps on ymm registers."""
    return llvm_jit.emit_assembly(_as_artifact(artifact_or_ir, target))
