"""Reductions: te.sum / te.max / te.min and user-defined commutative reducers (te.comm_reducer)."""

from __future__ import annotations

from ..ir.expr import CommReducer, IterVar, PrimExpr, Reduce, Var, _match, const, convert, max_, min_, select
from ..ir.functor import substitute
from ..ir.op import max_value, min_value


def comm_reducer(fcombine, fidentity, name: str = "reduce"):
    """Make a reducer from `fcombine(x, y)` and `fidentity(dtype)`, e.g.

        mysum = te.comm_reducer(lambda x, y: x + y, lambda t: tvm.tir.const(0, dtype=t))
        B = te.compute((n,), lambda i: mysum(A[i, k], axis=k))

    Tuple reducers (argmax) get and return tuples: `fcombine(x, y)` with x = (x0, x1, ...) and
    y likewise (as in classic TVM; `fcombine(x0, x1, y0, y1)` works too), `fidentity(t0, t1)`."""

    def reducer(expr, axis=None, where=None, init=None, *args):
        if axis is not None and not isinstance(axis, (IterVar, list, tuple)):
            # Classic TVM: te.max(a, b, c) combines values directly instead of reducing.
            vals = [v for v in (expr, axis, where, init, *args) if v is not None]
            out = vals[0]
            for v in vals[1:]:
                out = fcombine(*_match(out, v))
            return out
        if axis is None:
            raise TypeError(f"{name}: give the reduction axis, e.g. te.{name}(A[i, k], axis=k)")
        exprs = tuple(convert(e) for e in expr) if isinstance(expr, (tuple, list)) else (convert(expr),)
        axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        for a in axes:
            if not isinstance(a, IterVar) or a.iter_type != 2:
                raise TypeError(f"{name}: axis {a!r} is not a reduction axis; create it with te.reduce_axis")
        lhs = tuple(Var(f"x{i}" if len(exprs) > 1 else "x", e.dtype) for i, e in enumerate(exprs))
        rhs = tuple(Var(f"y{i}" if len(exprs) > 1 else "y", e.dtype) for i, e in enumerate(exprs))
        if len(exprs) == 1:
            result = fcombine(lhs[0], rhs[0])
        elif _n_positional(fcombine) == 2:
            result = fcombine(lhs, rhs)  # classic TVM: fcombine(x, y) with x, y tuples
        else:
            result = fcombine(*lhs, *rhs)
        result = tuple(convert(r) for r in result) if isinstance(result, (tuple, list)) else (convert(result),)
        ident = fidentity(*[e.dtype for e in exprs]) if len(exprs) > 1 else fidentity(exprs[0].dtype)
        ident = tuple(convert(v, e.dtype) for v, e in zip(ident, exprs)) if isinstance(ident, (tuple, list)) \
            else (convert(ident, exprs[0].dtype),)
        if len(result) != len(exprs) or len(ident) != len(exprs):
            raise ValueError(f"{name}: combiner and identity must give {len(exprs)} values")
        combiner = CommReducer(lhs, rhs, result, ident, name)
        cond = const(True) if where is None else convert(where, "bool")
        init = init if isinstance(init, (list, tuple)) or init is None else (init,)
        inits = () if init is None else tuple(convert(i) for i in init)
        if not axes and not inits:  # over no axes (a 0-d tensor): the element, or the identity where not `where`
            outs = exprs if where is None else tuple(select(cond, e, i) for e, i in zip(exprs, ident))
            return outs[0] if len(outs) == 1 else outs
        outs = tuple(Reduce(combiner, exprs, axes, cond, i, inits, exprs[i].dtype) for i in range(len(exprs)))
        return outs[0] if len(outs) == 1 else outs

    reducer.__name__ = name
    return reducer


def _n_positional(f) -> int | None:
    import inspect

    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty])


def apply_reducer(combiner: CommReducer, *args):
    """Combine values directly: `reducer(a, b)` used as a function of two values."""
    n = len(combiner.lhs)
    vals = [convert(a) for a in args]
    vmap = dict(zip(combiner.lhs + combiner.rhs, vals[:n] + vals[n:]))
    res = tuple(substitute(r, vmap) for r in combiner.result)
    return res[0] if n == 1 else res


sum = comm_reducer(lambda x, y: x + y, lambda t: const(0, t), name="sum")  # noqa: A001
max = comm_reducer(max_, min_value, name="max")  # noqa: A001
min = comm_reducer(min_, max_value, name="min")  # noqa: A001
max.__doc__ = """Max reduction (or te.max(a, b, ...) of values), classic TVM's semantics on purpose.

Each step is tir.Max, `acc > x ? acc : x` with an ordered compare (as classic TVM's codegen):
a NaN in x passes on but a NaN in acc is dropped, so a reduction keeps a NaN only in the last
position, and the identity is the lowest finite value, not -inf.  relay's and topi's max-like
operators propagate NaN as PyTorch does instead (topi/minmax.py)."""
min.__doc__ = """Min reduction (or te.min(a, b, ...)); NaN as te.max (classic TVM), see its docstring."""


prod = comm_reducer(lambda x, y: x * y, lambda t: const(1, t), name="prod")


def identity_of(r: Reduce) -> PrimExpr:
    return r.init[r.value_index] if r.init else r.combiner.identity_element[r.value_index]
