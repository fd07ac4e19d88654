"""Pass infrastructure shared by relay and tir: PassContext (opt_level, disabled passes, config),
module passes and Sequential.  Set TILECRAFT_PRINT_IR=1 to print the module after every pass."""

from __future__ import annotations

import os


class PassContext:
    """`with tvm.transform.PassContext(opt_level=3): lib = relay.build(...)`"""

    _stack: list = []

    def __init__(self, opt_level: int = 2, required_pass=None, disabled_pass=None, config=None, instruments=None):
        self.opt_level = opt_level
        self.required_pass = set(required_pass or ())
        self.disabled_pass = set(disabled_pass or ())
        self.config = dict(config or {})

    def __enter__(self):
        PassContext._stack.append(self)
        return self

    def __exit__(self, *exc):
        PassContext._stack.pop()

    @staticmethod
    def current() -> PassContext:
        return PassContext._stack[-1] if PassContext._stack else _DEFAULT

    def pass_enabled(self, p: Pass) -> bool:
        if p.name in self.disabled_pass:
            return False
        return p.name in self.required_pass or p.opt_level <= self.opt_level


_DEFAULT = PassContext()


class Pass:
    """A function from IRModule to IRModule with a name and the opt_level it belongs to."""

    def __init__(self, fn, opt_level: int = 0, name: str | None = None):
        self.fn, self.opt_level, self.name = fn, opt_level, name or fn.__name__

    def __call__(self, mod):
        out = self.fn(mod)
        if os.environ.get("TILECRAFT_PRINT_IR", "") not in ("", "0"):
            print(f"# after {self.name}\n{out}\n")
        return out

    def __repr__(self) -> str:
        return f"Pass({self.name}, opt_level={self.opt_level})"


class Sequential(Pass):
    """Run passes in order, skipping those the current PassContext does not enable."""

    def __init__(self, passes, opt_level: int = 0, name: str = "sequential", required=None):
        self.passes = list(passes)
        super().__init__(self._run, opt_level, name)

    def _run(self, mod):
        ctx = PassContext.current()
        for p in self.passes:
            if ctx.pass_enabled(p):
                mod = p(mod)
        return mod


def module_pass(fn=None, opt_level: int = 0, name: str | None = None):
    """Decorator: `@module_pass(opt_level=1)` turns a function IRModule -> IRModule into a Pass."""
    if fn is None:
        return lambda f: Pass(f, opt_level, name)
    return Pass(fn, opt_level, name)
