"""IRModule: named functions — tir PrimFuncs and relay Functions live in the same container.

The module knows neither kind: each function prints itself and each graph expression turns itself
into a function, so this layer imports nothing above it."""

from __future__ import annotations

from dataclasses import dataclass, field


class GlobalVar(str):
    """The name of a module's function (classic `tvm.ir.GlobalVar` / `relay.GlobalVar`): a string, so
    `mod["main"]` and `mod[gv]` find the same function, with the classic `.name_hint`.  A relay
    call of another function of the module is `relay.Call(gv, args)`."""

    __slots__ = ()

    @property
    def name_hint(self) -> str:
        return str.__str__(self)

    def astext(self) -> str:
        return f"@{self.name_hint}"


def _global(name) -> GlobalVar:
    if not isinstance(name, str):
        raise TypeError(f"IRModule: functions are named by a str or GlobalVar, got {type(name).__name__} {name!r}")
    return name if isinstance(name, GlobalVar) else GlobalVar(name)


@dataclass(eq=False, repr=False)
class IRModule:
    functions: dict = field(default_factory=dict)

    def __post_init__(self):
        self.functions = {_global(k): f for k, f in dict(self.functions).items()}

    @staticmethod
    def from_expr(expr, name: str = "main") -> IRModule:
        """A module holding `expr` as `name`; a graph expression that is not a function yet becomes
        one (over its free variables) through its own `as_function`."""
        as_function = getattr(expr, "as_function", None)
        return IRModule({name: as_function() if as_function else expr})

    def __getitem__(self, name: str):
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"IRModule has no function {name!r}; it has: {', '.join(self.functions)}") from None

    def __setitem__(self, name: str, func) -> None:
        self.functions.pop(name, None)
        self.functions[_global(name)] = func

    def __contains__(self, name: str) -> bool:
        return name in self.functions

    def __iter__(self):
        return iter(self.functions.values())

    def items(self):
        return self.functions.items()

    def with_function(self, name: str, func) -> IRModule:
        return IRModule({**self.functions, name: func})

    def get_global_var(self, name: str) -> GlobalVar:
        for gv in self.functions:
            if gv == name:
                return gv
        raise ValueError(f"IRModule has no function {name!r}; it has: {', '.join(self.functions)}")

    def get_global_vars(self) -> list:
        return list(self.functions)

    def update_func(self, var, func) -> None:
        self[var] = func

    def update(self, other) -> None:
        """Add (or replace) the functions of another module."""
        for gv, f in other.functions.items():
            self[gv] = f

    def __repr__(self) -> str:
        # A graph function prints under the module's name for it (`def @main`); a PrimFunc's text
        # carries its own name.
        return "\n\n".join(f.astext(name) if hasattr(f, "astext") else repr(f) for name, f in self.functions.items())

    __str__ = __repr__

    def script(self) -> str:
        return repr(self)

    def astext(self, show_meta_data: bool = True) -> str:
        """The module as text (constants are printed inline, so show_meta_data changes nothing)."""
        return repr(self)
