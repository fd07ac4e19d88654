"""Per-operator attributes (classic `tvm.ir.register_op_attr`) and the target-specific lowering of
intrinsics built on them (`tvm.ir.register_intrin_lowering`).

A user rule for target kind K is stored as the attribute "K.FLowerIntrinsic" of the intrinsic
("tir.exp", or a new one such as "tir.mylog"); the code generators (CUDA, OpenCL, LLVM) ask
`lower_intrinsic(call, K)` before their own lowering, so a rule can replace `exp(x)` by
`call_pure_extern("float32", "__expf", x)` or give a new intrinsic its meaning.  A rule that
returns the call unchanged declines."""

from __future__ import annotations

_ATTRS: dict = {}  # op name ("tir.exp") -> {attribute key: (value, level)}


class OpName(str):
    """An intrinsic's name as a Call holds it; `.name` is its classic qualified form ("tir.exp"), which
    user lowering rules read as `call.op.name`."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self if "." in self else "tir." + self


def _op_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"an operator is named by a string such as 'tir.exp', got {name!r}")
    return name if "." in name else f"tir.{name}"


def register_op_attr(op_name: str, attr_key: str, value=None, level: int = 10):
    """Set `attr_key` of operator `op_name` to `value` (usable as a decorator when value is None).
    A registration with a higher level replaces one with a lower level; an equal level is an error."""

    def register(v):
        entry = _ATTRS.setdefault(_op_name(op_name), {})
        old = entry.get(attr_key)
        if old is not None and old[1] == level:
            raise ValueError(f"attribute {attr_key!r} of {op_name!r} is already registered at level {level}; "
                             f"register with a higher level to override it")
        if old is None or level > old[1]:
            entry[attr_key] = (v, level)
        return v

    return register if value is None else register(value)


def get_op_attr(op_name: str, attr_key: str, default=None):
    got = _ATTRS.get(_op_name(op_name), {}).get(attr_key)
    return default if got is None else got[0]


def register_intrin_lowering(op_name: str, target: str, *, f=None, level: int = 10):
    """Register f(call) -> expression as the lowering of intrinsic `op_name` for target kind `target`
    ("cuda", "opencl", "llvm", or "default" for every target)."""
    return register_op_attr(op_name, f"{target}.FLowerIntrinsic", f, level)


def lower_intrinsic(call, target_kind: str):
    """The user's lowering of `call` for `target_kind` (then "default"), or None when no rule applies."""
    for kind in (target_kind, "default"):
        rule = get_op_attr(str(call.op), f"{kind}.FLowerIntrinsic")
        if rule is not None:
            out = rule(call)
            if out is not None and out is not call:
                return out
    return None


class CallEffectKind:
    """Classic tir.CallEffectKind values (the attribute "TCallEffectKind" of an intrinsic)."""

    ExprAnnotation = 0
    Pure = 1
    ReadState = 2
    UpdateState = 3
    Opaque = UpdateState
    SpecialCallArg = 4
    Embedded = 5
    ControlJump = 6
