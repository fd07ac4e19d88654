"""PassContext options do what they say: config keys change the code, unknown options raise,
disabled/required passes reach relay and TIR passes, instruments see every pass, contexts are
per thread.  Numbers are checked against numpy on random inputs."""

import re
import threading

import numpy as np
import pytest

import tilecraft as tvm
from tilecraft import relay, te
from tilecraft.contrib import graph_executor
from tilecraft.ir import expr as E
from tilecraft.ir.instrument import PassInstrument, PassTimingInstrument, pass_instrument
from tilecraft.tir.stmt import AssertStmt, For, ForKind, IRModule

RNG = np.random.default_rng(0)


def vector_add(n=64):
    a = te.placeholder((n,), name="A")
    b = te.compute((n,), lambda i: a[i] * 2.0 + 1.0, name="B")
    s = te.create_schedule(b.op)
    _, inner = s[b].split(b.op.axis[0], factor=8)
    s[b].vectorize(inner)
    return s, [a, b]


def run_vector_add(mod, n=64):
    a = RNG.standard_normal(n).astype("float32")
    out = tvm.nd.empty((n,), "float32")
    mod(tvm.nd.array(a), out)
    np.testing.assert_allclose(out.numpy(), a * 2 + 1, rtol=1e-6)


def has_vector_ops(llvm_ir: str) -> bool:
    return re.search(r"<\d+ x (float|i32|i64)>", llvm_ir) is not None


def test_disable_vectorize_changes_the_generated_code():
    # -opt-level=0 keeps LLVM's own loop and SLP vectorizers off, so vector ops come from TIR only.
    s, args = vector_add()
    vec = tvm.build(s, args, target="llvm -opt-level=0")
    assert has_vector_ops(vec.get_source())
    run_vector_add(vec)
    with tvm.transform.PassContext(config={"tir.disable_vectorize": True}):
        scalar = tvm.build(s, args, target="llvm -opt-level=0")
    assert not has_vector_ops(scalar.get_source())
    run_vector_add(scalar)


def test_unknown_config_key_raises_naming_it_and_close_keys():
    with pytest.raises(ValueError, match=r"'tir.disable_vectorise'.*did you mean 'tir.disable_vectorize'"):
        tvm.transform.PassContext(config={"tir.disable_vectorise": True})


def test_wrong_type_config_value_raises():
    with pytest.raises(TypeError, match=r"'tir.disable_vectorize' takes a bool, got 'yes'"):
        tvm.transform.PassContext(config={"tir.disable_vectorize": "yes"})
    with pytest.raises(TypeError, match=r"'relay.FuseOps.max_depth' takes a int"):
        tvm.transform.PassContext(config={"relay.FuseOps.max_depth": True})


def test_list_configs_names_every_key_with_its_type():
    configs = tvm.transform.PassContext.list_configs()
    assert configs["tir.disable_vectorize"]["type"] == "bool"
    assert configs["relay.FuseOps.max_depth"]["type"] == "int"
    assert {"tir.disable_assert", "relay.backend.use_auto_scheduler"} <= set(configs)


def test_disabled_pass_skips_a_tir_pass():
    s, args = vector_add()
    lowered = tvm.lower(s, args)
    with tvm.transform.PassContext(disabled_pass=["VectorizeLoop"]):
        out = tvm.tir.transform.build_pipeline()(lowered)
    assert ForKind.VECTORIZED in _loop_kinds(out)  # left as scheduled: the pass did not run
    assert ForKind.VECTORIZED not in _loop_kinds(tvm.tir.transform.build_pipeline()(lowered))


def _loop_kinds(mod):
    kinds = []
    tvm.ir.post_order_visit(mod["main"].body, lambda n: kinds.append(n.kind) if isinstance(n, For) else None)
    return kinds


def _tiny_relay():
    x = relay.var("x", shape=(4, 8), dtype="float32")
    w = relay.var("w", shape=(8, 8), dtype="float32")
    y = relay.nn.relu(relay.nn.dense(x, w) + relay.const(np.ones(8, "float32")))
    return relay.Function([x, w], relay.exp(y) * relay.const(np.float32(0.5)))


def _run_relay(func, x, w, **ctx):
    with tvm.transform.PassContext(**ctx):
        lib = relay.build(tvm.IRModule.from_expr(func), target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", x)
    m.set_input("w", w)
    m.run()
    return m.get_output(0).numpy()


def _tiny_ref(x, w):
    return np.exp(np.maximum(x @ w.T + 1, 0)) * 0.5


@pass_instrument
class Recorder:
    def __init__(self):
        self.seen = []
        self.entered = self.exited = 0

    def enter_pass_ctx(self):
        self.entered += 1

    def exit_pass_ctx(self):
        self.exited += 1

    def run_before_pass(self, mod, info):
        self.seen.append(info.name)


def test_disabled_pass_skips_a_relay_pass():
    x, w = RNG.standard_normal((4, 8)).astype("float32"), RNG.standard_normal((8, 8)).astype("float32")
    rec = Recorder()
    out = _run_relay(_tiny_relay(), x, w, opt_level=3, disabled_pass=["FoldConstant"], instruments=[rec])
    np.testing.assert_allclose(out, _tiny_ref(x, w), rtol=1e-5)
    assert "FoldConstant" not in rec.seen and "InferType" in rec.seen


def test_instruments_see_every_relay_and_tir_pass():
    x, w = RNG.standard_normal((4, 8)).astype("float32"), RNG.standard_normal((8, 8)).astype("float32")
    rec = Recorder()
    out = _run_relay(_tiny_relay(), x, w, opt_level=3, instruments=[rec])
    np.testing.assert_allclose(out, _tiny_ref(x, w), rtol=1e-5)
    assert rec.entered == rec.exited == 1
    for name in ("InferType", "FoldConstant", "FuseOps", "Simplify", "FlattenBuffer", "VectorizeLoop",
                 "UnrollLoop", "LowerIntrinsics"):
        assert name in rec.seen, name

    rec = Recorder()
    s, args = vector_add()
    with tvm.transform.PassContext(instruments=[rec]) as ctx:
        assert tvm.transform.PassContext.current().instruments == (rec,) and ctx.instruments == (rec,)
        run_vector_add(tvm.build(s, args, target="llvm"))
    assert rec.seen == ["tir.lower_pipeline", "Simplify", "tir.build_pipeline", "InjectVirtualThread",
                        "CheckAccessBounds", "FlattenBuffer", "LoopPartition", "VectorizeLoop", "TightenLoopExtents",
                        "UnrollLoop", "Simplify", "LowerIntrinsics"]


def test_should_run_false_skips_a_pass():
    class NoVectorize(PassInstrument):
        def should_run(self, mod, info):
            return info.name != "VectorizeLoop"

    s, args = vector_add()
    with tvm.transform.PassContext(instruments=[NoVectorize()]):
        out = tvm.tir.transform.build_pipeline()(tvm.lower(s, args))
    assert ForKind.VECTORIZED in _loop_kinds(out)


def test_pass_timing_instrument_renders_nested_passes():
    timing = PassTimingInstrument()
    s, args = vector_add()
    with tvm.transform.PassContext(instruments=[timing]):
        tvm.build(s, args, target="llvm")
        text = timing.render()
    lines = text.splitlines()
    assert re.fullmatch(r"tir\.build_pipeline: \d+us \[\d+us\] \(\d+\.\d\d%; \d+\.\d\d%\)", lines[2])
    assert re.fullmatch(r"\tInjectVirtualThread: \d+us \[\d+us\] \(\d+\.\d\d%; \d+\.\d\d%\)", lines[3])
    assert timing.render() == text  # still readable after the context is left


def test_required_pass_runs_above_opt_level():
    ran = []

    @tvm.transform.module_pass(opt_level=3, name="Mark")
    def mark(mod, ctx):
        ran.append(ctx.opt_level)
        return mod

    mod = IRModule({})
    with tvm.transform.PassContext(opt_level=1):
        tvm.transform.Sequential([mark])(mod)
    assert ran == []
    with tvm.transform.PassContext(opt_level=1, required_pass=["Mark"]):
        tvm.transform.Sequential([mark])(mod)
    assert ran == [1]


def test_sequential_required_runs_first():
    order = []

    def marker(name):
        return tvm.transform.module_pass(lambda mod, ctx: order.append(name) or mod, opt_level=0, name=name)

    seq = tvm.transform.Sequential([marker("b")], required=[marker("a")])
    seq(IRModule({}))
    assert order == ["a", "b"]
    seq = tvm.transform.Sequential([relay.transform.FuseOps()], required=["InferType"])
    assert seq.info.required == ("InferType",)
    with pytest.raises(ValueError, match=r"'InferTyp'.*did you mean 'InferType'"):
        tvm.transform.Sequential([], required=["InferTyp"])


def test_context_stack_is_per_thread():
    seen = {}
    entered = threading.Event()
    checked = threading.Event()

    def other():
        entered.wait()
        seen["other"] = tvm.transform.PassContext.current().opt_level
        checked.set()

    t = threading.Thread(target=other)
    t.start()
    with tvm.transform.PassContext(opt_level=0):
        entered.set()
        checked.wait(10)
        seen["mine"] = tvm.transform.PassContext.current().opt_level
    t.join()
    assert seen == {"mine": 0, "other": 2}


def _chain(n):
    x = relay.var("x", shape=(2, 16), dtype="float32")
    y = x
    for i in range(n):
        y = relay.exp(y * relay.const(np.float32(0.1))) if i % 2 else relay.nn.relu(y - relay.const(np.float32(0.3)))
    return relay.Function([x], y)


def _group_sizes(func):
    sizes = []

    def visit(n):
        if isinstance(n, relay.Function) and n.attrs.get("Primitive"):
            sizes.append(sum(1 for m in relay.visitor.post_order(n.body)
                             if isinstance(m, relay.Call) and not isinstance(m.op, relay.Function)))

    for n in relay.visitor.post_order(func.body):
        if isinstance(n, relay.Call):
            visit(n.op)
    return sizes


def test_fuse_ops_max_depth_limits_group_size():
    func = _chain(12)  # 24 operators (a subtract or multiply before each activation)
    for depth, most in ((256, 24), (5, 5)):
        with tvm.transform.PassContext(opt_level=3, config={"relay.FuseOps.max_depth": depth}):
            fused = relay.optimize(tvm.IRModule.from_expr(func))["main"]
        sizes = _group_sizes(fused)
        assert max(sizes) == most and sum(sizes) == 24
    x = RNG.standard_normal((2, 16)).astype("float32")
    want = x
    for i in range(12):
        want = np.exp(want * np.float32(0.1)) if i % 2 else np.maximum(want - np.float32(0.3), 0)
    with tvm.transform.PassContext(opt_level=3, config={"relay.FuseOps.max_depth": 3}):
        lib = relay.build(tvm.IRModule.from_expr(func), target="llvm")
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", x)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), want, rtol=1e-5)


def _asserting_module():
    """B = A * 2 + 1 with an assertion that A[0] is positive, as classic TIR would hold."""
    s, args = vector_add()
    mod = tvm.lower(s, args)
    f = mod["main"]
    a = f.params[0]
    check = E.BufferLoad(a, (E.const(0, "int32"),), "float32") > E.const(0.0, "float32")
    return IRModule({"main": f.with_body(AssertStmt(check, "A[0] must be positive", f.body))})


def test_disable_assert_removes_the_assertions():
    n = 64
    a = RNG.uniform(0.5, 1.0, n).astype("float32")
    a[0] = -1.0
    checked = tvm.build(_asserting_module(), target="llvm")
    assert "fcmp" in checked.get_source()  # the assertion's test of A[0] (the kernel compares nothing else)
    with pytest.raises(RuntimeError, match="A\\[0\\] must be positive"):
        checked(tvm.nd.array(a), tvm.nd.empty((n,), "float32"))
    with tvm.transform.PassContext(config={"tir.disable_assert": True}):
        unchecked = tvm.build(_asserting_module(), target="llvm")
    assert "fcmp" not in unchecked.get_source()
    out = tvm.nd.empty((n,), "float32")
    unchecked(tvm.nd.array(a), out)
    np.testing.assert_allclose(out.numpy(), a * 2 + 1, rtol=1e-6)


def test_print_ir_switch_prints_relay_and_tir_passes(monkeypatch, capsys):
    monkeypatch.setenv("TILECRAFT_PRINT_IR", "1")
    s, args = vector_add()
    tvm.build(s, args, target="llvm")
    printed = capsys.readouterr().out
    assert "# after Simplify" in printed and "# after VectorizeLoop" in printed
    relay.optimize(tvm.IRModule.from_expr(_tiny_relay()))
    assert "# after FuseOps" in capsys.readouterr().out


def test_override_instruments_and_failing_enter_exit_as_classic():
    log = []

    @tvm.instrument.pass_instrument
    class Named:
        def __init__(self, name, bad=""):
            self.label, self.bad = name, bad

        def enter_pass_ctx(self):
            log.append(("enter", self.label))
            if self.bad == "enter":
                raise ValueError(f"{self.label} bad enter")

        def exit_pass_ctx(self):
            log.append(("exit", self.label))
            if self.bad == "exit":
                raise ValueError(f"{self.label} bad exit")

    cur = tvm.transform.PassContext.current()
    cur.override_instruments([Named("a")])
    cur.override_instruments([])
    assert log == [("enter", "a"), ("exit", "a")] and cur.instruments == ()
    log.clear()
    ctx = tvm.transform.PassContext(instruments=[Named("0"), Named("bad", "enter"), Named("1")])
    with pytest.raises(ValueError, match="bad enter"):
        with ctx:
            pass
    assert log == [("enter", "0"), ("enter", "bad"), ("exit", "0")] and ctx.instruments == ()
    log.clear()
    ctx = tvm.transform.PassContext(instruments=[Named("0"), Named("bad", "exit"), Named("1")])
    with pytest.raises(ValueError, match="bad exit"):
        with ctx:
            pass
    assert log[-2:] == [("exit", "0"), ("exit", "bad")] and ctx.instruments == ()


def test_instruments_see_the_users_passes_not_fold_constants_inner_build():
    seen = []

    @tvm.instrument.pass_instrument
    class Names:
        def run_before_pass(self, mod, info):
            seen.append(info.name)

    x = relay.var("x", shape=(2, 2))
    c = relay.add(relay.const(np.ones((2, 2), "float32")), relay.const(np.ones((2, 2), "float32")))
    mod = tvm.IRModule.from_expr(relay.Function([x], relay.add(x, c)))
    with tvm.transform.PassContext(opt_level=3, instruments=[Names()]):
        relay.transform.FoldConstant()(mod)
    assert seen == ["FoldConstant"]
