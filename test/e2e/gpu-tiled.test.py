"""Writes the models of gpu-tiled.test to argv[1]: products and a convolution large enough
(at least 256 tiles of 128x128 outputs) for shears-map-to-gpu's tiled kernels, with edges."""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = Path(sys.argv[1])
rng = np.random.default_rng(11)


def weight(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.3, name)


def save(name, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(out / f"{name}.onnx"))


# 2000 rows, 2100 columns (16 x 17 tiles, neither a multiple of 128), reductions of 70 and 72
# (70 not a multiple of 8); the second weight transposed (its reduction is contiguous).
save("gemm", [helper.make_node("MatMul", ["x", "w1"], ["p"]),
              helper.make_node("Add", ["p", "b1"], ["q"]),
              helper.make_node("Relu", ["q"], ["y1"]),
              helper.make_node("Gemm", ["x2", "w2"], ["y2"], transB=1)],
     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2000, 70]),
      helper.make_tensor_value_info("x2", TensorProto.FLOAT, [2000, 72])],
     [helper.make_tensor_value_info("y1", TensorProto.FLOAT, [2000, 2100]),
      helper.make_tensor_value_info("y2", TensorProto.FLOAT, [2000, 2100])],
     [weight("w1", 70, 2100), weight("b1", 2100), weight("w2", 2100, 72)])

# 512 filters (4 tiles) over 2 x 64 x 64 output pixels (64 tiles), stride 1, padding 1.
save("conv", [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])],
     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 64, 64])],
     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 512, 64, 64])],
     [weight("w", 512, 4, 3, 3), weight("b", 512)])
