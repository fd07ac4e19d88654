"""The operator registry: per operator its type relation, TE compute and fusion pattern.

One `register_op(...)` call per operator says everything the compiler needs to know about it:

    name        "nn.conv2d"
    type_rel    (arg_types, attrs) -> output type          shapes and dtypes, with clear errors
    compute     (attrs, inputs, out_type) -> [te.Tensor]    built from topi
    pattern     how it fuses (OpPattern below)
    solve       (arg_types, attrs) -> {index: type}          optional: the types of inputs left untyped
                                                             (a weight from `channels`, `kernel_size`)

Which kernels compute it on which target (and with which schedule) is the operator's strategy,
registered separately in relay/op/strategy/ (one file per target family).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class OpPattern:
    ELEMWISE = 0
    BROADCAST = 1
    INJECTIVE = 2
    COMM_REDUCE = 3
    OUT_ELEMWISE_FUSABLE = 4
    TUPLE = 7
    OPAQUE = 8


@dataclass(frozen=True, eq=False)
class Op:
    name: str
    type_rel: object
    compute: object
    pattern: int
    defaults: dict = field(default_factory=dict)
    doc: str = ""
    solve: object = None

    def __repr__(self) -> str:
        return f"Op({self.name})"

    def json_key(self) -> str:
        """An operator is saved by name (ir.save_json) and loaded from the registry."""
        return self.name

    @staticmethod
    def from_json_key(name: str) -> Op:
        return get(name)

    def __reduce__(self):
        # pickled by name, as saved to JSON: the registry's operator is the one object per name
        return get, (self.name,)


_OPS: dict = {}


def register_op(name, type_rel, compute, pattern, defaults=None, doc="", solve=None) -> Op:
    op = Op(name, type_rel, compute, pattern, dict(defaults or {}), doc, solve)
    _OPS[name] = op
    return op


def get(name: str) -> Op:
    op = _OPS.get(name)
    if op is None:
        raise KeyError(f"unknown operator {name!r}; registered operators: {', '.join(sorted(_OPS))}")
    return op


def list_ops() -> list:
    return sorted(_OPS)


def make_call(name: str, args, **attrs):
    """Build a Call to a registered operator, filling in its default attributes."""
    from ..expr import Call, Expr, const

    op = get(name)
    full = dict(op.defaults)
    unknown = set(attrs) - set(full) if full else set()
    if unknown:
        raise TypeError(f"{name}: unknown attribute(s) {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(sorted(full))}")
    full.update(attrs)
    args = tuple(a if isinstance(a, Expr) else const(a) for a in args)
    return Call(op, args, full)
