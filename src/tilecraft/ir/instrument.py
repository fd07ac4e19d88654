"""Pass instruments: code that watches every pass a PassContext runs (classic `tvm.ir.instrument`).

    with tvm.transform.PassContext(instruments=[PassTimingInstrument()]) as ctx:
        lib = relay.build(mod, target="llvm")
        print(ctx.instruments[0].render())

An instrument's hooks, all optional:
  enter_pass_ctx() / exit_pass_ctx()   when the `with PassContext(...)` block is entered / left;
  should_run(mod, info) -> bool        False skips the pass (every instrument is asked);
  run_before_pass(mod, info)           just before the pass, after every should_run said yes;
  run_after_pass(mod, info)            just after, with the pass's result.
`info` is the pass's PassInfo (name, opt_level, required).
"""

from __future__ import annotations

import time


class PassInstrument:
    """Base class of instruments: every hook does nothing, so a subclass overrides only what it needs."""

    @property
    def name(self) -> str:
        return type(self).__name__

    def enter_pass_ctx(self) -> None:
        pass

    def exit_pass_ctx(self) -> None:
        pass

    def should_run(self, mod, info) -> bool:
        return True

    def run_before_pass(self, mod, info) -> None:
        pass

    def run_after_pass(self, mod, info) -> None:
        pass

    def __repr__(self) -> str:
        return f"{self.name}()"


def pass_instrument(pi_cls=None):
    """Class decorator (classic): `@pass_instrument class MyInstrument: def run_after_pass(...)`.

    The class need not inherit from PassInstrument; the hooks it leaves out do nothing.
    """

    def wrap(cls):
        if not isinstance(cls, type):
            raise TypeError(f"@pass_instrument decorates a class, got {cls!r}")
        if issubclass(cls, PassInstrument):
            return cls
        return type(cls.__name__, (cls, PassInstrument), {"__module__": cls.__module__,
                                                          "__qualname__": cls.__qualname__,
                                                          "__doc__": cls.__doc__})

    return wrap if pi_cls is None else wrap(pi_cls)


class _Timing:
    __slots__ = ("name", "start", "total", "children")

    def __init__(self, name: str, start: float):
        self.name, self.start, self.total, self.children = name, start, 0.0, []


class PassTimingInstrument(PassInstrument):
    """Times every pass; `render()` lists them, nested passes (a Sequential's) indented.

    Each line reads `name: total_us [self_us] (% of all passes; % of the enclosing pass)`, as in
    classic TVM.  Unlike classic TVM, the times survive leaving the PassContext (they are reset
    when it is entered again), so `render()` may be called after the `with` block.
    """

    def __init__(self):
        self._roots: list = []
        self._stack: list = []

    def enter_pass_ctx(self) -> None:
        self._roots, self._stack = [], []

    def run_before_pass(self, mod, info) -> None:
        node = _Timing(info.name, time.perf_counter())
        (self._stack[-1].children if self._stack else self._roots).append(node)
        self._stack.append(node)

    def run_after_pass(self, mod, info) -> None:
        node = self._stack.pop()
        node.total = time.perf_counter() - node.start

    def render(self) -> str:
        """The timings of the passes run so far, one line per pass run."""
        whole = sum(n.total for n in self._roots) or 1e-12
        lines: list = []

        def emit(nodes, parent_total, depth):
            for n in nodes:
                own = n.total - sum(c.total for c in n.children)
                lines.append(f"{chr(9) * depth}{n.name}: {n.total * 1e6:.0f}us [{own * 1e6:.0f}us] "
                             f"({100 * n.total / whole:.2f}%; {100 * n.total / (parent_total or 1e-12):.2f}%)")
                emit(n.children, n.total, depth + 1)

        emit(self._roots, whole, 0)
        return "\n".join(lines)


class PrintAfterAll(PassInstrument):
    """Prints the module after every pass (what TILECRAFT_PRINT_IR=1 turns on everywhere)."""

    def run_after_pass(self, mod, info) -> None:
        print(f"# after {info.name}\n{mod}\n")


class PrintBeforeAll(PassInstrument):
    """Prints the module before every pass."""

    def run_before_pass(self, mod, info) -> None:
        print(f"# before {info.name}\n{mod}\n")
