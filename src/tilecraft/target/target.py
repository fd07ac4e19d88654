"""Target descriptions: what machine code is generated for, parsed from TVM-style strings.

`Target("llvm -mcpu=znver3 -num-cores=2 -mattr=+avx2,+fma -fast-math")` is the CPU the LLVM code
generator compiles for; `Target("cuda -arch=sm_80", host="llvm")` a GPU with the CPU that
launches its kernels.  Options the user leaves out are resolved once, here, so schedules and
code generators read plain attributes (`mcpu`, `mattr`, `vector_width_bits`, ...) and never
look at the host themselves.  `str(target)` prints the options as given, so it reads back to
an equal target on the same machine.

Unlike classic TVM, a misspelt option is an error naming the option and listing the valid
ones, instead of being silently ignored.
"""

from __future__ import annotations

import re
import threading
from difflib import get_close_matches
from functools import lru_cache

from .x86 import AVX512_CPUS, AVX_CPUS, cpu_has_feature

# Options each kind accepts; a flag (no value) is marked True in the value.
_COMMON = {"keys": False, "device": False, "model": False, "libs": False, "tag": False}
_OPTIONS = {
    "llvm": {**_COMMON, "mcpu": False, "mtriple": False, "mattr": False, "mabi": False,
             "num-cores": False, "fast-math": True, "opt-level": False},
    "c": {**_COMMON, "mcpu": False, "mtriple": False, "mattr": False, "num-cores": False},
    "cuda": {**_COMMON, "arch": False, "max_num_threads": False, "thread_warp_size": False,
             "max_shared_memory_per_block": False},
    "opencl": {**_COMMON, "max_num_threads": False, "thread_warp_size": False, "max_shared_memory_per_block": False},
}
_DEFAULT_KEYS = {"llvm": ("cpu",), "c": ("cpu",), "cuda": ("cuda", "gpu"), "opencl": ("opencl", "gpu")}
_GPU_KINDS = ("cuda", "opencl")
# The most arguments a kernel of the kind may take (classic max_function_args; 0: no limit): FuseOps
# splits a group that would exceed it.
_MAX_FUNCTION_ARGS = {"opencl": 128}
# The order options are printed in, so that str() is canonical.
_ORDER = ("device", "model", "keys", "mtriple", "mcpu", "mattr", "mabi", "arch", "num-cores",
          "max_num_threads", "thread_warp_size", "max_shared_memory_per_block", "opt-level",
          "fast-math", "libs", "tag")

class TargetKind(str):
    """A target's kind: compares and prints as its name ("llvm"), with classic TVM's `.name` and
    `.default_keys`."""

    @property
    def name(self) -> str:
        return str.__str__(self)

    @property
    def default_keys(self) -> tuple:
        return _DEFAULT_KEYS[self.name]


@lru_cache(maxsize=1)
def _host() -> tuple[str, str, tuple[str, ...]]:
    """(triple, cpu name, features) of the machine this process runs on.  Disabled features are
    listed too ("-avx512f"): a hypervisor may hide extensions the CPU's model name implies (a
    znver4 without AVX-512), and code for the model would then die of SIGILL here."""
    import llvmlite.binding as llvm

    feats = tuple(f"{'+' if v else '-'}{k}" for k, v in sorted(llvm.get_host_cpu_features().items()))
    return llvm.get_process_triple(), llvm.get_host_cpu_name(), feats


# CPU names offered as close matches for a mistyped -mcpu (each is checked with LLVM first).
_SUGGESTED_CPUS = (*AVX512_CPUS, *AVX_CPUS, "x86-64", "x86-64-v2", "nehalem", "westmere", "core2",
                   "generic", "cortex-a53", "cortex-a55", "cortex-a57", "cortex-a72", "cortex-a76",
                   "cortex-a78", "cortex-x1", "neoverse-n1", "neoverse-n2", "neoverse-v1", "apple-m1")


def _valid_arch(arch: str) -> bool:
    """sm_XX / compute_XX (with NVIDIA's a/f suffixes) for a plausible XX: sm_1000 is a typo."""
    m = re.fullmatch(r"(?:sm|compute)_(\d+)[af]?", arch)
    return m is not None and 20 <= int(m.group(1)) <= 129


def _check_cpu_and_features(target: Target) -> None:
    """Refuse an -mcpu or -mattr entry LLVM does not know (it would warn, then make wrong code or
    kill the process), naming close matches."""
    from ..runtime.llvm_jit import unrecognized

    bad = unrecognized(target.mtriple, target.mcpu, target.features)
    if not bad:
        return
    name = bad[0]
    if name == target.mcpu:
        near = [c for c in get_close_matches(name, _SUGGESTED_CPUS, n=3, cutoff=0.6)
                if not unrecognized(target.mtriple, c, "")]
        what = f"-mcpu={name!r} is not a CPU LLVM knows for {target.mtriple}"
    else:
        same_arch = target.mtriple.split("-")[0] == _host()[0].split("-")[0]
        names = _host_feature_names() if same_arch else ()
        near = ["+" + c for c in get_close_matches(name.lstrip("+-"), names, n=3, cutoff=0.6)]
        what = f"-mattr entry {name!r} is not a feature LLVM knows for {target.mtriple}"
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    raise ValueError(f"target {str(target)!r}: {what}{hint} (-mcpu=native means this machine, "
                     f"{_host()[1]})")


@lru_cache(maxsize=1)
def _host_feature_names() -> tuple[str, ...]:
    """Every feature name LLVM lists for this machine's architecture, enabled or not."""
    import llvmlite.binding as llvm

    return tuple(llvm.get_host_cpu_features())


def _split_attrs(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


class Target:
    """A compilation target.  Construct from a string, another Target, a dict, or None.

    None means the current target of an enclosing `with Target(...):` block, or else
    "llvm" for the host CPU.
    """

    _local = threading.local()

    def __init__(self, target=None, host=None):
        if isinstance(target, Target):
            self._init_from(target.kind, dict(target.options), host if host is not None else target.host)
            return
        if target is None:
            cur = Target.current(allow_none=True)
            if cur is not None:
                self._init_from(cur.kind, dict(cur.options), host if host is not None else cur.host)
                return
            target = "llvm"
        if isinstance(target, dict):
            cfg = dict(target)
            kind = cfg.pop("kind", None)
            if kind is None:
                raise ValueError("a target dict needs a 'kind' entry, e.g. "
                                 "{'kind': 'llvm', 'mcpu': 'znver3'}")
            host = cfg.pop("host", host)
            opts = {}
            for k, v in cfg.items():
                k = k.replace("_", "-") if k.replace("_", "-") in _OPTIONS.get(kind, {}) else k
                opts[k] = ",".join(v) if isinstance(v, (list, tuple)) else v
            self._init_from(kind, self._check(kind, opts, repr(target)), host)
            return
        if not isinstance(target, str):
            raise TypeError(f"cannot make a Target from {target!r} (a {type(target).__name__}); "
                            "pass a string such as 'llvm -mcpu=znver3'")
        kind, opts = self._parse(target)
        self._init_from(kind, opts, host)

    # ------------------------------------------------------------------ parsing
    @classmethod
    def _parse(cls, text: str) -> tuple[str, dict]:
        parts = text.split()
        if not parts:
            raise ValueError("empty target string; use e.g. 'llvm' or 'cuda'")
        kind = parts[0]
        opts: dict = {}
        i = 1
        while i < len(parts):
            tok = parts[i]
            if not tok.startswith("-"):
                raise ValueError(f"target {text!r}: expected an option starting with '-', got {tok!r}")
            key, eq, value = tok.lstrip("-").partition("=")
            if key in opts:  # which one would win is a guess: refuse
                raise ValueError(f"target {text!r}: option '-{key}' is given twice; give it once")
            spec = _OPTIONS.get(kind, {}).get(key)
            if not eq:
                if spec is False and i + 1 < len(parts) and not parts[i + 1].startswith("-"):
                    value = parts[i + 1]  # "-mcpu znver3"
                    i += 1
                else:
                    value = True
            opts[key] = value
            i += 1
        return kind, cls._check(kind, opts, repr(text))

    @staticmethod
    def _check(kind: str, opts: dict, where: str) -> dict:
        if kind not in _OPTIONS:
            raise ValueError(f"target {where}: unknown target kind {kind!r}; valid kinds: "
                             f"{', '.join(_OPTIONS)}")
        valid = _OPTIONS[kind]
        out = {}
        for key, value in opts.items():
            if key not in valid:
                raise ValueError(f"target {where}: unknown option '-{key}' for kind {kind!r}; valid "
                                 f"options: {', '.join('-' + k for k in valid)}")
            if valid[key]:  # a flag
                if isinstance(value, str):
                    if value.lower() not in ("1", "0", "true", "false"):
                        raise ValueError(f"target {where}: option '-{key}' is a flag; give it alone "
                                         f"or as -{key}=1 / -{key}=0, not {value!r}")
                    value = value.lower() in ("1", "true")
                value = bool(value)
            elif value is True:
                raise ValueError(f"target {where}: option '-{key}' needs a value, e.g. -{key}=...")
            elif key in ("num-cores", "opt-level", "max_num_threads", "thread_warp_size",
                         "max_shared_memory_per_block"):
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise ValueError(f"target {where}: option '-{key}' takes an integer, "
                                     f"not {value!r}") from None
                if value < 0 or (key in ("num-cores", "max_num_threads", "thread_warp_size") and value == 0):
                    raise ValueError(f"target {where}: option '-{key}' must be positive, not {value}")
                if key == "opt-level" and value > 3:
                    raise ValueError(f"target {where}: option '-opt-level' is 0..3 (LLVM's -O0..-O3), not {value}")
            else:
                value = str(value)
                if key == "arch" and not _valid_arch(value):
                    raise ValueError(f"target {where}: '-arch={value}' is not a CUDA architecture; give "
                                     f"sm_XX or compute_XX with XX from 20 to 129, e.g. -arch=sm_80")
            out[key] = value
        return out

    def _init_from(self, kind: str, opts: dict, host) -> None:
        self.kind = TargetKind(kind)
        self.options = opts
        self.host = None if host is None else (host if isinstance(host, Target) else Target(host))
        if self.host is not None and self.host.kind in _GPU_KINDS:
            raise ValueError(f"a target's host must be a CPU target ('llvm' or 'c'), not {self.host.kind!r}")
        keys = opts.get("keys")
        self.keys = tuple(_split_attrs(keys)) if keys else _DEFAULT_KEYS[kind]
        if "device" in opts and not keys:
            self.keys = (opts["device"],) + self.keys
        self.device_name = opts.get("device", "")
        self.model = opts.get("model", "unknown")
        self.libs = tuple(_split_attrs(opts.get("libs", "")))
        self.num_cores = opts.get("num-cores")
        self.fast_math = bool(opts.get("fast-math", False))
        self.opt_level = opts.get("opt-level", 3)
        self.mabi = opts.get("mabi", "")
        if kind in _GPU_KINDS:  # OpenCL: classic's defaults (256 threads, no warps assumed)
            cuda = kind == "cuda"
            self.mtriple = "nvptx64-nvidia-cuda" if cuda else "spir64-unknown-unknown"
            self.mcpu = self.arch = opts.get("arch", "sm_80") if cuda else ""
            self.mattr = []
            self.max_num_threads = opts.get("max_num_threads", 1024 if cuda else 256)
            self.thread_warp_size = opts.get("thread_warp_size", 32 if cuda else 1)
            self.max_shared_memory_per_block = opts.get("max_shared_memory_per_block", 48 * 1024)
            return
        self.arch = ""
        h_triple, h_cpu, h_feats = _host()
        self.mtriple = opts.get("mtriple", h_triple)
        native = self.mtriple == h_triple or self.mtriple.split("-")[0] == h_triple.split("-")[0]
        given_cpu = opts.get("mcpu")
        this_machine = native and given_cpu in (None, "native")
        if given_cpu == "native":  # this machine's CPU, as classic TVM resolves it
            given_cpu = h_cpu
        self.mcpu = given_cpu or (h_cpu if native else "generic")
        if "mattr" in opts:
            self.mattr = _split_attrs(opts["mattr"])
        elif this_machine:
            self.mattr = list(h_feats)
        elif native and given_cpu == h_cpu:  # the model named: its features, plus what this one adds
            self.mattr = [f for f in h_feats if f.startswith("+")]
        else:
            self.mattr = []
        unsigned = [f for f in self.mattr if f[0] not in "+-"]
        if unsigned:  # LLVM aborts the process on these
            raise ValueError(f"target {str(self)!r}: -mattr entries need a sign: "
                             f"{', '.join(repr('+' + f) for f in unsigned)} to enable (or '-' to disable), "
                             f"not {', '.join(map(repr, unsigned))}")
        if kind == "llvm" and ("mcpu" in opts or "mattr" in opts):
            _check_cpu_and_features(self)

    # ------------------------------------------------------------------ derived facts
    @property
    def attrs(self) -> dict:
        """All options, including resolved defaults, by their TVM names (mcpu, num-cores, ...)."""
        a = {"keys": list(self.keys), "device": self.device_name, "model": self.model,
             "libs": list(self.libs), "mtriple": self.mtriple, "mcpu": self.mcpu,
             "mattr": list(self.mattr)}
        if self.kind in _GPU_KINDS:
            a.update(arch=self.arch, max_num_threads=self.max_num_threads,
                     thread_warp_size=self.thread_warp_size,
                     max_shared_memory_per_block=self.max_shared_memory_per_block)
        else:
            a.update({"num-cores": self.num_cores, "fast-math": self.fast_math,
                      "opt-level": self.opt_level})
        return a

    @property
    def features(self) -> str:
        """The LLVM feature string ("+avx2,+fma") for a TargetMachine."""
        return ",".join(self.mattr)

    def has_feature(self, name: str) -> bool:
        """Whether `name` (e.g. "avx512f") is enabled, from -mattr or else the -mcpu model."""
        name = name.lstrip("+")
        state = None
        for f in self.mattr:
            if f.lstrip("+-") == name:
                state = not f.startswith("-")
        if state is not None:
            return state
        return cpu_has_feature(self.mcpu, name)

    @property
    def vector_width_bits(self) -> int:
        """Width of the widest float vector register: what vectorized schedules split by."""
        if self.kind in _GPU_KINDS:
            return 128
        arch = self.mtriple.split("-")[0]
        if arch in ("x86_64", "i386", "i686", "x86"):
            if self.has_feature("avx512f"):
                return 512
            if self.has_feature("avx") or self.has_feature("avx2"):
                return 256
        return 128

    def vector_lanes(self, dtype: str = "float32") -> int:
        """How many elements of `dtype` fit one vector register."""
        from ..ir import dtype as dt

        return max(1, self.vector_width_bits // (dt.itemsize(dt.element_of(dtype)) * 8))

    @property
    def max_function_args(self) -> int:
        return _MAX_FUNCTION_ARGS.get(self.kind, 0)

    @property
    def is_cpu(self) -> bool:
        return self.kind in ("llvm", "c")

    # ------------------------------------------------------------------ current target
    @classmethod
    def _stack(cls) -> list:
        s = getattr(cls._local, "stack", None)
        if s is None:
            s = cls._local.stack = []
        return s

    @staticmethod
    def current(allow_none: bool = True) -> Target | None:
        """The target of the innermost enclosing `with Target(...):` block."""
        s = Target._stack()
        if s:
            return s[-1]
        if not allow_none:
            raise ValueError("no current target: wrap the code in `with Target('llvm'):` "
                             "or pass target= explicitly")
        return None

    def __enter__(self) -> Target:
        self._stack().append(self)
        return self

    def __exit__(self, *exc) -> None:
        self._stack().pop()

    # ------------------------------------------------------------------ printing
    def __str__(self) -> str:
        parts = [self.kind]
        for key in _ORDER:
            if key not in self.options:
                continue
            v = self.options[key]
            if v is True:
                parts.append(f"-{key}")
            elif v is not False:
                parts.append(f"-{key}={v}")
        return " ".join(parts)

    def __repr__(self) -> str:
        h = f", host={str(self.host)!r}" if self.host is not None else ""
        return f"Target({str(self)!r}{h})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = Target(other)
            except ValueError:
                return False
        if not isinstance(other, Target):
            return NotImplemented
        return str(self) == str(other) and str(self.host) == str(other.host)

    def __hash__(self) -> int:
        return hash((str(self), str(self.host)))

    def export(self) -> dict:
        """A dict that `Target(d)` reads back."""
        d = {"kind": self.kind, **self.options}
        if self.host is not None:
            d["host"] = str(self.host)
        return d


def create(target) -> Target:
    """Classic TVM spelling of `Target(target)`."""
    return Target(target)


# ---------------------------------------------------------------------- classic constructors

def _with(kind: str, *flags, options=None) -> Target:
    """The constructor's flags, each replaced by the user's option of the same name."""
    extra = options.split() if isinstance(options, str) else list(options or ())
    given = {e.lstrip("-").partition("=")[0] for e in extra}
    flags = [f for f in flags if f and f.lstrip("-").partition("=")[0] not in given]
    return Target(" ".join([kind, *flags, *extra]))


def llvm(options=None) -> Target:
    """This CPU (`tvm.target.llvm("-mcpu=skylake")` names another)."""
    return _with("llvm", options=options)


def cuda(model: str = "unknown", arch: str | None = None, options=None) -> Target:
    """An NVIDIA GPU: `cuda(arch="sm_80")`."""
    return _with("cuda", f"-model={model}", f"-arch={arch}" if arch else "", options=options)


# Classic arm_cpu presets: board -> LLVM triple and features (what the code generator needs).
_ARM_BOARDS = {
    "unknown": ("aarch64-linux-gnu", "+neon"),
    "pixel2": ("aarch64-linux-gnu", "+neon"), "p20pro": ("arm64-linux-android", "+neon"),
    "mate10": ("arm64-linux-android", "+neon"), "rasp3b": ("armv7l-linux-gnueabihf", "+neon"),
    "rasp4b": ("armv8l-linux-gnueabihf", "+neon"), "rasp4b64": ("aarch64-linux-gnu", "+neon"),
    "rk3399": ("aarch64-linux-gnu", "+neon"), "pynq": ("armv7a-linux-eabi", "+neon"),
    "ultra96": ("aarch64-linux-gnu", "+neon"), "beagleai": ("armv7a-linux-gnueabihf", "+neon,+vfp4,+thumb2"),
    "stm32mp1": ("armv7a-linux-gnueabihf", "+neon,+vfp4,+thumb2"),
}


def arm_cpu(model: str = "unknown", options=None) -> Target:
    """An ARM CPU board by name (`arm_cpu("rasp3b")`): code for its triple, cross-compiled."""
    if model not in _ARM_BOARDS:
        raise ValueError(f"arm_cpu: unknown board {model!r}; known: {', '.join(sorted(_ARM_BOARDS))} "
                         "(or give Target('llvm -device=arm_cpu -mtriple=...'))")
    triple, attrs = _ARM_BOARDS[model]
    return _with("llvm", "-device=arm_cpu", f"-model={model}", f"-mtriple={triple}", f"-mattr={attrs}",
                 options=options)
