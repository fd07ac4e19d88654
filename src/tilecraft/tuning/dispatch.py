"""Dispatch contexts: the one place the compiler asks for a tuned configuration.

`relay.build` (through the operator strategies) asks the innermost context
`query(target, workload)`; a context answers with a configuration (a mapping of knob name to
value, optionally with a `cost` in seconds) or None, in which case the implementation's own
default (its fallback config) is used.  Contexts nest with `with`, per thread, as in classic
AutoTVM: a tuning log's `apply_history_best` is one, `ApplyConfig` (one fixed configuration,
what a tuner uses to build a candidate) is another.
"""

from __future__ import annotations

import threading


def workload_key(workload) -> str:
    """A workload as a hashable, printable key: (implementation name, argument shapes, attributes)."""
    return repr(workload)


class DispatchContext:
    """Base context: answers nothing, so every implementation uses its default configuration."""

    _local = threading.local()

    def query(self, target, workload):
        """The configuration to use for `workload` on `target`, or None for the default."""
        return None

    def __enter__(self):
        stack = _stack()
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()


def _stack() -> list:
    local = DispatchContext._local
    if not hasattr(local, "stack"):
        local.stack = []
    return local.stack


_ROOT = DispatchContext()


def current_context() -> DispatchContext:
    """The innermost context entered on this thread (the answer-nothing root when none is)."""
    stack = _stack()
    return stack[-1] if stack else _ROOT


class ApplyConfig(DispatchContext):
    """Fixed answers: {workload (or its key): config}.  A workload it does not know falls through
    to the enclosing context, so contexts compose."""

    def __init__(self, configs: dict):
        self.configs = {k if isinstance(k, str) else workload_key(k): v for k, v in configs.items()}

    def query(self, target, workload):
        hit = self.configs.get(workload_key(workload))
        if hit is not None:
            return hit
        stack = _stack()
        outer = stack[stack.index(self) - 1] if self in stack and stack.index(self) > 0 else _ROOT
        return outer.query(target, workload)
