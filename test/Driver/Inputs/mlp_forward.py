"""The forward pass of a model of Gemm and Relu nodes in numpy, for the
calibration checks: the input of every Gemm, by node name."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def gemm_inputs(model_path, samples, dtype=np.float64):
    model = onnx.load(model_path)
    weights = {t.name: numpy_helper.to_array(t).astype(dtype) for t in model.graph.initializer}
    values = {model.graph.input[0].name: samples.astype(dtype)}
    inputs = {}
    for node in model.graph.node:
        x = values[node.input[0]]
        if node.op_type == "Gemm":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            w = weights[node.input[1]]
            w = w.T if attrs.get("transB", 0) else w
            inputs[node.name] = x
            values[node.output[0]] = x @ w + weights[node.input[2]]
        elif node.op_type == "Relu":
            values[node.output[0]] = np.maximum(x, 0)
        else:
            sys.exit(f"unexpected op {node.op_type}")
    return inputs
