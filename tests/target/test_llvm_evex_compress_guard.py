"""LLVM 22's X86CompressEVEX turns `vpmovd2m %ymmN, %k; kmov %k, %eax` into the VEX-only
`vmovmskps %ymmN, %eax` without checking N < 16 (llvm/llvm-project#191304): for ymm16-31 the
instruction reads ymm(N-16).  BERT's ONNX embedding kernel hit it: take(word_embeddings,
cast(ids), mode="wrap") + token-type + position embeddings, where the SLP vectorizer widened the
eight `r < 0` tests of the floor modulo and AVX-512 register pressure put them in ymm23; rows of
the result then came from 100 rows past the table (NaN or values changing from run to run).  The
code generator turns AVX-512VL off for its functions (llvm.py, _function_features), so 128/256-bit
code is VEX and never meets that rewrite.  On CPUs without AVX-512 these tests pass either way."""

from __future__ import annotations

import re

import numpy as np

import tilecraft as tvm
from tilecraft import relay, te, topi
from tilecraft.contrib import graph_executor
from tilecraft.relay.op.strategy import schedule_injective

# VEX-only instructions that X86CompressEVEX makes out of EVEX mask producers; VEX has no ymm16-31
_VEX_WITH_HIGH_REGISTER = re.compile(r"\b(vmovmskp[sd]|vpmovmskb|vblendvp[sd]|vpblendvb)\s+%[xy]mm(1[6-9]|2\d|3[01])\b")


def _embedding_sum():
    ids = relay.var("ids", shape=(1, 8), dtype="int64")
    table = relay.var("table", shape=(100, 32))
    token = relay.var("token", shape=(1, 8, 32))
    position = relay.var("position", shape=(1, 8, 32))
    rows = relay.take(table, relay.cast(ids, "int32"), axis=0, mode="wrap")
    return tvm.IRModule.from_expr(relay.Function([ids, table, token, position],
                                                 relay.add(relay.add(rows, token), position)))


def test_embedding_sum_of_wrapped_take_matches_numpy_on_fresh_inputs_twice():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((100, 32)).astype("float32")
    token = rng.standard_normal((1, 8, 32)).astype("float32")
    position = rng.standard_normal((1, 8, 32)).astype("float32")
    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(_embedding_sum(), target="llvm",
                          params={"table": table, "token": token, "position": position})
    gm = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    for ids in (np.array([[59, 85, 51, 42, 10, 69, 8, 13]]), rng.integers(-250, 250, (1, 8))):
        ids = ids.astype("int64")
        want = table[ids % 100] + token + position
        for _ in range(2):
            gm.set_input("ids", ids)
            gm.run()
            np.testing.assert_allclose(gm.get_output(0).numpy(), want, rtol=1e-6, atol=1e-6)


def test_no_vex_mask_instruction_names_a_high_vector_register():
    W = te.placeholder((100, 32), name="W")
    X = te.placeholder((1, 8), "int64", name="X")
    C1 = te.placeholder((1, 8, 32), name="C1")
    C2 = te.placeholder((1, 8, 32), name="C2")
    out = topi.add(topi.add(topi.take(W, topi.cast(X, "int32"), axis=0, mode="wrap"), C1), C2)
    target = tvm.target.Target("llvm")
    f = tvm.build(schedule_injective([out], target), [W, X, C1, C2, out], target=target, name="f")
    asm = f.get_source("asm")
    assert not _VEX_WITH_HIGH_REGISTER.findall(asm), _VEX_WITH_HIGH_REGISTER.findall(asm)
