"""Arithmetic on whole tensors: `a + b`, `a * 2`, `-a` on te.Tensor call the broadcasting topi
operators.  As in classic TVM, importing topi installs them (te sits below topi and cannot call it)."""

from __future__ import annotations

from .. import te
from .broadcast import add, divide, floor_divide, floor_mod, multiply, power, subtract
from .elemwise import negative


def _install() -> None:
    for name, op in (("add", add), ("sub", subtract), ("mul", multiply), ("truediv", divide),
                     ("floordiv", floor_divide), ("mod", floor_mod), ("pow", power)):
        setattr(te.Tensor, f"__{name}__", lambda self, other, op=op: op(self, other))
        setattr(te.Tensor, f"__r{name}__", lambda self, other, op=op: op(other, self))
    te.Tensor.__neg__ = negative


_install()
