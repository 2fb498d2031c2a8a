"""Writes the model of concat-in-place.test to argv[1]."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def weight(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.3, name)


inits = [weight("w1", 6, 4, 1, 1), weight("b1", 6), weight("w3", 5, 4, 3, 3), weight("b3", 5),
         weight("wd", 6, 1, 3, 3), weight("w2", 4, 26, 1, 1)]
nodes = [
    # The 3x3 branch first, the 1x1 one second: concatenated in the other order.
    helper.make_node("Conv", ["x", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1]),
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("Concat", ["r1", "c3"], ["cat1"], axis=1),
    # r1 is read again after the concat: by a depthwise convolution.
    helper.make_node("Conv", ["r1", "wd"], ["d1"], group=6, pads=[1, 1, 1, 1]),
    helper.make_node("MaxPool", ["c3"], ["p3"], kernel_shape=[3, 3], strides=[1, 1],
                     pads=[1, 1, 1, 1]),
    # A concat of a concat, the input itself, and kernels' outputs.
    helper.make_node("Concat", ["cat1", "d1", "p3", "x"], ["cat2"], axis=1),
    helper.make_node("Conv", ["cat2", "w2"], ["y"]),
    helper.make_node("Add", ["y", "y"], ["out"]),
]
graph = helper.make_graph(
    nodes, "concat", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 9, 11])],
    [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 4, 9, 11]),
     helper.make_tensor_value_info("cat1", TensorProto.FLOAT, ["N", 11, 9, 11])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model, full_check=True)
onnx.save(model, sys.argv[1])
