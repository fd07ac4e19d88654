"""User lowering passes, as classic code writes them: tir.stmt_functor (post_order_visit,
ir_transform, substitute) and PassContext config "tir.add_lower_pass" at each phase."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import te


def _split_by_8_and_vectorize(inner="vectorized"):
    def rewrite(op):
        if isinstance(op.extent, tvm.tir.IntImm) and op.extent.value % 8 == 0 and op.kind == tvm.tir.ForKind.SERIAL:
            lo, li = te.var(op.loop_var.name + ".outer"), te.var(op.loop_var.name + ".inner")
            body = tvm.tir.stmt_functor.substitute(op.body, {op.loop_var: lo * 8 + li})
            body = tvm.tir.For(li, 0, 8, inner, body)
            return tvm.tir.For(lo, 0, op.extent.value // 8, tvm.tir.ForKind.SERIAL, body)
        return None

    @tvm.tir.transform.prim_func_pass(opt_level=0)
    def vectorize8(f, mod, ctx):
        return f.with_body(tvm.tir.stmt_functor.ir_transform(f.body, None, rewrite, ["tir.For"]))

    return vectorize8


def _schedule():
    a, b = te.placeholder((128,), name="a"), te.placeholder((128,), name="b")
    c = te.compute((128,), lambda i: a[i] + b[i], name="c")
    return te.create_schedule(c.op), [a, b, c]


@pytest.mark.parametrize("phase", [0, 1, 2, 3])
def test_added_pass_runs_at_its_phase_and_the_result_computes(phase):
    sch, args = _schedule()
    # phase 3 comes after VectorizeLoop: a pass there must leave loops code generation can take
    inner = tvm.tir.ForKind.SERIAL if phase == 3 else tvm.tir.ForKind.VECTORIZED
    with tvm.transform.PassContext(config={"tir.add_lower_pass": [(phase, _split_by_8_and_vectorize(inner))]}):
        text = str(tvm.lower(sch, args))
        f = tvm.build(sch, args, "llvm")
    assert ("i.outer" in text) == (phase in (0, 1))  # lower runs phases 0 and 1
    rng = np.random.default_rng(phase)
    x, y = rng.standard_normal(128).astype("float32"), rng.standard_normal(128).astype("float32")
    out = tvm.nd.empty((128,))
    f(tvm.nd.array(x), tvm.nd.array(y), out)
    np.testing.assert_allclose(out.numpy(), x + y, rtol=1e-6)


def test_post_order_visit_sees_every_loop_and_bad_entries_are_named():
    sch, args = _schedule()
    loops = []
    tvm.tir.stmt_functor.post_order_visit(tvm.lower(sch, args)["main"].body,
                                          lambda n: loops.append(n) if isinstance(n, tvm.tir.For) else None)
    assert [int(lp.extent.value) for lp in loops] == [128]
    with tvm.transform.PassContext(config={"tir.add_lower_pass": [(7, _split_by_8_and_vectorize())]}):
        with pytest.raises(TypeError, match="phase 0-3"):
            tvm.lower(sch, args)
