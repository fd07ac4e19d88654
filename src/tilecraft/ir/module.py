"""IRModule: named functions — tir PrimFuncs and relay Functions live in the same container."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False, repr=False)
class IRModule:
    functions: dict = field(default_factory=dict)

    @staticmethod
    def from_expr(expr, name: str = "main") -> IRModule:
        from ..relay.expr import Function, Var
        from ..relay.visitor import post_order

        if not isinstance(expr, Function):
            params = tuple(n for n in post_order(expr) if isinstance(n, Var))
            expr = Function(params, expr)
        return IRModule({name: expr})

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
        from ..tir.stmt import PrimFunc

        parts = []
        for name, f in self.functions.items():
            if isinstance(f, PrimFunc):
                parts.append(repr(f))
            else:
                from ..relay.printer import astext

                parts.append(astext(f, name))
        return "\n\n".join(parts)

    __str__ = __repr__

    def script(self) -> str:
        return repr(self)

    def astext(self) -> str:
        return repr(self)
