"""The Relay text format read back into a module (classic `tvm.relay.fromtext` / `tvm.parser.parse`).

    #[version = "0.0.5"]
    def @main(%x: Tensor[(1, 384), int64], %w: Tensor[(2016, 128), float16]) {
      %0 = cast(%x, dtype="int32");
      %1 = take(%w, %0, axis=0);
      (%1, %1.0)
    }

What is read: `def @name(params) -> type { body }` functions, `%n = expr;` bindings (names for
shared sub-expressions), `let %v = expr;`, calls of operators by name with attributes as keywords
(each built by the operator's Python constructor, so its checks and defaults apply), calls of
`@functions` and of `fn (...) { ... }` literals, tuples and `%t.0`, constants (`1f`, `2i64`,
`-0.5f16`, `True`), `free_var %x: Type;` and the types Tensor[(shape), dtype] (`?` for a size
known at run time) and (tuples).  `meta[...]` constants, `if` and type definitions have no
form here and are refused with the line they are on.
"""

from __future__ import annotations

import inspect
import re

from ..ir.expr import Any
from ..ir.module import IRModule
from . import expr as E
from .ty import TensorType, TupleType

_TOKEN = re.compile(r"""
    (?P<space>\s+|/\*.*?\*/|//[^\n]*|\#\[[^\]]*\])
  | (?P<local>%[A-Za-z0-9_.]*[A-Za-z0-9_])
  | (?P<global>@[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<number>-?\d+(\.\d*)?([eE][-+]?\d+)?(f16|f32|f64|f|i8|i16|i32|i64|u8|u16|u32|u64|b)?)
  | (?P<string>"[^"]*")
  | (?P<arrow>->)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[()\[\]{},;=:.?])
""", re.VERBOSE | re.DOTALL)

_SUFFIX = {"f": "float32", "f16": "float16", "f32": "float32", "f64": "float64", "i8": "int8", "i16": "int16",
           "i32": "int32", "i64": "int64", "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
           "b": "bool"}


class RelayParseError(ValueError):
    """The text is not Relay this reader understands; the message gives the line and what was found."""


def _tokens(text: str) -> list:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise RelayParseError(f"line {text.count(chr(10), 0, pos) + 1}: unexpected {text[pos:pos + 20]!r}")
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group(), text.count("\n", 0, pos) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.globals: dict = {}

    # ------------------------------------------------------------------ tokens
    def peek(self, k: int = 0):
        if self.i + k < len(self.toks):
            return self.toks[self.i + k]
        return "end", "", self.toks[-1][2] if self.toks else 1

    def take(self, value=None, kind=None):
        tok = self.peek()
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            raise self.error(f"expected {value or kind}, found {tok[1] or 'the end'!r}")
        self.i += 1
        return tok[1]

    def accept(self, value) -> bool:
        if self.peek()[1] == value:
            self.i += 1
            return True
        return False

    def sequence(self, close: str, item) -> list:
        """item() repeated, comma-separated, up to `close` (consumed; a trailing comma is allowed)."""
        out = []
        while not self.accept(close):
            out.append(item())
            if not self.accept(","):
                self.take(close)
                break
        return out

    def error(self, msg: str) -> RelayParseError:
        return RelayParseError(f"line {self.peek()[2]}: {msg}")

    # ------------------------------------------------------------------ module
    def module(self) -> IRModule:
        defs = []
        while self.peek()[0] != "end":
            if self.peek()[1] in ("type", "extern"):
                raise self.error("type definitions (ADTs) are not supported")
            if self.peek()[1] not in ("def", "fn"):
                raise self.error(f"expected a function definition (def @name(...) {{ ... }}), "
                                 f"found {self.peek()[1]!r}")
            self.take()
            name = self.take(kind="global")[1:]
            self.globals[name] = E.GlobalVar(name)
            defs.append((name, self.i))
            self.skip_function()
        mod = IRModule()
        for name, at in defs:
            self.i = at
            mod[self.globals[name]] = self.function_rest({})
        return mod

    def skip_function(self) -> None:
        depth = 0
        while True:
            if self.peek()[0] == "end":
                raise self.error("the text ends inside a function: a '}' is missing")
            v = self.take()
            if v == "{":
                depth += 1
            elif v == "}":
                depth -= 1
                if depth == 0:
                    return

    def function_rest(self, scope: dict) -> E.Function:
        """(params) [-> type] { body }, after `def @name` or `fn`."""
        scope = dict(scope)
        params, attrs = [], {}

        def parameter():
            if self.peek()[0] == "name":  # fn (%p0: ..., Primitive=1): attributes of the function
                key = self.take()
                self.take("=")
                attrs[key] = self.attr_value()
            else:
                name = self.take(kind="local")[1:]
                scope[name] = E.Var(name, self.type_() if self.accept(":") else None)
                params.append(scope[name])

        self.take("(")
        self.sequence(")", parameter)
        ret = self.type_() if self.accept("->") else None
        self.take("{")
        body = self.body(scope)
        self.take("}")
        return E.Function(tuple(params), body, ret, attrs)

    def body(self, scope: dict):
        while True:
            kind, value, _ = self.peek()
            if value == "let":
                self.take()
                name = self.take(kind="local")[1:]
                var = E.Var(name, self.type_() if self.accept(":") else None)
                self.take("=")
                value_ = self.expr(scope)
                self.take(";")
                inner = dict(scope, **{name: var})
                return E.Let(var, value_, self.body(inner))
            if value == "free_var":
                self.take()
                name = self.take(kind="local")[1:]
                scope[name] = E.Var(name, self.type_() if self.accept(":") else None)
                self.accept(";")
                continue
            if kind == "local" and self.peek(1)[1] == "=":
                name = self.take()[1:]
                self.take("=")
                scope[name] = self.expr(scope)
                self.take(";")
                continue
            return self.expr(scope)

    # ------------------------------------------------------------------ expressions
    def expr(self, scope: dict):
        e = self.primary(scope)
        while True:
            if self.peek()[1] == "." and self.peek(1)[0] == "number":
                self.take()
                for index in self.take().split("."):  # (%t).0.1 lexes its indices as the number 0.1
                    e = E.TupleGetItem(e, int(index))
            elif self.peek()[1] == "(":
                args, kwargs = self.arguments(scope)
                if kwargs:
                    raise self.error("a call of a function value takes no attributes")
                e = E.Call(e, tuple(args))
            else:
                return e

    def primary(self, scope: dict):
        kind, value, _ = self.peek()
        if kind == "local":
            self.take()
            name = value[1:]
            return self.local(name, scope)
        if kind == "global":
            self.take()
            if value[1:] not in self.globals:
                raise self.error(f"{value} is not a function of this module")
            return self.globals[value[1:]]
        if kind == "number":
            return self.constant(self.take())
        if value in ("True", "False"):
            self.take()
            return E.const(value == "True", "bool")
        if value == "fn":
            self.take()
            return self.function_rest(scope)
        if value == "(":
            self.take()
            if self.accept(")"):
                return E.Tuple(())
            first = self.expr(scope)
            if self.accept(")"):
                return first
            fields = [first]
            while self.accept(","):
                if self.peek()[1] == ")":
                    break
                fields.append(self.expr(scope))
            self.take(")")
            return E.Tuple(tuple(fields))
        if value in ("meta", "if", "match", "ref", "ref_read", "ref_write"):
            raise self.error(f"{value!r} is not supported (constants from a metadata section, control flow and "
                             "references have no form in tilecraft's relay)")
        if kind == "name":
            line = self.peek()[2]
            self.take()
            args, kwargs = self.arguments(scope)
            return _call_operator(value, args, kwargs, lambda msg: RelayParseError(f"line {line}: {msg}"))
        raise self.error(f"unexpected {value or 'end of text'!r}")

    def local(self, name: str, scope: dict):
        """%name, or %name.0.1 (fields of a tuple): names may contain dots (%conv1.weight), so the
        longest defined prefix is the variable and the numbers after it the fields."""
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            base, rest = ".".join(parts[:cut]), parts[cut:]
            if base in scope and all(r.isdigit() for r in rest):
                e = scope[base]
                for r in rest:
                    e = E.TupleGetItem(e, int(r))
                return e
        if isinstance(scope, _FreeScope):
            return scope[name]
        raise self.error(f"%{name} is not defined here")

    def arguments(self, scope: dict) -> tuple:
        self.take("(")
        args, kwargs = [], {}

        def argument():
            if self.peek()[0] == "name" and self.peek(1)[1] == "=":
                key = self.take()
                self.take("=")
                kwargs[key] = self.attr_value()
            else:
                args.append(self.expr(scope))

        self.sequence(")", argument)
        return args, kwargs

    def constant(self, text: str):
        m = re.fullmatch(r"(.*?)(f16|f32|f64|f|i8|i16|i32|i64|u8|u16|u32|u64|b)?", text)
        number, suffix = m.group(1), m.group(2)
        dtype = _SUFFIX[suffix] if suffix else "float32" if any(c in number for c in ".eE") else "int32"
        if dtype.startswith("float"):
            return E.const(float(number), dtype)
        return E.const(bool(int(number)) if dtype == "bool" else int(float(number)), dtype)

    def attr_value(self):
        kind, value, _ = self.peek()
        if self.accept("["):
            return self.sequence("]", self.attr_value)
        self.take()
        if kind == "string":
            return value[1:-1]
        if kind == "number":
            return self.constant(value).data.item()
        if value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[value]
        if kind == "name":  # an unquoted dtype or layout (dtype=float32)
            return value
        raise self.error(f"unexpected attribute value {value!r}")

    # ------------------------------------------------------------------ types
    def type_(self):
        if self.accept("("):
            return TupleType(tuple(self.sequence(")", self.type_)))
        name = self.take(kind="name")
        if name != "Tensor":
            return TensorType((), name)  # a scalar written as its dtype
        self.take("[")
        self.take("(")
        shape = self.sequence(")", lambda: Any() if self.accept("?") else int(self.take(kind="number")))
        self.take(",")
        dtype = self.take(kind="name")
        self.take("]")
        return TensorType(tuple(shape), dtype)


# Operators whose classic text gives, after the data, inputs the Python constructor takes by name.
_POSITIONAL = {"nn.pad": ("pad_value",)}


def _call_operator(name: str, args: list, kwargs: dict, error):
    """name(args, attrs) through the operator's Python constructor (relay.nn.conv2d, relay.add, ...)."""
    from .. import relay

    target = relay
    for part in name.split("."):
        target = getattr(target, part, None)
        if target is None:
            break
    if not callable(target):
        raise error(f"unknown operator {name!r}")
    if name in ("concatenate", "stack") and args and isinstance(args[0], E.Tuple):
        args = [list(args[0].fields), *args[1:]]
    for key, value in zip(_POSITIONAL.get(name, ()), args[1:]):  # inputs classic prints in place
        kwargs[key] = value
    args = args[:1] + args[1 + len(_POSITIONAL.get(name, ())):]
    _fill_defaults(name, target, args, kwargs)
    try:
        out = target(*args, **kwargs)
    except TypeError as err:
        raise error(f"{name}: {err}") from None
    return out.astuple() if hasattr(out, "astuple") else out


def _fill_defaults(name: str, constructor, args: list, kwargs: dict) -> None:
    """Attributes the text leaves out because they have the operator's default (the printer omits
    them, as classic does) but the constructor requires: split's indices_or_sections."""
    from .op.registry import get

    try:
        defaults = get(name).defaults
        params = list(inspect.signature(constructor).parameters.values())
    except (KeyError, TypeError, ValueError):
        return
    for p in params[len(args):]:
        if p.default is inspect.Parameter.empty and p.name not in kwargs and p.name in defaults:
            kwargs[p.name] = defaults[p.name]


def fromtext(source: str, source_name: str = "from_string") -> IRModule:
    """A module from Relay text (classic `tvm.relay.fromtext`, `tvm.parser.parse`)."""
    if not isinstance(source, str):
        raise TypeError(f"fromtext takes the Relay text as a str, got {type(source).__name__}")
    return _Parser(source).module()


parse = fromtext


def parse_expr(source: str):
    """One expression (classic `tvm.parser.parse_expr`): `add(%x, 1f)`, its free variables typeless."""
    return _Parser(source).body(_FreeScope())


class _FreeScope(dict):
    """A scope in which an unknown %name is a new untyped variable (parse_expr's free variables)."""

    def __missing__(self, key):
        self[key] = E.Var(key, None)
        return self[key]


__all__ = ["RelayParseError", "fromtext", "parse", "parse_expr"]
