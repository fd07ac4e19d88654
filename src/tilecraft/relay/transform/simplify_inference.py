"""SimplifyInference: rewrite training-time operators into their inference arithmetic.

    nn.batch_norm(x, gamma, beta, mean, var)[0]  ->  x * scale + shift
        scale = gamma / sqrt(var + eps)          (1 / sqrt(var + eps) when scale=False)
        shift = beta - mean * scale              (-mean * scale when center=False)
      with scale and shift given trailing axes of length 1 so they line up with `axis`
      ([C] -> [C, 1, 1] for axis 1 of a 4-D input).  Built from relay operators, so FoldConstant
      turns scale and shift into constants and FoldScaleAxis can move scale into a conv's weight.
      Fields 1 and 2 of batch_norm (the moving mean and variance) pass through.
    nn.dropout(x)  ->  x

layer_norm is kept as it is: it has a fused kernel of its own.
"""

from __future__ import annotations

from ...transform import module_pass
from ..expr import Call, Tuple, const
from ..op import tensor as T
from ..op.registry import Op
from ..op.transform import expand_dims
from ..ty import TupleType
from ..visitor import ExprMutator
from .infer_type import infer_type


def _batch_norm(c: Call, args):
    x, gamma, beta, mean, var = args
    xt = c.args[0].ty
    axis = c.attrs["axis"] % xt.ndim
    dtype = xt.dtype
    eps = const(c.attrs["epsilon"], dtype)
    std = T.sqrt(T.add(var, eps))
    scale = T.divide(gamma, std) if c.attrs["scale"] else T.divide(const(1.0, dtype), std)
    shifted = T.multiply(mean, scale)
    shift = T.subtract(beta, shifted) if c.attrs["center"] else T.negative(shifted)
    trailing = xt.ndim - 1 - axis
    if trailing:
        scale = expand_dims(scale, 1, trailing)
        shift = expand_dims(shift, 1, trailing)
    return Tuple((T.add(T.multiply(x, scale), shift), mean, var))


class _Simplify(ExprMutator):
    def visit_call(self, c):
        if isinstance(c.op, Op):
            args = self._same(c.args)
            if c.op.name == "nn.batch_norm":
                return _batch_norm(c, args)
            if c.op.name == "nn.dropout":
                x = args[0]
                return Tuple((x, x)) if isinstance(c.ty, TupleType) else x
        return super().visit_call(c)

    def visit_tuple_getitem(self, t):
        v = self.new(t.tuple_value)
        if isinstance(v, Tuple) and v is not t.tuple_value:
            return v.fields[t.index]
        return super().visit_tuple_getitem(t)


def simplify_inference(func):
    func = infer_type(func)
    out = _Simplify().visit(func)
    return func if out is func else infer_type(out)


def SimplifyInference():  # noqa: N802  (classic relay.transform name)
    @module_pass(opt_level=0, name="SimplifyInference")
    def run(mod):
        return mod.with_function("main", simplify_inference(mod["main"]))

    return run

