"""ONNX sequences (SplitToSequence, SequenceAt, SequenceConstruct, SequenceLength, ConcatFromSequence):
lists of tensors at import time, checked against onnxruntime."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import tilecraft as tvm
from tilecraft import relay
from tilecraft.contrib import graph_executor


def _model(nodes, out_shape, inits=()):
    graph = helper.make_graph(nodes, "seq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _check(model):
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype("float32")
    expect = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    mod, params = relay.frontend.from_onnx(model, {"x": (2, 6, 3)})
    m = graph_executor.GraphModule(relay.build(mod, target="llvm", params=params)["default"](tvm.cpu()))
    m.set_input("x", x)
    m.run()
    np.testing.assert_allclose(m.get_output(0).numpy(), expect, rtol=1e-6)


def _i64(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)] if isinstance(values, list) else [],
                              values if isinstance(values, list) else [values])


@pytest.mark.parametrize("split, position, shape", [
    ([1, 2, 3], 2, [2, 3, 3]),  # sizes
    (4, -1, [2, 2, 3]),  # a chunk size: the last part is the rest
])
def test_split_to_sequence_then_sequence_at(split, position, shape):
    _check(_model([helper.make_node("SplitToSequence", ["x", "split"], ["s"], axis=1),
                   helper.make_node("SequenceAt", ["s", "pos"], ["y"])], shape,
                  [_i64("split", split), _i64("pos", position)]))


def test_unsplit_sequence_without_keepdims_and_concat_back():
    _check(_model([helper.make_node("SplitToSequence", ["x"], ["s"], axis=1, keepdims=0),
                   helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=1, new_axis=1)], [2, 6, 3]))


def test_sequence_construct_and_concat():
    _check(_model([helper.make_node("SequenceConstruct", ["x", "x"], ["s"]),
                   helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=0)], [4, 6, 3]))


def test_sequence_at_outside_the_sequence_names_it():
    model = _model([helper.make_node("SplitToSequence", ["x", "split"], ["s"], axis=1),
                    helper.make_node("SequenceAt", ["s", "pos"], ["y"])], [2, 3, 3],
                   [_i64("split", [3, 3]), _i64("pos", 5)])
    with pytest.raises(Exception, match="position 5 is outside the sequence of 2 tensors"):
        relay.frontend.from_onnx(model, {"x": (2, 6, 3)})

