"""relay.transform.function_pass (function and class forms), as classic pass-infra code writes it."""

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay


def _mod():
    x = relay.var("x", shape=(2, 3))
    return tvm.IRModule.from_expr(relay.Function([x], relay.add(x, relay.const(np.float32(1.0)))))


def _run(mod, data):
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm")
    m = tvm.contrib.graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", data)
    m.run()
    return m.get_output(0).numpy()


def test_class_form_rewrites_every_function_and_keeps_its_name():
    @relay.transform.function_pass(opt_level=1)
    class ScaleConstants:
        def __init__(self, factor):
            self.factor = factor

        def transform_function(self, func, mod, ctx):
            factor = self.factor

            class Replace(relay.ExprMutator):
                def visit_constant(self, c):
                    return relay.multiply(factor, c)

            return Replace().visit(func)

    p = ScaleConstants(relay.const(np.float32(3.0)))
    assert p.info.name == "ScaleConstants" and p.info.opt_level == 1
    data = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(_run(p(_mod()), data), data + 3.0, rtol=1e-6)
    with tvm.transform.PassContext(opt_level=0):  # below its opt_level, a Sequential skips it
        assert tvm.transform.Sequential([p])(_mod())["main"] is not None


def test_function_form_and_bad_uses():
    seen = []

    @relay.transform.function_pass(opt_level=0, name="Record")
    def record(func, mod, ctx):
        seen.append((type(func).__name__, ctx.opt_level))
        return func

    record(_mod())
    assert seen == [("Function", tvm.transform.PassContext.current().opt_level)]
    with pytest.raises(TypeError, match="transform_function"):
        relay.transform.function_pass(type("NoMethod", (), {}))
