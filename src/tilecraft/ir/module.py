"""IRModule: named functions — tir PrimFuncs and relay Functions live in the same container.

The module knows neither kind: each function prints itself and each graph expression turns itself
into a function, so this layer imports nothing above it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False, repr=False)
class IRModule:
    functions: dict = field(default_factory=dict)

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
        self.functions[name] = func

    def __contains__(self, name: str) -> bool:
        return name in self.functions

    def __iter__(self):
        return iter(self.functions.values())

    def items(self):
        return self.functions.items()

    def with_function(self, name: str, func) -> IRModule:
        return IRModule({**self.functions, name: func})

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
