"""Shape and layout operators (reshape, transpose, concatenate, split, take, pad, pooling, resize...).

Their type relation is the topi compute itself applied to placeholders: the output shape is
defined in one place, and a bad attribute gets topi's error, named by the operator."""

from __future__ import annotations

from ..expr import Tuple
from ..ty import TensorType, TupleType
from ._rel import same_dtype
from .registry import OpPattern, make_call, register_op
from .tensor import _topi


def _placeholders(types):
    from ... import te

    out = []
    for i, t in enumerate(types):
        fields = t.fields if isinstance(t, TupleType) else (t,)
        out += [te.placeholder(f.shape, f.dtype, name=f"in{i}_{j}") for j, f in enumerate(fields)]
    return out


def te_rel(compute):
    """Type relation: run the TE compute on placeholders of the argument types and read its outputs."""

    def rel(types, attrs):
        outs = compute(attrs, _placeholders(types), None)
        if isinstance(outs, (list, tuple)):
            return TupleType(tuple(TensorType(tuple(o.shape), o.dtype) for o in outs))
        return TensorType(tuple(outs.shape), outs.dtype)

    return rel


def _join_rel(compute):
    """te_rel of a join (concatenate, stack) that refuses tensors of different float dtypes,
    which topi would otherwise promote to the widest silently."""
    rel = te_rel(compute)

    def checked(types, attrs):
        fields = types[0].fields if isinstance(types[0], TupleType) else ()
        same_dtype(*((f"tensor {i}", f) for i, f in enumerate(fields)))
        return rel(types, attrs)

    return checked


def _register(name, compute, defaults, pattern=OpPattern.INJECTIVE, rel=te_rel):
    register_op(name, rel(compute), compute, pattern, defaults)


_register("reshape", lambda a, ins, o: _topi("reshape")(ins[0], a["newshape"]), {"newshape": None})
_register("transpose", lambda a, ins, o: _topi("transpose")(ins[0], a["axes"]), {"axes": None})
_register("squeeze", lambda a, ins, o: _topi("squeeze")(ins[0], a["axis"]), {"axis": None})
_register("expand_dims", lambda a, ins, o: _topi("expand_dims")(ins[0], a["axis"], a["num_newaxis"]),
          {"axis": 0, "num_newaxis": 1})
_register("concatenate", lambda a, ins, o: _topi("concatenate")(list(ins), a["axis"]), {"axis": 0}, rel=_join_rel)
_register("stack", lambda a, ins, o: _topi("stack")(list(ins), a["axis"]), {"axis": 0}, rel=_join_rel)
_register("split", lambda a, ins, o: list(_topi("split")(ins[0], a["indices_or_sections"], a["axis"])),
          {"indices_or_sections": 2, "axis": 0})
_register("strided_slice", lambda a, ins, o: _topi("strided_slice")(ins[0], a["begin"], a["end"], a["strides"],
                                                                     a["axes"]),
          {"begin": None, "end": None, "strides": None, "axes": None})
_register("take", lambda a, ins, o: _topi("take")(ins[0], ins[1], a["axis"], a["mode"]),
          {"axis": None, "mode": "clip"})
_register("gather", lambda a, ins, o: _topi("gather")(ins[0], a["axis"], ins[1]), {"axis": 0})
_register("gather_nd", lambda a, ins, o: _topi("gather_nd")(ins[0], ins[1]), {})
_register("reverse", lambda a, ins, o: _topi("flip")(ins[0], a["axis"]), {"axis": 0})
_register("nn.batch_flatten", lambda a, ins, o: _topi("flatten")(ins[0]), {})
_register("tile", lambda a, ins, o: _topi("tile")(ins[0], a["reps"]), {"reps": None})
_register("repeat", lambda a, ins, o: _topi("repeat")(ins[0], a["repeats"], a["axis"]), {"repeats": 1, "axis": 0})
_register("broadcast_to", lambda a, ins, o: _topi("broadcast_to")(ins[0], a["shape"]), {"shape": None})
def _pad_compute(a, ins, o):
    """pad_value is an attribute, or a second input (a scalar or one-element tensor, classic's Expr form)."""
    value = a["pad_value"]
    if len(ins) > 1:
        v = ins[1]
        value = v[()] if len(v.shape) == 0 else v[(0,) * len(v.shape)]
    return _topi("nn.pad")(ins[0], [p[0] for p in a["pad_width"]], [p[1] for p in a["pad_width"]], value,
                           pad_mode=a["pad_mode"])


_register("nn.pad", _pad_compute, {"pad_width": None, "pad_value": 0.0, "pad_mode": "constant"})


def _ints(v):
    return None if v is None else tuple(int(x) for x in (v if isinstance(v, (list, tuple)) else (v,)))


def reshape(data, newshape):
    return make_call("reshape", (data,), newshape=_ints(newshape))


def transpose(data, axes=None):
    return make_call("transpose", (data,), axes=_ints(axes))


def squeeze(data, axis=None):
    return make_call("squeeze", (data,), axis=_ints(axis))


def expand_dims(data, axis, num_newaxis=1):
    return make_call("expand_dims", (data,), axis=int(axis), num_newaxis=int(num_newaxis))


def concatenate(data, axis=0):
    data = data if isinstance(data, Tuple) else Tuple(tuple(data))
    return make_call("concatenate", (data,), axis=int(axis))


def stack(data, axis=0):
    data = data if isinstance(data, Tuple) else Tuple(tuple(data))
    return make_call("stack", (data,), axis=int(axis))


def split(data, indices_or_sections, axis=0):
    from .nn import _TupleWrapper

    ios = int(indices_or_sections) if isinstance(indices_or_sections, int) else _ints(indices_or_sections)
    n = ios if isinstance(ios, int) else len(ios) + 1
    return _TupleWrapper(make_call("split", (data,), indices_or_sections=ios, axis=int(axis)), n)


def strided_slice(data, begin, end, strides=None, axes=None):
    return make_call("strided_slice", (data,), begin=_ints(begin), end=_ints(end), strides=_ints(strides),
                     axes=_ints(axes))


def take(data, indices, axis=None, mode="clip"):
    return make_call("take", (data, indices), axis=None if axis is None else int(axis), mode=mode)


def gather(data, axis, indices):
    return make_call("gather", (data, indices), axis=int(axis))


def gather_nd(data, indices):
    """out[y...] = data[indices[0, y...], ..., indices[m-1, y...], x...] (the index tuple is indices' first axis)."""
    return make_call("gather_nd", (data, indices))


def reverse(data, axis):
    return make_call("reverse", (data,), axis=int(axis))


def tile(data, reps):
    return make_call("tile", (data,), reps=_ints(reps))


def repeat(data, repeats, axis):
    return make_call("repeat", (data,), repeats=int(repeats), axis=int(axis))


def broadcast_to(data, shape):
    return make_call("broadcast_to", (data,), shape=_ints(shape))


def batch_flatten(data):
    return make_call("nn.batch_flatten", (data,))


def pad(data, pad_width, pad_value=0.0, pad_mode="constant"):
    """pad_width ((before, after) per axis; negative crops); pad_value a number or a scalar relay
    expression; pad_mode "constant", "edge", "reflect" or "wrap" (topi.nn.pad)."""
    from ..expr import Expr

    width = tuple(tuple(int(x) for x in p) for p in pad_width)
    if isinstance(pad_value, Expr):
        if pad_mode != "constant":
            raise ValueError(f"nn.pad: a pad_value only applies to pad_mode='constant', not {pad_mode!r}")
        return make_call("nn.pad", (data, pad_value), pad_width=width, pad_value=0.0, pad_mode=pad_mode)
    return make_call("nn.pad", (data,), pad_width=width, pad_value=float(pad_value), pad_mode=pad_mode)
