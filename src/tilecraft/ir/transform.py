"""Pass infrastructure shared by relay and tir (classic `tvm.ir.transform` / `tvm.transform`).

A Pass maps an IRModule to an IRModule and carries a PassInfo (name, opt_level, required).
A Sequential runs passes in order, skipping those the current PassContext does not enable:
a pass runs when its name is in `required_pass`, or its opt_level is at most the context's,
and it is not in `disabled_pass`.  Every pass call is watched by the context's instruments
(tvm.ir.instrument); TILECRAFT_PRINT_IR=1 adds one that prints the module after every pass,
for relay and tir passes alike: it is the one IR-printing switch.

`PassContext(config=...)` only takes the keys in CONFIGS (see `PassContext.list_configs()`),
each with its type: a misspelt key or a wrong value fails at once instead of being ignored.
"""

from __future__ import annotations

import difflib
import inspect
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .instrument import PassInstrument, PrintAfterAll
from .module import IRModule


@dataclass(frozen=True)
class ConfigKey:
    """A PassContext config option: its type, its value when not given, what reads it and why."""

    type: type
    default: object
    doc: str


# Every option PassContext(config=...) accepts.  Add a key here only with the code that reads it.
CONFIGS = MappingProxyType({
    "tir.disable_vectorize": ConfigKey(
        bool, False, "vectorized loops become serial loops (tir.transform.VectorizeLoop)"),
    "tir.disable_assert": ConfigKey(
        bool, False, "assertions in the loop IR are dropped before code generation "
                     "(tir.transform.SkipAssert in the build pipeline)"),
    "tir.add_lower_pass": ConfigKey(
        list, [], "user passes added to lowering as [(phase, pass), ...]: phase 0 and 1 run in `lower` (before "
                  "and after its clean-up; 1 is what tvm.lower prints), 2 in `build` after buffers are flattened, "
                  "3 at the end of `build`'s pipeline, before code generation"),
    "relay.FuseOps.max_depth": ConfigKey(
        int, 256, "the most operators relay.transform.FuseOps puts into one fused group"),
    "relay.FuseOps.link_params": ConfigKey(
        bool, False, "relay.transform.FuseOps keeps every constant inside the fused function that reads it "
                     "(by default only scalars stay; tensors become the function's parameters)"),
    "relay.backend.use_auto_scheduler": ConfigKey(
        bool, False, "relay.build looks up auto-scheduler tuning records for each fused group"),
})


def _check_config(config) -> dict:
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise TypeError(f"PassContext(config=...) takes a dict of option -> value, got {type(config).__name__}")
    for key, value in config.items():
        if key not in CONFIGS:
            close = difflib.get_close_matches(str(key), CONFIGS, n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
            raise ValueError(f"PassContext config has no option {key!r}; {hint}the options are: "
                             f"{', '.join(CONFIGS)} (PassContext.list_configs() says what each does)")
        want = CONFIGS[key].type
        if type(value) is not want and not (want is int and isinstance(value, int) and not isinstance(value, bool)):
            raise TypeError(f"PassContext config {key!r} takes a {want.__name__}, got {value!r} "
                            f"({type(value).__name__})")
    return dict(config)


def _instruments(instruments) -> tuple:
    instruments = tuple(instruments or ())
    for i in instruments:
        if not isinstance(i, PassInstrument):
            raise TypeError(f"PassContext(instruments=...): {i!r} is not a PassInstrument; subclass "
                            "tvm.ir.instrument.PassInstrument or decorate its class with @pass_instrument")
    return instruments


def _pass_names(names, what: str) -> frozenset:
    if names is None:
        return frozenset()
    if isinstance(names, str) or not isinstance(names, (list, tuple, set, frozenset)):
        raise TypeError(f"PassContext({what}=...) takes a list of pass names, e.g. [{names!r}], "
                        f"got {type(names).__name__}")
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"PassContext({what}=...) takes pass names (str), got {bad[0]!r}")
    for n in names:
        _warn_unknown_pass(n, what)
    return frozenset(names)


# Classic relay and tir pass names: code written for classic TVM disables or requires them by name, and
# tilecraft lacks some of them (the name then matches nothing, as in classic TVM when a pass is absent).
_CLASSIC_PASSES = frozenset("""
    AlterOpLayout AnnotateSpans AnnotateTarget BackwardFoldScaleAxis BatchingOps CanonicalizeCast CanonicalizeOps
    CombineParallelBatchMatmul CombineParallelConv2D CombineParallelDense ConvertLayout DeadCodeElimination
    DefuseOps DynamicToStatic EliminateCommonSubexpr EtaExpand FakeQuantizationToInteger FastMath
    FirstOrderGradient FoldConstant FoldExplicitPadding FoldScaleAxis ForwardFoldScaleAxis FuseOps InferType
    Inline LabelOps LambdaLift LazyGradientInit Legalize ManifestAlloc MergeCompilerRegions MergeComposite
    PartialEvaluate PartitionGraph PlanDevices QnnCanonicalize QnnLegalize RemoveUnusedFunctions SimplifyExpr
    SimplifyInference SplitArgs ToANormalForm ToBasicBlockNormalForm ToGraphNormalForm ToMixedPrecision
    BF16Legalize CoProcSync CombineContextCall DecorateDeviceScope HoistIfThenElse InjectCopyIntrin
    InjectDoubleBuffer InjectPrefetch InjectVirtualThread InstrumentBoundCheckers LoopPartition LowerCustomDatatypes
    LowerDeviceStorageAccessInfo LowerIntrin LowerThreadAllreduce LowerTVMBuiltin LowerWarpMemory MakePackedAPI
    NarrowDataType RemoveNoOp RewriteUnsafeSelect Simplify SkipAssert SplitHostDevice StorageFlatten
    StorageRewrite ThreadSync UnrollLoop VectorizeLoop
""".split())
_SEEN_PASSES: set = set()  # names of every Pass made in this process (users' own passes too)


def _warn_unknown_pass(name: str, what: str) -> None:
    """A misspelt pass name matches nothing and is ignored; a warning says so.  Not an error: a user's own
    pass may be built after the context, and classic code names passes tilecraft does not have."""
    known = _CLASSIC_PASSES | _SEEN_PASSES | set(_FACTORIES)
    if name in known or name.split(".", 1)[-1] in known:
        return
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    warnings.warn(f"PassContext({what}=...): no pass is named {name!r}, so it matches nothing{hint}",
                  stacklevel=4)


class _Stack(threading.local):
    def __init__(self):
        self.contexts: list = []


_STACK = _Stack()
_PRINT_AFTER_ALL = PrintAfterAll()


class PassContext:
    """`with tvm.transform.PassContext(opt_level=3, config={...}): lib = relay.build(...)`.

    Contexts nest and are per thread: a context entered in one thread is not seen in another.
    """

    def __init__(self, opt_level: int = 2, required_pass=None, disabled_pass=None, instruments=None,
                 config=None):
        if isinstance(opt_level, bool) or not isinstance(opt_level, int) or not 0 <= opt_level <= 4:
            raise ValueError(f"PassContext(opt_level={opt_level!r}): give an int from 0 to 4")
        self.opt_level = opt_level
        self.required_pass = _pass_names(required_pass, "required_pass")
        self.disabled_pass = _pass_names(disabled_pass, "disabled_pass")
        self.instruments = _instruments(instruments)
        self.config = MappingProxyType(_check_config(config))

    def __enter__(self) -> PassContext:
        self._enter_instruments()
        _STACK.contexts.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _STACK.contexts.pop()
        self._exit_instruments()

    # As classic TVM: an instrument whose enter fails has the ones entered before it exited; one whose
    # exit fails stops the exits after it; either way the context keeps no instruments.
    def _enter_instruments(self) -> None:
        entered = []
        try:
            for i in self.instruments:
                i.enter_pass_ctx()
                entered.append(i)
        except Exception:
            self.instruments = ()
            for i in entered:
                i.exit_pass_ctx()
            raise

    def _exit_instruments(self) -> None:
        try:
            for i in self.instruments:
                i.exit_pass_ctx()
        except Exception:
            self.instruments = ()
            raise

    def override_instruments(self, instruments) -> None:
        """Exit this context's instruments and enter `instruments` in their place (classic API)."""
        new = _instruments(instruments)
        self._exit_instruments()
        self.instruments = new
        self._enter_instruments()

    @staticmethod
    def current() -> PassContext:
        """The innermost context entered in this thread (a default, opt_level 2, outside any)."""
        contexts = _STACK.contexts
        return contexts[-1] if contexts else _DEFAULT

    @staticmethod
    def list_configs() -> dict:
        """Every config option: {name: {"type", "default", "doc"}}."""
        return {k: {"type": c.type.__name__, "default": c.default, "doc": c.doc} for k, c in CONFIGS.items()}

    def get_config(self, key: str):
        """The value of option `key` in this context, or its default."""
        if key not in CONFIGS:
            raise KeyError(f"{key!r} is not a PassContext config option; add it to ir.transform.CONFIGS")
        return self.config.get(key, CONFIGS[key].default)

    def pass_enabled(self, info: PassInfo) -> bool:
        if info.name in self.disabled_pass:
            return False
        return info.name in self.required_pass or info.opt_level <= self.opt_level

    def _watching(self) -> tuple:
        """The instruments every pass run reports to (with the printer when TILECRAFT_PRINT_IR=1)."""
        if os.environ.get("TILECRAFT_PRINT_IR", "") not in ("", "0"):
            return (*self.instruments, _PRINT_AFTER_ALL)
        return self.instruments

    def __repr__(self) -> str:
        return (f"PassContext(opt_level={self.opt_level}, required_pass={sorted(self.required_pass)}, "
                f"disabled_pass={sorted(self.disabled_pass)}, instruments={list(self.instruments)}, "
                f"config={dict(self.config)})")


_DEFAULT = PassContext()


@dataclass(frozen=True)
class PassInfo:
    """What a PassContext needs to know about a pass: its name, opt_level and required passes."""

    opt_level: int
    name: str
    required: tuple = ()


# Classic pass constructors by name, so `required=["InferType"]` can build the pass it names.
_FACTORIES: dict = {}


def register_pass(factory, name: str | None = None):
    """Make a pass constructor (e.g. relay.transform.InferType) findable by name for `required=`."""
    _FACTORIES[name or factory.__name__] = factory
    return factory


def _required(required, owner: str) -> tuple:
    if required is None:
        return ()
    if isinstance(required, (str, Pass)):
        required = [required]
    out = []
    for r in required:
        if isinstance(r, Pass):
            out.append(r)
        elif r in _FACTORIES:
            out.append(_FACTORIES[r]())
        else:
            close = difflib.get_close_matches(str(r), _FACTORIES, n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
            raise ValueError(f"{owner}: required pass {r!r} is unknown; {hint}give a Pass object or the name "
                             "of a registered pass (ir.transform.register_pass)")
    return tuple(out)


class Pass:
    """IRModule -> IRModule.  Calling it runs its required passes, then it, watched by the instruments.

    It may also be called on a single function (a tir PrimFunc): it then returns that function
    transformed, as if it were the only function of a module.
    """

    def __init__(self, fn, opt_level: int = 0, name: str | None = None, required=None):
        name = name or fn.__name__
        _SEEN_PASSES.add(name)
        self._fn = fn  # (mod, ctx) -> mod
        self._required = _required(required, name)
        self.info = PassInfo(opt_level, name, tuple(p.info.name for p in self._required))

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def opt_level(self) -> int:
        return self.info.opt_level

    def __call__(self, mod):
        if not isinstance(mod, IRModule):
            key = getattr(mod, "name", None) or "main"
            return self(IRModule({key: mod}))[key]
        for r in self._required:
            mod = r(mod)
        ctx = PassContext.current()
        watching = ctx._watching()
        if not watching:
            return self._fn(mod, ctx)
        info = self.info
        if not all([i.should_run(mod, info) for i in watching]):
            return mod
        for i in watching:
            i.run_before_pass(mod, info)
        out = self._fn(mod, ctx)
        for i in watching:
            i.run_after_pass(out, info)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.info.name}, opt_level={self.info.opt_level})"


class Sequential(Pass):
    """Run passes in order, skipping those the current PassContext does not enable."""

    def __init__(self, passes=None, opt_level: int = 0, name: str = "sequential", required=None):
        passes = tuple(passes or ())
        for p in passes:
            if not isinstance(p, Pass):
                raise TypeError(f"Sequential {name!r}: {p!r} is not a Pass; build passes with their "
                                "constructors, e.g. relay.transform.InferType()")
        self.passes = passes
        super().__init__(self._run, opt_level, name, required)

    def _run(self, mod, ctx):
        for p in self.passes:
            if ctx.pass_enabled(p.info):
                mod = p(mod)
        return mod


def _takes_ctx(fn) -> bool:
    """Classic pass functions take (mod, ctx); tilecraft's own may take just (mod)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params) >= 2


def module_pass(pass_func=None, opt_level: int = 0, name: str | None = None, required=None):
    """Decorator: a function (mod, ctx) -> mod becomes a Pass (classic `tvm.transform.module_pass`).

    Decorating a class with a `transform_module(self, mod, ctx)` method gives a constructor of
    such passes instead.
    """

    def make(fn):
        if isinstance(fn, type):
            if not hasattr(fn, "transform_module"):
                raise TypeError(f"@module_pass class {fn.__name__} needs a transform_module(self, mod, ctx) method")

            def create(*args, **kwargs):
                inst = fn(*args, **kwargs)
                return Pass(inst.transform_module, opt_level, name or fn.__name__, required)

            create.__name__ = create.__qualname__ = fn.__name__
            create.__doc__ = fn.__doc__
            return create
        if not callable(fn):
            raise TypeError(f"@module_pass decorates a function (mod, ctx) -> mod, got {fn!r}")
        run = fn if _takes_ctx(fn) else (lambda mod, ctx: fn(mod))
        return Pass(run, opt_level, name or fn.__name__, required)

    return make if pass_func is None else make(pass_func)


def function_pass_decorator(kind: type, method: str, decorator: str):
    """A decorator like classic `relay.transform.function_pass` / `tir.transform.prim_func_pass`: a
    function (func, mod, ctx) -> func becomes a Pass applied to every function of type `kind` in a
    module (others are left as they are); decorating a class with `method(self, func, mod, ctx)`
    gives a constructor of such passes."""

    def decorate(pass_func=None, opt_level: int = 0, name: str | None = None, required=None):
        def make(fn):
            if isinstance(fn, type):
                if not hasattr(fn, method):
                    raise TypeError(f"@{decorator} class {fn.__name__} needs a {method}(self, func, mod, ctx) method")

                def create(*args, **kwargs):
                    return _pass(getattr(fn(*args, **kwargs), method), name or fn.__name__)

                create.__name__ = create.__qualname__ = fn.__name__
                create.__doc__ = fn.__doc__
                return create
            if not callable(fn):
                raise TypeError(f"@{decorator} decorates a function (func, mod, ctx) -> func, got {fn!r}")
            return _pass(fn, name or fn.__name__)

        def _pass(fn, pass_name):
            def run(mod, ctx):
                return IRModule({n: fn(f, mod, ctx) if isinstance(f, kind) else f for n, f in mod.items()})

            return Pass(run, opt_level, pass_name, required)

        return make if pass_func is None else make(pass_func)

    decorate.__name__ = decorate.__qualname__ = decorator
    return decorate


def PrintIR(header: str = "", show_meta_data: bool = False) -> Pass:  # noqa: N802  (classic name)
    """A pass that prints the module where it stands in a Sequential and changes nothing."""

    def run(mod, ctx):
        print(f"# PrintIR {header}\n{mod}\n")
        return mod

    return Pass(run, 0, "PrintIR")


__all__ = ["CONFIGS", "ConfigKey", "Pass", "PassContext", "PassInfo", "PrintIR", "Sequential",
           "function_pass_decorator", "module_pass", "register_pass"]
