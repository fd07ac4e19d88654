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
    """Base context: asks the enclosing context, so contexts compose (an auto-scheduler log inside
    an AutoTVM log answers whole fused groups, the AutoTVM one answers operator configurations);
    the outermost answers nothing, so every implementation uses its default."""

    _local = threading.local()

    def query(self, target, workload):
        """The configuration to use for `workload` on `target`, or None for the default."""
        memory = getattr(self, "_memory", None)
        if memory and workload is not None:
            hit = memory.get(workload_key(workload))
            if hit is not None:
                return hit
        outer = self.outer()
        return None if outer is None else outer.query(target, workload)

    def update(self, target, workload, config) -> None:
        """Answer `config` for `workload` from now on, in this context (classic's update: AlterOpLayout
        gives the blocked call a tuned configuration made the configuration that made it)."""
        if self is _ROOT:
            return  # the process-wide root keeps nothing: it would leak into later builds
        if not hasattr(self, "_memory"):
            self._memory = {}
        self._memory[workload_key(workload)] = config

    def schedule_graph(self, target, tensors):
        """A tuned te schedule for the computation whose inputs and outputs are `tensors` (a fused
        group, asked by relay.build when `relay.backend.use_auto_scheduler` is set), or None."""
        outer = self.outer()
        return None if outer is None else outer.schedule_graph(target, tensors)

    def outer(self):
        """The context this one was entered in (None for the outermost)."""
        stack = _stack()
        if self not in stack:
            return None if self is _ROOT else _ROOT
        i = stack.index(self)
        return stack[i - 1] if i > 0 else _ROOT

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
        return hit if hit is not None else super().query(target, workload)
